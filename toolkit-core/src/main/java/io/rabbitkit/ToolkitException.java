package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * Root of every exception the toolkit throws or completes a future with.
 *
 * <p>All toolkit exceptions are unchecked. amqp-client's {@code IOException}s and
 * {@code TimeoutException}s never escape: they are converted at one boundary and kept as the
 * cause. Subclasses carry the routing facts (queue, exchange, message id) that explain what
 * failed.
 */
public class ToolkitException extends RuntimeException {

  public ToolkitException(String message) {
    super(message);
  }

  public ToolkitException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * An I/O operation with the broker failed or timed out (a socket error, a channel operation
   * without a reply in time, an interrupted wait). The cause is amqp-client's exception.
   */
  public static final class TransportException extends ToolkitException {

    public TransportException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The toolkit could not connect to the broker, or lost a connection it needed.
   *
   * <p>{@link #reason()} says what went wrong, so callers (and health checks) can tell a wrong host
   * from wrong credentials without parsing messages. The message names the addresses, user and
   * virtual host that were tried; it never contains the password.
   */
  public static final class ConnectionException extends ToolkitException {

    /** Why a connection attempt failed. */
    public enum Reason {
      /** The host name could not be resolved. */
      UNKNOWN_HOST,
      /** Nothing listens on the port, or the host refused the TCP connection. */
      CONNECTION_REFUSED,
      /** No answer within the connection timeout (host down, firewall, wrong port). */
      TIMEOUT,
      /** The broker refused the user name or password. */
      AUTHENTICATION_FAILED,
      /** The virtual host does not exist, or the user may not access it. */
      VIRTUAL_HOST,
      /** The TLS handshake failed (untrusted certificate, hostname mismatch, plain port). */
      TLS,
      /** Something answers on the port, but not an AMQP 0-9-1 broker (another service, an AMQP 1.0 port). */
      NOT_AMQP,
      /** The connection is closed or was lost. */
      CLOSED,
      /** Any other I/O failure. */
      IO
    }

    private final Reason reason;

    public ConnectionException(Reason reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = requireNonNull(reason, "reason");
    }

    /** Returns why the connection failed. */
    public Reason reason() {
      return reason;
    }
  }

  /**
   * The broker refused a declaration, deletion or other topology operation.
   *
   * <p>Typical cause: {@code PRECONDITION_FAILED} because an exchange or queue already exists with
   * different arguments. {@link #entity()} names the exchange, queue or binding and {@link
   * #argument()} the argument at fault when the broker said which. The toolkit stays usable after
   * this exception: the channel the broker closed is replaced.
   */
  public static final class TopologyException extends ToolkitException {

    private final String entity;
    private final String argument;
    private final int replyCode;

    public TopologyException(String entity, String argument, int replyCode, String message, Throwable cause) {
      super(message, cause);
      this.entity = entity;
      this.argument = argument;
      this.replyCode = replyCode;
    }

    /** Returns the entity the operation was about, for example {@code queue 'orders'}. */
    public String entity() {
      return entity;
    }

    /** Returns the argument the broker complained about, for example {@code x-max-length}. */
    public Optional<String> argument() {
      return Optional.ofNullable(argument);
    }

    /** Returns the AMQP reply code, for example 406 (precondition failed) or 404 (not found); 0 if none. */
    public int replyCode() {
      return replyCode;
    }
  }

  /**
   * The publisher, consumer, RPC client or toolkit was closed before the operation could finish,
   * or an operation was attempted on a closed one.
   */
  public static final class ResourceClosedException extends ToolkitException {

    private final String resource;

    /**
     * @param resource what was closed, as it names itself (for example {@code publisher to exchange 'orders'})
     * @param what what that means for the caller (for example {@code is closed})
     */
    public ResourceClosedException(String resource, String what) {
      super(resource + " " + what);
      this.resource = resource;
    }

    /** The closed resource, as it names itself: a publisher, an RPC client, a channel, the toolkit. */
    public String resource() {
      return resource;
    }
  }

  /**
   * A message was not confirmed by the broker.
   *
   * <p>Publisher futures fail with one of the subclasses ({@link MessageNackedException}, {@link
   * MessageReturnedException}, {@link ConfirmTimeoutException}) or with this class itself when the
   * message could not be sent at all (in-flight window full, body too large, exchange missing, the
   * channel lost with re-sending turned off). {@link ResourceClosedException} is used when the
   * publisher or toolkit was closed.
   */
  public static class PublishException extends ToolkitException {

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
          + describeTarget(exchange, routingKey) + " within " + timeout.toMillis() + " ms; "
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
          "broker nacked message " + messageId + " published to " + describeTarget(exchange, routingKey),
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
      super(Reason.RETURNED, "message " + messageId + " published to " + describeTarget(exchange, routingKey)
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
          + describeTarget(exchange, routingKey) + ": " + replyCode + " " + SafeText.of(replyText, 300),
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
      super(Reason.TOO_LARGE, "message " + SafeText.of(messageId) + " to " + describeTarget(exchange, routingKey)
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

  /**
   * A message body could not be turned into the consumer's type: malformed content, a content type
   * the codec does not accept, or a body larger than the configured limit.
   *
   * <p>Consumers never retry such a message: it is dead-lettered (or rejected) at once, with this
   * exception's message as the reason.
   */
  public static final class MessageDecodingException extends ToolkitException {

    private final String queue;
    private final String messageId;
    private final String contentType;

    public MessageDecodingException(String message) {
      this(message, null);
    }

    public MessageDecodingException(String message, Throwable cause) {
      this(message, cause, null, null, null);
    }

    private MessageDecodingException(String message, Throwable cause, String queue, String messageId,
        String contentType) {
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
      MessageDecodingException e =
          new MessageDecodingException(getMessage(), getCause(), queue, messageId, contentType);
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

  /**
   * Thrown by a message handler to say "this message can never be processed": it goes straight to
   * the dead-letter queue (or is rejected without requeue), skipping every retry.
   *
   * <pre>{@code
   * if (order.amount() < 0) throw new RejectMessageException("negative amount");
   * }</pre>
   */
  public static class RejectMessageException extends ToolkitException {

    public RejectMessageException(String reason) {
      super(reason);
    }

    public RejectMessageException(String reason, Throwable cause) {
      super(reason, cause);
    }
  }

  /** No reply arrived for an RPC call within its timeout. The server may still process the request. */
  public static final class RpcTimeoutException extends ToolkitException {

    private final String correlationId;
    private final String routingKey;
    private final Duration timeout;

    public RpcTimeoutException(String correlationId, String routingKey, Duration timeout) {
      super("no reply to request " + correlationId + " sent to '" + routingKey + "' within " + timeout.toMillis()
          + " ms");
      this.correlationId = correlationId;
      this.routingKey = routingKey;
      this.timeout = timeout;
    }

    /** The request's correlation id. */
    public String correlationId() {
      return correlationId;
    }

    /** Where the request was sent. */
    public String routingKey() {
      return routingKey;
    }

    /** How long the caller waited. */
    public Duration timeout() {
      return timeout;
    }
  }

  /**
   * The RPC server's handler failed; the server sent the failure back instead of a reply.
   * {@link #remoteType()} is the class name of the server-side exception.
   */
  public static final class RpcRemoteException extends ToolkitException {

    private final String remoteType;

    public RpcRemoteException(String remoteType, String message) {
      super(remoteType + ": " + message);
      this.remoteType = remoteType;
    }

    /** Returns the class name of the exception the server handler threw. */
    public String remoteType() {
      return remoteType;
    }
  }

  /** "exchange 'orders' with routing key 'order.placed'" or "the default exchange to queue 'hello'". */
  static String describeTarget(String exchange, String routingKey) {
    if (exchange == null || exchange.isEmpty()) {
      return "the default exchange to queue '" + routingKey + "'";
    }
    return "exchange '" + exchange + "' with routing key '" + routingKey + "'";
  }
}
