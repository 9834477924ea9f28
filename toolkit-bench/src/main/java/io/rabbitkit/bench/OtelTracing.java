package io.rabbitkit.bench;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.rabbitkit.Interceptor;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * A yardstick, not a product: the same spans and attributes as RabbitkitObservations' defaults,
 * written straight on the OpenTelemetry API through the toolkit's public {@link Interceptor}, to
 * measure what tracing costs without Micrometer's Observation bridge in between (the
 * {@code otel_native} variant of observation-cost, {@code -Dbench.tracing=otel} end to end).
 * It leaves out what a product would need: replaceable conventions, RPC calls, events for retries.
 */
final class OtelTracing implements Interceptor {

  private static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
  private static final AttributeKey<String> PEER = AttributeKey.stringKey("peer.service"); // Micrometer's remote service
  private static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
  private static final AttributeKey<String> OPERATION = AttributeKey.stringKey("messaging.operation.type");
  private static final AttributeKey<String> ROUTING_KEY =
      AttributeKey.stringKey("messaging.rabbitmq.destination.routing_key");
  private static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  private static final AttributeKey<String> ATTEMPT =
      AttributeKey.stringKey("messaging.rabbitmq.message.delivery_attempt");
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("rabbitkit.outcome");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final TextMapSetter<Map<String, Object>> SETTER = (headers, key, value) -> {
    if (headers != null) {
      headers.put(key, value);
    }
  };
  private static final TextMapGetter<Map<String, Object>> GETTER = new TextMapGetter<>() {
    // Deprecated in the interface, yet still abstract there: every getter has to implement it.
    @Override
    @SuppressWarnings("deprecation")
    public Iterable<String> keys(Map<String, Object> headers) {
      return headers.keySet();
    }

    @Override
    public String get(Map<String, Object> headers, String key) {
      Object value = headers == null ? null : headers.get(key);
      return value == null ? null : value.toString();
    }
  };

  private static final Map<Enum<?>, String> OUTCOMES = outcomes();

  private static Map<Enum<?>, String> outcomes() {
    Map<Enum<?>, String> names = new java.util.HashMap<>();
    for (Enum<?> e : PublishOutcome.values()) {
      names.put(e, e.name().toLowerCase(Locale.ROOT));
    }
    for (Enum<?> e : ConsumeOutcome.values()) {
      names.put(e, e.name().toLowerCase(Locale.ROOT));
    }
    return Map.copyOf(names);
  }

  private final Tracer tracer;
  private final TextMapPropagator propagator;

  OtelTracing(OpenTelemetry otel) {
    this.tracer = otel.getTracer("rabbitkit-bench-otel");
    this.propagator = otel.getPropagators().getTextMapPropagator();
  }

  @Override
  public PublishObserver beforePublish(PublishContext context) {
    String exchange = context.exchange().isEmpty() ? "amq.default" : context.exchange();
    Span span = tracer.spanBuilder("publish " + exchange).setSpanKind(SpanKind.PRODUCER)
        .setAttribute(SYSTEM, "rabbitmq").setAttribute(DESTINATION, exchange).setAttribute(OPERATION, "send")
        .setAttribute(PEER, "rabbitmq").startSpan();
    propagator.inject(Context.current().with(span), context.headers(), SETTER);
    return (outcome, elapsed, failure) -> {
      span.setAttribute(ROUTING_KEY, context.routingKey());
      if (context.messageId() != null) {
        span.setAttribute(MESSAGE_ID, context.messageId());
      }
      end(span, outcome, failure);
    };
  }

  @Override
  public ConsumeObserver beforeConsume(ConsumeContext context) {
    Context parent = propagator.extract(Context.root(), context.headers(), GETTER);
    Span span = tracer.spanBuilder("process " + context.queue()).setParent(parent).setSpanKind(SpanKind.CONSUMER)
        .setAttribute(SYSTEM, "rabbitmq").setAttribute(DESTINATION, context.queue())
        .setAttribute(OPERATION, "process").setAttribute(PEER, "rabbitmq").startSpan();
    return new ConsumeObserver() {
      @Override
      public Scope handlerScope() {
        io.opentelemetry.context.Scope scope = span.makeCurrent();
        return scope::close;
      }

      @Override
      public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        if (outcome == ConsumeOutcome.RETRIED) {
          return;
        }
        span.setAttribute(ATTEMPT, Integer.toString(context.attempt()));
        context.messageId().ifPresent(id -> span.setAttribute(MESSAGE_ID, id));
        boolean handled = outcome == ConsumeOutcome.ACKED || outcome == ConsumeOutcome.DUPLICATE;
        end(span, outcome, handled ? null : failure); // as RabbitkitObservations marks errors
      }
    };
  }

  private static void end(Span span, Enum<?> outcome, Throwable failure) {
    span.setAttribute(OUTCOME, OUTCOMES.get(outcome));
    span.setAttribute(ERROR_TYPE, failure == null ? "none" : failure.getClass().getSimpleName());
    if (failure != null) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }
}
