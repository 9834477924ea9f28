package io.rabbitkit.examples.tutorials;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;

/**
 * Topics (tutorial 5): topic exchange 'topic_logs'; consumers bind patterns such as {@code kern.*}
 * ({@code *} one word, {@code #} any number of words).
 *
 * <pre>
 * java -jar toolkit-examples.jar topics consumer [--binding-keys '#'] [--count N]
 * java -jar toolkit-examples.jar topics producer [--routing-key anonymous.info] [--message 'Hello World!']
 * </pre>
 */
public final class Topics {

  private Topics() {}

  public static int run(Args args, PrintStream out) {
    Exchange topicLogs = Exchange.topic(args.option("exchange", "topic_logs"));
    if (args.role().equals("consumer")) {
      return LogConsumers.consume(args, out, topicLogs, args.list("binding-keys", "#"));
    }
    String routingKey = args.option("routing-key", "anonymous.info");
    String message = args.option("message", "Hello World!");
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      rabbit.declare(Topology.builder().exchange(topicLogs).build());
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).exchange(topicLogs.name())
          .routingKey(routingKey).mandatory(false).build()) {
        publisher.publish(message).join();
        out.println(" [x] Sent '" + routingKey + "':'" + message + "'");
      }
    }
    return 0;
  }
}
