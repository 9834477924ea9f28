package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** MessageConsumer processes that die while handling a message: SIGKILL, or a crash inside the handler. */
@RabbitTest
class CrashIT {

  private static ChildJvm consumerProcess(RabbitBroker broker, String queue, String mode) {
    return ChildJvm.main(CrashingConsumer.class, broker.uri(), queue, mode)
        .jvmOptions("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn").start();
  }

  @Test
  void aMessageBeingHandledByAKilledConsumerIsRedeliveredToAnother(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish(Message.of("important").withMessageId("m-1")).get(10, TimeUnit.SECONDS);
    }
    try (ChildJvm doomed = consumerProcess(broker, queue, "hang")) {
      assertEquals("handling m-1", doomed.awaitLine("handling", Duration.ofSeconds(30)));
      doomed.kill(); // SIGKILL: no ack, no clean close
    }
    BlockingQueue<Delivery<String>> received = new LinkedBlockingQueue<>();
    try (MessageConsumer survivor = rabbit.consumerBuilder(String.class).queue(queue).handler(received::add).build()) {
      Delivery<String> d = received.poll(30, TimeUnit.SECONDS);
      assertEquals("important", d.body());
      assertEquals("m-1", d.messageId().orElseThrow());
      assertTrue(d.redelivered());
      Await.until(Duration.ofSeconds(5), () -> survivor.stats().processed() == 1);
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void withAQuorumDeliveryLimitAMessageThatKillsEveryConsumerEndsInTheDeadLetterQueue(RabbitBroker broker,
      RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    String dlq = names.queue("work.dlq");
    rabbit.declare(Topology.of(Queue.classic(dlq), Queue.quorum(queue).withDeliveryLimit(2).withDeadLetterQueue(dlq)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish(Message.of("poison").withMessageId("p-1")).get(10, TimeUnit.SECONDS);
    }
    int crashes = 0;
    while (rabbit.queueInfo(dlq).orElseThrow().messageCount() == 0) {
      assertTrue(crashes < 6, "the poison message is looping: " + crashes + " crashes");
      try (ChildJvm process = consumerProcess(broker, queue, "halt")) {
        process.waitFor(Duration.ofSeconds(30));
        if (process.output().lines().anyMatch(l -> l.startsWith("handling p-1"))) {
          crashes++;
        }
      }
      Await.until(Duration.ofSeconds(10), "message back in the queue or dead-lettered",
          () -> rabbit.queueInfo(queue).orElseThrow().messageCount()
              + rabbit.queueInfo(dlq).orElseThrow().messageCount() == 1);
    }
    assertTrue(crashes >= 2, "dead-lettered after only " + crashes + " crash(es)");
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
    DeadLetter letter = rabbit.deadLetters(queue, dlq).list(1).get(0);
    assertEquals("p-1", letter.messageId().orElseThrow());
    assertEquals("delivery_limit", letter.reason());
    assertEquals(queue, letter.originalQueue());
  }
}
