package io.rabbitkit.deadletter;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One message in a dead-letter queue and why it is there. Read from the toolkit's {@link
 * FailureHeaders}; for a message the broker dead-lettered on its own (a quorum queue's delivery
 * limit, a TTL, a rejection), from the broker's {@code x-death} header instead.
 *
 * @param messageId the message id, when it has one
 * @param originalQueue the work queue it failed in
 * @param originalExchange the exchange it was first published to
 * @param originalRoutingKey the routing key it was first published with
 * @param reason {@code handler-failed}, {@code rejected} or {@code undecodable} (see {@link
 *     FailureHeaders}), or the broker's reason ({@code delivery_limit}, {@code expired}, {@code
 *     rejected}, {@code maxlen})
 * @param exceptionClass class name of the handler's last exception, when known
 * @param exceptionMessage its message, when known
 * @param stackTrace its truncated stack trace, when known
 * @param attempts failed processing rounds (0 when unknown)
 * @param firstFailedAt when the first round failed, when known
 * @param lastFailedAt when the last round failed, when known
 * @param contentType the content type, when set
 * @param headers every header, text values as {@code String}
 * @param body the raw body
 */
public record DeadLetter(Optional<String> messageId, String originalQueue, String originalExchange,
    String originalRoutingKey, String reason, Optional<String> exceptionClass, Optional<String> exceptionMessage,
    Optional<String> stackTrace, int attempts, Optional<Instant> firstFailedAt, Optional<Instant> lastFailedAt,
    Optional<String> contentType, Map<String, Object> headers, byte[] body) {

  public DeadLetter {
    requireNonNull(messageId, "messageId");
    requireNonNull(originalQueue, "originalQueue");
    requireNonNull(originalExchange, "originalExchange");
    requireNonNull(originalRoutingKey, "originalRoutingKey");
    requireNonNull(reason, "reason");
    requireNonNull(exceptionClass, "exceptionClass");
    requireNonNull(exceptionMessage, "exceptionMessage");
    requireNonNull(stackTrace, "stackTrace");
    requireNonNull(firstFailedAt, "firstFailedAt");
    requireNonNull(lastFailedAt, "lastFailedAt");
    requireNonNull(contentType, "contentType");
    headers = Map.copyOf(requireNonNull(headers, "headers"));
    requireNonNull(body, "body");
  }

  /** Returns whether the last failure was an exception of exactly this class. */
  public boolean failedWith(Class<? extends Throwable> type) {
    return exceptionClass.filter(type.getName()::equals).isPresent();
  }

  /**
   * Decodes the body with {@code codec} (the consumer's, typically {@code MessageCodec.json(Order.class)})
   * and the letter's content type, to inspect or repair a dead letter as the typed message it was.
   *
   * @throws io.rabbitkit.ToolkitException.MessageDecodingException when it cannot (which may be why it is here)
   */
  public <T> T decode(io.rabbitkit.codec.MessageCodec<T> codec) {
    return requireNonNull(codec, "codec").decode(body, contentType.orElse(null));
  }

  /** Returns the body decoded as UTF-8 (for display; invalid bytes are replaced). */
  public String bodyAsString() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "DeadLetter[" + messageId.orElse("<no id>") + " from '" + originalQueue + "', " + reason + ", attempts="
        + attempts + exceptionClass.map(c -> ", " + c + ": " + exceptionMessage.orElse("")).orElse("") + "]";
  }
}
