package io.rabbitkit.examples;

import io.rabbitkit.RabbitToolkit;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the examples one after another against the broker, the way a new user would try them:
 * hello world, callbacks, RPC, a work queue, publish/subscribe, and orders with a dead letter that
 * is listed, replayed and processed.
 */
final class Tour {

  private Tour() {}

  static int run(Args args, PrintStream out) throws Exception {
    String uri = "--uri=" + args.uri();
    step(out, "hello-producer", uri);
    step(out, "hello-consumer", uri, "--count", "1");
    step(out, "async-callback", uri, "--count", "3");

    CompletableFuture<Integer> server = background(out, "rpc-server", uri, "--count", "1");
    awaitConsumer(args, "rpc_queue");
    step(out, "rpc-client", uri, "--n", "30");
    server.join();

    step(out, "work-queue", "producer", uri, "--count", "2");
    step(out, "work-queue", "consumer", uri, "--count", "2");

    LineWatcher subscribed = new LineWatcher(out, "Waiting for logs");
    CompletableFuture<Integer> subscriber = CompletableFuture.supplyAsync(() ->
        Examples.run(new String[] {"pub-sub", "consumer", uri, "--count", "1"}, subscribed, System.err));
    subscribed.seen().join();
    step(out, "pub-sub", "producer", uri);
    subscriber.join();

    LineWatcher errors = new LineWatcher(out, "Waiting for logs");
    CompletableFuture<Integer> errorLog = CompletableFuture.supplyAsync(() -> Examples.run(
        new String[] {"topics", "consumer", uri, "--binding-keys", "*.critical", "--count", "1"}, errors, System.err));
    errors.seen().join();
    step(out, "topics", "producer", uri, "--routing-key", "kern.info", "--message", "not for *.critical");
    step(out, "topics", "producer", uri, "--routing-key", "kern.critical", "--message", "disk full");
    errorLog.join();

    step(out, "orders-producer", uri, "--count", "5");
    step(out, "orders-consumer", uri, "--count", "5", "--fail-every", "5", "--retry-delays", "200ms,400ms");
    step(out, "dead-letters", "list", uri, "--queue", "orders.placed");
    step(out, "dead-letters", "replay", uri, "--queue", "orders.placed");
    step(out, "orders-consumer", uri, "--count", "1");
    out.println();
    out.println("Tour done.");
    return 0;
  }

  private static void step(PrintStream out, String... argv) {
    out.println();
    out.println("$ java -jar toolkit-examples.jar " + String.join(" ", argv).replaceAll("--uri=\\S+ ?", ""));
    int code = Examples.run(argv, out, System.err);
    if (code != 0) {
      throw new IllegalStateException(argv[0] + " exited with " + code);
    }
  }

  private static CompletableFuture<Integer> background(PrintStream out, String... argv) {
    out.println();
    out.println("$ java -jar toolkit-examples.jar " + String.join(" ", argv).replaceAll("--uri=\\S+ ?", "") + " &");
    return CompletableFuture.supplyAsync(() -> Examples.run(argv, out, System.err));
  }

  /** Polls until the background server subscribed, so the client's request finds it. */
  private static void awaitConsumer(Args args, String queue) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      while (rabbit.queueInfo(queue).map(q -> q.consumerCount() == 0).orElse(true)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(queue + " got no consumer within 30 s");
        }
        Thread.sleep(20);
      }
    }
  }
}
