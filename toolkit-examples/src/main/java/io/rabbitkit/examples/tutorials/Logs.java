package io.rabbitkit.examples.tutorials;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.examples.Tutorials;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * What the pub-sub, routing and topics examples share. Consumers read a private queue (exclusive,
 * deleted when the consumer goes) bound to the exchange with their keys and print {@code [x]
 * 'key':'message'}. Producers publish with mandatory off: a log line nobody listens to is dropped,
 * as in the tutorials.
 */
final class Logs {

  private Logs() {
  }

  static int publish(Args args, PrintStream out, Exchange exchange, String routingKey, String message) {
    long count = args.count().orElse(1);
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      Tutorials.exchange(rabbit, exchange);
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).exchange(exchange.name())
          .routingKey(routingKey).mandatory(false).build()) {
        for (long i = 0; i < count; i++) {
          publisher.publish(message).join();
          out.println(" [x] Sent " + (routingKey.isEmpty() ? "" : "'" + routingKey + "':") + "'" + message + "'");
        }
      }
    }
    return 0;
  }

  static int consume(Args args, PrintStream out, Exchange exchange, List<String> bindingKeys) {
    OptionalLong count = args.count();
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      String queue = exchange.name() + "." + UUID.randomUUID();
      Tutorials.exchange(rabbit, exchange); // non-durable as in the tutorials; an existing one is kept
      Topology.Builder topology = Topology.builder()
          .queue(Queue.classic(queue).withDurable(false).withExclusive(true).withAutoDelete(true));
      bindingKeys.forEach(key -> topology.binding(Binding.of(exchange.name(), queue, key)));
      rabbit.declare(topology.build());
      MessageConsumer.Builder<String> builder = rabbit.consumerBuilder(String.class).queue(queue)
          .handler(
              d -> out.println(" [x] '" + SafeText.of(d.routingKey()) + "':'" + SafeText.of(d.body(), 1000) + "'"));
      count.ifPresent(builder::stopAfter);
      try (MessageConsumer consumer = builder.build()) {
        String on = bindingKeys.equals(List.of("")) ? "" : " on " + String.join(", ", bindingKeys);
        out.println(" [*] Waiting for logs" + on + ". To exit press CTRL+C");
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }
}
