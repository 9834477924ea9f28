package io.rabbitkit;

/**
 * Hears about the toolkit's connections. Every method has an empty default; override what you
 * need. Methods run on the toolkit's callback executor, never on a connection thread, and must
 * not block for long.
 *
 * <p>{@code connection} is the client-provided connection name, for example {@code
 * orders-service/publisher}.
 */
public interface ConnectionListener {

  /** The connection was lost (not closed by the application); automatic recovery starts. */
  default void connectionLost(String connection, String reason) {
  }

  /** Recovery has started. */
  default void recoveryStarted(String connection) {
  }

  /** The connection is back; topology re-declared, channels, consumers and unconfirmed publishes restored. */
  default void recovered(String connection) {
  }

  /** The broker blocked publishing on this connection (resource alarm: memory or disk). */
  default void blocked(String connection, String reason) {
  }

  /** The broker lifted the block. */
  default void unblocked(String connection) {
  }
}
