package io.rabbitkit;

import java.time.Duration;

/**
 * No confirm arrived in time. The outcome is <em>unknown</em>: the broker may or may not have the
 * message. Publishing again is safe only if consumers tolerate duplicates (they see the same
 * message id).
 */
public final class ConfirmTimeoutException extends PublishException {

  public ConfirmTimeoutException(String messageId, String exchange, String routingKey, Duration timeout) {
    super("no confirm for message " + messageId + " published to " + Names.describeTarget(exchange, routingKey)
            + " within " + timeout.toMillis() + " ms; the outcome is unknown",
        messageId, exchange, routingKey, null);
  }
}
