package io.rabbitkit.examples.helloworld;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.examples.Tutorials;
import java.io.PrintStream;
import java.util.OptionalLong;

/**
 * Prints every message of queue 'hello', like the pika tutorial's consumer whose callback prints
 * {@code " [x] Received %r"}. Reads plain-string bodies from any client (pika sends no content type).
 *
 * <pre>java -jar toolkit-examples.jar hello-consumer [--count N] [--queue hello]</pre>
 */
public final class HelloConsumer {

  private HelloConsumer() {
  }

  public static int run(Args args, PrintStream out) {
    String queue = args.option("queue", "hello");
    OptionalLong count = args.count(); // check options before touching the broker
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      Tutorials.queue(rabbit, queue, false, out); // as pika's queue_declare('hello'); an existing one is kept
      // The handler is the callback: returning normally acknowledges the message.
      MessageConsumer.Builder<String> builder = rabbit.consumerBuilder(String.class).queue(queue)
          .handler(delivery -> out.println(" [x] Received '" + SafeText.of(delivery.body(), 1000) + "'"));
      // --count N: stop after N messages; without it, run until Ctrl-C.
      count.ifPresent(builder::stopAfter);
      try (MessageConsumer consumer = builder.build()) {
        out.println(" [*] Waiting for messages. To exit press CTRL+C");
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }
}
