package io.rabbitkit.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.rabbitkit.Interceptor;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.micrometer.RabbitkitObservations;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Metrics and tracing as a service would run them: RabbitkitMetrics on a meter registry and
 * RabbitkitObservations on OpenTelemetry's SDK (every span sampled, batched to an exporter that
 * only counts them), for the observed-end-to-end workload.
 */
final class Observability implements AutoCloseable {

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final AtomicLong exportedSpans = new AtomicLong();
  private final SdkTracerProvider provider;
  final ObservationRegistry registry = ObservationRegistry.create();
  final List<Interceptor> interceptors;

  Observability() {
    this(2048); // the SDK's default queue
  }

  /** With room for {@code queuedSpans} spans waiting for export (beyond it the SDK drops spans). */
  Observability(int queuedSpans) {
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
    provider = SdkTracerProvider.builder().addSpanProcessor(BatchSpanProcessor.builder(counting).setMaxQueueSize(queuedSpans).build()).build();
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    io.opentelemetry.api.trace.Tracer otelTracer = otel.getTracer("rabbitkit-bench");
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer = new OtelTracer(otelTracer, current, event -> {},
        new OtelBaggageManager(current, List.of(), List.of()));
    OtelPropagator propagator = new OtelPropagator(otel.getPropagators(), otelTracer);
    // -Dbench.tracing=bare: conventions with no key values, to see what the bridge alone costs end to
    // end; =untraced: observations whose handler does nothing (no spans, no headers), the cost of
    // the Observation API itself.
    String tracing = System.getProperty("bench.tracing", "default");
    if (tracing.equals("untraced")) {
      registry.observationConfig().observationHandler(context -> true);
    } else {
      registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
          new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
          new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
          new DefaultTracingObservationHandler(tracer)));
    }
    RabbitkitObservations observations = !tracing.equals("bare") ? RabbitkitObservations.of(registry)
        : RabbitkitObservations.builder(registry)
            .publishConvention(ObservationCost.bare("publish bench", RabbitkitObservations.PublishContext.class))
            .processConvention(ObservationCost.bare("process bench", RabbitkitObservations.ProcessContext.class)).build();
    interceptors = tracing.equals("none") ? List.of() : List.of(RabbitkitMetrics.of(meters), observations);
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
