package io.rabbitkit.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.rabbitkit.Interceptor;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.micrometer.RabbitkitObservations;
import io.rabbitkit.opentelemetry.RabbitkitTracing;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Metrics and tracing as a service would run them: RabbitkitMetrics on a meter registry and
 * RabbitkitObservations on OpenTelemetry's SDK (spans batched to an exporter that only counts
 * them), for the observed-end-to-end and observation-cost workloads.
 */
final class Observability implements AutoCloseable {

  /** How the observations are traced. */
  enum Tracing {
    /** Micrometer's tracing handlers on the SDK, the default conventions. */
    DEFAULT,
    /** Conventions with no key values: Micrometer's bridge and the SDK alone. */
    BARE,
    /** Observations whose only handler does nothing (no spans, no headers): the Observation API's own cost. */
    UNTRACED,
    /** The same spans written straight on the OpenTelemetry API ({@link OtelTracing}), no Observation bridge. */
    OTEL,
    /** toolkit-opentelemetry's {@code RabbitkitTracing}, with the metrics: the product the OTEL yardstick stands for. */
    MODULE,
    /** The metrics alone ({@code RabbitkitMetrics}), no tracing. */
    METRICS,
    /** Only a constant {@code traceparent} header on every message: what carrying a trace context costs. */
    HEADER,
    /** Nothing installed: an A/A check of the workload. */
    NONE;

    /** From {@code -Dbench.tracing=default|bare|untraced|otel|module|metrics|header|none}. */
    static Tracing fromProperty() {
      String value = System.getProperty("bench.tracing", "default");
      try {
        return valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "-Dbench.tracing=" + value + ": expected default, bare, untraced, otel, module, metrics, header or none");
      }
    }
  }

  /** A constant W3C trace context, the 55 bytes a traced message carries. */
  static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  /** Puts {@link #TRACEPARENT} on every message and does nothing else: what carrying a context costs. */
  static final Interceptor HEADER_ONLY = new Interceptor() {
    @Override
    public PublishObserver beforePublish(PublishContext context) {
      context.headers().put("traceparent", TRACEPARENT);
      return PublishObserver.NONE;
    }
  };

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final AtomicLong exportedSpans = new AtomicLong();
  private final SdkTracerProvider provider;
  final OpenTelemetrySdk otel;
  final ObservationRegistry registry = ObservationRegistry.create();
  final List<Interceptor> interceptors;

  /** As {@code -Dbench.tracing} and {@code -Dbench.sampling} (default 1, every trace) say. */
  static Observability fromProperties() {
    return new Observability(Tracing.fromProperty(), sampling(), 2048); // the SDK's default queue
  }

  /** From {@code -Dbench.sampling}: the share of new traces the SDK records. */
  static double sampling() {
    String value = System.getProperty("bench.sampling", "1");
    double sampled;
    try {
      sampled = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      sampled = Double.NaN;
    }
    if (!(sampled >= 0 && sampled <= 1)) {
      throw new IllegalArgumentException("-Dbench.sampling=" + value + ": expected a share of traces from 0 to 1");
    }
    return sampled;
  }

  /**
   * Traced as {@code tracing} says, a {@code sampled} share of new traces recorded (the SDK's
   * parent-based ratio sampler), with room for {@code queuedSpans} spans waiting for export
   * (beyond it the SDK drops spans).
   */
  Observability(Tracing tracing, double sampled, int queuedSpans) {
    SpanExporter counting = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        exportedSpans.addAndGet(spans.size());
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    provider = SdkTracerProvider.builder().setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampled)))
        .addSpanProcessor(BatchSpanProcessor.builder(counting).setMaxQueueSize(queuedSpans).build()).build();
    otel = OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    if (tracing == Tracing.UNTRACED) {
      registry.observationConfig().observationHandler(context -> true);
    } else {
      registry.observationConfig().observationHandler(tracingHandler(otel));
    }
    RabbitkitObservations observations = tracing != Tracing.BARE ? RabbitkitObservations.of(registry)
        : RabbitkitObservations.builder(registry)
            .publishConvention(ObservationCost.bare("publish bench", RabbitkitObservations.PublishContext.class))
            .processConvention(ObservationCost.bare("process bench", RabbitkitObservations.ProcessContext.class))
            .build();
    interceptors = switch (tracing) {
      case NONE -> List.of();
      case OTEL -> List.of(RabbitkitMetrics.of(meters), new OtelTracing(otel));
      case MODULE -> List.of(RabbitkitMetrics.of(meters), RabbitkitTracing.create(otel));
      case METRICS -> List.of(RabbitkitMetrics.of(meters));
      case HEADER -> List.of(HEADER_ONLY);
      default -> List.of(RabbitkitMetrics.of(meters), observations);
    };
  }

  /**
   * Micrometer's tracing handlers on {@code otel}'s tracer and propagators, as Spring Boot installs
   * them: sender, receiver, then any other observation.
   */
  static ObservationHandler<Observation.Context> tracingHandler(OpenTelemetry otel) {
    io.opentelemetry.api.trace.Tracer otelTracer = otel.getTracer("rabbitkit-bench");
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer = new OtelTracer(otelTracer, current, event -> {
    },
        new OtelBaggageManager(current, List.of(), List.of()));
    OtelPropagator propagator = new OtelPropagator(otel.getPropagators(), otelTracer);
    return new ObservationHandler.FirstMatchingCompositeObservationHandler(
        new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
        new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
        new DefaultTracingObservationHandler(tracer));
  }

  /** Waits until every ended span has been exported. */
  void flush() {
    provider.forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    provider.close();
  }
}
