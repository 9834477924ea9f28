package io.rabbitkit.examples.helloworld;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Tutorials;
import java.io.PrintStream;

/**
 * Sends 'Hello World!' to queue 'hello' through the default exchange, like the pika tutorial's
 * {@code channel.basic_publish(exchange='', routing_key='hello', body='Hello World!')}.
 *
 * <pre>java -jar toolkit-examples.jar hello-producer [--queue hello] [--message 'Hello World!']</pre>
 */
public final class HelloProducer {

  private HelloProducer() {
  }

  public static int run(Args args, PrintStream out) {
    String queue = args.option("queue", "hello");
    String message = args.option("message", "Hello World!");
    // One toolkit per application; closing it waits for outstanding confirms.
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      // Declare the queue unless it exists: if the pika guide's queue_declare('hello') ran first, its queue is kept.
      Tutorials.queue(rabbit, queue, false, out);
      // The default exchange routes by queue name; a String body travels as UTF-8 text/plain.
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        // join() waits for the broker's confirm: after it, the message is the broker's responsibility.
        publisher.publish(message).join();
      }
      out.println(" [x] Sent '" + message + "'");
    }
    return 0;
  }
}
