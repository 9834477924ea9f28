package io.rabbitkit;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.util.concurrent.ExecutionException;

/** amqp-client on its own, for tests that must send what the toolkit would never send, or watch from outside. */
final class RawClient {

  private RawClient() {
  }

  /** A plain amqp-client connection to {@code uri} (vhost {@code /} for an empty path, as the toolkit reads it). */
  static Connection connect(String uri) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(uri);
    if (f.getVirtualHost().isEmpty()) {
      f.setVirtualHost("/");
    }
    f.setMaxInboundMessageBodySize(512 * 1024 * 1024);
    return f.newConnection("raw-test-client");
  }

  /** The cause of a failed future's ExecutionException. */
  static Throwable unwrap(Throwable t) {
    return t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
  }
}
