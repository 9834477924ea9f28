package io.rabbitkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.rabbitkit.Interceptor;
import io.rabbitkit.micrometer.RabbitkitObservations;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The OpenTelemetry-native yardstick is only fair if it does the work RabbitkitObservations does:
 * the same spans, kinds, parent and attributes for one published and consumed message.
 */
class OtelTracingTest {

  private final InMemorySpanExporter exported = InMemorySpanExporter.create();
  private final SdkTracerProvider provider = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
  private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider)
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();

  @Test
  void writesTheSpansAndAttributesOfTheObservationConventions() {
    List<SpanData> direct = oneMessage(new OtelTracing(otel));
    List<SpanData> observed = oneMessage(RabbitkitObservations.of(micrometerRegistry()));
    assertEquals(describe(observed), describe(direct));
    for (List<SpanData> pair : List.of(direct, observed)) {
      SpanData publish = pair.get(0);
      SpanData process = pair.get(1);
      assertEquals(publish.getTraceId(), process.getTraceId(), "one trace");
      assertEquals(publish.getSpanId(), process.getParentSpanId(), "the consumer's parent is the producer");
    }
  }

  /** Name, kind and attributes of each span. */
  private static List<String> describe(List<SpanData> pair) {
    return pair.stream().map(s -> {
      Map<String, String> attributes = new TreeMap<>();
      s.getAttributes().forEach((k, v) -> attributes.put(k.getKey(), String.valueOf(v)));
      return s.getName() + " " + s.getKind() + " " + attributes;
    }).toList();
  }

  private List<SpanData> oneMessage(Interceptor interceptor) {
    exported.reset();
    Map<String, Object> headers = new java.util.HashMap<>();
    Interceptor.PublishObserver published = interceptor.beforePublish(
        new ObservationCost.Publish("orders", "orders.created", "order-17", headers));
    published.outcome(Interceptor.PublishOutcome.CONFIRMED, Duration.ofMillis(1), null);
    Interceptor.ConsumeObserver delivery = interceptor.beforeConsume(
        new ObservationCost.Consume("orders.billing", "orders", "order-17", headers));
    String inHandler;
    try (Interceptor.Scope scope = delivery.handlerScope()) {
      inHandler = Span.current().getSpanContext().getSpanId();
    }
    delivery.outcome(Interceptor.ConsumeOutcome.ACKED, Duration.ofMillis(1), null);
    List<SpanData> spans = exported.getFinishedSpanItems();
    assertEquals(2, spans.size(), spans.toString());
    assertEquals(List.of(SpanKind.PRODUCER, SpanKind.CONSUMER), spans.stream().map(SpanData::getKind).toList());
    assertEquals(spans.get(1).getSpanId(), inHandler, "the handler runs in the process span");
    return spans;
  }

  private ObservationRegistry micrometerRegistry() {
    ObservationRegistry registry = ObservationRegistry.create();
    registry.observationConfig().observationHandler(Observability.tracingHandler(otel));
    return registry;
  }
}
