package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Moves to the dead-letter queue and the broker's delivery limit: a move that cannot be confirmed
 * never acks the original, a quorum queue's limit never drops a message silently, give-backs are not
 * charged as attempts, and a message with headers near the frame size is dead-lettered once. Messages
 * the broker itself refuses are in {@link BrokerRefusalIT}.
 */
@RabbitTest
class DeadLetterMovesIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Order(String orderId, String status) {
  }

  @Test
  void aMessageWithoutIdThatCannotBeRoutedToTheDeadLetterQueueIsNotAckedAsMoved(RabbitToolkit rabbit,
      RabbitBroker broker, TestNames names) throws Exception {
    // The toolkit re-publishes foreign messages (no id) to the dead-letter queue: a return must
    // still reach that move, or the original would be acked while the copy was dropped.
    String queue = names.queue("work");
    String missingDlq = names.queue("work.nowhere");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(missingDlq)
        .requeueDelay(Duration.ofMillis(200)).handler(d -> {
        }).build()) {
      rabbit.deleteQueue(missingDlq); // the pipeline declared it; now its moves are unroutable
      try (Connection connection = RawClient.connect(broker.uri()); Channel ch = connection.createChannel()) {
        ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("application/json").build(),
            "not json".getBytes(StandardCharsets.UTF_8));
      }
      Await.until(WAIT, "the failed move requeued", () -> c.stats().requeued() >= 1);
      assertEquals(0, c.stats().deadLettered());
    }
    Await.until(WAIT, "the message is back in its queue",
        () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 1);
  }

  @Test
  void requeuesOnAQuorumQueueWithADeliveryLimitNeverEndInTheBrokersSilentDrop(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("limited");
    rabbit.declare(Topology.of(Queue.quorum(queue).withDeliveryLimit(3)));
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).messageId(Order::orderId).build();
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).requeueDelay(Duration.ofMillis(50))
            .handler(d -> {
              calls.incrementAndGet();
              throw new IllegalStateException("always fails");
            }).build()) {
      p.publish(new Order("o-1", "placed")).get(10, TimeUnit.SECONDS);
      Await.until(WAIT, "moved aside before the broker's limit", () -> rabbit.deadLetters(queue).count() == 1);
      Await.until(WAIT, () -> c.stats().deadLettered() == 1);
    }
    assertTrue(calls.get() <= 4, "handled " + calls.get() + " times with a delivery limit of 3");
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
    DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
    assertEquals("o-1", letter.messageId().orElseThrow());
    assertEquals(FailureHeaders.REASON_DELIVERY_LIMIT, letter.reason());
  }

  @Test
  void stopAfterDoesNotChargeAttemptsToMessagesItNeverHandled(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("batch");
    String dlq = names.queue("batch.dlq");
    rabbit.declare(Topology.of(Queue.classic(dlq), Queue.quorum(queue).withDeliveryLimit(2).withDeadLetterQueue(dlq)));
    try (
        Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).messageId(Order::orderId).build()) {
      for (int i = 0; i < 20; i++) {
        p.publish(new Order("o-" + i, "placed")).get(10, TimeUnit.SECONDS);
      }
    }
    Set<String> handled = ConcurrentHashMap.newKeySet();
    for (int run = 0; run < 6; run++) {
      try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).stopAfter(1)
          .handler(d -> handled.add(d.body().orderId())).build()) {
        c.stopped().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
    assertEquals(6, handled.size());
    Await.until(WAIT, () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 14);
    assertEquals(0, rabbit.queueInfo(dlq).orElseThrow().messageCount(), "valid messages charged to the limit");
  }

  @Test
  void anUndecodableMessageWithHeadersNearTheFrameSizeReachesTheDeadLetterQueueOnce(RabbitToolkit rabbit,
      RabbitBroker broker, TestNames names) throws Exception {
    for (Queue work : List.of(Queue.classic(names.queue("classic")), Queue.quorum(names.queue("quorum")))) {
      String queue = work.name();
      rabbit.declare(Topology.of(work));
      Map<String, Object> headers = new HashMap<>();
      for (int i = 0; i < 127; i++) {
        headers.put("h" + i, "x".repeat(1000)); // about 127 KB: fits the frame (131072), with no room for more
      }
      try (Connection connection = RawClient.connect(broker.uri()); Channel ch = connection.createChannel()) {
        ch.confirmSelect();
        ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("application/json").messageId("big-1")
            .headers(headers).build(), "{broken".getBytes(StandardCharsets.UTF_8));
        ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("application/json").messageId("ok-1")
            .build(), "{\"orderId\":\"o-1\",\"status\":\"placed\"}".getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
      }
      try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
          .requeueDelay(Duration.ofMillis(100)).handler(d -> {
          }).build()) {
        Await.until(WAIT, "the big one dead-lettered", () -> rabbit.deadLetters(queue).count() == 1);
        Await.until(WAIT, () -> c.stats().processed() == 1);
        Thread.sleep(500);
        assertEquals(0, c.stats().requeued(), "moving it to the dead-letter queue looped");
        assertEquals(1, c.stats().deadLettered());
      }
      DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
      assertEquals("big-1", letter.messageId().orElseThrow());
      assertEquals(FailureHeaders.REASON_UNDECODABLE, letter.reason());
      assertEquals(queue, letter.originalQueue());
      assertEquals(1, rabbit.deadLetters(queue).count());
    }
  }

}
