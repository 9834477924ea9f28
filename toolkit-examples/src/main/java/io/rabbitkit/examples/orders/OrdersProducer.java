package io.rabbitkit.examples.orders;

import io.rabbitkit.Confirmation;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes typed orders as JSON to topic exchange 'orders' with routing key 'order.placed', all at
 * once, then waits for every confirm: an order counts as sent only once the broker confirmed it.
 *
 * <pre>java -jar toolkit-examples.jar orders-producer [--count 1]</pre>
 */
public final class OrdersProducer {

  private OrdersProducer() {
  }

  public static int run(Args args, PrintStream out) {
    long count = args.count().orElse(1);
    String run = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      OrdersTopology.declare(rabbit, args);
      // The order id doubles as the message id, so a consumer can recognise a re-sent duplicate.
      try (Publisher<Order> orders = rabbit.publisherBuilder(Order.class).exchange(OrdersTopology.exchange(args))
          .routingKey(OrdersTopology.ROUTING_KEY).messageId(Order::orderId).build()) {
        List<CompletableFuture<Confirmation>> confirms = new ArrayList<>();
        for (long i = 1; i <= count; i++) {
          Order order = new Order("o-" + run + "-" + i, "c-" + (i % 3 + 1), 10.5 * i, List.of("item-" + i));
          confirms.add(orders.publish(order).whenComplete((ok, error) -> out.println(error == null
              ? " [x] Sent order " + order.orderId() + " (" + order.amount() + ")"
              : " [!] Order " + order.orderId() + " not confirmed: " + error.getMessage())));
        }
        CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new)).join();
      }
    }
    return 0;
  }
}
