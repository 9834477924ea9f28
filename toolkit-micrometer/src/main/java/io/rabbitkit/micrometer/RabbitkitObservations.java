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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

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
    PublishContext c =
        new PublishContext(context.headers(), Semantics.exchange(context.exchange()), context.routingKey(),
            context.messageId());
    Observation observation = Observation.createNotStarted(publishConvention, Defaults.PUBLISH, () -> c, registry)
        .start();
    return (outcome, elapsed, failure) -> {
      c.outcome = PUBLISH_OUTCOMES[outcome.ordinal()];
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
        c.outcome = CONSUME_OUTCOMES[outcome.ordinal()];
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
    CallContext c = new CallContext(context.headers(), Semantics.exchange(context.exchange()), context.routingKey(),
        context.correlationId());
    Observation observation = Observation.createNotStarted(callConvention, Defaults.CALL, () -> c, registry).start();
    return (outcome, elapsed, failure) -> {
      c.outcome = RPC_OUTCOMES[outcome.ordinal()];
      if (failure != null) {
        observation.error(failure);
      }
      observation.stop();
    };
  }

  private static final String[] PUBLISH_OUTCOMES = lowerCaseNames(PublishOutcome.values());
  private static final String[] CONSUME_OUTCOMES = lowerCaseNames(ConsumeOutcome.values());
  private static final String[] RPC_OUTCOMES = lowerCaseNames(RpcOutcome.values());

  /** The outcomes' tag values, made once instead of once per message. */
  private static String[] lowerCaseNames(Enum<?>[] values) {
    String[] names = new String[values.length];
    for (Enum<?> v : values) {
      names[v.ordinal()] = v.name().toLowerCase(Locale.ROOT);
    }
    return names;
  }

  private static final String UNKNOWN = "unknown";

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
    private volatile String outcome; // null until the outcome is known

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

    /** The outcome in lower case ({@code confirmed}, {@code nacked}, ...), {@code unknown} until known. */
    public String outcome() {
      String o = outcome;
      return o == null ? UNKNOWN : o;
    }

    boolean settled() {
      return outcome != null;
    }
  }

  /** A delivery handled: the delivery's headers are the carrier the propagator reads. */
  public static final class ProcessContext extends ReceiverContext<Map<String, Object>> {
    private final String queue;
    private final String exchange;
    private final String messageId;
    private final int attempt;
    private volatile String outcome; // null until the outcome is known

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

    /** The final outcome in lower case ({@code acked}, {@code dead_lettered}, ...), {@code unknown} until known. */
    public String outcome() {
      String o = outcome;
      return o == null ? UNKNOWN : o;
    }

    boolean settled() {
      return outcome != null;
    }
  }

  /** An RPC call: the request's headers are the carrier. */
  public static final class CallContext extends SenderContext<Map<String, Object>> {
    private final String exchange;
    private final String routingKey;
    private final String correlationId;
    private volatile String outcome; // null until the outcome is known

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

    /** The outcome in lower case ({@code ok}, {@code timeout}, ...), {@code unknown} until known. */
    public String outcome() {
      String o = outcome;
      return o == null ? UNKNOWN : o;
    }

    boolean settled() {
      return outcome != null;
    }
  }

  /**
   * The default conventions, OpenTelemetry's messaging attributes. While an observation starts they
   * give the values known then (system, destination, operation; these are what a long task timer
   * is tagged with), and once it is settled all of them: handlers read the rest at stop, and each
   * value is put into the context once instead of twice.
   */
  public static final class Defaults {

    /** Names publishes {@code publish <exchange>}. */
    public static final ObservationConvention<PublishContext> PUBLISH = new ObservationConvention<>() {
      private final Destinations destinations = new Destinations("publish ", "send");

      @Override
      public String getName() {
        return RabbitkitObservations.PUBLISH;
      }

      @Override
      public String getContextualName(PublishContext c) {
        return destinations.of(c.exchange()).contextualName;
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(PublishContext c) {
        return destinations.of(c.exchange()).values(c.settled(), c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(PublishContext c) {
        return !c.settled() ? KeyValues.empty()
            : withMessageId(KeyValue.of(ROUTING_KEY, c.routingKey()), c.messageId());
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof PublishContext;
      }
    };

    /** Names deliveries {@code process <queue>}. */
    public static final ObservationConvention<ProcessContext> PROCESS = new ObservationConvention<>() {
      private final Destinations destinations = new Destinations("process ", "process");

      @Override
      public String getName() {
        return RabbitkitObservations.PROCESS;
      }

      @Override
      public String getContextualName(ProcessContext c) {
        return destinations.of(c.queue()).contextualName;
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(ProcessContext c) {
        return destinations.of(c.queue()).values(c.settled(), c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(ProcessContext c) {
        return !c.settled() ? KeyValues.empty()
            : withMessageId(KeyValue.of("messaging.rabbitmq.message.delivery_attempt", Integer.toString(c.attempt())),
                c.messageId());
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof ProcessContext;
      }
    };

    /** Names RPC calls {@code call <routing key>} (the server's queue). */
    public static final ObservationConvention<CallContext> CALL = new ObservationConvention<>() {
      private final Destinations destinations = new Destinations("call ", "send"); // by exchange, for the values

      @Override
      public String getName() {
        return RabbitkitObservations.CALL;
      }

      @Override
      public String getContextualName(CallContext c) {
        return "call " + c.routingKey(); // named by routing key, valued by exchange
      }

      @Override
      public KeyValues getLowCardinalityKeyValues(CallContext c) {
        return destinations.of(c.exchange()).values(c.settled(), c.outcome(), c.getError());
      }

      @Override
      public KeyValues getHighCardinalityKeyValues(CallContext c) {
        return !c.settled() ? KeyValues.empty()
            : KeyValues.of(KeyValue.of(ROUTING_KEY, c.routingKey()),
                KeyValue.of("messaging.message.conversation_id", String.valueOf(c.correlationId())));
      }

      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof CallContext;
      }
    };

    private static final String ROUTING_KEY = "messaging.rabbitmq.destination.routing_key";
    private static final String MESSAGE_ID = "messaging.message.id";

    private Defaults() {
    }

    /** {@code first}, and the message id if the message has one (no {@code "null"} attribute when it has not). */
    private static KeyValues withMessageId(KeyValue first, String messageId) {
      return messageId == null ? KeyValues.of(first) : KeyValues.of(first, KeyValue.of(MESSAGE_ID, messageId));
    }

    /**
     * What one convention says about each destination, built once: the contextual name and the
     * low-cardinality values per outcome (building and sorting them per message cost more than the
     * rest of this class). Bounded, should destinations ever be unbounded: past the limit values are
     * built each time instead of kept.
     */
    private static final class Destinations {
      private static final int LIMIT = 10_000;
      private final String namePrefix;
      private final String operation;
      private final ConcurrentMap<String, Destination> known = new ConcurrentHashMap<>();

      Destinations(String namePrefix, String operation) {
        this.namePrefix = namePrefix;
        this.operation = operation;
      }

      Destination of(String destination) {
        Destination d = known.get(destination);
        if (d == null) {
          d = new Destination(namePrefix + destination, destination, operation);
          if (known.size() < LIMIT) {
            known.putIfAbsent(destination, d);
          }
        }
        return d;
      }
    }

    private static final class Destination {
      final String contextualName;
      private final KeyValues atStart;
      private final ConcurrentMap<String, KeyValues> settled = new ConcurrentHashMap<>();

      Destination(String contextualName, String destination, String operation) {
        this.contextualName = contextualName;
        this.atStart = KeyValues.of(KeyValue.of("messaging.system", "rabbitmq"),
            KeyValue.of("messaging.destination.name", destination), KeyValue.of("messaging.operation.type", operation));
      }

      KeyValues values(boolean isSettled, String outcome, Throwable error) {
        if (!isSettled) {
          return atStart;
        }
        String errorType = Semantics.errorType(error);
        String key = error == null ? outcome : outcome + '/' + errorType;
        KeyValues values = settled.get(key);
        if (values == null) {
          values = atStart.and(KeyValue.of("rabbitkit.outcome", outcome), KeyValue.of("error.type", errorType));
          if (settled.size() < Destinations.LIMIT) {
            settled.putIfAbsent(key, values);
          }
        }
        return values;
      }
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
