package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The README's quick start, compiled and run (on a broker of its own, since it uses fixed names);
 * {@code docs.DocSnippetsTest} checks that the README shows exactly this code.
 */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class QuickStartIT {

  // @formatter:off
  // tag::quickstart[]
  record OrderPlaced(String orderId, double amount) {}

  // end::quickstart[]
  // @formatter:on

  private static final List<OrderPlaced> RECEIVED = new CopyOnWriteArrayList<>();

  private static void handle(OrderPlaced order) {
    RECEIVED.add(order);
  }

  static void quickStart(String uri) {
    // tag::quickstart[]
    try (RabbitToolkit rabbit = RabbitToolkit.connect(uri)) {
      // Declare: idempotent, and declared again after every connection recovery.
      rabbit.declare(Topology.builder()
          .exchange(Exchange.topic("shop"))
          .queue(Queue.quorum("shop.orders"))
          .binding(Binding.of("shop", "shop.orders", "order.placed"))
          .build());

      // Consume: acked after the handler returns. A failure is retried in process, then after
      // 1 s and 10 s, then moved to shop.orders.dlq with the reason in its headers.
      MessageConsumer consumer = rabbit.consumerBuilder(OrderPlaced.class)
          .queue("shop.orders")
          .handler(delivery -> handle(delivery.body()))
          .retry(RetryConfig.custom().maxAttempts(3).build())
          .redelivery(Redelivery.after(Duration.ofSeconds(1), Duration.ofSeconds(10)))
          .build();

      // Publish: the future completes once the broker has confirmed the routed message.
      Publisher<OrderPlaced> orders = rabbit.publisherBuilder(OrderPlaced.class)
          .exchange("shop").routingKey("order.placed").build();
      orders.publish(new OrderPlaced("o-1", 10.5)).join();
      // end::quickstart[]
      Await.until(Duration.ofSeconds(10), () -> consumer.stats().processed() == 1);
      // tag::quickstart[]
    }
    // end::quickstart[]
  }

  @Test
  void theQuickStartRunsAsWritten(RabbitBroker broker) {
    quickStart(broker.uri());
    assertEquals(List.of(new OrderPlaced("o-1", 10.5)), RECEIVED);
  }

}
