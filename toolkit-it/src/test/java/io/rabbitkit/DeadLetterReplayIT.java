package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replaying dead letters: where they go, and what happens to one the target does not take. */
@RabbitTest
class DeadLetterReplayIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Order(String orderId) {
  }

  @Test
  void replayGoesToTheDeadLetterQueuesOwnQueueWhateverHeadersTheMessageCarried(RabbitToolkit rabbit,
      RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("work");
    String victim = names.queue("victim");
    rabbit.declare(Topology.of(Queue.classic(queue), Queue.classic(victim)));
    try (Connection raw = RawClient.connect(broker.uri()); Channel ch = raw.createChannel()) {
      ch.confirmSelect();
      ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().messageId("stranger").contentType("text/plain")
          .headers(Map.of(FailureHeaders.ORIGINAL_QUEUE, victim, FailureHeaders.ORIGINAL_EXCHANGE, "forged",
              FailureHeaders.FIRST_FAILED_AT, "1999-01-01T00:00:00Z"))
          .build(), "{".getBytes(StandardCharsets.UTF_8));
      ch.waitForConfirmsOrDie(10_000);
    }
    try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
        .handler(d -> {
        }).build()) {
      Await.until(WAIT, () -> rabbit.deadLetters(queue).count() == 1);
    }
    DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
    assertEquals(queue, letter.originalQueue());
    assertEquals("", letter.originalExchange(), "written from what the consumer saw");
    assertFalse(letter.firstFailedAt().orElseThrow().toString().startsWith("1999"));
    assertEquals(1, rabbit.deadLetters(queue).replayAll());
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
    assertEquals(0, rabbit.queueInfo(victim).orElseThrow().messageCount(), "a stranger steered the replay");
  }

  @Test
  void oneUndeliverableDeadLetterIsReportedAndSkippedAndTheReplayGoesOn(RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      for (int i = 0; i < 3; i++) {
        p.publish("dead " + i).join();
      }
    }
    var dead = rabbit.deadLetters(queue);
    assertEquals(0, dead.replayTo(names.queue("missing"), d -> true, 100), "the target queue does not exist");
    assertEquals(3, dead.skipped());
    assertEquals(3, dead.count(), "nothing lost");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    assertEquals(3, dead.replayAll());
    assertEquals(3, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void browseVisitsEveryLetterInOrderAndAFilteredPurgeDeletesOnlyTheMatchingOnes(RabbitToolkit rabbit,
      TestNames names) {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      for (int i = 0; i < 1_200; i++) {
        p.publish("dead " + i).join();
      }
    }
    var dead = rabbit.deadLetters(queue);
    java.util.List<String> bodies = new java.util.ArrayList<>();
    assertEquals(1_200, dead.browse(Integer.MAX_VALUE, d -> bodies.add(d.bodyAsString())));
    assertEquals("dead 0", bodies.get(0));
    assertEquals("dead 1199", bodies.get(1_199));
    assertEquals(1_200, dead.count(), "browsing leaves them in place");
    assertEquals(3, dead.browse(3, d -> true));
    assertEquals(5, dead.browse(100, d -> !d.bodyAsString().equals("dead 4")), "the visitor stops it");
    assertEquals(600, dead.purge(d -> Integer.parseInt(d.bodyAsString().substring(5)) % 2 == 0));
    Await.until(WAIT, () -> dead.count() == 600);
    java.util.List<String> left = new java.util.ArrayList<>();
    dead.browse(2, d -> left.add(d.bodyAsString()));
    assertEquals(java.util.List.of("dead 1", "dead 3"), left, "the others stay, in their order");
  }
}
