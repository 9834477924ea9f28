package io.rabbitkit.stream;

import io.rabbitkit.Confirmation;
import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Publishes typed events to a super stream, each to the partition its key routes to: by the
 * broker's hash of the key (MurmurHash3, as every stream client computes it, so producers in any
 * language agree), or by the key as a binding key. Events of one key land in one partition in the
 * order they were published.
 *
 * <p>A producer with a {@linkplain Builder#name name} is de-duplicated by the broker: each event
 * carries a publishing id, and an event whose id is not above the last one the broker stored for
 * that name in that partition is confirmed and dropped. Give events an id that does not change when
 * they are sent again and that only grows in the order they are sent ({@link Builder#publishingId}:
 * a position in a file or log the producer sends from), and a producer that crashes and sends again
 * stores nothing twice. An id that can be sent after a larger one (an outbox row retried after a
 * newer row went out) would be dropped for good: the outbox relay therefore publishes unnamed, see
 * {@link RabbitStreams#messagePublisher}.
 *
 * @param <T> the event type
 */
public interface PartitionedPublisher<T> extends AutoCloseable {

  /**
   * Publishes {@code event}; the future completes on the broker's confirm, or fails with a {@link
   * io.rabbitkit.PublishException} (the key function returned null, the event is too large for a
   * frame, the broker refused or did not confirm it in time).
   */
  CompletableFuture<Confirmation> publish(T event);

  /**
   * Publishes {@code event} and tells {@code outcome} once: with the confirmation, or with the
   * failure {@link #publish(Object)}'s future would carry. Costs less than a future per event (the
   * hand-off to a future's dependents, about 0.2 us each): for producers that send hundreds of
   * thousands of events a second and only count or log the outcomes. {@code outcome} runs on the
   * stream connection's thread (or the caller's, for a failure found before sending) and must not
   * block: a slow outcome holds up every confirm of the connection.
   */
  void publish(T event, Outcome outcome);

  /** What {@link #publish(Object, Outcome)} tells. */
  @FunctionalInterface
  interface Outcome {
    /** Exactly one of the two is non-null. */
    void completed(Confirmation confirmation, io.rabbitkit.PublishException failure);
  }

  /** Waits up to the confirm timeout for outstanding confirms, then closes. */
  @Override
  void close();

  /** How to build a producer. */
  interface Builder<T> {

    /** The super stream to publish to, routed by a hash of the key. Required (this or the next). */
    Builder<T> superStream(String name);

    /** The super stream to publish to, routed as declared: by the key as a binding key, or by its hash. */
    Builder<T> superStream(SuperStream superStream);

    /** The key of an event: its partition, and the order it keeps with events of the same key. Required. */
    Builder<T> key(Function<? super T, String> key);

    /**
     * The producer's name, for de-duplication: one process at a time should publish under a name,
     * and a restart should use the same one.
     */
    Builder<T> name(String name);

    /**
     * The publishing id of an event (named producers only): increasing, and the same when the event
     * is sent again. Default: a counter the producer resumes from the broker's last stored id, which
     * de-duplicates re-sends by the client after a connection loss but not an application's re-send.
     */
    Builder<T> publishingId(ToLongFunction<? super T> id);

    /** The message id of an event; default none. */
    Builder<T> messageId(Function<? super T, String> id);

    Builder<T> codec(MessageCodec<T> codec);

    /** Events sent and not yet confirmed at most (publishing blocks beyond); default 10,000. */
    Builder<T> maxInFlight(int events);

    /** How long an event may wait for its confirm; default 30 s. */
    Builder<T> confirmTimeout(Duration timeout);

    PartitionedPublisher<T> build();
  }
}
