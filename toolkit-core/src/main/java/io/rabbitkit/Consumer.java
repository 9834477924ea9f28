package io.rabbitkit;

import java.util.concurrent.CompletionStage;

/**
 * A running consumer. Built and started by {@link ConsumerBuilder#build()}. Thread-safe.
 *
 * <p>Messages are acknowledged only after their handler succeeds (manual acks, bounded prefetch).
 * Handlers run at most {@code concurrency} at once, never on a connection's reader thread:
 * on amqp-client's dispatch thread for the channel when the consumer is idle (no hand-off), else on
 * the consumer's own pool (see the package documentation for every thread). After a connection
 * loss the consumer re-subscribes by itself once the connection is recovered; messages that were in progress are redelivered by the broker.
 */
public interface Consumer extends AutoCloseable {

  /** Returns the queue this consumer reads. */
  String queue();

  /** Returns whether every channel of this consumer is subscribed (false while recovering, after a broker cancel, after close). */
  boolean isRunning();

  /** Returns the counters. */
  ConsumerStats stats();

  /**
   * Completes when this consumer stops receiving messages for good: after {@link
   * ConsumerBuilder#stopAfter}'s count, or after {@link #close()}. (A cancel by the broker is not
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
}
