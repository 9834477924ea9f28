package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.Wording;
import java.time.Duration;

/**
 * A message was not confirmed by the broker: why ({@link #reason()}), and which message.
 *
 * <p>Publisher futures fail with one of the subclasses ({@link MessageNackedException}, {@link
 * MessageReturnedException}, {@link ConfirmTimeoutException}) or with this class itself when the
 * message could not be sent at all (in-flight window full, body too large, exchange missing, the
 * channel lost with re-sending turned off). {@link ToolkitException.ResourceClosedException} is used when the
 * publisher or toolkit was closed.
 */
public class PublishException extends ToolkitException {

  /**
   * Why a publish failed, in two families. {@link #aboutMessage()} is true where the broker or the
   * client answered about this very message (sending it again unchanged may well fail the same
   * way); false where the failure says nothing about the message (the connection was down, the
   * channel lost, the window full, the connection blocked, no confirm in time). The outbox relay
   * counts only the first family towards parking a row.
   */
  public enum Reason {
    /** The broker nacked it ({@link MessageNackedException}). */
    NACKED(true),
    /** Unroutable ({@link MessageReturnedException}). */
    RETURNED(true),
    /** The broker closed the channel over it ({@link MessageRefusedException}). */
    REFUSED(true),
    /** Its body is over a size limit ({@link MessageTooLargeException}). */
    TOO_LARGE(true),
    /** Its exchange does not exist or may not be written to. */
    EXCHANGE_REFUSED(true),
    /** It cannot be encoded or sent as it is (a property the protocol cannot carry). */
    INVALID(true),
    /** No confirm in time; the outcome is unknown ({@link ConfirmTimeoutException}). */
    TIMED_OUT(false),
    /** It never left the client: the connection was down, the window stayed full or blocked, or the wait was interrupted. */
    NOT_SENT(false),
    /** The channel was lost after it was sent and before its confirm, with re-sending off: the outcome is unknown. */
    LOST(false);

    private final boolean aboutMessage;

    Reason(boolean aboutMessage) {
      this.aboutMessage = aboutMessage;
    }

    /** Whether the failure is about this message rather than the connection or the client's state. */
    public boolean aboutMessage() {
      return aboutMessage;
    }
  }

  private final Reason reason;
  private final String messageId;
  private final String exchange;
  private final String routingKey;

  /** A failure of reason {@link Reason#INVALID}. */
  public PublishException(String message, String messageId, String exchange, String routingKey, Throwable cause) {
    this(Reason.INVALID, message, messageId, exchange, routingKey, cause);
  }

  public PublishException(Reason reason, String message, String messageId, String exchange, String routingKey,
      Throwable cause) {
    super(message, cause);
    this.reason = requireNonNull(reason, "reason");
    this.messageId = messageId;
    this.exchange = exchange;
    this.routingKey = routingKey;
  }

  /** Returns why the publish failed. */
  public Reason reason() {
    return reason;
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

  /**
   * No confirm arrived in time. When {@link #sent()} is true the outcome is <em>unknown</em>: the
   * broker may or may not have the message, and publishing again is safe only if consumers tolerate
   * duplicates (they see the same message id). When it is false the message never left the client
   * (the connection stayed down for the whole timeout): the broker does not have it.
   */
  public static final class ConfirmTimeoutException extends PublishException {

    private final boolean sent;

    public ConfirmTimeoutException(String messageId, String exchange, String routingKey, Duration timeout,
        boolean sent) {
      super(Reason.TIMED_OUT, "no confirm for message " + SafeText.of(messageId) + " published to "
          + Wording.target(exchange, routingKey) + " within " + timeout.toMillis() + " ms; "
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

  /**
   * The broker answered a publish with {@code basic.nack}: it did not take responsibility for the
   * message (for example a queue with {@code overflow=reject-publish} is full, or a quorum queue lost
   * its leader). Publishing again may succeed.
   */
  public static final class MessageNackedException extends PublishException {

    public MessageNackedException(String messageId, String exchange, String routingKey) {
      super(Reason.NACKED,
          "broker nacked message " + messageId + " published to " + Wording.target(exchange, routingKey),
          messageId, exchange, routingKey, null);
    }
  }

  /**
   * The broker returned a mandatory message because no queue was bound to receive it
   * ({@code basic.return}, usually {@code 312 NO_ROUTE}). The message was not stored anywhere.
   */
  public static final class MessageReturnedException extends PublishException {

    private final int replyCode;
    private final String replyText;

    public MessageReturnedException(String messageId, String exchange, String routingKey, int replyCode,
        String replyText) {
      super(Reason.RETURNED, "message " + messageId + " published to " + Wording.target(exchange, routingKey)
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

  /**
   * The broker refused this one message by closing the publishing channel (for example {@code 406
   * PRECONDITION_FAILED}: a property or header it does not accept, a body over its {@code
   * max_message_size}, a {@code user_id} that is not the connection's user). The message was not
   * stored. The toolkit found it by re-sending the unconfirmed messages one at a time; every other
   * message was sent again and confirmed on its own.
   */
  public static final class MessageRefusedException extends PublishException {

    private final int replyCode;
    private final String replyText;

    public MessageRefusedException(String messageId, String exchange, String routingKey, int replyCode,
        String replyText, Throwable cause) {
      super(Reason.REFUSED, "the broker refused message " + SafeText.of(messageId) + " published to "
          + Wording.target(exchange, routingKey) + ": " + replyCode + " " + SafeText.of(replyText, 300),
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

  /**
   * A message body is larger than a limit that applies to it: the publisher's {@code maxBodySize},
   * the broker's {@code max_message_size} when known, or an outbox's limit. The message was not sent
   * (or not written): nothing has it. {@link #size()} and {@link #limit()} give both numbers.
   */
  public static final class MessageTooLargeException extends PublishException {

    private final long size;
    private final long limit;

    public MessageTooLargeException(String messageId, String exchange, String routingKey, long size, long limit,
        String whoseLimit) {
      super(Reason.TOO_LARGE, "message " + SafeText.of(messageId) + " to " + Wording.target(exchange, routingKey)
          + " has a body of " + size + " bytes, which exceeds the limit of " + limit + " bytes (" + whoseLimit + ")",
          messageId, exchange, routingKey, null);
      this.size = size;
      this.limit = limit;
    }

    /** The body's size in bytes. */
    public long size() {
      return size;
    }

    /** The limit it is over, in bytes. */
    public long limit() {
      return limit;
    }
  }
}
