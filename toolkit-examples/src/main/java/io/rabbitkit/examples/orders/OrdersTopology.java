package io.rabbitkit.examples.orders;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;

/**
 * The orders topology, declared by producer and consumer alike so either may start first: topic
 * exchange 'orders', quorum queue 'orders.placed' bound with 'order.placed', and its dead-letter
 * queue 'orders.placed.dlq'. The quorum queue's delivery limit sends a message that crashes every
 * consumer to the dead-letter queue instead of looping. What another client declared already (an
 * 'orders' exchange from a Python service, say) is kept as it is.
 */
final class OrdersTopology {

  static final String ROUTING_KEY = "order.placed";

  private OrdersTopology() {
  }

  static String exchange(Args args) {
    return args.option("exchange", "orders");
  }

  static String queue(Args args) {
    return args.option("queue", "orders.placed");
  }

  static void declare(RabbitToolkit rabbit, Args args) {
    String queue = queue(args);
    rabbit.declareMissing(Topology.builder()
        .exchange(Exchange.topic(exchange(args)))
        .queue(Queue.classic(queue + ".dlq"))
        .queue(Queue.quorum(queue).withDeadLetterQueue(queue + ".dlq").withDeliveryLimit(5))
        .binding(Binding.of(exchange(args), queue, ROUTING_KEY))
        .build());
  }
}
