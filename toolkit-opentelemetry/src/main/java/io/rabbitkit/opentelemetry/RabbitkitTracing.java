package io.rabbitkit.opentelemetry;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traces publishing, consuming and RPC calls on the OpenTelemetry API, by the messaging semantic
 * conventions for RabbitMQ. Install it as an interceptor:
 *
 * <pre>{@code
 * RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri)
 *     .interceptor(RabbitkitTracing.create(openTelemetry))
 *     .build();
 * }</pre>
 *
 * <ul>
 *   <li><b>publish</b>: a {@code PRODUCER} span named {@code publish <exchange>} ({@code publish}
 *       for the default exchange) that starts at {@code publish} and ends on the broker's confirm
 *       (or the failure), so its length is the confirm latency. Its context goes into the message's
 *       headers ({@code traceparent}, or whatever the propagators write). A message that already
 *       carries a context of another trace (an outbox row written under a request's span and relayed
 *       later) gets a link to it.
 *   <li><b>process</b>: a {@code CONSUMER} span named {@code process <exchange>} around the handler,
 *       a child of the producer's span from the headers; current while the handler runs, so its own
 *       spans (a database call) are its children. In-process retries are events on it; a redelivered
 *       round (delay queue) is a new process span under the same producer span.
 *   <li><b>RPC</b>: a {@code CLIENT} span {@code call <routing key>} from the request to its reply.
 * </ul>
 *
 * <p>Attributes: {@code messaging.system=rabbitmq}, {@code messaging.operation.name} and {@code
 * .type}, {@code messaging.destination.name} (the exchange; empty for the default exchange), {@code
 * rabbitmq.destination.routing_key}, {@code messaging.destination.subscription.name} (the queue, on
 * process spans), {@code messaging.message.id}, {@code messaging.message.conversation_id} (RPC),
 * {@code messaging.message.body.size}, and {@code error.type} with an error status when an operation
 * failed. Spans the sampler drops cost their context and little more: attributes beyond those the
 * sampler sees are set only on recording spans.
 *
 * <p><b>With the OpenTelemetry Java agent.</b> The agent instruments amqp-client itself. Both at
 * once would trace each message twice, so when the agent's RabbitMQ instrumentation is on, this
 * interceptor steps aside ({@link #active()} false, one WARN line) and the agent's spans stand.
 * Turn the agent's off ({@code -Dotel.instrumentation.rabbitmq.enabled=false}, or {@code
 * OTEL_INSTRUMENTATION_RABBITMQ_ENABLED=false}) to get these spans instead, with the agent's
 * OpenTelemetry ({@code GlobalOpenTelemetry.get()}).
 */
public final class RabbitkitTracing implements Interceptor {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitkitTracing.class);
  static final String INSTRUMENTATION = "io.rabbitkit";

  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
  static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
  static final AttributeKey<String> OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
  static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> SUBSCRIPTION = AttributeKey.stringKey("messaging.destination.subscription.name");
  static final AttributeKey<String> ROUTING_KEY = AttributeKey.stringKey("rabbitmq.destination.routing_key");
  static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  static final AttributeKey<String> CONVERSATION_ID = AttributeKey.stringKey("messaging.message.conversation_id");
  static final AttributeKey<Long> BODY_SIZE = AttributeKey.longKey("messaging.message.body.size");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("rabbitkit.attempt");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("rabbitkit.outcome");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final TextMapSetter<Map<String, Object>> SETTER = (headers, key, value) -> {
    if (headers != null) {
      headers.put(key, value);
    }
  };
  private static final TextMapGetter<Map<String, Object>> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, Object> headers) {
      return headers.keySet();
    }

    @Override
    public String get(Map<String, Object> headers, String key) {
      Object value = headers == null ? null : headers.get(key);
      return value == null ? null : value.toString();
    }
  };

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final boolean active;

  private RabbitkitTracing(OpenTelemetry otel, boolean active) {
    this.tracer = otel.getTracer(INSTRUMENTATION);
    this.propagator = otel.getPropagators().getTextMapPropagator();
    this.active = active;
  }

  /**
   * Tracing with {@code otel}; inactive (and saying so) when the OpenTelemetry Java agent's RabbitMQ
   * instrumentation is on.
   */
  public static RabbitkitTracing create(OpenTelemetry otel) {
    requireNonNull(otel, "otel");
    boolean agent = Agent.rabbitmqInstrumentationOn();
    if (agent) {
      LOG.warn("the OpenTelemetry Java agent traces RabbitMQ itself: rabbitkit's tracing steps aside so that no"
          + " message is traced twice. For rabbitkit's spans (publish ending on the confirm, process around the"
          + " handler) start the agent with -Dotel.instrumentation.rabbitmq.enabled=false");
    }
    return new RabbitkitTracing(otel, !agent);
  }

  /** Whether it makes spans: false while the agent's RabbitMQ instrumentation is on. */
  public boolean active() {
    return active;
  }

  @Override
  public PublishObserver beforePublish(PublishContext context) {
    if (!active) {
      return PublishObserver.NONE;
    }
    String exchange = context.exchange();
    Map<String, Object> headers = context.headers();
    SpanBuilder builder = tracer.spanBuilder(exchange.isEmpty() ? "publish" : "publish " + exchange)
        .setSpanKind(SpanKind.PRODUCER).setAttribute(SYSTEM, "rabbitmq").setAttribute(OPERATION_NAME, "publish")
        .setAttribute(OPERATION_TYPE, "send").setAttribute(DESTINATION, exchange);
    if (headers != null && !headers.isEmpty()) {
      // A context the message already carries (an outbox row's, written under another trace): a link.
      SpanContext carried = Span.fromContext(propagator.extract(Context.root(), headers, GETTER)).getSpanContext();
      if (carried.isValid() && !carried.getTraceId().equals(Span.current().getSpanContext().getTraceId())) {
        builder.addLink(carried);
      }
    }
    Span span = builder.startSpan();
    propagator.inject(Context.current().with(span), headers, SETTER);
    if (span.isRecording()) {
      if (!context.routingKey().isEmpty()) {
        span.setAttribute(ROUTING_KEY, context.routingKey());
      }
      if (context.messageId() != null) {
        span.setAttribute(MESSAGE_ID, context.messageId());
      }
    }
    return (outcome, elapsed, failure) -> {
      if (outcome != PublishOutcome.CONFIRMED) {
        failed(span, outcome, failure);
      }
      span.end();
    };
  }

  @Override
  public ConsumeObserver beforeConsume(ConsumeContext context) {
    if (!active) {
      return ConsumeObserver.NONE;
    }
    Context parent = propagator.extract(Context.root(), context.headers(), GETTER);
    String exchange = context.exchange();
    Span span = tracer.spanBuilder(exchange.isEmpty() ? "process" : "process " + exchange).setParent(parent)
        .setSpanKind(SpanKind.CONSUMER).setAttribute(SYSTEM, "rabbitmq").setAttribute(OPERATION_NAME, "process")
        .setAttribute(OPERATION_TYPE, "process").setAttribute(DESTINATION, exchange)
        .setAttribute(SUBSCRIPTION, context.queue()).startSpan();
    if (span.isRecording()) {
      context.messageId().ifPresent(id -> span.setAttribute(MESSAGE_ID, id));
      span.setAttribute(BODY_SIZE, (long) context.bodySize());
      span.setAttribute(ATTEMPT, (long) context.attempt());
    }
    return new ConsumeObserver() {
      @Override
      public Scope handlerScope() {
        io.opentelemetry.context.Scope scope = span.makeCurrent();
        return scope::close;
      }

      @Override
      public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        if (outcome == ConsumeOutcome.RETRIED) {
          span.addEvent("retry");
          return;
        }
        if (outcome != ConsumeOutcome.ACKED && outcome != ConsumeOutcome.DUPLICATE) {
          failed(span, outcome, failure); // with the outcome
        } else if (span.isRecording()) {
          span.setAttribute(OUTCOME, name(outcome));
        }
        span.end();
      }
    };
  }

  @Override
  public RpcObserver beforeCall(RpcContext context) {
    if (!active) {
      return RpcObserver.NONE;
    }
    Span span = tracer.spanBuilder("call " + context.routingKey()).setSpanKind(SpanKind.CLIENT)
        .setAttribute(SYSTEM, "rabbitmq").setAttribute(OPERATION_NAME, "call").setAttribute(OPERATION_TYPE, "send")
        .setAttribute(DESTINATION, context.exchange()).startSpan();
    propagator.inject(Context.current().with(span), context.headers(), SETTER);
    if (span.isRecording()) {
      span.setAttribute(ROUTING_KEY, context.routingKey());
      span.setAttribute(CONVERSATION_ID, context.correlationId());
    }
    return (outcome, elapsed, failure) -> {
      if (outcome != RpcOutcome.OK) {
        failed(span, outcome, failure);
      }
      span.end();
    };
  }

  private static void failed(Span span, Enum<?> outcome, Throwable failure) {
    span.setStatus(StatusCode.ERROR);
    if (span.isRecording()) {
      Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      span.setAttribute(OUTCOME, name(outcome));
      span.setAttribute(ERROR_TYPE, cause != null ? cause.getClass().getName() : name(outcome));
    }
  }

  private static String name(Enum<?> outcome) {
    return outcome.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "RabbitkitTracing[" + (active ? "active" : "inactive: the Java agent traces RabbitMQ") + "]";
  }
}
