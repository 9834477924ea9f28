package io.rabbitkit.examples.orders;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import java.io.PrintStream;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Consumes 'orders.placed' with the failure pipeline: a failing order is retried in process, then
 * after each {@code --retry-delays} tier, then dead-lettered to 'orders.placed.dlq' with the reason.
 * {@code --fail-every K} makes every K-th new order fail every time, to watch that happen.
 *
 * <p>{@code --count N} exits once N orders reached their end: processed, or dead-lettered after
 * their last tier. An order waiting in a retry tier has not, so other orders are handled meanwhile.
 *
 * <pre>java -jar toolkit-examples.jar orders-consumer [--count N] [--fail-every K] [--retry-delays 1s,5s]</pre>
 */
public final class OrdersConsumer {

  private OrdersConsumer() {
  }

  public static int run(Args args, PrintStream out) {
    long failEvery = args.number("fail-every", 0);
    OptionalLong count = args.count();
    Redelivery tiers = new Redelivery(args.durations("retry-delays", "1s,5s"));
    AtomicLong newOrders = new AtomicLong();
    // Only the orders chosen to fail are remembered, until they are dead-lettered: memory stays flat.
    Set<String> failing = ConcurrentHashMap.newKeySet();
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      OrdersTopology.declare(rabbit, args);
      MessageConsumer.Builder<Order> builder = rabbit.consumerBuilder(Order.class).queue(OrdersTopology.queue(args))
          .retry(RetryConfig.custom().maxAttempts(2).waitDuration(Duration.ofMillis(100)).build())
          .redelivery(tiers)
          .deadLetterQueue(OrdersTopology.queue(args) + ".dlq")
          .listener(new MessageConsumer.Listener() {
            @Override
            public void deadLettered(String queue, String messageId, String reason, Throwable cause) {
              failing.remove(messageId);
              out.println(" [!] Dead-lettered order " + SafeText.of(messageId) + " (" + reason + ": "
                  + SafeText.of(cause.getMessage(), 200) + ")");
            }
          })
          .handler(delivery -> {
            Order order = delivery.body();
            boolean firstSight =
                delivery.attempt() == 1 && !delivery.redelivered() && !failing.contains(order.orderId());
            if (firstSight && failEvery > 0 && newOrders.incrementAndGet() % failEvery == 0) {
              failing.add(order.orderId());
            }
            if (failing.contains(order.orderId())) {
              throw new IllegalStateException("simulated failure of order " + order.orderId()
                  + " (round " + delivery.attempt() + ")");
            }
            out.println(" [x] Processed order " + SafeText.of(order.orderId()) + " for " + SafeText.of(order.customer())
                + ": " + order.amount() + " (" + order.items().size() + " item(s))");
          });
      count.ifPresent(builder::stopAfter);
      try (MessageConsumer consumer = builder.build()) {
        out.println(" [*] Waiting for orders. To exit press CTRL+C");
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }
}
