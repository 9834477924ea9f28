package io.rabbitkit.impl;

import io.rabbitkit.deadletter.FailureHeaders;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A quorum queue drops a message silently once its delivery count passes the queue's limit (20 by
 * default on RabbitMQ 4.x) unless it has a dead-letter exchange: this guard turns the requeue that
 * would take a message there into a move to the dead-letter queue. The move's policy (a sender,
 * the dead-letter queue declared) is made on first use. Thread-safe.
 */
final class DeliveryLimitGuard implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);

  /** The queue drops nothing (classic, stream, or it has a dead-letter exchange). */
  static final int NO_LIMIT = Integer.MAX_VALUE;
  /** Not declared through this toolkit: a quorum queue is recognised by its deliveries' {@code x-delivery-count}. */
  static final int UNKNOWN_LIMIT = -1;
  /** The delivery limit RabbitMQ 4 gives every quorum queue that sets none. */
  static final int DEFAULT_QUORUM_DELIVERY_LIMIT = 20;

  private final int limit;
  private final Supplier<FailurePolicy> mover;
  private final MessageWarnings warnings;
  private FailurePolicy policy; // guarded by this

  /**
   * @param limit how many requeues the queue allows before the broker drops a message ({@link
   *     #NO_LIMIT}, {@link #UNKNOWN_LIMIT} or a number)
   * @param mover makes the policy that moves a message to the dead-letter queue
   */
  DeliveryLimitGuard(int limit, Supplier<FailurePolicy> mover, MessageWarnings warnings) {
    this.limit = limit;
    this.mover = mover;
    this.warnings = warnings;
  }

  /** {@code s}, unless it requeues {@code in} into the broker's drop: then the move to the dead-letter queue. */
  CompletionStage<Settlement> apply(Inbound in, Settlement s) {
    if (!(s instanceof Settlement.Requeued r)) {
      return CompletableFuture.completedFuture(s);
    }
    if (in.limitGuardTried) {
      LOG.error("{}: moving it aside failed; requeueing it although the queue's delivery limit may make the broker "
          + "drop it", in.describe());
      return CompletableFuture.completedFuture(s);
    }
    if (!lastRequeueBeforeTheLimit(in)) {
      return CompletableFuture.completedFuture(s);
    }
    in.limitGuardTried = true;
    warnings.warn("{} failed {} time(s) on a queue with a delivery limit; moving it to the dead-letter queue rather "
        + "than let the broker drop it", in.describe(), Headers.integer(in.headers(), "x-delivery-count", 0) + 1);
    return policy().poison(in, r.cause(), FailureHeaders.REASON_DELIVERY_LIMIT)
        .handle((moved, e) -> moved != null ? moved : (Settlement) new Settlement.Requeued(e))
        .thenCompose(moved -> apply(in, moved));
  }

  /** Whether requeueing {@code in} once more would take it past the queue's delivery limit. */
  boolean lastRequeueBeforeTheLimit(Inbound in) {
    int effective = limit;
    if (effective == UNKNOWN_LIMIT && in.headers().get("x-delivery-count") != null) {
      effective = DEFAULT_QUORUM_DELIVERY_LIMIT; // only quorum queues count deliveries; its limit may be RabbitMQ 4's
    }
    return effective != UNKNOWN_LIMIT && effective != NO_LIMIT
        && Headers.integer(in.headers(), "x-delivery-count", 0) >= effective;
  }

  private synchronized FailurePolicy policy() {
    if (policy == null) {
      policy = mover.get();
    }
    return policy;
  }

  @Override
  public synchronized void close() {
    if (policy != null) {
      policy.close();
    }
  }
}
