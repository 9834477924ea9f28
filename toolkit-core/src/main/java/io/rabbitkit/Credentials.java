package io.rabbitkit;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the user name and password come from, asked at every connection and recovery attempt
 * instead of a fixed {@link RabbitToolkit.Builder#password}: for OAuth 2 tokens that expire, or
 * secrets rotated while the application runs. The toolkit never prints what it returns.
 * Implementations must be thread-safe.
 *
 * <pre>{@code
 * RabbitToolkit.builder().uri("amqps://broker").credentials(new Credentials() {
 *   public String username() { return "svc-orders"; }
 *   public String password() { return tokens.current(); }
 * }).connect();
 * }</pre>
 *
 * @see <a href="https://www.rabbitmq.com/docs/oauth2">RabbitMQ OAuth 2.0</a>
 */
public interface Credentials {

  /** The user name to authenticate as. */
  String username();

  /** The password, or the current token. */
  String password();

  /** How long the current password stays valid; empty if it does not expire. */
  default Optional<Duration> expiresIn() {
    return Optional.empty();
  }

  /** Obtains a fresh password (a new token); called when the current one is about to expire. */
  default void refresh() {
  }

  /** Fixed credentials. */
  static Credentials of(String username, String password) {
    java.util.Objects.requireNonNull(username, "username");
    java.util.Objects.requireNonNull(password, "password");
    return new Credentials() {
      @Override
      public String username() {
        return username;
      }

      @Override
      public String password() {
        return password;
      }

      @Override
      public String toString() {
        return "Credentials[username=" + username + ", password=****]";
      }
    };
  }
}
