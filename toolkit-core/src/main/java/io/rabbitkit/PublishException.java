package io.rabbitkit;

/**
 * A message was not confirmed by the broker.
 *
 * <p>Publisher futures fail with one of the subclasses ({@link MessageNackedException}, {@link
 * MessageReturnedException}, {@link ConfirmTimeoutException}) or with this class itself when the
 * message could not be sent at all (in-flight window full, body too large, exchange missing, the
 * channel lost with re-sending turned off). {@link ResourceClosedException} is used when the
 * publisher or toolkit was closed.
 */
public class PublishException extends ToolkitException {

  private final String messageId;
  private final String exchange;
  private final String routingKey;

  public PublishException(String message, String messageId, String exchange, String routingKey, Throwable cause) {
    super(message, cause);
    this.messageId = messageId;
    this.exchange = exchange;
    this.routingKey = routingKey;
  }

  /** Returns the message id of the message that failed. */
  public String messageId() {
    return messageId;
  }

  /** Returns the exchange the message was published to ({@code ""} is the default exchange). */
  public String exchange() {
    return exchange;
  }

  /** Returns the routing key the message was published with. */
  public String routingKey() {
    return routingKey;
  }
}
