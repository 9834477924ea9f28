package io.rabbitkit;

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
}
