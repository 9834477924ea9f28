package io.rabbitkit.examples.tutorials;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.examples.Tutorials;
import java.io.PrintStream;

/**
 * Work queue (tutorial 2): the producer sends tasks to durable queue 'task_queue'; workers take one
 * at a time (prefetch 1, so a busy worker gets no more) and acknowledge after the work, so a worker
 * that dies loses nothing. Each '.' in a task stands for {@code --work-ms} of work.
 *
 * <pre>
 * java -jar toolkit-examples.jar work-queue producer [--count 1] [--message 'Hello World...']
 * java -jar toolkit-examples.jar work-queue consumer [--count N] [--work-ms 100]
 * </pre>
 */
public final class WorkQueue {

  private WorkQueue() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    String queue = args.option("queue", "task_queue");
    String role = args.role();
    long count = args.count().orElse(0);
    long workMs = args.number("work-ms", 100);
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      Tutorials.queue(rabbit, queue, true, out); // durable=True, as in the tutorial
      if (role.equals("producer")) {
        // Persistent messages in a durable queue survive a broker restart.
        try (Publisher<String> tasks = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
          for (long i = 1; i <= Math.max(1, count); i++) {
            String task = args.option("message", "Hello World...") + " #" + i;
            tasks.publish(task).join();
            out.println(" [x] Sent '" + task + "'");
          }
        }
        return 0;
      }
      MessageConsumer.Builder<String> worker =
          rabbit.consumerBuilder(String.class).queue(queue).prefetch(1).handler(d -> {
            out.println(" [x] Received '" + SafeText.of(d.body(), 1000) + "'");
            Thread.sleep(workMs * d.body().chars().filter(c -> c == '.').count());
            out.println(" [x] Done");
          });
      if (count > 0) {
        worker.stopAfter(count);
      }
      try (MessageConsumer consumer = worker.build()) {
        out.println(" [*] Waiting for tasks. To exit press CTRL+C");
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }
}
