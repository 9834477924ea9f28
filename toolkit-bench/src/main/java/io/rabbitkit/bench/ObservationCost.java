package io.rabbitkit.bench;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.rabbitkit.Interceptor;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.micrometer.RabbitkitObservations;
import io.rabbitkit.micrometer.RabbitkitObservations.ProcessContext;
import io.rabbitkit.micrometer.RabbitkitObservations.PublishContext;
import io.rabbitkit.opentelemetry.RabbitkitTracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What metrics and tracing cost per message with no broker in the way: one message's publish
 * (start, confirm) and delivery (start, handler scope, ack) driven through the public {@link
 * Interceptor} API on one thread, in a loop, with every span exported. The end-to-end workload's
 * CPU per message moves by tens of percent between runs on a shared 2-core machine (garbage
 * collection and batching); this one is steady enough to tell a change of a microsecond, and it
 * separates the toolkit's part from Micrometer's and the SDK's:
 *
 * <ul>
 *   <li>{@code metrics}: {@link RabbitkitMetrics};
 *   <li>{@code tracing}: {@link RabbitkitObservations} with its default conventions;
 *   <li>{@code bridge}: the same observations with conventions that give no key values and no
 *       handler scope: what Micrometer's observation-to-span bridge and the SDK cost for two spans
 *       before the toolkit adds anything, the floor of any instrumentation through the Observation API;
 *   <li>{@code unsampled}: {@code tracing} with a sampler that records no trace: what remains of
 *       it when the spans are sampled out (the context is still created and propagated);
 *   <li>{@code untraced}: {@code tracing} on a registry whose only handler does nothing: the
 *       Observation API's own cost, without a tracer;
 *   <li>{@code otel_native}: the same spans and attributes written straight on the OpenTelemetry
 *       API ({@link OtelTracing}), what tracing costs without the Observation bridge.
 *   <li>{@code otel_module}: toolkit-opentelemetry's {@code RabbitkitTracing}, every trace sampled,
 *       and {@code otel_module_sampled_10} with one trace in ten.
 * </ul>
 *
 * Hot loops run faster than the same code between broker round trips (caches stay warm): read the
 * figures as a lower bound, and compare them with each other.
 */
final class ObservationCost {

  private static final int WARM_UP = 3;
  private static final int ROUNDS = 7;

  private ObservationCost() {
  }

  static Map<String, Object> measure(int messages) throws Exception {
    List<Variant> variants = List.of(
        new Variant("off", o -> List.of(), true, 1),
        new Variant("metrics", o -> List.of(RabbitkitMetrics.of(o.meters)), true, 1),
        new Variant("tracing", o -> List.of(RabbitkitObservations.of(o.registry)), true, 1),
        new Variant("all", o -> List.of(RabbitkitMetrics.of(o.meters), RabbitkitObservations.of(o.registry)), true, 1),
        new Variant("bridge", o -> List.of(RabbitkitObservations.builder(o.registry)
            .publishConvention(bare("publish bench", PublishContext.class))
            .processConvention(bare("process bench", ProcessContext.class)).build()), false, 1),
        new Variant("unsampled", o -> List.of(RabbitkitObservations.of(o.registry)), true, 0),
        new Variant("untraced", o -> List.of(RabbitkitObservations.of(o.registry)), true, -1),
        new Variant("otel_native", o -> List.of(new OtelTracing(o.otel)), true, 1),
        new Variant("otel_module", o -> List.of(RabbitkitTracing.create(o.otel)), true, 1),
        new Variant("otel_module_sampled_10", o -> List.of(RabbitkitTracing.create(o.otel)), true, 0.1));
    List<Observability> observabilities = new ArrayList<>();
    try {
      double[][] cpu = new double[variants.size()][ROUNDS];
      double[][] alloc = new double[variants.size()][ROUNDS];
      List<List<Interceptor>> installed = new ArrayList<>();
      for (Variant v : variants) {
        Observability o = new Observability(v.sampled() < 0 ? Observability.Tracing.UNTRACED
            : Observability.Tracing.DEFAULT, Math.max(0, v.sampled()), 4 * messages);
        observabilities.add(o);
        installed.add(v.installed().apply(o));
      }
      // Round-robin, so that the JIT's progress favours no variant; the first rounds only warm up.
      for (int round = -WARM_UP; round < ROUNDS; round++) {
        for (int v = 0; v < variants.size(); v++) {
          Measurement m = Measurement.start();
          for (int i = 0; i < messages; i++) {
            oneMessage(installed.get(v), "id-" + i, variants.get(v).scoped());
          }
          observabilities.get(v).flush();
          Measurement.Timed t = m.stop(messages);
          if (round >= 0) {
            cpu[v][round] = t.cpuMicrosPerMessage();
            alloc[v][round] = t.allocPerMessage();
          }
        }
      }
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("workload", "observation-cost");
      double off = median(cpu[0]);
      for (int v = 1; v < variants.size(); v++) {
        String name = variants.get(v).name();
        line.put((name.equals("bridge") ? "bridge_floor" : name) + "_us_per_msg", micros(median(cpu[v]) - off));
      }
      for (int v = 0; v < variants.size(); v++) {
        line.put(variants.get(v).name() + "_alloc_bytes_per_msg", Math.round(median(alloc[v])));
      }
      line.put("messages", messages);
      return line;
    } finally {
      observabilities.forEach(Observability::close);
    }
  }

  /**
   * What a variant installs; {@code scoped}: whether the handler's scope is opened; {@code sampled}:
   * the share of traces the SDK records, or -1 for a registry whose only handler does nothing.
   */
  private record Variant(String name, Function<Observability, List<Interceptor>> installed, boolean scoped,
      double sampled) {
  }

  private static void oneMessage(List<Interceptor> interceptors, String id, boolean scoped) {
    Map<String, Object> headers = new LinkedHashMap<>();
    List<Interceptor.PublishObserver> publishes = new ArrayList<>(interceptors.size());
    for (Interceptor i : interceptors) {
      publishes.add(i.beforePublish(new Publish("bench", "bench.key", id, headers)));
    }
    for (Interceptor.PublishObserver p : publishes) {
      p.outcome(Interceptor.PublishOutcome.CONFIRMED, Duration.ofNanos(100_000), null);
    }
    List<Interceptor.ConsumeObserver> deliveries = new ArrayList<>(interceptors.size());
    for (Interceptor i : interceptors) {
      deliveries.add(i.beforeConsume(new Consume("bench.queue", "bench", id, headers)));
    }
    List<Interceptor.Scope> scopes = new ArrayList<>(interceptors.size());
    if (scoped) {
      for (Interceptor.ConsumeObserver d : deliveries) {
        scopes.add(d.handlerScope());
      }
    }
    for (int s = scopes.size() - 1; s >= 0; s--) {
      scopes.get(s).close();
    }
    for (Interceptor.ConsumeObserver d : deliveries) {
      d.outcome(Interceptor.ConsumeOutcome.ACKED, Duration.ofNanos(50_000), null);
    }
  }

  /** A publish as the toolkit describes it to interceptors. */
  record Publish(String exchange, String routingKey, String messageId, Map<String, Object> headers)
      implements
        Interceptor.PublishContext {
  }

  /** A first delivery of a 200-byte message as the toolkit describes it to interceptors. */
  record Consume(String queue, String exchange, String id, Map<String, Object> headers)
      implements
        Interceptor.ConsumeContext {
    @Override
    public Optional<String> messageId() {
      return Optional.of(id);
    }

    @Override
    public boolean redelivered() {
      return false;
    }

    @Override
    public int attempt() {
      return 1;
    }

    @Override
    public int bodySize() {
      return 200;
    }
  }

  /** A convention that names the observation and gives no key values. */
  static <C extends Observation.Context> ObservationConvention<C> bare(String name, Class<C> type) {
    return new ObservationConvention<>() {
      @Override
      public String getName() {
        return "bench.bare";
      }

      @Override
      public String getContextualName(C context) {
        return name;
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return type.isInstance(context);
      }
    };
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** Two decimals. */
  private static double micros(double micros) {
    return Math.round(micros * 100) / 100.0;
  }
}
