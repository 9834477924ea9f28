package io.rabbitkit.examples.tutorials;

import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
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

  private PubSub() {
  }

  public static int run(Args args, PrintStream out) {
    Exchange logs = Exchange.fanout(args.option("exchange", "logs"));
    if (args.role().equals("consumer")) {
      return Logs.consume(args, out, logs, List.of(""));
    }
    return Logs.publish(args, out, logs, "", args.option("message", "info: Hello World!"));
  }
}
