package io.rabbitkit;

import java.time.Duration;

/**
 * Hears what a consumer does with failing messages and when the broker stops it. Every method has
 * an empty default. Methods run on the toolkit's callback executor and must not block for long.
 */
public interface ConsumerListener {

  /**
   * The broker cancelled the consumer (its queue was deleted, for example). The consumer subscribes
   * again on its own, with back-off up to 10 s between attempts, until the queue is back ({@link
   * #resumed}) or the consumer is closed; meanwhile {@code isRunning()} is false and every failed
   * attempt is logged.
   */
  default void cancelledByBroker(String queue) {}

  /** The consumer of {@code queue} subscribed again after the broker cancelled it (the queue is back). */
  default void resumed(String queue) {}

  /** A failed message was moved to delay queue tier {@code attempt} and comes back after {@code delay}. */
  default void retryScheduled(String queue, String messageId, int attempt, Duration delay, Throwable cause) {}

  /** A message was moved to the dead-letter queue for {@code reason}. */
  default void deadLettered(String queue, String messageId, String reason, Throwable cause) {}

  /** A failed message was put back on its queue (no dead-letter destination, or moving it failed). */
  default void requeued(String queue, String messageId, Throwable cause) {}
}
