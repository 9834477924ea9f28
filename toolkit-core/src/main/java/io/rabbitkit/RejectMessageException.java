package io.rabbitkit;

/**
 * Thrown by a message handler to say "this message can never be processed": it goes straight to
 * the dead-letter queue (or is rejected without requeue), skipping every retry.
 *
 * <pre>{@code
 * if (order.amount() < 0) throw new RejectMessageException("negative amount");
 * }</pre>
 */
public class RejectMessageException extends ToolkitException {

  public RejectMessageException(String reason) {
    super(reason);
  }

  public RejectMessageException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
