package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** MessageConsumer processes that die while handling a message: SIGKILL, or a crash inside the handler. */
@RabbitTest
class CrashIT {

  private static Process consumerProcess(RabbitBroker broker, String queue, String mode, BlockingQueue<String> lines)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", CrashingConsumer.class.getName(), broker.uri(), queue, mode)
        .redirectErrorStream(true).start();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          lines.add(line);
        }
      } catch (Exception e) {
        // the process died: that is the point
      }
    });
    reader.setDaemon(true);
    reader.start();
    return process;
  }

  private static String awaitLine(BlockingQueue<String> lines, String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(1, TimeUnit.SECONDS);
      if (line != null && line.startsWith(prefix)) {
        return line;
      }
    }
    throw new AssertionError("the consumer process never printed '" + prefix + "'; output: " + lines);
  }

  @Test
  void aMessageBeingHandledByAKilledConsumerIsRedeliveredToAnother(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish(Message.of("important").withMessageId("m-1")).get(10, TimeUnit.SECONDS);
    }
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Process doomed = consumerProcess(broker, queue, "hang", lines);
    try {
      assertEquals("handling m-1", awaitLine(lines, "handling"));
    } finally {
      doomed.destroyForcibly(); // SIGKILL: no ack, no clean close
      doomed.waitFor(10, TimeUnit.SECONDS);
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
      BlockingQueue<String> lines = new LinkedBlockingQueue<>();
      Process process = consumerProcess(broker, queue, "halt", lines);
      boolean exited = process.waitFor(30, TimeUnit.SECONDS);
      if (!exited) {
        process.destroyForcibly();
      }
      if (lines.stream().anyMatch(l -> l.startsWith("handling p-1"))) {
        crashes++;
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
