package io.rabbitkit.impl;

import io.github.resilience4j.retry.Retry;
import io.rabbitkit.Health;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.Redelivery;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.codec.MessageCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer: {@code concurrency} channels, each with its own prefetch, subscription and serial lane
 * (so a channel is used by one thread at a time), sharing a pool of worker threads. A delivery
 * flows one way: its {@link ConsumerChannel} receives it, the {@link DeliveryProcessor} decides,
 * this consumer records the decision (counters, log, listener, interceptors) on the channel's lane,
 * and the channel settles it. This class owns the life cycle: start, drain, close, {@code
 * stopAfter}, stats and health.
 */
final class QueueConsumer<T> implements MessageConsumer {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);

  /** A consumer's settings, as its builder collected them. */
  record Settings<T>(String queue, MessageCodec<T> codec, MessageConsumer.Handler<T> handler,
      MessageConsumer.AsyncHandler<T> asyncHandler, int prefetch, int concurrency, Retry retry, Duration requeueDelay,
      int maxBodySize, Duration drainTimeout, MessageConsumer.Listener listener, ProcessedMessages processed,
      long stopAfter, Redelivery.Backend backend, StreamMode stream) {
  }

  /**
   * How a stream is read: under a consumer name whose position {@code offsets} keeps, one event at a
   * time, holding {@code lockQueue} (exclusive to one connection) while subscribed.
   */
  record StreamMode(String name, StreamOffset start, OffsetStore offsets, String lockQueue) {

    /** Where to subscribe now: after the last event the name finished, else at the start position. */
    Object startArgument(String stream) {
      OptionalLong done = offsets.lastDone(stream, name);
      return done.isPresent() ? (Object) (done.getAsLong() + 1) : start.argument();
    }
  }

  private final Settings<T> settings;
  private final RoleConnection connection;
  private final Shared context;
  private final ExecutorService pool;
  /** False when the pool is the toolkit's shared one (dispatchThreads), which outlives this consumer. */
  private final boolean ownsPool;
  private final List<ConsumerChannel> workers = new ArrayList<>();
  private final ConsumerCounters counters;
  private final MessageWarnings warnings;
  /** Listener calls of this consumer, one at a time and in the order they happened. */
  private final SerialExecutor listenerLane;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object drained = new Object();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicLong finished = new AtomicLong();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean limitReached;
  /** A stream consumer's events in order; null for a queue consumer. */
  private final StreamEvents streamEvents;
  private FailurePolicy failures;
  private DeliveryLimitGuard guard;
  private DeliveryProcessor<T> processor;
  private volatile boolean stopping;
  private volatile Runnable onClose = () -> {
  };

  QueueConsumer(Settings<T> settings, RoleConnection connection, ConsumerCounters counters) {
    this.settings = settings;
    this.connection = connection;
    this.context = connection.context();
    this.counters = counters;
    this.ownsPool = context.consumerThreads == null;
    this.pool = ownsPool ? Shared.fixedPool(settings.concurrency(), "rabbitkit-consumer-" + settings.queue())
        : context.consumerThreads;
    this.warnings = new MessageWarnings(settings.queue());
    this.listenerLane = new SerialExecutor(context.executor);
    this.streamEvents = settings.stream() == null ? null : new StreamEvents(this);
    if (settings.retry() != null) {
      settings.retry().getEventPublisher().onRetry(event -> counters.retriedInProcess.increment());
    }
  }

  MessageWarnings warnings() {
    return warnings;
  }

  /** Whether failed messages get delayed rounds (through delay queues or in the queue itself). */
  boolean usesRedelivery() {
    return failures instanceof DeadLetterPipeline p && p.hasRounds();
  }

  /** Subscribes every channel; on failure releases what was opened and throws. */
  void start(FailurePolicy failures, DeliveryLimitGuard guard) {
    this.failures = failures;
    this.guard = guard;
    this.processor = new DeliveryProcessor<>(new DeliveryProcessor.Parts<>(settings.queue(), settings.codec(),
        settings.maxBodySize(), settings.handler(), settings.asyncHandler(), settings.retry(), settings.processed(),
        failures, guard, context.interceptors, context.timer, pool, in -> in.worker().serial, warnings));
    try {
      for (int i = 0; i < settings.concurrency(); i++) {
        ConsumerChannel worker = new ConsumerChannel(this, i);
        workers.add(worker);
        worker.channel.start();
      }
    } catch (IOException | RuntimeException e) {
      stopping = true;
      workers.forEach(w -> w.channel.close());
      if (ownsPool) {
        pool.shutdownNow();
      }
      failures.close();
      guard.close();
      if (streamEvents != null) {
        throw StreamEvents.refused(settings, e);
      }
      throw Errors.topology("consuming from", "queue '" + settings.queue() + "'", e);
    }
    if (settings.stream() != null) {
      LOG.info("reading stream '{}' as '{}' (positions in {}; prefetch {})", settings.queue(),
          settings.stream().name(), settings.stream().offsets(), settings.prefetch());
    } else {
      LOG.info("consuming from queue '{}' (prefetch {}, concurrency {})", settings.queue(), settings.prefetch(),
          settings.concurrency());
    }
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

  /** On the delivery's lane: decide, then record and settle the decision on the lane again. */
  void process(Inbound in) {
    if (streamEvents != null) {
      streamEvents.process(in);
      return;
    }
    if (limitReached) {
      // Delivered before the subscription was cancelled: give it back untouched. basic.nack, not
      // reject: RabbitMQ 4.3+ does not count a nack toward a quorum queue's delivery limit.
      in.worker().settleAlone(in, ch -> ch.basicNack(in.tag(), false, true));
      return;
    }
    counters.received.increment();
    processor.process(in).whenComplete((s, error) -> in.worker()
        .onLane(() -> record(in, s != null ? s : new Settlement.Requeued(DeliveryProcessor.unwrap(error)))));
  }

  /**
   * The one place a delivery's fate is recorded, on its channel's lane: counted, logged, told to the
   * listener and the interceptors, then carried out by the channel.
   */
  void record(Inbound in, Settlement s) {
    String id = Names.orNone(in.messageId());
    if (s instanceof Settlement.Requeued r) {
      counters.requeued.increment();
      warnings.warn("{} failed ({}); requeueing it in {} ms", in.describe(), Errors.brief(r.cause()),
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
    } else if (s instanceof Settlement.Delayed r) {
      counters.delayed.increment();
      LOG.info("{} failed (round {}: {}); retrying in {} via '{}'", in.describe(), r.round(), Errors.brief(r.cause()),
          r.delay(), r.via() == null ? settings.queue() : r.via());
      listenerLane
          .execute(() -> settings.listener().retryScheduled(settings.queue(), id, r.round(), r.delay(), r.cause()));
      observe(in, Interceptor.ConsumeOutcome.DELAYED, r.cause());
    } else if (s instanceof Settlement.DeadLettered d) {
      counters.deadLettered.increment();
      if (d.to() == null) {
        warnings.warn("{} rejected to the queue's dead-letter exchange ({}: {})", in.describe(), d.reason(),
            Errors.brief(d.cause()));
      } else {
        warnings.warn("{} dead-lettered to '{}' after {} attempt(s) ({}: {})", in.describe(), d.to(), d.attempts(),
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

  DeliveryProcessor<T> processor() {
    return processor;
  }

  ConsumerCounters counters() {
    return counters;
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
    if (settings.stream() != null) {
      workers.forEach(ConsumerChannel::releaseName);
    }
    workers.forEach(w -> w.channel.close());
    failures.close();
    guard.close();
    if (ownsPool) {
      pool.shutdown();
    }
    stopped.complete(null);
    onClose.run();
    warnings.reportDropped();
    LOG.info("stopped consuming from queue '{}' ({})", settings.queue(), counters.snapshot());
  }
}
