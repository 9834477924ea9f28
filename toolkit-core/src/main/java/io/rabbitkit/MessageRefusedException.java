package io.rabbitkit;

/**
 * The broker refused this one message by closing the publishing channel (for example {@code 406
 * PRECONDITION_FAILED}: a property or header it does not accept, a body over its {@code
 * max_message_size}, a {@code user_id} that is not the connection's user). The message was not
 * stored. The toolkit found it by re-sending the unconfirmed messages one at a time; every other
 * message was sent again and confirmed on its own.
 */
public final class MessageRefusedException extends PublishException {

  private final int replyCode;
  private final String replyText;

  public MessageRefusedException(String messageId, String exchange, String routingKey, int replyCode,
      String replyText, Throwable cause) {
    super("the broker refused message " + Names.printable(messageId) + " published to "
            + Names.describeTarget(exchange, routingKey) + ": " + replyCode + " " + Names.printable(replyText, 300),
        messageId, exchange, routingKey, cause);
    this.replyCode = replyCode;
    this.replyText = replyText;
  }

  /** Returns the AMQP reply code of the channel close, for example 406. */
  public int replyCode() {
    return replyCode;
  }

  /** Returns the broker's reason, for example {@code PRECONDITION_FAILED - invalid message: ...}. */
  public String replyText() {
    return replyText;
  }
}
