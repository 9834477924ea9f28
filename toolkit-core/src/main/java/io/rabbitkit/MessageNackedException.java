package io.rabbitkit;

/**
 * The broker answered a publish with {@code basic.nack}: it did not take responsibility for the
 * message (for example a queue with {@code overflow=reject-publish} is full, or a quorum queue lost
 * its leader). Publishing again may succeed.
 */
public final class MessageNackedException extends PublishException {

  public MessageNackedException(String messageId, String exchange, String routingKey) {
    super("broker nacked message " + messageId + " published to " + Names.describeTarget(exchange, routingKey),
        messageId, exchange, routingKey, null);
  }
}
