package io.rabbitkit.examples;

import io.rabbitkit.RabbitToolkit;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs the examples one after another against the broker, the way a new user would try them:
 * hello world, callbacks, RPC, a work queue, publish/subscribe, and orders with a dead letter that
 * is listed, replayed and processed.
 */
final class Tour {

  private Tour() {
  }

  static int run(Args args, PrintStream out) throws Exception {
    String uri = "--uri=" + args.uri();
    // Names of its own, so the tour never consumes, replays or pollutes what a shared broker holds.
    String p = "tour-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)) + ".";
    try {
      step(out, "hello-producer", uri, "--queue", p + "hello");
      step(out, "hello-consumer", uri, "--queue", p + "hello", "--count", "1");
      step(out, "async-callback", uri, "--queue", p + "async_callback", "--count", "3");

      CompletableFuture<Integer> server =
          background(out, "rpc-server", uri, "--queue", p + "rpc_queue", "--count", "1");
      awaitConsumer(args, p + "rpc_queue");
      step(out, "rpc-client", uri, "--queue", p + "rpc_queue", "--n", "30");
      server.join();

      step(out, "work-queue", "producer", uri, "--queue", p + "task_queue", "--count", "2");
      step(out, "work-queue", "consumer", uri, "--queue", p + "task_queue", "--count", "2");

      LineWatcher subscribed = new LineWatcher(out, "Waiting for logs");
      CompletableFuture<Integer> subscriber = CompletableFuture.supplyAsync(() -> Examples.run(
          new String[]{"pub-sub", "consumer", uri, "--exchange", p + "logs", "--count", "1"}, subscribed, System.err));
      subscribed.seen().join();
      step(out, "pub-sub", "producer", uri, "--exchange", p + "logs");
      subscriber.join();

      LineWatcher errors = new LineWatcher(out, "Waiting for logs");
      CompletableFuture<Integer> errorLog = CompletableFuture.supplyAsync(() -> Examples.run(new String[]{"topics",
          "consumer", uri, "--exchange", p + "topic_logs", "--binding-keys", "*.critical", "--count", "1"}, errors,
          System.err));
      errors.seen().join();
      step(out, "topics", "producer", uri, "--exchange", p + "topic_logs", "--routing-key", "kern.info",
          "--message", "not for *.critical");
      step(out, "topics", "producer", uri, "--exchange", p + "topic_logs", "--routing-key", "kern.critical",
          "--message", "disk full");
      errorLog.join();

      String orders = p + "orders.placed";
      String[] names = {"--exchange", p + "orders", "--queue", orders};
      step(out, concat(new String[]{"orders-producer", uri, "--count", "5"}, names));
      step(out, concat(new String[]{"orders-consumer", uri, "--count", "5", "--fail-every", "5", "--retry-delays",
          "200ms,400ms"}, names));
      step(out, "dead-letters", "list", uri, "--queue", orders);
      step(out, "dead-letters", "replay", uri, "--queue", orders);
      step(out, concat(new String[]{"orders-consumer", uri, "--count", "1", "--retry-delays", "200ms,400ms"}, names));

      step(out, "events-producer", uri, "--stream", p + "events", "--count", "3");
      step(out, "events-consumer", uri, "--stream", p + "events", "--from", "first", "--count", "3");
    } finally {
      cleanUp(args, p);
    }
    out.println();
    out.println("Tour done.");
    return 0;
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** Deletes every queue and exchange the tour made (their names start with its prefix). */
  private static void cleanUp(Args args, String p) {
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      for (String q : List.of("hello", "async_callback", "rpc_queue", "task_queue", "orders.placed",
          "orders.placed.dlq", "orders.placed.retry.200ms", "orders.placed.retry.400ms", "events",
          "events.events-reader.dlq")) {
        rabbit.deleteQueue(p + q);
      }
      for (String x : List.of("logs", "topic_logs", "orders")) {
        rabbit.deleteExchange(p + x);
      }
    } catch (RuntimeException e) {
      System.err.println("warning: the tour could not remove its queues (" + p + "*): " + e.getMessage());
    }
  }

  private static void step(PrintStream out, String... argv) {
    out.println();
    out.println("$ java -jar toolkit-examples.jar " + shown(argv));
    int code = Examples.run(argv, out, System.err);
    if (code != 0) {
      throw new IllegalStateException(argv[0] + " exited with " + code);
    }
  }

  /** The command line as a user would type it: without the broker URI and the tour's own names. */
  private static String shown(String[] argv) {
    return String.join(" ", argv).replaceAll("--uri=\\S+ ?", "").replaceAll("--(queue|exchange) tour-\\w+\\.\\S+ ?", "")
        .trim();
  }

  private static CompletableFuture<Integer> background(PrintStream out, String... argv) {
    out.println();
    out.println("$ java -jar toolkit-examples.jar " + shown(argv) + " &");
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
