package io.rabbitkit.examples.tutorials;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;

/**
 * Routing (tutorial 4): direct exchange 'direct_logs'; a consumer receives only the severities it
 * binds.
 *
 * <pre>
 * java -jar toolkit-examples.jar routing consumer [--severities info,warning,error] [--count N]
 * java -jar toolkit-examples.jar routing producer [--severity error] [--message 'Hello World!']
 * </pre>
 */
public final class Routing {

  private Routing() {}

  public static int run(Args args, PrintStream out) {
    Exchange directLogs = Exchange.direct(args.option("exchange", "direct_logs"));
    if (args.role().equals("consumer")) {
      return LogConsumers.consume(args, out, directLogs, args.list("severities", "info,warning,error"));
    }
    String severity = args.option("severity", "info");
    String message = args.option("message", "Hello World!");
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      rabbit.declare(Topology.builder().exchange(directLogs).build());
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).exchange(directLogs.name())
          .routingKey(severity).mandatory(false).build()) {
        publisher.publish(message).join();
        out.println(" [x] Sent '" + severity + "':'" + message + "'");
      }
    }
    return 0;
  }
}
