package io.rabbitkit.examples.tutorials;

import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Exchange;
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

  private Topics() {
  }

  public static int run(Args args, PrintStream out) {
    Exchange topicLogs = Exchange.topic(args.option("exchange", "topic_logs"));
    if (args.role().equals("consumer")) {
      return Logs.consume(args, out, topicLogs, args.list("binding-keys", "#"));
    }
    return Logs.publish(args, out, topicLogs, args.option("routing-key", "anonymous.info"),
        args.option("message", "Hello World!"));
  }
}
