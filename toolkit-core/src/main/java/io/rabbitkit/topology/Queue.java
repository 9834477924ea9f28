package io.rabbitkit.topology;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A queue declaration. Immutable; the {@code with...} methods return modified copies and reject
 * combinations the broker would refuse (for example a delivery limit on a classic queue).
 *
 * <pre>{@code
 * Queue work = Queue.quorum("orders.placed")
 *     .withDeadLetterQueue("orders.placed.dlq")   // dead-letter exchange "" + routing key
 *     .withDeliveryLimit(5);                      // a message that crashes consumers ends there
 * Queue events = Queue.stream("audit").withMaxAge(Duration.ofDays(7));
 * }</pre>
 *
 * <p>Every factory declares a durable queue: non-durable shared queues are deprecated since
 * RabbitMQ 4.0. Use {@link #withExclusive(boolean)} for a private, connection-scoped queue.
 *
 * @param name the queue name, not empty
 * @param type classic, quorum or stream
 * @param durable whether it survives a broker restart
 * @param exclusive whether only the declaring connection may use it (deleted when it closes)
 * @param autoDelete whether the broker deletes it when its last consumer goes
 * @param arguments the {@code x-} arguments, copied; {@code x-queue-type} is added when declaring
 * @see <a href="https://www.rabbitmq.com/docs/queues">RabbitMQ queues</a>
 */
public record Queue(String name, Type type, boolean durable, boolean exclusive, boolean autoDelete,
    Map<String, Object> arguments) {

  /** Queue types. */
  public enum Type {
    CLASSIC, QUORUM, STREAM;

    /** Returns the value of {@code x-queue-type}, for example {@code quorum}. */
    public String brokerName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What a full queue (max-length reached) does with new messages. */
  public enum Overflow {
    /** Drop or dead-letter the oldest message (the broker default). */
    DROP_HEAD("drop-head"),
    /** Refuse the new message; a publisher with confirms gets a nack. */
    REJECT_PUBLISH("reject-publish"),
    /** Refuse the new message and dead-letter it (classic queues only). */
    REJECT_PUBLISH_DLX("reject-publish-dlx");

    private final String brokerName;

    Overflow(String brokerName) {
      this.brokerName = brokerName;
    }

    /** Returns the value of {@code x-overflow}. */
    public String brokerName() {
      return brokerName;
    }
  }

  public Queue {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
    requireNonNull(arguments, "arguments");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("queue name must not be empty (server-named queues are not supported)");
    }
    if (name.startsWith("amq.")) {
      throw new IllegalArgumentException("queue names starting with 'amq.' are reserved by the broker: " + name);
    }
    ShortStrings.check("queue name", name);
    if (type != Type.CLASSIC && (!durable || exclusive || autoDelete)) {
      throw new IllegalArgumentException(type.brokerName() + " queue '" + name
          + "' must be durable, not exclusive and not auto-delete");
    }
    if (type != Type.QUORUM && arguments.containsKey("x-delivery-limit")) {
      throw new IllegalArgumentException("delivery-limit applies to quorum queues only (queue '" + name + "')");
    }
    if (type == Type.STREAM) {
      for (String key : new String[]{"x-dead-letter-exchange", "x-message-ttl", "x-expires",
          "x-single-active-consumer", "x-max-length", "x-overflow", "x-max-priority"}) {
        if (arguments.containsKey(key)) {
          throw new IllegalArgumentException(key + " is not supported by stream queues (queue '" + name + "')");
        }
      }
    }
    if (type != Type.STREAM
        && (arguments.containsKey("x-max-age") || arguments.containsKey("x-stream-max-segment-size-bytes"))) {
      throw new IllegalArgumentException("max-age and segment size apply to streams only (queue '" + name + "')");
    }
    if (type != Type.QUORUM && arguments.containsKey("x-delayed-retry-type")) {
      throw new IllegalArgumentException("delayed retry applies to quorum queues only (queue '" + name + "')");
    }
    if (type != Type.CLASSIC && "reject-publish-dlx".equals(arguments.get("x-overflow"))) {
      throw new IllegalArgumentException(
          "overflow reject-publish-dlx applies to classic queues only (queue '" + name + "')");
    }
    if (arguments.containsKey("x-queue-type")
        && !type.brokerName().equals(String.valueOf(arguments.get("x-queue-type")))) {
      throw new IllegalArgumentException("x-queue-type argument contradicts type " + type + " (queue '" + name + "')");
    }
    arguments = Map.copyOf(arguments);
  }

  /** A durable classic queue. */
  public static Queue classic(String name) {
    return new Queue(name, Type.CLASSIC, true, false, false, Map.of());
  }

  /** A quorum queue: replicated, durable, with poison-message handling (delivery limit). */
  public static Queue quorum(String name) {
    return new Queue(name, Type.QUORUM, true, false, false, Map.of());
  }

  /** A stream: an append-only log read with offsets. */
  public static Queue stream(String name) {
    return new Queue(name, Type.STREAM, true, false, false, Map.of());
  }

  /** Returns a copy with the given durability (classic queues only may be non-durable). */
  public Queue withDurable(boolean durable) {
    return new Queue(name, type, durable, exclusive, autoDelete, arguments);
  }

  /** Returns a copy that is exclusive to the declaring connection (classic only). */
  public Queue withExclusive(boolean exclusive) {
    return new Queue(name, type, durable, exclusive, autoDelete, arguments);
  }

  /** Returns a copy that the broker deletes when its last consumer goes (classic only). */
  public Queue withAutoDelete(boolean autoDelete) {
    return new Queue(name, type, durable, exclusive, autoDelete, arguments);
  }

  /** Returns a copy with one more {@code x-} argument. */
  public Queue withArgument(String key, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(arguments);
    copy.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
    return new Queue(name, type, durable, exclusive, autoDelete, copy);
  }

  /** Returns a copy whose messages expire after {@code ttl} ({@code x-message-ttl}). */
  public Queue withMessageTtl(Duration ttl) {
    return withArgument("x-message-ttl", positiveMillis(ttl, "message TTL"));
  }

  /** Returns a copy that the broker deletes after being unused for {@code expires} ({@code x-expires}). */
  public Queue withExpires(Duration expires) {
    return withArgument("x-expires", positiveMillis(expires, "expires"));
  }

  /** Returns a copy that holds at most {@code maxLength} ready messages ({@code x-max-length}). */
  public Queue withMaxLength(long maxLength) {
    if (maxLength < 0) {
      throw new IllegalArgumentException("max-length must be >= 0: " + maxLength);
    }
    return withArgument("x-max-length", maxLength);
  }

  /**
   * Returns a copy that holds at most {@code maxBytes} bytes of ready message bodies; for a stream,
   * its retention by size (whole segments are dropped once the stream is larger).
   */
  public Queue withMaxLengthBytes(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("max-length-bytes must be >= 0: " + maxBytes);
    }
    return withArgument("x-max-length-bytes", maxBytes);
  }

  /**
   * Returns a stream that drops whole segments once all their events are older than {@code age}
   * ({@code x-max-age}, written in the largest whole unit: {@code 7D}, {@code 36h}, {@code 90m},
   * {@code 45s}). Streams only; whole seconds, at least one.
   */
  public Queue withMaxAge(Duration age) {
    long seconds = Checks.positive("max-age", age).getSeconds();
    if (seconds < 1 || age.getNano() != 0) {
      throw new IllegalArgumentException("max-age is whole seconds, at least 1: " + age);
    }
    String value = seconds % 86_400 == 0 ? seconds / 86_400 + "D"
        : seconds % 3_600 == 0 ? seconds / 3_600 + "h" : seconds % 60 == 0 ? seconds / 60 + "m" : seconds + "s";
    return withArgument("x-max-age", value);
  }

  /**
   * Returns a stream whose segment files hold at most {@code bytes} bytes
   * ({@code x-stream-max-segment-size-bytes}; the broker's default is 500 MB). Retention drops whole
   * segments, so smaller segments make it finer. Streams only.
   */
  public Queue withMaxSegmentSize(long bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("segment size must be >= 1 byte: " + bytes);
    }
    return withArgument("x-stream-max-segment-size-bytes", bytes);
  }

  /** Returns a copy with the given overflow behaviour ({@code x-overflow}). */
  public Queue withOverflow(Overflow overflow) {
    return withArgument("x-overflow", requireNonNull(overflow, "overflow").brokerName());
  }

  /** Returns a copy that dead-letters to {@code exchange} ({@code x-dead-letter-exchange}; {@code ""} is the default exchange). */
  public Queue withDeadLetterExchange(String exchange) {
    return withArgument("x-dead-letter-exchange", exchange);
  }

  /** Returns a copy that dead-letters with {@code routingKey} ({@code x-dead-letter-routing-key}). */
  public Queue withDeadLetterRoutingKey(String routingKey) {
    return withArgument("x-dead-letter-routing-key", routingKey);
  }

  /**
   * Returns a copy that dead-letters straight into queue {@code deadLetterQueue}, through the
   * default exchange. The dead-letter queue itself must be declared too.
   */
  public Queue withDeadLetterQueue(String deadLetterQueue) {
    requireNonNull(deadLetterQueue, "deadLetterQueue");
    return withDeadLetterExchange("").withDeadLetterRoutingKey(deadLetterQueue);
  }

  /**
   * Returns a copy that dead-letters (or drops, without a dead-letter exchange) a message after
   * {@code limit} failed deliveries ({@code x-delivery-limit}; quorum queues only).
   */
  public Queue withDeliveryLimit(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("delivery-limit must be >= 0: " + limit);
    }
    return withArgument("x-delivery-limit", limit);
  }

  /**
   * Returns a copy whose consumers must settle a delivery within {@code timeout} ({@code
   * x-consumer-timeout}; RabbitMQ 3.12+, the broker-wide {@code consumer_timeout} otherwise, 30
   * minutes by default). Past it, RabbitMQ 4.3+ cancels the consumer of a quorum queue and returns
   * its unsettled messages (the toolkit subscribes again, and the late ack is ignored); older
   * brokers and classic queues close the channel (the toolkit opens another). Either way the slow
   * message is delivered again: keep handlers well inside it.
   */
  public Queue withConsumerTimeout(Duration timeout) {
    return withArgument("x-consumer-timeout", positiveMillis(timeout, "consumer timeout"));
  }

  /**
   * Returns a copy that delays the redelivery of a message its consumer rejected with requeue: the
   * k-th waits {@code min(k * min, max)} ({@code x-delayed-retry-type=failed}, {@code
   * x-delayed-retry-min}, {@code x-delayed-retry-max}; quorum queues, RabbitMQ 4.3+; older brokers
   * ignore the arguments). Consume it with {@link io.rabbitkit.Redelivery#inQueue}.
   */
  public Queue withDelayedRetry(Duration min, Duration max) {
    long minMs = positiveMillis(min, "delayed-retry min");
    long maxMs = positiveMillis(max, "delayed-retry max");
    if (maxMs < minMs) {
      throw new IllegalArgumentException("delayed-retry max " + max + " is shorter than min " + min);
    }
    return withArgument("x-delayed-retry-type", "failed").withArgument("x-delayed-retry-min", minMs)
        .withArgument("x-delayed-retry-max", maxMs);
  }

  /** Returns a copy where only one consumer at a time receives messages ({@code x-single-active-consumer}). */
  public Queue withSingleActiveConsumer() {
    return withArgument("x-single-active-consumer", true);
  }

  /** Returns the delivery limit ({@code x-delivery-limit}), if one is configured. */
  public Optional<Integer> deliveryLimit() {
    Object limit = arguments.get("x-delivery-limit");
    return limit instanceof Number n ? Optional.of(n.intValue()) : Optional.empty();
  }

  /** Returns the dead-letter exchange, if one is configured. */
  public Optional<String> deadLetterExchange() {
    return Optional.ofNullable((String) arguments.get("x-dead-letter-exchange"));
  }

  @Override
  public String toString() {
    return "queue '" + name + "' (" + type.brokerName() + ")";
  }

  private static long positiveMillis(Duration duration, String what) {
    return Checks.positive(what, duration).toMillis();
  }
}
