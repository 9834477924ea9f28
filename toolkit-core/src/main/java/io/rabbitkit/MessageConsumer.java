package io.rabbitkit;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * A running consumer. Built and started by {@link Builder#build()}. Thread-safe.
 *
 * <p>Messages are acknowledged only after their handler succeeds (manual acks, bounded prefetch).
 * Handlers run at most {@code concurrency} at once, never on a connection's reader thread:
 * on amqp-client's dispatch thread for the channel when the consumer is idle (no hand-off), else on
 * the consumer's own pool (see the package documentation for every thread). After a connection
 * loss the consumer re-subscribes by itself once the connection is recovered; messages that were in progress are redelivered by the broker.
 */
public interface MessageConsumer extends AutoCloseable {

  /** Returns the queue this consumer reads. */
  String queue();

  /** Returns whether every channel of this consumer is subscribed (false while recovering, after a broker cancel, after close). */
  boolean isRunning();

  /** Returns the counters. */
  Stats stats();

  /**
   * Completes when this consumer stops receiving messages for good: after {@link
   * Builder#stopAfter}'s count, or after {@link #close()}. (A cancel by the broker is not
   * the end: the consumer subscribes again when the queue is back.)
   */
  CompletionStage<Void> stopped();

  /**
   * Stops gracefully: cancels the subscription, lets messages already delivered finish and be
   * acknowledged (bounded by the drain timeout), then closes the channels. Messages still in progress
   * after the timeout are returned to the queue by the broker. Idempotent.
   */
  @Override
  void close();

  /**
   * Configures and starts a {@link MessageConsumer}. Obtain one from {@link RabbitToolkit#consumerBuilder}.
   * Not thread-safe.
   *
   * <pre>{@code
   * MessageConsumer consumer = rabbit.consumerBuilder(OrderPlaced.class)
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
  interface Builder<T> {

    /** Default number of unacknowledged messages per channel. */
    int DEFAULT_PREFETCH = 50;
    /** Wait between in-process attempts with {@link #retry(int)}. */
    long DEFAULT_RETRY_WAIT_MILLIS = 50;
    /** Default wait before a failed message is requeued (when it is requeued). */
    Duration DEFAULT_REQUEUE_DELAY = Duration.ofSeconds(1);
    /** Default time {@link MessageConsumer#close()} lets in-flight messages finish. */
    Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** Default largest body accepted; larger ones are dead-lettered as too large. */
    int DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;
    /** Sets the queue to consume from (required). It must exist: declare it first. */
    Builder<T> queue(String queue);

    /** Sets the codec; the default is JSON (String and byte[] get their own codecs). */
    Builder<T> codec(MessageCodec<T> codec);

    /** Sets a blocking handler: a normal return acknowledges the message. */
    Builder<T> handler(Handler<T> handler);

    /** Sets a non-blocking handler: the message is acknowledged when the returned stage completes. */
    Builder<T> asyncHandler(AsyncHandler<T> handler);

    /** Unacknowledged messages the broker may send each channel (basic.qos). */
    Builder<T> prefetch(int prefetch);

    /** Number of channels, each handling one message at a time (blocking handlers). */
    Builder<T> concurrency(int concurrency);

    /**
     * In-process retry: attempts, backoff and which exceptions retry come from resilience4j's {@code
     * RetryConfig} (for example {@code RetryConfig.custom().maxAttempts(3).waitDuration(ofMillis(100))
     * .retryExceptions(IOException.class).build()}). {@link RejectMessageException} never retries.
     */
    Builder<T> retry(RetryConfig retry);

    /**
     * In-process retry with {@code maxAttempts} handler calls in all, {@value #DEFAULT_RETRY_WAIT_MILLIS}
     * ms apart. Short on purpose: a message waiting in process holds a prefetch slot (resilience4j's
     * own default of 500 ms holds it about a second for three attempts); longer waits belong in the
     * broker-side {@link #redelivery} tiers, which hold nothing.
     */
    Builder<T> retry(int maxAttempts);

    /** Broker-side delayed retry tiers; turns the dead-letter pipeline on. */
    Builder<T> redelivery(Redelivery redelivery);

    /**
     * Names the dead-letter queue (default {@code <queue>.dlq}) and turns the dead-letter pipeline
     * on. The toolkit declares it as a durable classic queue unless this toolkit already declared a
     * queue of that name.
     */
    Builder<T> deadLetterQueue(String deadLetterQueue);

    /**
     * Says the queue has a dead-letter exchange although it was not declared through this toolkit:
     * failed messages are then rejected without requeue, for the broker to dead-letter.
     */
    Builder<T> deadLetterExchangeOnQueue();

    /** Wait before a failed message is requeued, so that a failing message cannot spin a CPU. */
    Builder<T> requeueDelay(Duration delay);

    /** How long {@link MessageConsumer#close()} lets delivered messages finish before closing the channels. */
    Builder<T> drainTimeout(Duration drainTimeout);

    /** Bodies larger than this are not decoded: they are treated as undecodable (dead-lettered). */
    Builder<T> maxBodySize(int bytes);

    /**
     * Skips (acknowledges without handling) a message whose message id is among the last {@code
     * capacity} ids this consumer processed within the last hour: {@code
     * deduplicate(ProcessedMessages.inMemory(capacity, Duration.ofHours(1)))}. Off by default.
     */
    Builder<T> deduplicate(int capacity);

    /**
     * Makes the consumer idempotent: a message whose id {@code store} holds is acked without being
     * handled; a handled message's id is added to it before the ack. Messages without an id are
     * always handled. See {@link ProcessedMessages} for what each store guarantees.
     */
    Builder<T> deduplicate(ProcessedMessages store);

    /**
     * Cancels the subscription once {@code messages} messages have reached a final outcome
     * (processed, or dead-lettered); messages delivered meanwhile but not started are returned to the
     * queue untouched. With concurrency 1 exactly {@code messages} are handled. {@link
     * MessageConsumer#stopped()} completes then. For batch jobs, tools and examples.
     */
    Builder<T> stopAfter(long messages);

    /** Hears retries, dead letters, requeues and broker cancellations. */
    Builder<T> listener(Listener listener);

    /**
     * Declares what the failure handling needs (delay queues, dead-letter queue) and starts
     * consuming.
     *
     * @throws IllegalStateException if no queue or not exactly one handler is set
     * @throws TopologyException if the queue does not exist or a declaration is refused
     */
    MessageConsumer build();
  }

  /**
   * Builds a consumer of a stream: reads events in order from a start position, as a consumer name
   * whose position (the last event it finished) an {@link OffsetStore} keeps. Events are handled one
   * at a time, in order; a failure is retried in process, then the event is copied to the consumer's
   * dead-letter queue and the consumer moves on. A stream is never requeued or consumed away: every
   * consumer name reads every event.
   *
   * <pre>{@code
   * MessageConsumer reader = rabbit.streamConsumerBuilder(Event.class)
   *     .stream("events").name("billing").startAt(StreamOffset.first())
   *     .handler(delivery -> bill(delivery.body()))
   *     .build();
   * }</pre>
   *
   * @param <T> the event type
   */
  interface StreamBuilder<T> {

    /** The stream to read (a queue declared as {@link io.rabbitkit.topology.Queue#stream}). Required. */
    StreamBuilder<T> stream(String stream);

    /**
     * The consumer's name: its position is kept under it, and one process at a time may use it on a
     * stream (another process's attempt fails with {@link ToolkitException.StreamException}). Required.
     */
    StreamBuilder<T> name(String name);

    /** Where to start while the name has no stored offset; default {@link StreamOffset#next()}. */
    StreamBuilder<T> startAt(StreamOffset start);

    /** Where positions are kept; default a store in this toolkit's memory (kept across recoveries, not restarts). */
    StreamBuilder<T> offsets(OffsetStore store);

    StreamBuilder<T> codec(MessageCodec<T> codec);

    StreamBuilder<T> handler(Handler<T> handler);

    /** An asynchronous handler; the next event waits until its future completes. */
    StreamBuilder<T> asyncHandler(AsyncHandler<T> handler);

    /** Events the broker sends ahead of the handler (its credit); default 250. */
    StreamBuilder<T> prefetch(int prefetch);

    /** In-process retry before an event is dead-lettered, as {@link Builder#retry(RetryConfig)}. */
    StreamBuilder<T> retry(RetryConfig retry);

    /** {@code maxAttempts} handler calls 50 ms apart before an event is dead-lettered. */
    StreamBuilder<T> retry(int maxAttempts);

    /** The dead-letter queue for events that failed; default {@code <stream>.<name>.dlq}, declared if missing. */
    StreamBuilder<T> deadLetterQueue(String deadLetterQueue);

    /** How long {@code close()} lets the event in progress finish; default 30 s. */
    StreamBuilder<T> drainTimeout(Duration drainTimeout);

    /** Bodies over this many bytes are dead-lettered as too large; default 16 MiB. */
    StreamBuilder<T> maxBodySize(int bytes);

    /** Cancels the subscription once {@code events} events are finished; {@link #stopped()} completes then. */
    StreamBuilder<T> stopAfter(long events);

    StreamBuilder<T> listener(Listener listener);

    /**
     * Checks the stream and the start position, takes the name, declares the dead-letter queue if
     * missing and starts reading.
     *
     * @throws ToolkitException.StreamException if the stream is missing, is not a stream, the start
     *     offset is beyond its end, or another process reads it under this name
     */
    MessageConsumer build();
  }

  /**
   * Handles one delivered message. A normal return acknowledges it; an exception sends it through the
   * consumer's failure handling (in-process retry, delayed redelivery, dead-letter queue);
   * {@link RejectMessageException} dead-letters it at once. Handlers get no {@code ack()}: the
   * outcome decides.
   *
   * <p>Handlers run at most {@code concurrency} at once, never on a connection's reader thread:
   * on amqp-client's dispatch thread for the channel when the consumer is idle (no hand-off), else on
   * the consumer's own pool (see the package documentation for every thread).
   *
   * @param <T> the message type
   */
  @FunctionalInterface
  interface Handler<T> {

    /**
     * Handles {@code delivery}.
     *
     * @throws Exception to fail the delivery
     */
    void handle(Delivery<T> delivery) throws Exception;
  }

  /**
   * Handles one delivered message without holding a thread: the message is acknowledged when the
   * returned stage completes normally, and goes through the consumer's failure handling (retry,
   * redelivery, dead-letter queue) when it completes exceptionally or when this method throws.
   *
   * <pre>{@code
   * consumerBuilder(Order.class).queue("orders").asyncHandler(d -> inventory.reserve(d.body()))
   * }</pre>
   *
   * <p>Up to {@code prefetch} messages per channel may be in progress at once. The method itself
   * runs on a worker thread and should return quickly.
   *
   * @param <T> the message type
   */
  @FunctionalInterface
  interface AsyncHandler<T> {

    /**
     * Starts handling {@code delivery}.
     *
     * @return a stage whose completion decides the message's fate
     * @throws Exception to fail the delivery at once
     */
    CompletionStage<?> handle(Delivery<T> delivery) throws Exception;
  }

  /**
   * Hears what a consumer does with failing messages and when the broker stops it. Every method has
   * an empty default. Methods run on the toolkit's callback executor and must not block for long.
   */
  interface Listener {

    /**
     * The broker cancelled the consumer (its queue was deleted, for example). The consumer subscribes
     * again on its own, with back-off up to 10 s between attempts, until the queue is back ({@link
     * #resumed}) or the consumer is closed; meanwhile {@code isRunning()} is false and every failed
     * attempt is logged.
     */
    default void cancelledByBroker(String queue) {
    }

    /** The consumer of {@code queue} subscribed again after the broker cancelled it (the queue is back). */
    default void resumed(String queue) {
    }

    /** A failed message was moved to delay queue tier {@code attempt} and comes back after {@code delay}. */
    default void retryScheduled(String queue, String messageId, int attempt, Duration delay, Throwable cause) {
    }

    /** A message was moved to the dead-letter queue for {@code reason}. */
    default void deadLettered(String queue, String messageId, String reason, Throwable cause) {
    }

    /** A failed message was put back on its queue (no dead-letter destination, or moving it failed). */
    default void requeued(String queue, String messageId, Throwable cause) {
    }
  }

  /**
   * Counters of one consumer since it started. A snapshot; each field is exact but fields are read
   * one after another.
   *
   * @param received messages delivered to this consumer
   * @param processed messages handled successfully and acknowledged
   * @param retriedInProcess in-process retries (each extra handler call counts once)
   * @param delayed messages scheduled for a later round by the {@link Redelivery} (moved to a delay queue, or
   *     returned to their quorum queue to wait there)
   * @param deadLettered messages moved to the dead-letter queue (or rejected to the queue's dead-letter exchange)
   * @param requeued messages put back on their queue after a failure
   * @param duplicates messages skipped because their id was already processed (with deduplication on)
   */
  record Stats(long received, long processed, long retriedInProcess, long delayed, long deadLettered,
      long requeued, long duplicates) {
  }
}
