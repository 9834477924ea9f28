package io.rabbitkit.bench;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.StreamOffset;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The same workloads written with the toolkit, with its defaults except the window and prefetch. */
final class ToolkitSide implements Side {

  private final RabbitToolkit rabbit;
  private final AtomicInteger streamRuns = new AtomicInteger();

  ToolkitSide(String uri) {
    this(uri, "bench-toolkit", java.util.List.of());
  }

  /** A toolkit with these interceptors installed (metrics and tracing for the observed workload). */
  ToolkitSide(String uri, String name, java.util.List<io.rabbitkit.Interceptor> interceptors) {
    RabbitToolkit.Builder builder = RabbitToolkit.builder().uri(uri).connectionName(name);
    interceptors.forEach(builder::interceptor);
    this.rabbit = builder.connect();
  }

  /**
   * With {@code -Dbench.inline=true} the publishers complete their futures on the connection's
   * thread; {@code -Dbench.lean=true} does that and publishes without {@code mandatory}, as raw
   * does: the two guarantees a service may trade for raw's cost (see docs/performance.md). With
   * {@code -Dbench.traceparent=true} every message carries {@link Observability#TRACEPARENT}, a
   * publisher header as raw's is a constant property.
   */
  private Publisher<Sample> publisher(String queue) {
    boolean lean = Boolean.getBoolean("bench.lean");
    Publisher.Builder<Sample> builder = rabbit.publisherBuilder(Sample.class).routingKey(queue)
        .maxInFlight(RawSide.WINDOW).completeOnConnectionThread(lean || Boolean.getBoolean("bench.inline"))
        .mandatory(!lean);
    if (Boolean.getBoolean("bench.traceparent")) {
      builder.header("traceparent", Observability.TRACEPARENT);
    }
    return builder.build();
  }

  @Override
  public Measurement.Timed publishConfirm(String queue, int n, Pace pace, Latencies latencies) throws Exception {
    try (Publisher<Sample> publisher = publisher(queue)) {
      Measurement m = Measurement.start();
      publishAll(publisher, n, pace.begin(), latencies).get(5, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  private static CompletableFuture<Void> publishAll(Publisher<Sample> publisher, int n, Pace pace,
      Latencies latencies) {
    AtomicInteger confirmed = new AtomicInteger();
    CompletableFuture<Void> all = new CompletableFuture<>();
    for (int i = 0; i < n; i++) {
      pace.await();
      long sentAt = latencies == null ? 0 : System.nanoTime();
      publisher.publish(Sample.of(i)).whenComplete((confirmation, error) -> {
        if (latencies != null) {
          latencies.since(sentAt);
        }
        if (error != null) {
          all.completeExceptionally(error);
        } else if (confirmed.incrementAndGet() == n) {
          all.complete(null);
        }
      });
    }
    return all;
  }

  private MessageConsumer consumer(String queue, int n, CompletableFuture<Void> done, Latencies latencies) {
    AtomicInteger received = new AtomicInteger();
    return rabbit.consumerBuilder(Sample.class).queue(queue).prefetch(RawSide.PREFETCH)
        .handler(delivery -> {
          if (latencies != null) {
            latencies.since(delivery.body().sentAt());
          }
          if (received.incrementAndGet() == n) {
            done.complete(null);
          }
        })
        .build();
  }

  @Override
  public Measurement.Timed consumeAck(String queue, int n, Runnable feed, Latencies latencies) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Measurement m = Measurement.start();
    try (MessageConsumer consumer = consumer(queue, n, done, latencies)) {
      if (feed != null) {
        feed.run();
      }
      done.get(5, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  @Override
  public Measurement.Timed streamConsume(String stream, int n) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger received = new AtomicInteger();
    Measurement m = Measurement.start();
    // A new name per run, so that every run starts at the first event; positions in memory.
    try (MessageConsumer consumer = rabbit.streamConsumerBuilder(Sample.class).stream(stream)
        .name("bench-" + streamRuns.incrementAndGet()).startAt(StreamOffset.first()).prefetch(RawSide.PREFETCH)
        .offsets(OffsetStore.inMemory()).deadLetterQueue(stream + ".dlq").handler(delivery -> {
          if (received.incrementAndGet() == n) {
            done.complete(null);
          }
        }).build()) {
      done.get(5, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  @Override
  public Measurement.Timed endToEnd(String queue, int n, Pace pace, Latencies latencies) throws Exception {
    CompletableFuture<Void> consumed = new CompletableFuture<>();
    try (MessageConsumer consumer = consumer(queue, n, consumed, latencies);
        Publisher<Sample> publisher = publisher(queue)) {
      Measurement m = Measurement.start();
      CompletableFuture<Void> confirmed = publishAll(publisher, n, pace.begin(), null);
      CompletableFuture.allOf(confirmed, consumed).get(5, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  @Override
  public Measurement.Timed rpc(String queue, int calls, int callers, Pace pace, Latencies latencies) throws Exception {
    try (RpcServer server = rabbit.rpcServerBuilder(Sample.class, Sample.class).queue(queue)
        .prefetch(RawSide.PREFETCH).handler(request -> request).build();
        RpcClient<Sample, Sample> client = rabbit.rpcClientBuilder(Sample.class, Sample.class).routingKey(queue)
            .timeout(Duration.ofSeconds(30)).build()) {
      return Measurement.concurrently(calls, callers, pace,
          id -> latencies.since(client.call(Sample.of(id)).get().sentAt()));
    }
  }

  @Override
  public void close() {
    rabbit.close();
  }

  @Override
  public String toString() {
    return "toolkit";
  }
}
