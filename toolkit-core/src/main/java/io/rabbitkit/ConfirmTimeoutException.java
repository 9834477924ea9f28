package io.rabbitkit;

import java.time.Duration;

/**
 * No confirm arrived in time. When {@link #sent()} is true the outcome is <em>unknown</em>: the
 * broker may or may not have the message, and publishing again is safe only if consumers tolerate
 * duplicates (they see the same message id). When it is false the message never left the client
 * (the connection stayed down for the whole timeout): the broker does not have it.
 */
public final class ConfirmTimeoutException extends PublishException {

  private final boolean sent;

  public ConfirmTimeoutException(String messageId, String exchange, String routingKey, Duration timeout, boolean sent) {
    super("no confirm for message " + Names.printable(messageId) + " published to "
            + Names.describeTarget(exchange, routingKey) + " within " + timeout.toMillis() + " ms; "
            + (sent ? "it was sent, so the outcome is unknown"
                : "it was never sent (no open channel in that time), so the broker does not have it"),
        messageId, exchange, routingKey, null);
    this.sent = sent;
  }

  /** Returns whether the message was written to a channel at least once (false: the broker cannot have it). */
  public boolean sent() {
    return sent;
  }
}
