package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Body size limits on both sides: refused before sending, dead-lettered on receipt, nothing lost. */
@RabbitTest
class SizeLimitsIT {

  @Test
  void anOversizedMessageIsDeadLetteredWithTheReasonAndTheConsumerKeepsRunning(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("sized");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<String> handled = new CopyOnWriteArrayList<>();
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
        MessageConsumer c =
            rabbit.consumerBuilder(String.class).queue(queue).maxBodySize(1024).deadLetterQueue(queue + ".dlq")
                .handler(d -> handled.add(d.body())).build()) {
      p.publish(Message.of("x".repeat(2048)).withMessageId("too-big")).get(10, TimeUnit.SECONDS);
      p.publish(Message.of("small").withMessageId("fine")).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> handled.contains("small"));
      assertEquals(List.of("small"), handled);
      List<DeadLetter> dead = Await.until(Duration.ofSeconds(10), () -> rabbit.deadLetters(queue).list(10),
          l -> l.size() == 1);
      DeadLetter d = dead.get(0);
      assertEquals("too-big", d.messageId().orElseThrow());
      assertEquals(FailureHeaders.REASON_TOO_LARGE, d.reason());
      assertTrue(d.exceptionMessage().orElseThrow().contains("exceeds the consumer's limit of 1024 bytes"),
          d.toString());
      assertEquals(2048, d.body().length, "the body is kept whole");
      assertTrue(c.isRunning());
    }
  }

  @Test
  void aPublisherRefusesABodyOverItsLimitBeforeSendingIt(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("sized");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).maxBodySize(100).build()) {
      Throwable e = Await.failure(p.publish("y".repeat(101)), Duration.ofSeconds(5));
      assertInstanceOf(PublishException.class, e);
      assertTrue(e.getMessage().contains("exceeds the limit of 100 bytes"), e.getMessage());
      p.publish("z".repeat(100)).get(10, TimeUnit.SECONDS);
      assertEquals(0, p.inFlight());
    }
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount(), "only the message within the limit was sent");
  }
}
