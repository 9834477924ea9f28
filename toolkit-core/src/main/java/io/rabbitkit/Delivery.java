package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A decoded message and where it came from.
 *
 * @param body the decoded body
 * @param queue the queue it was consumed from
 * @param exchange the exchange it was last published to ({@code ""}: the default exchange, which is
 *     also how messages come back from the toolkit's delay queues)
 * @param routingKey the routing key it was last published with
 * @param redelivered whether the broker delivered it before (to this or another consumer)
 * @param attempt which processing round this is: 1 at first, then one more after each failed round
 *     that sent it back through a delay queue (in-process retries do not count)
 * @param messageId the message id, when the publisher set one
 * @param correlationId the correlation id, when set
 * @param replyTo the reply-to address, when set
 * @param contentType the content type, when set
 * @param timestamp the publisher's timestamp, when set
 * @param headers the headers, with text values as {@code String}
 * @param type the message type (AMQP {@code type}), when set
 * @param appId the publishing application's id (AMQP {@code app_id}), when set
 * @param streamOffset the event's offset in its stream, for deliveries of a stream consumer
 * @param <T> the body type
 */
public record Delivery<T>(T body, String queue, String exchange, String routingKey, boolean redelivered, int attempt,
    Optional<String> messageId, Optional<String> correlationId, Optional<String> replyTo,
    Optional<String> contentType, Optional<Instant> timestamp, Map<String, Object> headers,
    Optional<String> type, Optional<String> appId, OptionalLong streamOffset) {

  public Delivery {
    requireNonNull(body, "body");
    requireNonNull(queue, "queue");
    requireNonNull(exchange, "exchange");
    requireNonNull(routingKey, "routingKey");
    requireNonNull(messageId, "messageId");
    requireNonNull(correlationId, "correlationId");
    requireNonNull(replyTo, "replyTo");
    requireNonNull(contentType, "contentType");
    requireNonNull(timestamp, "timestamp");
    requireNonNull(type, "type");
    requireNonNull(appId, "appId");
    requireNonNull(streamOffset, "streamOffset");
    // Not Map.copyOf: AMQP header values may be void (null). Most messages have none: no copy then;
    // the toolkit's own deliveries carry headers frozen once, on decoding: no second copy either.
    requireNonNull(headers, "headers");
    headers = headers.isEmpty() ? Map.of() : headers instanceof io.rabbitkit.internal.FrozenHeaders ? headers
        : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(headers));
  }

  /** Returns one header's value, if present. */
  public Optional<Object> header(String name) {
    return Optional.ofNullable(headers.get(name));
  }

  /**
   * A delivery of {@code body} as a handler would see it on its first attempt, for unit tests of
   * handlers without a broker: queue {@code "test"}, default exchange, no message id, no headers.
   */
  public static <T> Delivery<T> of(T body) {
    return new Delivery<>(body, "test", "", "test", false, 1, Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty(), Map.of(), Optional.empty(), Optional.empty(), OptionalLong.empty());
  }

  /** This delivery as a stream consumer would see the event at {@code offset}, for unit tests of handlers. */
  public Delivery<T> withStreamOffset(long offset) {
    return new Delivery<>(body, queue, exchange, routingKey, redelivered, attempt, messageId, correlationId, replyTo,
        contentType, timestamp, headers, type, appId, OptionalLong.of(offset));
  }
}
