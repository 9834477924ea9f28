package io.rabbitkit;

import java.time.Duration;

/**
 * Remembers which message ids a consumer has processed, so that an idempotent consumer ({@link
 * MessageConsumer.Builder#deduplicate(ProcessedMessages)}) acks a duplicate without handling it again.
 * At-least-once delivery makes duplicates: a re-send after a connection loss, a redelivery after a
 * crash or a lost ack.
 *
 * <p>The in-memory store catches duplicates that reach the same process within its window. To
 * deduplicate across processes and restarts, back it with a database table keyed by message id.
 * Implementations must be thread-safe. If {@code contains} or {@code add} throws, the message is
 * treated as failed (retried or requeued), never as processed.
 *
 * <p>The check and the record are separate steps: with concurrency above 1, two copies of one
 * message delivered at the same moment can both be handled. A store that records the id in the
 * same database transaction as the handler's own writes closes that gap.
 */
public interface ProcessedMessages {

  /** Returns whether {@code messageId} was recorded as processed. */
  boolean contains(String messageId);

  /** Records {@code messageId} as processed; called after the handler succeeded and before the ack. */
  void add(String messageId);

  /**
   * A store in memory: at most {@code capacity} ids (the least recently seen goes first), each
   * forgotten {@code window} after it was recorded.
   */
  static ProcessedMessages inMemory(int capacity, Duration window) {
    return new InMemoryProcessedMessages(capacity, window);
  }
}
