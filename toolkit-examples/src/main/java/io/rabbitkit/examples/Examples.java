package io.rabbitkit.examples;

import io.rabbitkit.ToolkitException;
import io.rabbitkit.examples.async.AsyncCallback;
import io.rabbitkit.examples.deadletters.DeadLettersCommand;
import io.rabbitkit.examples.events.EventsConsumer;
import io.rabbitkit.examples.events.EventsProducer;
import io.rabbitkit.examples.helloworld.HelloConsumer;
import io.rabbitkit.examples.helloworld.HelloProducer;
import io.rabbitkit.examples.orders.OrdersConsumer;
import io.rabbitkit.examples.orders.OrdersProducer;
import io.rabbitkit.examples.outbox.InboxConsumer;
import io.rabbitkit.examples.outbox.OutboxProducer;
import io.rabbitkit.examples.outbox.OutboxRelayExample;
import io.rabbitkit.examples.partitioned.PartitionedConsumer;
import io.rabbitkit.examples.partitioned.PartitionedProducer;
import io.rabbitkit.examples.rpc.RpcClientExample;
import io.rabbitkit.examples.rpc.RpcServerExample;
import io.rabbitkit.examples.tutorials.PubSub;
import io.rabbitkit.examples.tutorials.Routing;
import io.rabbitkit.examples.tutorials.Topics;
import io.rabbitkit.examples.tutorials.WorkQueue;
import io.rabbitkit.test.ThrowawayBroker;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar toolkit-examples.jar <example> [options]}: runs one example by name. {@code
 * --help} lists them.
 */
public final class Examples {

  /** A named example with a one-line summary. */
  public record Entry(String name, String summary, Example example) {
  }

  /** Every example, in the order {@code --help} lists them. */
  public static final List<Entry> ALL = List.of(
      new Entry("hello-producer", "send 'Hello World!' to queue 'hello' (pika tutorial 1, send.py)",
          HelloProducer::run),
      new Entry("hello-consumer", "print each message of queue 'hello' (pika tutorial 1, receive.py)",
          HelloConsumer::run),
      new Entry("async-callback", "publish and consume with futures and callbacks, nothing blocks (asyncio idea)",
          AsyncCallback::run),
      new Entry("rpc-server", "answer fib(n) requests on queue 'rpc_queue' (tutorial 6)", RpcServerExample::run),
      new Entry("rpc-client", "ask rpc-server for fib(--n) over direct reply-to (tutorial 6)", RpcClientExample::run),
      new Entry("work-queue", "producer|consumer: tasks shared fairly between workers (tutorial 2)", WorkQueue::run),
      new Entry("pub-sub", "producer|consumer: fanout exchange 'logs' (tutorial 3)", PubSub::run),
      new Entry("routing", "producer|consumer: direct exchange 'direct_logs' by severity (tutorial 4)", Routing::run),
      new Entry("topics", "producer|consumer: topic exchange 'topic_logs' by pattern (tutorial 5)", Topics::run),
      new Entry("orders-producer", "publish typed JSON orders to topic exchange 'orders', key 'order.placed'",
          OrdersProducer::run),
      new Entry("orders-consumer", "consume 'orders.placed' with retry and dead-lettering to 'orders.placed.dlq'",
          OrdersConsumer::run),
      new Entry("dead-letters", "list|replay|purge the dead letters of --queue (default orders.placed); serve: "
          + "a web console for them (--port 8088, --queue Q ..., --read-only)",
          DeadLettersCommand::run),
      new Entry("outbox-producer", "place --count orders, each one transaction writing shop_orders and the outbox "
          + "(--relay false: commit only)", OutboxProducer::run),
      new Entry("outbox-relay", "publish committed outbox rows, delete each after its confirm (--count N or Ctrl-C)",
          OutboxRelayExample::run),
      new Entry("inbox-consumer", "apply each order once to order_effects through the inbox (queue orders.effects)",
          InboxConsumer::run),
      new Entry("events-producer", "append --count events to stream 'events' (declared with one day of retention)",
          EventsProducer::run),
      new Entry("events-consumer", "read stream 'events' as --name from --from, resuming after the last event it "
          + "finished (--jdbc-url: offsets and event_effects in PostgreSQL, exactly once)", EventsConsumer::run),
      new Entry("partitioned-producer", "publish --count events over --keys keys to super stream 'orders-events', "
          + "routed by key (stream protocol)", PartitionedProducer::run),
      new Entry("partitioned-consumer", "join consumer group --group of 'orders-events'; the broker hands out "
          + "partitions (--jdbc-url: offsets and partition_effects in PostgreSQL)", PartitionedConsumer::run),
      new Entry("tour", "run the examples above one after another against the broker (not the partitioned ones: "
          + "they need the stream plugin)", Tour::run));

  private static final CompletableFuture<Void> INTERRUPTED = new CompletableFuture<>();

  private Examples() {
  }

  public static void main(String[] argv) {
    Thread main = Thread.currentThread();
    Thread hook = new Thread(() -> {
      INTERRUPTED.complete(null); // Ctrl-C: consumers stop gracefully, then main returns
      try {
        main.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "examples-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = run(argv, System.out, System.err);
    if (!INTERRUPTED.isDone()) {
      Runtime.getRuntime().removeShutdownHook(hook);
      System.exit(code);
    }
  }

  /** Runs the example named by {@code argv[0]}; returns the exit code. */
  public static int run(String[] argv, PrintStream out, PrintStream err) {
    if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
      usage(out);
      return argv.length == 0 ? 2 : 0;
    }
    Optional<Entry> entry = find(argv[0]);
    if (entry.isEmpty()) {
      err.println("unknown example '" + argv[0] + "'");
      usage(err);
      return 2;
    }
    try {
      Args args = Args.parse(Arrays.copyOfRange(argv, 1, argv.length));
      if (args.options().containsKey("help")) {
        out.println(entry.get().name() + ": " + entry.get().summary());
        return 0;
      }
      if (!DevBroker.wanted(args) || !ThrowawayBroker.canStart()) { // without one: a failure with a hint (below)
        return entry.get().example().run(args, out);
      }
      try (ThrowawayBroker broker = DevBroker.start(out)) {
        return entry.get().example().run(args.withUri(broker.uri()), out);
      }
    } catch (ToolkitException.ConnectionException e) {
      err.println("error: " + e.getMessage());
      if (e.reason() == ToolkitException.ConnectionException.Reason.CONNECTION_REFUSED && !ThrowawayBroker.canStart()) {
        err.println(DevBroker.HOW_TO_GET_ONE);
      }
      return 1;
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return 2;
    } catch (ToolkitException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      return 1;
    } catch (Exception e) {
      err.println("error: " + e); // not one the toolkit expects: where it came from helps a bug report
      e.printStackTrace(err);
      return 1;
    }
  }

  static Optional<Entry> find(String name) {
    return ALL.stream().filter(e -> e.name().equals(name)).findFirst();
  }

  private static void usage(PrintStream out) {
    out.println("usage: java -jar toolkit-examples.jar <example> [options]");
    out.println("  broker: --uri amqp://user:pass@host:5672/vhost, else RABBITMQ_URI, else " + Args.DEFAULT_URI);
    out.println("  consumers: --count N exits after N messages; otherwise Ctrl-C stops them gracefully");
    out.println();
    for (Entry e : ALL) {
      out.printf("  %-16s %s%n", e.name(), e.summary());
    }
  }

  /**
   * Waits until a consumer stops by itself ({@code --count} reached) or Ctrl-C is pressed; the
   * caller then closes it, which lets messages in progress finish.
   */
  public static void awaitStop(CompletionStage<Void> stopped) {
    CompletableFuture.anyOf(stopped.toCompletableFuture(), INTERRUPTED).join();
  }

  /** Completes when the user pressed Ctrl-C. */
  public static CompletableFuture<Void> interrupted() {
    return INTERRUPTED;
  }
}
