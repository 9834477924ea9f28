package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@RabbitTest
class PublishConsumeIT {

  record OrderPlaced(String orderId, String customer, double amount, List<String> items, Instant placedAt,
      Map<String, Integer> quantities, boolean express) {
  }

  @Test
  void typedRecordArrivesWithEveryFieldIntact(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("orders");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    OrderPlaced sent = new OrderPlaced("o-1", "c-1", 10.5, List.of("a", "b"), Instant.parse("2026-01-02T03:04:05Z"),
        Map.of("a", 1, "b", 2), true);
    BlockingQueue<Delivery<OrderPlaced>> received = new LinkedBlockingQueue<>();

    try (Publisher<OrderPlaced> publisher = rabbit.publisherBuilder(OrderPlaced.class).routingKey(queue).build();
        MessageConsumer consumer =
            rabbit.consumerBuilder(OrderPlaced.class).queue(queue).handler(received::add).build()) {
      Confirmation confirmation =
          publisher.publish(Message.of(sent).withHeader("tenant", "eu")).get(10, TimeUnit.SECONDS);
      Delivery<OrderPlaced> delivery = received.poll(10, TimeUnit.SECONDS);

      assertEquals(sent, delivery.body());
      assertEquals(confirmation.messageId(), delivery.messageId().orElseThrow());
      assertEquals("eu", delivery.headers().get("tenant"));
      assertEquals("application/json", delivery.contentType().orElseThrow());
      assertEquals("", delivery.exchange());
      assertEquals(queue, delivery.routingKey());
      assertEquals(1, delivery.attempt());
      assertTrue(!delivery.redelivered());
      Await.until(Duration.ofSeconds(5), () -> consumer.stats().processed() == 1);
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }
}
