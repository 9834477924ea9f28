package io.rabbitkit;

/**
 * The broker returned a mandatory message because no queue was bound to receive it
 * ({@code basic.return}, usually {@code 312 NO_ROUTE}). The message was not stored anywhere.
 */
public final class MessageReturnedException extends PublishException {

  private final int replyCode;
  private final String replyText;

  public MessageReturnedException(String messageId, String exchange, String routingKey, int replyCode, String replyText) {
    super("message " + messageId + " published to " + Names.describeTarget(exchange, routingKey)
            + " was returned as unroutable: " + replyCode + " " + replyText,
        messageId, exchange, routingKey, null);
    this.replyCode = replyCode;
    this.replyText = replyText;
  }

  /** Returns the AMQP reply code of the return, usually 312 (NO_ROUTE). */
  public int replyCode() {
    return replyCode;
  }

  /** Returns the broker's reason text, for example {@code NO_ROUTE}. */
  public String replyText() {
    return replyText;
  }
}
