package io.rabbitkit;

/**
 * A message body could not be turned into the consumer's type: malformed content, a content type
 * the codec does not accept, or a body larger than the configured limit.
 *
 * <p>Consumers never retry such a message: it is dead-lettered (or rejected) at once, with this
 * exception's message as the reason.
 */
public final class MessageDecodingException extends ToolkitException {

  public MessageDecodingException(String message) {
    super(message);
  }

  public MessageDecodingException(String message, Throwable cause) {
    super(message, cause);
  }
}
