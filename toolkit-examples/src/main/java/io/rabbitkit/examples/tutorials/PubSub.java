package io.rabbitkit.examples.tutorials;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;
import java.util.List;

/**
 * Publish/subscribe (tutorial 3): every consumer gets every message through fanout exchange 'logs'.
 * Messages published while no consumer is bound are dropped, so mandatory is off here.
 *
 * <pre>
 * java -jar toolkit-examples.jar pub-sub consumer [--count N]
 * java -jar toolkit-examples.jar pub-sub producer [--message 'info: Hello World!'] [--count 1]
 * </pre>
 */
public final class PubSub {

  private PubSub() {}

  public static int run(Args args, PrintStream out) {
    Exchange logs = Exchange.fanout(args.option("exchange", "logs"));
    if (args.role().equals("consumer")) {
      return LogConsumers.consume(args, out, logs, List.of(""));
    }
    long count = args.count().orElse(1);
    String message = args.option("message", "info: Hello World!");
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      rabbit.declare(Topology.builder().exchange(logs).build());
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).exchange(logs.name())
          .mandatory(false).build()) {
        for (long i = 0; i < count; i++) {
          publisher.publish(message).join();
          out.println(" [x] Sent '" + message + "'");
        }
      }
    }
    return 0;
  }
}
