package io.rabbitkit.impl;

import io.rabbitkit.SafeText;
import io.rabbitkit.deadletter.FailureHeaders;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what becomes of a message its handler could not process. A policy never settles the
 * message itself: it returns the decision, which the consumer carries out.
 */
interface FailurePolicy {

  /** The handler failed (after in-process retries). */
  CompletionStage<Settlement> failed(Inbound in, Throwable cause);

  /** The message can never be processed (undecodable, or rejected by the handler): never retried. */
  CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason);

  default void close() {
  }

  /**
   * No dead-letter destination known: put the message back after a delay, so a failing message
   * cannot spin a CPU (it holds a prefetch slot while it waits). Never drops anything; the consumer
   * moves it aside before a quorum queue's delivery limit would make the broker drop it.
   */
  static FailurePolicy requeue() {
    Logger log = LoggerFactory.getLogger(FailurePolicy.class);
    return new FailurePolicy() {
      @Override
      public CompletionStage<Settlement> failed(Inbound in, Throwable cause) {
        return CompletableFuture.completedFuture(new Settlement.Requeued(cause));
      }

      @Override
      public CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason) {
        log.error("{} cannot be processed ({}: {}) and the consumer has no dead-letter queue; it is requeued "
            + "with a delay. Configure deadLetterQueue(...) or a dead-letter exchange to move it aside.",
            in.describe(), reason, SafeText.of(String.valueOf(cause.getMessage()), 300));
        return CompletableFuture.completedFuture(new Settlement.Requeued(cause));
      }
    };
  }

  /** The queue has a dead-letter exchange: reject without requeue and let the broker move it. */
  static FailurePolicy rejectToDeadLetterExchange() {
    return new FailurePolicy() {
      @Override
      public CompletionStage<Settlement> failed(Inbound in, Throwable cause) {
        return poison(in, cause, FailureHeaders.REASON_HANDLER_FAILED);
      }

      @Override
      public CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason) {
        return CompletableFuture
            .completedFuture(new Settlement.DeadLettered(reason, null, in.failedRounds() + 1, cause));
      }
    };
  }
}
