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
   * A stream consumer cannot read as asked; {@link #reason()} says why, and the message names the
   * stream and the consumer.
   */
  public static final class StreamException extends ToolkitException {

    /** Why a stream consumer cannot read. */
    public enum Reason {
      /** No queue of that name exists. */
      NO_SUCH_STREAM,
      /** The queue exists but is a classic or quorum queue, not a stream. */
      NOT_A_STREAM,
      /** The start offset (given, or after the stored one) is beyond the stream's end. */
      OFFSET_BEYOND_END,
      /** Another process (another connection) reads the stream under this consumer name. */
      NAME_IN_USE
    }

    private final Reason reason;

    public StreamException(Reason reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = requireNonNull(reason, "reason");
    }

    /** Returns why the consumer cannot read. */
    public Reason reason() {
      return reason;
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
}
