package io.rabbitkit.stream;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.codec.MessageCodec;
import java.util.Set;

/**
 * One member of a consumer group reading a super stream. The broker keeps one active consumer per
 * partition among the group's members (single active consumer) and hands partitions over when a
 * member joins, leaves or dies, so each partition, and each key, is read in order by one process at
 * a time. A member reads its partitions' events one at a time each, resuming a partition after the
 * last event the group finished there: positions are kept on the broker (stream protocol offset
 * tracking) or in an {@link OffsetStore} (toolkit-jdbc's {@code JdbcOffsetStore}, with effects in
 * the handler's transaction: exactly once).
 *
 * <p>Failures follow the toolkit's model: retried in process, then the event is copied to the
 * group's dead-letter queue (over AMQP, with the usual failure headers) and the partition moves on.
 * Interceptors of {@link RabbitStreams} see every event (metrics, tracing). {@link #stats()},
 * {@link #activePartitions()} and the {@link Listener} show what the member does.
 */
public interface ConsumerGroup extends MessageConsumer {

  /** The partitions this member is the active consumer of now. */
  Set<String> activePartitions();

  /** Hears partition assignment changes; runs on the stream client's threads and must be quick. */
  interface Listener {
    /** This member became the active consumer of {@code partition}. */
    default void activated(String partition) {
    }

    /** This member stopped being the active consumer of {@code partition} (another took over). */
    default void deactivated(String partition) {
    }
  }

  /** How to build a group member. */
  interface Builder<T> {

    /** The super stream to read. Required. */
    Builder<T> superStream(String name);

    /** The group's name: members with the same name share the partitions. Required. */
    Builder<T> group(String name);

    /**
     * Where positions are kept (per partition, under the group's name); default the broker, which
     * stores a partition's position every 1,000 events and when the partition moves to another member
     * (a member that dies reads up to 1,000 events per partition again).
     */
    Builder<T> offsets(OffsetStore store);

    Builder<T> handler(MessageConsumer.Handler<T> handler);

    /** In-process retry before an event is dead-lettered. */
    Builder<T> retry(RetryConfig retry);

    /** {@code maxAttempts} handler calls 50 ms apart before an event is dead-lettered. */
    Builder<T> retry(int maxAttempts);

    /**
     * Where failed events are copied: {@code queue} (declared if missing) through {@code rabbit}'s
     * AMQP connection. Default queue {@code <super stream>.<group>.dlq}. Required: a failed event is
     * never dropped silently.
     */
    Builder<T> deadLetters(RabbitToolkit rabbit, String queue);

    /** As {@link #deadLetters(RabbitToolkit, String)} with the default queue. */
    Builder<T> deadLetters(RabbitToolkit rabbit);

    Builder<T> codec(MessageCodec<T> codec);

    Builder<T> listener(Listener listener);

    /** Events sent ahead per partition (the stream protocol's credit, in chunks); default 10 chunks. */
    Builder<T> prefetchChunks(int chunks);

    /** Stops after {@code events} events are finished; {@link #stopped()} completes then. */
    Builder<T> stopAfter(long events);

    ConsumerGroup build();
  }
}
