package io.rabbitkit;

/**
 * A message body could not be turned into the consumer's type: malformed content, a content type
 * the codec does not accept, or a body larger than the configured limit.
 *
 * <p>Consumers never retry such a message: it is dead-lettered (or rejected) at once, with this
 * exception's message as the reason.
 */
public final class MessageDecodingException extends ToolkitException {

  private final String queue;
  private final String messageId;
  private final String contentType;

  public MessageDecodingException(String message) {
    this(message, null);
  }

  public MessageDecodingException(String message, Throwable cause) {
    this(message, cause, null, null, null);
  }

  private MessageDecodingException(String message, Throwable cause, String queue, String messageId, String contentType) {
    super(message, cause);
    this.queue = queue;
    this.messageId = messageId;
    this.contentType = contentType;
  }

  /**
   * The same failure with the facts of the delivery it happened to (consumers attach them before
   * the exception reaches a listener, an interceptor or the dead-letter headers).
   */
  public MessageDecodingException at(String queue, String messageId, String contentType) {
    MessageDecodingException e = new MessageDecodingException(getMessage(), getCause(), queue, messageId, contentType);
    e.setStackTrace(getStackTrace());
    return e;
  }

  /** Why the body could not be decoded (the message without the delivery's facts). */
  public String reason() {
    return getMessage();
  }

  /** The queue the message came from, when it was consumed. */
  public java.util.Optional<String> queue() {
    return java.util.Optional.ofNullable(queue);
  }

  /** The message's id, when it had one. */
  public java.util.Optional<String> messageId() {
    return java.util.Optional.ofNullable(messageId);
  }

  /** The message's content type, when it had one. */
  public java.util.Optional<String> contentType() {
    return java.util.Optional.ofNullable(contentType);
  }
}
