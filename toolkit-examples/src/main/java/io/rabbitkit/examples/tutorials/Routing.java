package io.rabbitkit.examples.tutorials;

import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
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

  private Routing() {
  }

  public static int run(Args args, PrintStream out) {
    Exchange directLogs = Exchange.direct(args.option("exchange", "direct_logs"));
    if (args.role().equals("consumer")) {
      return Logs.consume(args, out, directLogs, args.list("severities", "info,warning,error"));
    }
    return Logs.publish(args, out, directLogs, args.option("severity", "info"), args.option("message", "Hello World!"));
  }
}
