package io.rabbitkit;

import io.rabbitkit.deadletter.FailureHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a consumer does with a message its handler could not process. */
interface FailurePolicy {

  /** The handler failed (after in-process retries). */
  void failed(Inbound in, Throwable cause);

  /** The message can never be processed (undecodable, or rejected by the handler): never retried. */
  void poison(Inbound in, Throwable cause, String reason);

  default void close() {}

  /**
   * No dead-letter destination known: put the message back after a delay, so a failing message
   * cannot spin a CPU (it holds a prefetch slot while it waits). Never drops anything. On quorum
   * queues each requeue counts towards the delivery limit.
   */
  static FailurePolicy requeue() {
    Logger log = LoggerFactory.getLogger(FailurePolicy.class);
    return new FailurePolicy() {
      @Override
      public void failed(Inbound in, Throwable cause) {
        in.worker().requeueLater(in, cause);
      }

      @Override
      public void poison(Inbound in, Throwable cause, String reason) {
        log.error("{} cannot be processed ({}: {}) and the consumer has no dead-letter queue; it is requeued "
            + "with a delay. Configure deadLetterQueue(...) or a dead-letter exchange to move it aside.",
            in.describe(), reason, Names.printable(String.valueOf(cause.getMessage()), 300));
        in.worker().requeueLater(in, cause);
      }
    };
  }

  /** The queue has a dead-letter exchange: reject without requeue and let the broker move it. */
  static FailurePolicy rejectToDeadLetterExchange() {
    return new FailurePolicy() {
      @Override
      public void failed(Inbound in, Throwable cause) {
        in.worker().reject(in, cause, FailureHeaders.REASON_HANDLER_FAILED);
      }

      @Override
      public void poison(Inbound in, Throwable cause, String reason) {
        in.worker().reject(in, cause, reason);
      }
    };
  }
}
