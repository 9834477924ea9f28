package io.rabbitkit.micrometer;

import static java.util.Objects.requireNonNull;

import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;
import io.rabbitkit.Interceptor;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Observations (traces, and timers if the registry has a meter handler) for every publish, delivery
 * and RPC call of the toolkits it is installed in, through the public {@link Interceptor}
 * extension point:
 *
 * <pre>{@code
 * RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri)
 *     .interceptor(RabbitkitObservations.of(observationRegistry))
 *     .connect();
 * }</pre>
 *
 * <ul>
 *   <li>{@code publish <exchange>} (PRODUCER, observation {@value #PUBLISH}): from {@code publish()}
 *       to the broker's outcome, an error unless confirmed. The registry's propagator writes the
 *       trace context into the message headers ({@code traceparent} with W3C propagation);
 *   <li>{@code process <queue>} (CONSUMER, {@value #PROCESS}): one per delivery, from before the
 *       handler to the final outcome; its parent is read from the delivery's headers, so a message
 *       without them starts a new trace. Retries in process are events on it; the copies the
 *       toolkit moves to delay and dead-letter queues keep the headers, so their deliveries join
 *       the same trace;
 *   <li>{@code call <routing key>} (PRODUCER, {@value #CALL}): an RPC call until its reply or
 *       failure, with the request carrying the trace context.
 * </ul>
 *
 * <p>Attributes follow OpenTelemetry's messaging conventions: low cardinality {@code
 * messaging.system=rabbitmq}, {@code messaging.destination.name} (the exchange, {@code amq.default}
 * for the default exchange; the queue for {@code process}), {@code messaging.operation.type}
 * ({@code send}, {@code process}), {@code rabbitkit.outcome}, {@code error.type}; high cardinality
 * {@code messaging.rabbitmq.destination.routing_key}, {@code messaging.message.id}, {@code
 * messaging.message.conversation_id} (the RPC correlation id). Replace them with {@link
 * Builder#publishConvention} and its siblings, as with Micrometer's other instrumentations.
 */
public final class RabbitkitObservations implements Interceptor {

  /** Observation name of publishes. */
  public static final String PUBLISH = "rabbitkit.messaging.publish";
  /** Observation name of deliveries handled. */
  public static final String PROCESS = "rabbitkit.messaging.process";
  /** Observation name of RPC calls. */
  public static final String CALL = "rabbitkit.messaging.call";

  private final ObservationRegistry registry;
  private final ObservationConvention<PublishContext> publishConvention;
  private final ObservationConvention<ProcessContext> processConvention;
  private final ObservationConvention<CallContext> callConvention;

  private RabbitkitObservations(Builder b) {
    this.registry = b.registry;
    this.publishConvention = b.publishConvention;
    this.processConvention = b.processConvention;
    this.callConvention = b.callConvention;
  }

  /** Observations with the default conventions. */
  public static RabbitkitObservations of(ObservationRegistry registry) {
    return builder(registry).build();
  }

  /** Starts configuring observations recorded in {@code registry}. */
  public static Builder builder(ObservationRegistry registry) {
    return new Builder(requireNonNull(registry, "registry"));
  }

  @Override
  public PublishObserver beforePublish(Interceptor.PublishContext context) {
    if (registry.isNoop()) {
      return PublishObserver.NONE;
    }
    PublishContext c = new PublishContext(context.headers(), exchange(context.exchange()), context.routingKey(),
        context.messageId());
    Observation observation = Observation.createNotStarted(publishConvention, Defaults.PUBLISH, () -> c, registry)
        .start();
    return (outcome, elapsed, failure) -> {
      c.outcome = outcome.name().toLowerCase(Locale.ROOT);
      if (failure != null) {
        observation.error(failure);
      }
      observation.stop();
    };
  }

  @Override
  public ConsumeObserver beforeConsume(ConsumeContext context) {
    if (registry.isNoop()) {
      return ConsumeObserver.NONE;
    }
    ProcessContext c = new ProcessContext(context.headers(), context.queue(), context.exchange(),
        context.messageId().orElse(null), context.attempt());
    Observation observation = Observation.createNotStarted(processConvention, Defaults.PROCESS, () -> c, registry)
        .start();
    return new ConsumeObserver() {
      @Override
      public Scope handlerScope() {
        Observation.Scope scope = observation.openScope();
        return scope::close;
      }

      @Override
      public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        if (outcome == ConsumeOutcome.RETRIED) {
          observation.event(Observation.Event.of("rabbitkit.retried", "handler failed, retried in process"));
          return;
        }
        c.outcome = outcome.name().toLowerCase(Locale.ROOT);
        if (failure != null && outcome != ConsumeOutcome.ACKED && outcome != ConsumeOutcome.DUPLICATE) {
          observation.error(failure);
        }
        observation.stop();
      }
    };
  }

  @Override
  public RpcObserver beforeCall(RpcContext context) {
    if (registry.isNoop()) {
      return RpcObserver.NONE;
    }
    CallContext c = new CallContext(context.headers(), exchange(context.exchange()), context.routingKey(),
        context.correlationId());
    Observation observation = Observation.createNotStarted(callConvention, Defaults.CALL, () -> c, registry).start();
    return (outcome, elapsed, failure) -> {
      c.outcome = outcome.name().toLowerCase(Locale.ROOT);
      if (failure != null) {
        observation.error(failure);
      }
      observation.stop();
    };
  }

  private static String exchange(String exchange) {
    return exchange.isEmpty() ? "amq.default" : exchange;
  }

  private static void put(Map<String, Object> headers, String key, String value) {
    if (headers != null) {
      headers.put(key, value);
    }
  }

  private static String get(Map<String, Object> headers, String key) {
    Object value = headers == null ? null : headers.get(key);
    return value == null ? null : value.toString();
  }

  /** A publish: the message's headers are the carrier the propagator writes into. */
  public static final class PublishContext extends SenderContext<Map<String, Object>> {
    private final String exchange;
    private final String routingKey;
    private final String messageId;
    private volatile String outcome = "unknown";

    PublishContext(Map<String, Object> headers, String exchange, String routingKey, String messageId) {
      super(RabbitkitObservations::put);
      setCarrier(headers);
      setRemoteServiceName("rabbitmq");
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.messageId = messageId;
    }

    /** The exchange ({@code amq.default} for the default exchange). */
    public String exchange() {
      return exchange;
    }

    public String routingKey() {
      return routingKey;
    }

    public String messageId() {
      return messageId;
    }

    /** The outcome in lower case ({@code confirmed}, {@code nacked}, ...), once known. */
    public String outcome() {
      return outcome;
    }
  }

  /** A delivery handled: the delivery's headers are the carrier the propagator reads. */
  public static final class ProcessContext extends ReceiverContext<Map<String, Object>> {
    private final String queue;
    private final String exchange;
    private final String messageId;
    private final int attempt;
    private volatile String outcome = "unknown";

    ProcessContext(Map<String, Object> headers, String queue, String exchange, String messageId, int attempt) {
      super(RabbitkitObservations::get);
      setCarrier(headers);
      setRemoteServiceName("rabbitmq");
      this.queue = queue;
      this.exchange = exchange;
      this.messageId = messageId;
      this.attempt = attempt;
    }

    public String queue() {
      return queue;
    }

    public String exchange() {
      return exchange;
    }

    /** The message id, or null. */
    public String messageId() {
      return messageId;
    }

    /** The delivery's attempt number (1 for the first round). */
    public int attempt() {
      return attempt;
    }

    /** The final outcome in lower case ({@code acked}, {@code dead_lettered}, ...), once known. */
    public String outcome() {
      return outcome;
    }
  }

  /** An RPC call: the request's headers are the carrier. */
  public static final class CallContext extends SenderContext<Map<String, Object>> {
    private final String exchange;
    private final String routingKey;
    private final String correlationId;
    private volatile String outcome = "unknown";

    CallContext(Map<String, Object> headers, String exchange, String routingKey, String correlationId) {
      super(RabbitkitObservations::put);
      setCarrier(headers);
      setRemoteServiceName("rabbitmq");
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.correlationId = correlationId;
    }

    public String exchange() {
      return exchange;
    }

    public String routingKey() {
      return routingKey;
    }

    public String correlationId() {
      return correlationId;
    }

    /** The outcome in lower case ({@code ok}, {@code timeout}, ...), once known. */
    public String outcome() {
      return outcome;
    }
  }

  /** The default conventions, OpenTelemetry's messaging attributes. */
  public static final class Defaults {

    /** Names publishes {@code publish <exchange>}. */
    public static final ObservationConvention<PublishContext> PUBLISH = new ObservationConvention<>() {
      @Override
      public String getName() {
        return RabbitkitObservations.PUBLISH;
      }

      @Override
      public String getContextualName(PublishContext c) {
        return "publish " + c.exchange();
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(PublishContext c) {
        return common(c.exchange(), "send", c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(PublishContext c) {
        return KeyValues.of("messaging.rabbitmq.destination.routing_key", c.routingKey(),
            "messaging.message.id", String.valueOf(c.messageId()));
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof PublishContext;
      }
    };

    /** Names deliveries {@code process <queue>}. */
    public static final ObservationConvention<ProcessContext> PROCESS = new ObservationConvention<>() {
      @Override
      public String getName() {
        return RabbitkitObservations.PROCESS;
      }

      @Override
      public String getContextualName(ProcessContext c) {
        return "process " + c.queue();
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(ProcessContext c) {
        return common(c.queue(), "process", c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(ProcessContext c) {
        return KeyValues.of("messaging.message.id", String.valueOf(c.messageId()),
            "messaging.rabbitmq.message.delivery_attempt", String.valueOf(c.attempt()));
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof ProcessContext;
      }
    };

    /** Names RPC calls {@code call <routing key>} (the server's queue). */
    public static final ObservationConvention<CallContext> CALL = new ObservationConvention<>() {
      @Override
      public String getName() {
        return RabbitkitObservations.CALL;
      }

      @Override
      public String getContextualName(CallContext c) {
        return "call " + c.routingKey();
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(CallContext c) {
        return common(c.exchange(), "send", c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(CallContext c) {
        return KeyValues.of("messaging.rabbitmq.destination.routing_key", c.routingKey(),
            "messaging.message.conversation_id", String.valueOf(c.correlationId()));
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof CallContext;
      }
    };

    private Defaults() {}

    private record CommonKey(String destination, String operation, String outcome, String errorType) {}

    /** Low-cardinality values are few: built once each (they were a third of this module's allocations). */
    private static final java.util.concurrent.ConcurrentMap<CommonKey, KeyValues> COMMON =
        new java.util.concurrent.ConcurrentHashMap<>();
    private static final int COMMON_CACHE_LIMIT = 10_000;

    private static KeyValues common(String destination, String operation, String outcome, Throwable error) {
      CommonKey key = new CommonKey(destination, operation, outcome,
          error == null ? "none" : error.getClass().getSimpleName());
      KeyValues values = COMMON.get(key);
      if (values == null) {
        values = KeyValues.of(KeyValue.of("messaging.system", "rabbitmq"),
            KeyValue.of("messaging.destination.name", key.destination()),
            KeyValue.of("messaging.operation.type", key.operation()),
            KeyValue.of("rabbitkit.outcome", key.outcome()),
            KeyValue.of("error.type", key.errorType()));
        if (COMMON.size() < COMMON_CACHE_LIMIT) { // a bound, should destinations ever be unbounded
          COMMON.putIfAbsent(key, values);
        }
      }
      return values;
    }
  }

  /** Configures {@link RabbitkitObservations}: the registry and, optionally, conventions of your own. */
  public static final class Builder {
    private final ObservationRegistry registry;
    private ObservationConvention<PublishContext> publishConvention;
    private ObservationConvention<ProcessContext> processConvention;
    private ObservationConvention<CallContext> callConvention;

    private Builder(ObservationRegistry registry) {
      this.registry = registry;
    }

    /** Replaces the names and attributes of publish observations ({@link Defaults#PUBLISH} otherwise). */
    public Builder publishConvention(ObservationConvention<PublishContext> convention) {
      this.publishConvention = requireNonNull(convention, "convention");
      return this;
    }

    /** Replaces the names and attributes of process observations. */
    public Builder processConvention(ObservationConvention<ProcessContext> convention) {
      this.processConvention = requireNonNull(convention, "convention");
      return this;
    }

    /** Replaces the names and attributes of RPC call observations. */
    public Builder callConvention(ObservationConvention<CallContext> convention) {
      this.callConvention = requireNonNull(convention, "convention");
      return this;
    }

    public RabbitkitObservations build() {
      return new RabbitkitObservations(this);
    }
  }
}
