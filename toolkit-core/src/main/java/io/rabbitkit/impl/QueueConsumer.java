package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import io.github.resilience4j.retry.Retry;
import io.rabbitkit.Delivery;
import io.rabbitkit.Health;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.Redelivery;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.deadletter.FailureHeaders;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer: {@code concurrency} channels, each with its own prefetch, subscription and serial
 * executor (so a channel is used by one thread at a time), sharing a pool of worker threads.
 */
final class QueueConsumer<T> implements MessageConsumer {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);
  /** Content encodings that leave the body as it is ("utf-8" is a charset some clients put there). */
  private static final java.util.Set<String> IDENTITY_ENCODINGS = java.util.Set.of("", "identity", "utf-8", "utf8");

  /** {@link Settings#deliveryLimit}: the queue drops nothing (classic, stream, or it has a dead-letter exchange). */
  static final int NO_LIMIT = Integer.MAX_VALUE;
  /** {@link Settings#deliveryLimit}: not declared through this toolkit; a quorum queue is recognised by its deliveries. */
  static final int UNKNOWN_LIMIT = -1;
  /** The delivery limit RabbitMQ 4 gives every quorum queue that sets none. */
  static final int DEFAULT_QUORUM_DELIVERY_LIMIT = 20;

  /**
   * @param deliveryLimit how many requeues the queue allows before the broker drops the message
   *     ({@link #NO_LIMIT}, {@link #UNKNOWN_LIMIT} or a number)
   * @param limitGuard moves a message aside instead of the requeue the broker would drop it after;
   *     created on first use
   */
  record Settings<T>(String queue, MessageCodec<T> codec, MessageConsumer.Handler<T> handler,
      MessageConsumer.AsyncHandler<T> asyncHandler,
      int prefetch, int concurrency, Retry retry, Duration requeueDelay, int maxBodySize, Duration drainTimeout,
      MessageConsumer.Listener listener, ProcessedMessages processed, long stopAfter, int deliveryLimit,
      java.util.function.Supplier<FailurePolicy> limitGuard, Redelivery.Backend backend) {
  }

  private final Settings<T> settings;
  private final RoleConnection connection;
  private final Shared context;
  private final ExecutorService pool;
  private final List<ConsumerChannel> workers = new ArrayList<>();
  private final ConsumerCounters counters;
  private final WarnBudget warnings = new WarnBudget();
  private final ProcessedMessages processed;
  /** Listener calls of this consumer, one at a time and in the order they happened. */
  private final SerialExecutor listenerLane;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object drained = new Object();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicLong finished = new AtomicLong();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean limitReached;
  private FailurePolicy failures;
  private FailurePolicy limitGuard; // created on first use, on a worker's lane; guarded by this
  private volatile boolean stopping;
  private volatile Runnable onClose = () -> {
  };

  QueueConsumer(Settings<T> settings, RoleConnection connection, ConsumerCounters counters) {
    this.settings = settings;
    this.connection = connection;
    this.context = connection.context();
    this.counters = counters;
    this.pool = Shared.fixedPool(settings.concurrency(), "rabbitkit-consumer-" + settings.queue());
    this.processed = settings.processed();
    this.listenerLane = new SerialExecutor(context.executor);
    if (settings.retry() != null) {
      settings.retry().getEventPublisher().onRetry(event -> counters.retriedInProcess.increment());
    }
  }

  /** Subscribes every channel; on failure releases what was opened and throws. */
  /** Whether failed messages get delayed rounds (through delay queues or in the queue itself). */
  boolean usesRedelivery() {
    return failures instanceof DeadLetterPipeline p && p.hasRounds();
  }

  void start(FailurePolicy failures) {
    this.failures = failures;
    try {
      for (int i = 0; i < settings.concurrency(); i++) {
        ConsumerChannel worker = new ConsumerChannel(this, i);
        workers.add(worker);
        worker.channel.start();
      }
    } catch (IOException | RuntimeException e) {
      stopping = true;
      workers.forEach(w -> w.channel.close());
      pool.shutdownNow();
      failures.close();
      throw Errors.topology("consuming from", "queue '" + settings.queue() + "'", e);
    }
    LOG.info("consuming from queue '{}' (prefetch {}, concurrency {})", settings.queue(), settings.prefetch(),
        settings.concurrency());
  }

  @Override
  public String queue() {
    return settings.queue();
  }

  @Override
  public boolean isRunning() {
    return !stopping && workers.stream().allMatch(ConsumerChannel::subscribed);
  }

  /** The channels of this consumer, one per unit of concurrency. */
  List<ManagedChannel> channels() {
    return workers.stream().map(w -> w.channel).toList();
  }

  @Override
  public MessageConsumer.Stats stats() {
    return counters.snapshot();
  }

  Health.ConsumerStatus status() {
    return new Health.ConsumerStatus(settings.queue(), isRunning(), inFlight.get(), stats());
  }

  @Override
  public CompletionStage<Void> stopped() {
    return stopped.minimalCompletionStage();
  }

  void process(Inbound in) {
    if (limitReached) {
      // Delivered before the subscription was cancelled: give it back untouched. basic.nack, not
      // reject: RabbitMQ 4.3+ does not count a nack toward a quorum queue's delivery limit.
      in.worker().settleAlone(in, ch -> ch.basicNack(in.tag(), false, true));
      return;
    }
    counters.received.increment();
    if (!context.interceptors.isEmpty()) {
      in.observer = context.interceptors.beforeConsume(new Observed(in));
    }
    if (in.body().length > settings.maxBodySize()) {
      MessageDecodingException tooLarge = new MessageDecodingException("body of " + in.body().length
          + " bytes exceeds the consumer's limit of " + settings.maxBodySize() + " bytes")
          .at(settings.queue(), in.messageId(), in.props().getContentType());
      warn("{} is too large: {}", in.describe(), tooLarge.getMessage());
      in.undecodable = true;
      decide(in, failures.poison(in, tooLarge, FailureHeaders.REASON_TOO_LARGE));
      return;
    }
    Delivery<T> delivery;
    try {
      delivery = delivery(in, decode(in));
    } catch (MessageDecodingException e) {
      warn("{} cannot be decoded: {}", in.describe(), SafeText.of(e.getMessage(), 300));
      in.undecodable = true;
      decide(in, failures.poison(in, e.at(settings.queue(), in.messageId(), in.props().getContentType()),
          FailureHeaders.REASON_UNDECODABLE));
      return;
    } catch (RuntimeException e) {
      // Properties or headers the toolkit cannot represent: dead-letter it rather than let it stall the channel.
      warn("{} has properties that cannot be read: {}", in.describe(), SafeText.of(e.toString(), 300));
      in.undecodable = true;
      decide(in, failures.poison(in, new MessageDecodingException("unreadable properties: " + e, e),
          FailureHeaders.REASON_UNDECODABLE));
      return;
    }
    String id = in.messageId();
    if (processed != null && id != null) {
      boolean seen;
      try {
        seen = processed.contains(id);
      } catch (RuntimeException e) {
        warn("{}: the processed-messages store failed; treating the message as failed", in.describe(), e);
        decide(in, failures.failed(in, e));
        return;
      }
      if (seen) {
        LOG.debug("{} was already processed; acknowledging the duplicate", in.describe());
        finish(in, Settlement.DUPLICATE);
        return;
      }
    }
    if (settings.handler() != null) {
      outcome(in, runSync(in, delivery));
      return;
    }
    CompletionStage<Object> stage = settings.retry() == null ? attemptAsync(in, delivery)
        : Retry.decorateCompletionStage(settings.retry(), context.timer,
            () -> CompletableFuture.supplyAsync(() -> attemptAsync(in, delivery), pool)
                .thenCompose(Function.identity()))
            .get();
    stage.whenComplete((rejected, error) -> in.worker().serial
        .execute(() -> outcome(in, error != null ? unwrap(error) : (Throwable) rejected)));
  }

  private T decode(Inbound in) {
    String encoding = in.props().getContentEncoding();
    if (encoding != null && !IDENTITY_ENCODINGS.contains(encoding.trim().toLowerCase(java.util.Locale.ROOT))) {
      // Codecs read plain bytes: a compressed body would be decoded as garbage or, worse, as something else.
      throw new MessageDecodingException("unsupported content encoding '" + SafeText.of(encoding)
          + "' (codecs read uncompressed bodies)");
    }
    try {
      return settings.codec().decode(in.body(), in.props().getContentType());
    } catch (MessageDecodingException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new MessageDecodingException("codec " + settings.codec() + " failed: " + e, e);
    }
  }

  private Delivery<T> delivery(Inbound in, T body) {
    AMQP.BasicProperties p = in.props();
    Envelope env = in.envelope();
    return new Delivery<>(body, settings.queue(), env.getExchange(), env.getRoutingKey(), env.isRedeliver(),
        in.failedRounds() + 1, Optional.ofNullable(in.messageId()), Optional.ofNullable(p.getCorrelationId()),
        Optional.ofNullable(p.getReplyTo()), Optional.ofNullable(p.getContentType()),
        Optional.ofNullable(p.getTimestamp()).map(java.util.Date::toInstant), in.javaHeaders(),
        Optional.ofNullable(p.getType()), Optional.ofNullable(p.getAppId()));
  }

  /** Runs the handler (with in-process retry); returns null on success, else the failure. */
  private Throwable runSync(Inbound in, Delivery<T> delivery) {
    try {
      if (settings.retry() == null) {
        handle(in, delivery);
        return null;
      }
      return settings.retry().executeCheckedSupplier(() -> {
        try {
          handle(in, delivery);
          return null;
        } catch (RejectMessageException rejected) {
          return rejected; // a value, not an exception: the retry must not repeat it
        }
      });
    } catch (Throwable t) {
      return t;
    }
  }

  /** One call of the synchronous handler, inside the interceptors' scope and timed when they watch. */
  private void handle(Inbound in, Delivery<T> delivery) throws Exception {
    Interceptor.ConsumeObserver o = in.observer;
    if (o == Interceptor.ConsumeObserver.NONE) {
      settings.handler().handle(delivery);
      return;
    }
    reportRetried(in, o);
    long start = System.nanoTime();
    Interceptor.Scope scope = o.handlerScope();
    try {
      settings.handler().handle(delivery);
    } catch (Throwable t) {
      in.failedCall = t;
      throw t;
    } finally {
      in.handlerNanos = System.nanoTime() - start;
      scope.close();
    }
  }

  /** A handler call is about to repeat one that failed: that one was retried. */
  private static void reportRetried(Inbound in, Interceptor.ConsumeObserver o) {
    Throwable failed = in.failedCall;
    if (failed != null) {
      in.failedCall = null;
      o.outcome(Interceptor.ConsumeOutcome.RETRIED, Duration.ofNanos(in.handlerNanos), failed);
    }
  }

  /** One async attempt; completes with null on success, with the rejection as a value, or exceptionally. */
  private CompletionStage<Object> attemptAsync(Inbound in, Delivery<T> delivery) {
    Interceptor.ConsumeObserver o = in.observer;
    boolean observed = o != Interceptor.ConsumeObserver.NONE;
    long start = 0;
    Interceptor.Scope scope = Interceptor.Scope.NONE;
    if (observed) {
      reportRetried(in, o);
      start = System.nanoTime();
      scope = o.handlerScope();
    }
    CompletionStage<Object> result = attemptAsync(delivery, scope);
    if (!observed) {
      return result;
    }
    long started = start;
    return result.whenComplete((rejected, error) -> {
      in.handlerNanos = System.nanoTime() - started;
      in.failedCall = error != null ? unwrap(error) : (Throwable) rejected;
    });
  }

  private CompletionStage<Object> attemptAsync(Delivery<T> delivery, Interceptor.Scope scope) {
    CompletionStage<?> stage;
    try {
      stage = settings.asyncHandler().handle(delivery);
      if (stage == null) {
        throw new NullPointerException("async handler returned null instead of a CompletionStage");
      }
    } catch (RejectMessageException rejected) {
      return CompletableFuture.completedFuture(rejected);
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    } finally {
      scope.close();
    }
    return stage.handle((result, error) -> {
      Throwable cause = unwrap(error);
      if (cause instanceof RejectMessageException) {
        return cause;
      }
      if (cause != null) {
        throw new CompletionException(cause);
      }
      return null;
    });
  }

  private void outcome(Inbound in, Throwable failure) {
    if (failure == null && processed != null && in.messageId() != null) {
      try {
        processed.add(in.messageId());
      } catch (RuntimeException e) {
        warn("{}: the processed-messages store failed to record it; treating the message as failed", in.describe(), e);
        failure = e;
      }
    }
    if (failure == null) {
      finish(in, Settlement.ACKED);
    } else if (failure instanceof RejectMessageException) {
      warn("{} rejected by its handler: {}", in.describe(), SafeText.of(failure.getMessage(), 300));
      decide(in, failures.poison(in, failure, FailureHeaders.REASON_REJECTED));
    } else {
      LOG.debug("{} failed", in.describe(), failure); // the consumer logs what becomes of it
      decide(in, failures.failed(in, failure));
    }
  }

  private void decide(Inbound in, CompletionStage<Settlement> decision) {
    decision.whenComplete(
        (settlement, error) -> finish(in, settlement != null ? settlement : new Settlement.Requeued(error)));
  }

  /**
   * The one place a delivery's fate is carried out: counted, logged, told to the listener and the
   * interceptors, then settled on its channel.
   */
  private void finish(Inbound in, Settlement s) {
    String id = Names.orNone(in.messageId());
    if (s instanceof Settlement.Requeued r) {
      if (!in.limitGuardTried && lastRequeueBeforeTheLimit(in)) {
        in.limitGuardTried = true;
        warn("{} failed {} time(s) on a queue with a delivery limit; moving it to the dead-letter queue rather "
            + "than let the broker drop it", in.describe(), Headers.integer(in.headers(), "x-delivery-count", 0) + 1);
        decide(in, guard().poison(in, r.cause(), FailureHeaders.REASON_DELIVERY_LIMIT));
        return;
      }
      if (in.limitGuardTried) {
        LOG.error("{}: moving it aside failed; requeueing it although the queue's delivery limit may make the broker "
            + "drop it", in.describe());
      }
      counters.requeued.increment();
      warn("{} failed ({}); requeueing it in {} ms", in.describe(), Errors.brief(r.cause()),
          settings.requeueDelay().toMillis());
      listenerLane.execute(() -> settings.listener().requeued(settings.queue(), id, r.cause()));
      observe(in, Interceptor.ConsumeOutcome.REQUEUED, r.cause());
      in.worker().requeueLater(in);
      return;
    }
    if (s == Settlement.ACKED) {
      counters.processed.increment();
      observe(in, Interceptor.ConsumeOutcome.ACKED, null);
    } else if (s == Settlement.DUPLICATE) {
      counters.duplicates.increment();
      observe(in, Interceptor.ConsumeOutcome.DUPLICATE, null);
    } else if (s instanceof Settlement.Redelivered r) {
      counters.redelivered.increment();
      LOG.info("{} failed (round {}: {}); retrying in {} via '{}'", in.describe(), r.round(), Errors.brief(r.cause()),
          r.delay(), r.via() == null ? settings.queue() : r.via());
      listenerLane
          .execute(() -> settings.listener().retryScheduled(settings.queue(), id, r.round(), r.delay(), r.cause()));
      observe(in, Interceptor.ConsumeOutcome.REDELIVERED, r.cause());
    } else if (s instanceof Settlement.DeadLettered d) {
      counters.deadLettered.increment();
      if (d.to() == null) {
        warn("{} rejected to the queue's dead-letter exchange ({}: {})", in.describe(), d.reason(),
            Errors.brief(d.cause()));
      } else {
        warn("{} dead-lettered to '{}' after {} attempt(s) ({}: {})", in.describe(), d.to(), d.attempts(),
            d.reason(), Errors.brief(d.cause()));
      }
      listenerLane.execute(() -> settings.listener().deadLettered(settings.queue(), id, d.reason(), d.cause()));
      observe(in, Interceptor.ConsumeOutcome.DEAD_LETTERED, d.cause());
    }
    in.worker().settle(in, s);
  }

  private static void observe(Inbound in, Interceptor.ConsumeOutcome outcome, Throwable failure) {
    Interceptor.ConsumeObserver o = in.observer;
    if (o != Interceptor.ConsumeObserver.NONE) {
      o.outcome(in.undecodable ? Interceptor.ConsumeOutcome.UNDECODABLE : outcome, Duration.ofNanos(in.handlerNanos),
          failure);
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * A message reached its final outcome; runs on a worker just before that message is settled.
   * Returns whether its settlement must wait: with {@code stopAfter(n)}, settling frees a prefetch
   * slot the broker fills with another message, so the last {@code prefetch x concurrency}
   * settlements wait until the subscription is cancelled. The broker then never sends a message
   * this consumer will not handle (returning one would count toward a quorum queue's delivery
   * limit on RabbitMQ 3.x and 4.0-4.2).
   */
  boolean finishedOneMustWait() {
    long stopAfter = settings.stopAfter();
    if (stopAfter == 0) {
      return false;
    }
    long n = finished.incrementAndGet();
    if (n == stopAfter) {
      limitReached = true;
      LOG.info("queue '{}': {} message(s) handled; cancelling the subscription", settings.queue(), stopAfter);
      workers.forEach(w -> w.cancel(System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
      workers.forEach(w -> w.serial.execute(w::releaseWaiting));
      stopped.complete(null);
      return false;
    }
    return n < stopAfter && n > stopAfter - (long) settings.prefetch() * settings.concurrency();
  }

  /** Whether requeueing {@code in} once more would take it past the queue's delivery limit. */
  private boolean lastRequeueBeforeTheLimit(Inbound in) {
    int limit = settings.deliveryLimit();
    Object count = in.headers().get("x-delivery-count");
    if (limit == UNKNOWN_LIMIT && count != null) {
      limit = DEFAULT_QUORUM_DELIVERY_LIMIT; // only quorum queues count deliveries; its limit may be RabbitMQ 4's default
    }
    return limit != UNKNOWN_LIMIT && limit != NO_LIMIT && Headers.integer(in.headers(), "x-delivery-count", 0) >= limit;
  }

  private synchronized FailurePolicy guard() {
    if (limitGuard == null) {
      limitGuard = settings.limitGuard().get();
    }
    return limitGuard;
  }

  void settled() {
    if (inFlight.decrementAndGet() == 0 && stopping) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  // ---------------------------------------------------------------- what its channels need

  Settings<T> settings() {
    return settings;
  }

  ExecutorService pool() {
    return pool;
  }

  Shared shared() {
    return context;
  }

  RoleConnection connection() {
    return connection;
  }

  SerialExecutor listenerLane() {
    return listenerLane;
  }

  boolean stopping() {
    return stopping;
  }

  boolean limitReached() {
    return limitReached;
  }

  void deliveryStarted() {
    inFlight.incrementAndGet();
  }

  /** Runs {@code hook} once this resource has closed (the toolkit forgets it then). */
  void onClose(Runnable hook) {
    this.onClose = hook;
  }

  /** A warning about one message, within the consumer's {@link WarnBudget}. */
  private void warn(String format, Object... args) {
    long dropped = warnings.admit();
    if (dropped < 0) {
      return;
    }
    if (dropped > 0) {
      LOG.warn("{} more warning(s) about messages from queue '{}' were not logged (at most {} per {} s)", dropped,
          settings.queue(), WarnBudget.LIMIT, WarnBudget.WINDOW_NANOS / 1_000_000_000L);
    }
    LOG.warn(format, args);
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    stopping = true;
    long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
    workers.forEach(w -> w.cancel(deadline));
    workers.forEach(w -> w.serial.execute(w::releaseWaiting));
    synchronized (drained) {
      while (inFlight.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          drained.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    int left = inFlight.get();
    if (left > 0) {
      LOG.warn("queue '{}': {} message(s) still in progress after the drain timeout; the broker will redeliver them",
          settings.queue(), left);
    }
    workers.forEach(w -> w.channel.close());
    failures.close();
    synchronized (this) {
      if (limitGuard != null) {
        limitGuard.close();
      }
    }
    pool.shutdown();
    stopped.complete(null);
    onClose.run();
    long dropped = warnings.takeSuppressed();
    if (dropped > 0) {
      LOG.warn("{} more warning(s) about messages from queue '{}' were not logged", dropped, settings.queue());
    }
    LOG.info("stopped consuming from queue '{}' ({})", settings.queue(), counters.snapshot());
  }

  /** What interceptors see of a delivery. */
  private static final class Observed implements Interceptor.ConsumeContext {
    private final Inbound in;
    private final Map<String, Object> headers;

    Observed(Inbound in) {
      this.in = in;
      this.headers = in.javaHeaders();
    }

    @Override
    public String queue() {
      return in.queue();
    }

    @Override
    public String exchange() {
      return in.envelope().getExchange();
    }

    @Override
    public Optional<String> messageId() {
      return Optional.ofNullable(in.messageId());
    }

    @Override
    public Map<String, Object> headers() {
      return headers;
    }

    @Override
    public boolean redelivered() {
      return in.envelope().isRedeliver();
    }

    @Override
    public int attempt() {
      return in.failedRounds() + 1;
    }

    @Override
    public int bodySize() {
      return in.body().length;
    }
  }
}
