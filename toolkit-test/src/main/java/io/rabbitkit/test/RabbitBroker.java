package io.rabbitkit.test;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.RabbitToolkit;

/**
 * A broker the tests can use.
 *
 * @param uri its AMQP URI, with credentials
 * @param source how it was found, for messages: {@code RABBITMQ_URI}, {@code localhost:5672} or
 *     {@code Testcontainers <image>}
 */
public record RabbitBroker(String uri, String source) {

  public RabbitBroker {
    requireNonNull(uri, "uri");
    requireNonNull(source, "source");
  }

  /** Returns a toolkit builder set up for this broker. */
  public RabbitToolkit.Builder toolkitBuilder() {
    return RabbitToolkit.builder().uri(uri);
  }

  /** Connects a new toolkit; the caller closes it. */
  public RabbitToolkit connect() {
    return toolkitBuilder().connect();
  }

  @Override
  public String toString() {
    return "RabbitBroker[" + source + "]";
  }
}
