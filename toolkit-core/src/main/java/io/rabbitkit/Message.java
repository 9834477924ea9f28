package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.HeaderValues;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A message body with per-message properties, for {@link Publisher#publish(Message)}. Immutable;
 * the {@code with...} methods return copies. What is absent falls back to the publisher's settings
 * (a fresh message id, the publisher's routing key).
 *
 * <pre>{@code
 * publisher.publish(Message.of(order).withMessageId(order.id()).withHeader("tenant", "eu"));
 * }</pre>
 *
 * @param body the value to encode
 * @param messageId the message id; absent means the publisher's (generated unless configured)
 * @param routingKey the routing key; absent means the publisher's
 * @param headers headers added to the publisher's (these win on equal names); never {@code x-} headers
 * @param correlationId the correlation id
 * @param replyTo where replies should go
 * @param expiration per-message TTL
 * @param priority priority 0-255, for priority queues
 * @param <T> the body type
 */
public record Message<T>(T body, Optional<String> messageId, Optional<String> routingKey, Map<String, Object> headers,
    Optional<String> correlationId, Optional<String> replyTo, Optional<Duration> expiration,
    Optional<Integer> priority, Optional<String> type, Optional<String> appId) {

  public Message {
    requireNonNull(body, "body");
    requireNonNull(messageId, "messageId");
    requireNonNull(routingKey, "routingKey");
    requireNonNull(correlationId, "correlationId");
    requireNonNull(replyTo, "replyTo");
    requireNonNull(expiration, "expiration");
    requireNonNull(priority, "priority");
    requireNonNull(type, "type");
    requireNonNull(appId, "appId");
    headers = Map.copyOf(HeaderValues.check(requireNonNull(headers, "headers")));
    messageId.ifPresent(id -> {
      if (id.isEmpty()) {
        throw new IllegalArgumentException("message id must not be empty: consumers take an empty id for none");
      }
      ShortStrings.check("message id", id);
    });
    ShortStrings.check("routing key", routingKey.orElse(null));
    ShortStrings.check("correlation id", correlationId.orElse(null));
    ShortStrings.check("reply-to", replyTo.orElse(null));
    ShortStrings.check("type", type.orElse(null));
    ShortStrings.check("app id", appId.orElse(null));
    expiration.ifPresent(d -> {
      if (d.isNegative()) {
        throw new IllegalArgumentException("expiration must not be negative: " + d);
      }
    });
    priority.ifPresent(p -> {
      if (p < 0 || p > 255) {
        throw new IllegalArgumentException("priority must be 0-255: " + p);
      }
    });
  }

  /** A message with just a body. */
  public static <T> Message<T> of(T body) {
    return new Message<>(body, Optional.empty(), Optional.empty(), Map.of(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** Returns a copy with this message id (consumers use it to spot duplicates). */
  public Message<T> withMessageId(String messageId) {
    return new Message<>(body, Optional.of(messageId), routingKey, headers, correlationId, replyTo, expiration,
        priority, type, appId);
  }

  /** Returns a copy with this routing key instead of the publisher's. */
  public Message<T> withRoutingKey(String routingKey) {
    return new Message<>(body, messageId, Optional.of(routingKey), headers, correlationId, replyTo, expiration,
        priority, type, appId);
  }

  /** Returns a copy with one more header. */
  public Message<T> withHeader(String name, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(headers);
    copy.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
    return new Message<>(body, messageId, routingKey, copy, correlationId, replyTo, expiration, priority, type, appId);
  }

  /** Returns a copy with this correlation id. */
  public Message<T> withCorrelationId(String correlationId) {
    return new Message<>(body, messageId, routingKey, headers, Optional.of(correlationId), replyTo, expiration,
        priority, type, appId);
  }

  /** Returns a copy with this reply-to address. */
  public Message<T> withReplyTo(String replyTo) {
    return new Message<>(body, messageId, routingKey, headers, correlationId, Optional.of(replyTo), expiration,
        priority, type, appId);
  }

  /** Returns a copy that expires after {@code ttl} in any queue. */
  public Message<T> withExpiration(Duration ttl) {
    return new Message<>(body, messageId, routingKey, headers, correlationId, replyTo, Optional.of(ttl), priority, type,
        appId);
  }

  /** Returns a copy with this priority. */
  public Message<T> withPriority(int priority) {
    return new Message<>(body, messageId, routingKey, headers, correlationId, replyTo, expiration,
        Optional.of(priority), type, appId);
  }

  /** Returns a copy with this message type (the AMQP {@code type} property, e.g. {@code order.placed}). */
  public Message<T> withType(String type) {
    return new Message<>(body, messageId, routingKey, headers, correlationId, replyTo, expiration, priority,
        Optional.of(type), appId);
  }

  /** Returns a copy with this application id (the AMQP {@code app_id} property: who published it). */
  public Message<T> withAppId(String appId) {
    return new Message<>(body, messageId, routingKey, headers, correlationId, replyTo, expiration, priority, type,
        Optional.of(appId));
  }
}
