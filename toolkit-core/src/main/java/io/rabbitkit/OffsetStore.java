package io.rabbitkit;

import java.util.OptionalLong;

/**
 * Where a stream consumer keeps its position: the offset of the last event each consumer name
 * finished (handled, or copied to its dead-letter queue), per stream. AMQP 0-9-1 keeps no position
 * for stream consumers; the toolkit asks this store where to resume when a consumer starts and
 * after every connection recovery, and tells it each event it finished, in order.
 *
 * <p>{@link #inMemory()} keeps positions for the life of the process: a consumer resumes after a
 * connection recovery, not after a restart. toolkit-jdbc's {@code JdbcOffsetStore} keeps them in
 * PostgreSQL, in the same transaction as the handler's own writes if the handler wants.
 * Implementations must be thread-safe.
 */
public interface OffsetStore {

  /** The offset of the last event {@code consumer} finished on {@code stream}; empty if none. */
  OptionalLong lastDone(String stream, String consumer);

  /**
   * Records that {@code consumer} finished the event at {@code offset} on {@code stream}. Called in
   * offset order; a store may keep the highest offset it was told.
   */
  void done(String stream, String consumer, long offset);

  /** Positions kept in this process's memory, shared by every consumer given this store. */
  static OffsetStore inMemory() {
    return new InMemoryOffsetStore();
  }
}
