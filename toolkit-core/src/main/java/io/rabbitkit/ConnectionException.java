package io.rabbitkit;

import static java.util.Objects.requireNonNull;

/**
 * The toolkit could not connect to the broker, or lost a connection it needed.
 *
 * <p>{@link #reason()} says what went wrong, so callers (and health checks) can tell a wrong host
 * from wrong credentials without parsing messages. The message names the addresses, user and
 * virtual host that were tried; it never contains the password.
 */
public final class ConnectionException extends ToolkitException {

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
