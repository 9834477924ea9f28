package io.rabbitkit.impl;

import java.time.Duration;

/**
 * What becomes of one delivery. A {@link FailurePolicy} decides it for a failed message; only the
 * consumer carries it out, counts it and tells listeners and interceptors, in one place.
 */
interface Settlement {

  /** Handled: ack it. */
  Settlement ACKED = new Settlement() {
  };
  /** Already processed (its id is in the store): ack it without handling. */
  Settlement DUPLICATE = new Settlement() {
  };

  /**
   * Re-published to the delay queue {@code via} and confirmed: ack the original. With {@code via}
   * null the work queue delays it itself (RabbitMQ 4.3+): reject it with requeue.
   */
  record Delayed(int round, Duration delay, String via, Throwable cause) implements Settlement {
  }

  /**
   * Moved to a dead-letter queue ({@code to}, re-published and confirmed: ack the original), or, with
   * {@code to} null, rejected without requeue so that the queue's dead-letter exchange takes it.
   */
  record DeadLettered(String reason, String to, int attempts, Throwable cause) implements Settlement {
  }

  /** Put back on the queue after the requeue delay. */
  record Requeued(Throwable cause) implements Settlement {
  }
}
