package io.rabbitkit.examples.async;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The asyncio guide's idea, with futures: nothing waits on a thread. Publishing schedules a
 * callback for each confirm ({@code whenComplete}, like {@code add_done_callback}); the consumer's
 * handler returns a future that a timer completes later ({@code loop.call_later}), and the message
 * is acknowledged only when that future completes.
 *
 * <pre>java -jar toolkit-examples.jar async-callback [--count 3] [--queue async_callback]</pre>
 */
public final class AsyncCallback {

  private AsyncCallback() {
  }

  public static int run(Args args, PrintStream out) {
    String queue = args.option("queue", "async_callback");
    long count = args.count().orElse(3);
    Executor later = CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS); // like loop.call_later(0.1, ...)
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      rabbit.declareMissing(Topology.of(Queue.classic(queue)));
      // An async handler: returns at once; the ack waits for the returned future.
      try (MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue(queue).stopAfter(count)
          .asyncHandler(delivery -> {
            out.println(" [x] Received '" + SafeText.of(delivery.body(), 1000) + "', finishing it later");
            return CompletableFuture
                .runAsync(() -> out.println(" [x] Done with '" + SafeText.of(delivery.body(), 1000) + "'"), later);
          }).build();
          Publisher<String> publisher = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        // Publish without waiting: each confirm arrives as a callback.
        CompletableFuture<?>[] confirms = new CompletableFuture<?>[(int) count];
        for (int i = 1; i <= count; i++) {
          String text = "message " + i;
          confirms[i - 1] = publisher.publish(text).whenComplete((confirmation, error) -> out
              .println(error == null ? " [x] Confirmed '" + text + "'" : " [!] Not confirmed: " + error));
        }
        out.println(" [*] Published " + count + " message(s) without blocking; callbacks follow");
        CompletableFuture.allOf(confirms).join();
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }
}
