package io.rabbitkit.spring;

import java.util.List;
import org.springframework.boot.autoconfigure.service.connection.ConnectionDetails;
import org.springframework.boot.ssl.SslBundle;

/**
 * Where the toolkit connects: from {@code rabbitkit.*} (with the {@code spring.rabbitmq.*}
 * fallback) unless a service connection supplies it, for example a Testcontainers {@code
 * RabbitMQContainer} annotated {@code @ServiceConnection} or a {@code rabbitmq} service of Docker
 * Compose. Parts that are null keep what the URI or the toolkit's defaults say.
 */
public interface RabbitkitConnectionDetails extends ConnectionDetails {

  /** Broker addresses, {@code host:port}, tried in order; empty for the URI's or the default. */
  List<String> addresses();

  /** The user name, or null. */
  String username();

  /** The password, or null. */
  String password();

  /** The virtual host, or null. */
  String virtualHost();

  /** TLS material for the connection, or null. */
  default SslBundle sslBundle() {
    return null;
  }
}
