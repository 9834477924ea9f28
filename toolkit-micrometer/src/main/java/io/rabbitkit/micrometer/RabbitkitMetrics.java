package io.rabbitkit.micrometer;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.rabbitkit.Health;
import io.rabbitkit.Interceptor;
import io.rabbitkit.RabbitToolkit;
import java.time.Duration;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer metrics for one or more toolkits, through the public {@link Interceptor} extension
 * point and {@link RabbitToolkit#health()}:
 *
 * <pre>{@code
 * RabbitkitMetrics metrics = RabbitkitMetrics.of(meterRegistry);
 * RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).interceptor(metrics).connect();
 * metrics.bindTo(rabbit); // the gauges over health()
 * }</pre>
 *
 * <p>Meters and their tags (tags are of bounded cardinality only: never a routing key, message id,
 * delivery tag or correlation id):
 *
 * <ul>
 *   <li>{@code rabbitkit.publish} timer, from {@code publish()} to the broker's outcome; tags
 *       {@code exchange} ({@code amq.default} for the default exchange), {@code outcome} (confirmed,
 *       nacked, returned, timeout, closed, refused), {@code error.type};
 *   <li>{@code rabbitkit.consume} timer, the handler's time; tags {@code queue}, {@code outcome}
 *       (acked, retried, delayed, dead_lettered, requeued, duplicate, undecodable), {@code
 *       error.type}. Each in-process retry counts once as retried, each delivery once with its final
 *       outcome, exactly as {@code consumer.stats()} counts them;
 *   <li>{@code rabbitkit.rpc} timer; tags {@code exchange}, {@code outcome} (ok, remote_error,
 *       timeout, returned, closed), {@code error.type};
 *   <li>{@code rabbitkit.connection.recoveries} counter, tag {@code role} (publisher, consumer);
 *   <li>after {@link #bindTo}: {@code rabbitkit.publish.in.flight} and {@code
 *       rabbitkit.consume.in.progress} gauges, {@code rabbitkit.publish.resent} counter, {@code
 *       rabbitkit.connection.state} gauge per {@code role} (1 open, 0 blocked, recovering or closed),
 *       {@code rabbitkit.consumer.running} gauge (consumers subscribed).
 * </ul>
 */
public final class RabbitkitMetrics implements Interceptor {

  private final MeterRegistry registry;
  private final java.util.concurrent.ConcurrentMap<TimerKey, Timer> timers =
      new java.util.concurrent.ConcurrentHashMap<>();

  private RabbitkitMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Metrics recorded in {@code registry}; install the result with {@code builder().interceptor(...)}. */
  public static RabbitkitMetrics of(MeterRegistry registry) {
    return new RabbitkitMetrics(requireNonNull(registry, "registry"));
  }

  /** Registers the gauges that read {@code toolkit}'s {@link RabbitToolkit#health()}. */
  public RabbitkitMetrics bindTo(RabbitToolkit toolkit) {
    requireNonNull(toolkit, "toolkit");
    gauge("rabbitkit.publish.in.flight", toolkit,
        t -> t.health().publishers().stream().mapToInt(Health.PublisherStatus::inFlight).sum());
    gauge("rabbitkit.consume.in.progress", toolkit,
        t -> t.health().consumers().stream().mapToInt(Health.ConsumerStatus::inFlight).sum());
    gauge("rabbitkit.consumer.running", toolkit,
        t -> t.health().consumers().stream().filter(Health.ConsumerStatus::running).count());
    FunctionCounter.builder("rabbitkit.publish.resent", toolkit,
        t -> t.health().publishers().stream().mapToLong(Health.PublisherStatus::resent).sum())
        .description("messages re-sent after a recovery or a nack").register(registry);
    for (String role : new String[]{"publisher", "consumer"}) {
      Gauge.builder("rabbitkit.connection.state", toolkit, t -> t.health().connections().stream()
          .filter(c -> role(c.name()).equals(role))
          .mapToDouble(c -> c.state() == Health.State.OPEN ? 1 : 0).min().orElse(0))
          .tag("role", role).description("1 while the connection is open").register(registry);
    }
    return this;
  }

  private void gauge(String name, RabbitToolkit toolkit, ToDoubleFunction<RabbitToolkit> value) {
    Gauge.builder(name, toolkit, value).register(registry);
  }

  @Override
  public PublishObserver beforePublish(PublishContext context) {
    String exchange = Semantics.exchange(context.exchange());
    return (outcome, elapsed, failure) -> timer("rabbitkit.publish", "exchange", exchange, outcome.name(), failure)
        .record(elapsed);
  }

  @Override
  public ConsumeObserver beforeConsume(ConsumeContext context) {
    String queue = context.queue();
    return new ConsumeObserver() {
      @Override
      public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        timer("rabbitkit.consume", "queue", queue, outcome.name(), failure).record(handlerTime);
      }
    };
  }

  @Override
  public RpcObserver beforeCall(RpcContext context) {
    String exchange = Semantics.exchange(context.exchange());
    return (outcome, elapsed, failure) -> timer("rabbitkit.rpc", "exchange", exchange, outcome.name(), failure)
        .record(elapsed);
  }

  @Override
  public void recovered(String connection) {
    Counter.builder("rabbitkit.connection.recoveries").tag("role", role(connection)).register(registry).increment();
  }

  /** What tells one timer from another: bounded, as the tags are. */
  private record TimerKey(String name, String destination, String outcome, String errorType) {
  }

  /**
   * The timer for these tags, registered once and then found in a map: building the meter id and
   * asking the registry for every message cost more than the recording itself.
   */
  private Timer timer(String name, String destinationTag, String destination, String outcome, Throwable failure) {
    TimerKey key = new TimerKey(name, destination, outcome, Semantics.errorType(failure));
    Timer timer = timers.get(key);
    if (timer == null) {
      timer = timers.computeIfAbsent(key, k -> Timer.builder(k.name())
          .tag(destinationTag, k.destination())
          .tag("outcome", k.outcome().toLowerCase(Locale.ROOT))
          .tag("error.type", k.errorType())
          .register(registry));
    }
    return timer;
  }

  /** {@code orders-service/publisher} is the publisher role. */
  private static String role(String connection) {
    int slash = connection.lastIndexOf('/');
    return slash < 0 ? connection : connection.substring(slash + 1);
  }
}
