package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.Optional;

/**
 * Configures and starts a {@link Consumer}. Obtain one from {@link RabbitToolkit#consumerBuilder}.
 * Not thread-safe.
 *
 * <pre>{@code
 * Consumer consumer = rabbit.consumerBuilder(OrderPlaced.class)
 *     .queue("orders.placed")
 *     .handler(delivery -> orders.save(delivery.body()))
 *     .retry(RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(200)).build())
 *     .redelivery(Redelivery.after(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1)))
 *     .build();
 * }</pre>
 *
 * <h2>What happens to a message whose handler fails</h2>
 * <ol>
 *   <li>In-process retry per the {@link #retry(RetryConfig) RetryConfig} (none by default). It
 *       holds a prefetch slot while it waits, so keep its waits short.
 *   <li>With the dead-letter pipeline on ({@link #redelivery(Redelivery)} or {@link
 *       #deadLetterQueue(String)}): the message is re-published to the next delay queue, or after
 *       the last tier to the dead-letter queue ({@code <queue>.dlq} by default) with failure
 *       headers; the original is acknowledged only after that publish is confirmed, and requeued if
 *       it fails. The toolkit declares the delay queues and the dead-letter queue.
 *   <li>Without it: if the queue has a dead-letter exchange (declared through this toolkit, or
 *       {@link #deadLetterExchangeOnQueue()}), the message is rejected without requeue and the broker
 *       dead-letters it; otherwise it is requeued after {@link #requeueDelay(Duration)} (never
 *       dropped, never spinning).
 * </ol>
 * A message that cannot be decoded, or whose handler throws {@link RejectMessageException}, skips
 * every retry: it is dead-lettered at once (or, with no dead-letter destination, requeued with the
 * delay and logged as an error).
 *
 * @param <T> the message type
 */
public final class ConsumerBuilder<T> {

  /** Default number of unacknowledged messages per channel. */
  public static final int DEFAULT_PREFETCH = 50;
  /** Wait between in-process attempts with {@link #retry(int)}. */
  public static final long DEFAULT_RETRY_WAIT_MILLIS = 50;
  /** Default wait before a failed message is requeued (when it is requeued). */
  public static final Duration DEFAULT_REQUEUE_DELAY = Duration.ofSeconds(1);
  /** Default time {@link Consumer#close()} lets in-flight messages finish. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConsumerBuilder.class);

  /** Default largest body accepted; larger ones are dead-lettered as too large. */
  public static final int DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

  private final RabbitToolkit toolkit;
  private String queue;
  private MessageCodec<T> codec;
  private MessageHandler<T> handler;
  private AsyncMessageHandler<T> asyncHandler;
  private int prefetch = DEFAULT_PREFETCH;
  private int concurrency = 1;
  private RetryConfig retry;
  private Redelivery redelivery;
  private String deadLetterQueue;
  private boolean deadLetterExchangeOnQueue;
  private Duration requeueDelay = DEFAULT_REQUEUE_DELAY;
  private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
  private int maxBodySize = DEFAULT_MAX_BODY_SIZE;
  private ProcessedMessages deduplicate;
  private long stopAfter;
  private ConsumerListener listener = new ConsumerListener() {};

  ConsumerBuilder(RabbitToolkit toolkit, Class<T> type) {
    this.toolkit = toolkit;
    this.codec = MessageCodec.forType(requireNonNull(type, "type"));
  }

  /** Sets the queue to consume from (required). It must exist: declare it first. */
  public ConsumerBuilder<T> queue(String queue) {
    requireNonNull(queue, "queue");
    if (queue.isEmpty()) {
      throw new IllegalArgumentException("queue must not be empty");
    }
    Headers.shortString("queue name", queue);
    this.queue = queue;
    return this;
  }

  /** Sets the codec; the default is JSON (String and byte[] get their own codecs). */
  public ConsumerBuilder<T> codec(MessageCodec<T> codec) {
    this.codec = requireNonNull(codec, "codec");
    return this;
  }

  /** Sets a blocking handler: a normal return acknowledges the message. */
  public ConsumerBuilder<T> handler(MessageHandler<T> handler) {
    this.handler = requireNonNull(handler, "handler");
    return this;
  }

  /** Sets a non-blocking handler: the message is acknowledged when the returned stage completes. */
  public ConsumerBuilder<T> asyncHandler(AsyncMessageHandler<T> handler) {
    this.asyncHandler = requireNonNull(handler, "handler");
    return this;
  }

  /** Unacknowledged messages the broker may send each channel (basic.qos). */
  public ConsumerBuilder<T> prefetch(int prefetch) {
    if (prefetch < 1 || prefetch > 65535) {
      throw new IllegalArgumentException("prefetch must be 1-65535: " + prefetch);
    }
    this.prefetch = prefetch;
    return this;
  }

  /** Number of channels, each handling one message at a time (blocking handlers). */
  public ConsumerBuilder<T> concurrency(int concurrency) {
    if (concurrency < 1 || concurrency > 1000) {
      throw new IllegalArgumentException("concurrency must be 1-1000: " + concurrency);
    }
    this.concurrency = concurrency;
    return this;
  }

  /**
   * In-process retry: attempts, backoff and which exceptions retry come from resilience4j's {@code
   * RetryConfig} (for example {@code RetryConfig.custom().maxAttempts(3).waitDuration(ofMillis(100))
   * .retryExceptions(IOException.class).build()}). {@link RejectMessageException} never retries.
   */
  public ConsumerBuilder<T> retry(RetryConfig retry) {
    this.retry = requireNonNull(retry, "retry");
    return this;
  }

  /**
   * In-process retry with {@code maxAttempts} handler calls in all, {@value #DEFAULT_RETRY_WAIT_MILLIS}
   * ms apart. Short on purpose: a message waiting in process holds a prefetch slot (resilience4j's
   * own default of 500 ms holds it about a second for three attempts); longer waits belong in the
   * broker-side {@link #redelivery} tiers, which hold nothing.
   */
  public ConsumerBuilder<T> retry(int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1: " + maxAttempts);
    }
    return retry(RetryConfig.custom().maxAttempts(maxAttempts)
        .waitDuration(java.time.Duration.ofMillis(DEFAULT_RETRY_WAIT_MILLIS)).build());
  }

  /** Broker-side delayed retry tiers; turns the dead-letter pipeline on. */
  public ConsumerBuilder<T> redelivery(Redelivery redelivery) {
    this.redelivery = requireNonNull(redelivery, "redelivery");
    return this;
  }

  /**
   * Names the dead-letter queue (default {@code <queue>.dlq}) and turns the dead-letter pipeline
   * on. The toolkit declares it as a durable classic queue unless this toolkit already declared a
   * queue of that name.
   */
  public ConsumerBuilder<T> deadLetterQueue(String deadLetterQueue) {
    requireNonNull(deadLetterQueue, "deadLetterQueue");
    if (deadLetterQueue.isEmpty()) {
      throw new IllegalArgumentException("deadLetterQueue must not be empty");
    }
    Headers.shortString("deadLetterQueue", deadLetterQueue);
    this.deadLetterQueue = deadLetterQueue;
    return this;
  }

  /**
   * Says the queue has a dead-letter exchange although it was not declared through this toolkit:
   * failed messages are then rejected without requeue, for the broker to dead-letter.
   */
  public ConsumerBuilder<T> deadLetterExchangeOnQueue() {
    this.deadLetterExchangeOnQueue = true;
    return this;
  }

  /** Wait before a failed message is requeued, so that a failing message cannot spin a CPU. */
  public ConsumerBuilder<T> requeueDelay(Duration delay) {
    requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("requeueDelay must not be negative: " + delay);
    }
    this.requeueDelay = delay;
    return this;
  }

  /** How long {@link Consumer#close()} lets delivered messages finish before closing the channels. */
  public ConsumerBuilder<T> drainTimeout(Duration drainTimeout) {
    requireNonNull(drainTimeout, "drainTimeout");
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must not be negative: " + drainTimeout);
    }
    this.drainTimeout = drainTimeout;
    return this;
  }

  /** Bodies larger than this are not decoded: they are treated as undecodable (dead-lettered). */
  public ConsumerBuilder<T> maxBodySize(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("maxBodySize must be >= 1: " + bytes);
    }
    this.maxBodySize = bytes;
    return this;
  }

  /**
   * Skips (acknowledges without handling) a message whose message id is among the last {@code
   * capacity} ids this consumer processed within the last hour: {@code
   * deduplicate(ProcessedMessages.inMemory(capacity, Duration.ofHours(1)))}. Off by default.
   */
  public ConsumerBuilder<T> deduplicate(int capacity) {
    return deduplicate(ProcessedMessages.inMemory(capacity, Duration.ofHours(1)));
  }

  /**
   * Makes the consumer idempotent: a message whose id {@code store} holds is acked without being
   * handled; a handled message's id is added to it before the ack. Messages without an id are
   * always handled. See {@link ProcessedMessages} for what each store guarantees.
   */
  public ConsumerBuilder<T> deduplicate(ProcessedMessages store) {
    this.deduplicate = requireNonNull(store, "store");
    return this;
  }

  /**
   * Cancels the subscription once {@code messages} messages have reached a final outcome
   * (processed, or dead-lettered); messages delivered meanwhile but not started are returned to the
   * queue untouched. With concurrency 1 exactly {@code messages} are handled. {@link
   * Consumer#stopped()} completes then. For batch jobs, tools and examples.
   */
  public ConsumerBuilder<T> stopAfter(long messages) {
    if (messages < 1) {
      throw new IllegalArgumentException("stopAfter must be >= 1: " + messages);
    }
    this.stopAfter = messages;
    return this;
  }

  /** Hears retries, dead letters, requeues and broker cancellations. */
  public ConsumerBuilder<T> listener(ConsumerListener listener) {
    this.listener = requireNonNull(listener, "listener");
    return this;
  }

  /**
   * Declares what the failure handling needs (delay queues, dead-letter queue) and starts
   * consuming.
   *
   * @throws IllegalStateException if no queue or not exactly one handler is set
   * @throws TopologyException if the queue does not exist or a declaration is refused
   */
  public Consumer build() {
    if (queue == null) {
      throw new IllegalStateException("queue(...) is required");
    }
    if ((handler == null) == (asyncHandler == null)) {
      throw new IllegalStateException("set exactly one of handler(...) and asyncHandler(...)");
    }
    boolean pipeline = redelivery != null || deadLetterQueue != null;
    String dlqName = deadLetterQueue != null ? deadLetterQueue : queue + ".dlq";
    Headers.shortString("dead-letter queue name '" + dlqName + "'", dlqName);
    if (redelivery != null) {
      redelivery.delays().forEach(d -> {
        String delayQueue = Redelivery.delayQueueName(queue, d);
        Headers.shortString("delay queue name '" + delayQueue + "'", delayQueue);
      });
    }
    if (pipeline && deadLetterExchangeOnQueue) {
      throw new IllegalStateException("deadLetterExchangeOnQueue() conflicts with the toolkit's dead-letter queue");
    }
    ConsumerCounters counters = new ConsumerCounters();
    // With a known count, take no more than will be handled (see QueueConsumer.finishedOneMustWait).
    int channels = stopAfter > 0 ? (int) Math.min(concurrency, stopAfter) : concurrency;
    int perChannel = stopAfter > 0 ? (int) Math.min(prefetch, Math.max(1, stopAfter / channels)) : prefetch;
    Optional<Queue> declared = toolkit.declaredQueue(queue);
    boolean hasDlx = deadLetterExchangeOnQueue || declared.flatMap(Queue::deadLetterExchange).isPresent();
    String dlq = deadLetterQueue != null ? deadLetterQueue : queue + ".dlq";
    int deliveryLimit = hasDlx ? QueueConsumer.NO_LIMIT : declared.map(q -> q.type() != Queue.Type.QUORUM
        ? QueueConsumer.NO_LIMIT
        : q.deliveryLimit().orElse(QueueConsumer.DEFAULT_QUORUM_DELIVERY_LIMIT)).orElse(QueueConsumer.UNKNOWN_LIMIT);
    if (!pipeline && !hasDlx && deliveryLimit != QueueConsumer.NO_LIMIT && deliveryLimit != QueueConsumer.UNKNOWN_LIMIT) {
      LOG.warn("queue '{}' is a quorum queue with a delivery limit of {} and no dead-letter exchange: a message "
          + "that keeps failing is moved to '{}' before the broker would drop it", queue, deliveryLimit, dlq);
    }
    QueueConsumer.Settings<T> settings = new QueueConsumer.Settings<>(queue, codec, handler, asyncHandler,
        perChannel, channels, retry == null ? null : Retry.of("consumer-" + queue, retry), requeueDelay, maxBodySize,
        drainTimeout, listener, deduplicate, stopAfter, deliveryLimit,
        () -> toolkit.limitGuard(queue, dlq, perChannel * channels));
    FailurePolicy failures;
    if (pipeline) {
      Redelivery tiers = redelivery != null ? redelivery : Redelivery.none();
      toolkit.declare(auxiliaryQueues(dlq, tiers));
      failures = toolkit.deadLetterPipeline(queue, tiers, dlq, perChannel * channels);
    } else if (hasDlx) {
      failures = FailurePolicy.rejectToDeadLetterExchange();
    } else {
      failures = FailurePolicy.requeue();
    }
    return toolkit.startConsumer(settings, counters, failures);
  }

  private Topology auxiliaryQueues(String dlq, Redelivery tiers) {
    Topology.Builder aux = Topology.builder();
    for (Duration delay : tiers.delays()) {
      aux.queue(Queue.classic(Redelivery.delayQueueName(queue, delay))
          .withMessageTtl(delay)
          .withDeadLetterExchange("")
          .withDeadLetterRoutingKey(queue));
    }
    if (toolkit.declaredQueue(dlq).isEmpty()) {
      aux.queue(Queue.classic(dlq));
    }
    return aux.build();
  }
}
