package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Configures and builds a {@link Publisher}. Obtain one from {@link RabbitToolkit#publisherBuilder}.
 * Each setter checks its argument at once; {@link #build()} checks the combination. Not
 * thread-safe.
 *
 * <p>Defaults: the default exchange, persistent messages, mandatory on, a unique message id (a
 * random prefix per publisher and a counter),
 * {@value #DEFAULT_MAX_IN_FLIGHT} messages in flight, a {@code 30 s} confirm timeout, a {@code 10
 * s} window timeout, re-send after recovery on, bodies up to 16 MiB.
 *
 * @param <T> the message type
 */
public final class PublisherBuilder<T> {

  /** Default bound on unconfirmed messages. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 1000;
  /** Default time to wait for a confirm. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);
  /** Default time {@code publish} blocks while the in-flight window is full. */
  public static final Duration DEFAULT_WINDOW_TIMEOUT = Duration.ofSeconds(10);
  /** Default largest body (RabbitMQ 4.x's default {@code max_message_size}). */
  public static final int DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

  private final RabbitToolkit toolkit;
  private MessageCodec<T> codec;
  private String exchange = "";
  private Function<? super T, String> routingKey;
  private Function<? super T, String> messageId;
  private final Map<String, Object> headers = new LinkedHashMap<>();
  private boolean mandatory = true;
  private boolean persistent = true;
  private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
  private Duration windowTimeout = DEFAULT_WINDOW_TIMEOUT;
  private boolean resendAfterRecovery = true;
  private boolean failWhileDisconnected;
  private int maxBodySize = DEFAULT_MAX_BODY_SIZE;

  PublisherBuilder(RabbitToolkit toolkit, Class<T> type) {
    this.toolkit = toolkit;
    this.codec = MessageCodec.forType(requireNonNull(type, "type"));
  }

  /** Sets the exchange to publish to; {@code ""} (the default) is the default exchange, which routes by queue name. */
  public PublisherBuilder<T> exchange(String exchange) {
    Headers.shortString("exchange", requireNonNull(exchange, "exchange"));
    this.exchange = exchange;
    return this;
  }

  /** Sets a fixed routing key (for the default exchange: the queue name). */
  public PublisherBuilder<T> routingKey(String routingKey) {
    Headers.shortString("routingKey", requireNonNull(routingKey, "routingKey"));
    this.routingKey = ignored -> routingKey;
    return this;
  }

  /** Computes the routing key from each message, for example {@code o -> "order." + o.region()}. */
  public PublisherBuilder<T> routingKey(Function<? super T, String> routingKey) {
    this.routingKey = requireNonNull(routingKey, "routingKey");
    return this;
  }

  /** Sets the codec; the default is JSON (String and byte[] get their own codecs). */
  public PublisherBuilder<T> codec(MessageCodec<T> codec) {
    this.codec = requireNonNull(codec, "codec");
    return this;
  }

  /** Derives the message id from each message (for example a business key), instead of a generated one. */
  public PublisherBuilder<T> messageId(Function<? super T, String> messageId) {
    this.messageId = requireNonNull(messageId, "messageId");
    return this;
  }

  /** Adds a header to every message. Names starting with {@code x-} belong to the broker and are refused. */
  public PublisherBuilder<T> header(String name, Object value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    if (name.startsWith("x-")) {
      throw new IllegalArgumentException("headers starting with 'x-' belong to the broker: " + name);
    }
    Headers.check(Map.of(name, value));
    headers.put(name, value);
    return this;
  }

  /** Whether unroutable messages fail their future ({@code true}, the default) or are dropped by the broker. */
  public PublisherBuilder<T> mandatory(boolean mandatory) {
    this.mandatory = mandatory;
    return this;
  }

  /** Whether messages are persistent (delivery mode 2, the default) or transient. */
  public PublisherBuilder<T> persistent(boolean persistent) {
    this.persistent = persistent;
    return this;
  }

  /** Bounds the number of unconfirmed messages; {@code publish} blocks beyond it. */
  public PublisherBuilder<T> maxInFlight(int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1: " + maxInFlight);
    }
    this.maxInFlight = maxInFlight;
    return this;
  }

  /** How long to wait for a confirm before failing with {@link ConfirmTimeoutException}. */
  public PublisherBuilder<T> confirmTimeout(Duration confirmTimeout) {
    this.confirmTimeout = positive(confirmTimeout, "confirmTimeout");
    return this;
  }

  /** How long {@code publish} may block while the in-flight window is full. */
  public PublisherBuilder<T> windowTimeout(Duration windowTimeout) {
    requireNonNull(windowTimeout, "windowTimeout");
    if (windowTimeout.isNegative()) {
      throw new IllegalArgumentException("windowTimeout must not be negative: " + windowTimeout);
    }
    this.windowTimeout = windowTimeout;
    return this;
  }

  /**
   * Whether messages unconfirmed when a channel or connection is lost are re-sent on the next one,
   * and nacked messages re-sent with back-off until their confirm timeout (default {@code true}:
   * at-least-once, possibly a duplicate), or their futures fail at once with {@link
   * PublishException} or {@link MessageNackedException} (the outcome is then yours to handle).
   */
  public PublisherBuilder<T> resendAfterRecovery(boolean resend) {
    this.resendAfterRecovery = resend;
    return this;
  }

  /**
   * What {@code publish} does while the connection is down and recovering. By default ({@code
   * false}) the message waits and is sent once the connection is back, and its future fails with
   * {@link ConfirmTimeoutException} if that takes longer than the confirm timeout. With {@code true}
   * its future fails at once with a {@link PublishException} whose cause is a {@link
   * ConnectionException}, and the message is not sent. Messages already sent keep waiting for
   * their re-send either way.
   */
  public PublisherBuilder<T> failWhileDisconnected(boolean fail) {
    this.failWhileDisconnected = fail;
    return this;
  }

  /** Refuses bodies larger than this, before sending (the broker would close the channel). */
  public PublisherBuilder<T> maxBodySize(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("maxBodySize must be >= 1: " + bytes);
    }
    this.maxBodySize = bytes;
    return this;
  }

  /**
   * Opens the publisher's channel and returns the publisher.
   *
   * @throws IllegalStateException if publishing to the default exchange without a routing key
   * @throws ToolkitException if the channel cannot be opened
   */
  public Publisher<T> build() {
    if (routingKey == null) {
      if (exchange.isEmpty()) {
        throw new IllegalStateException("the default exchange routes by queue name: set routingKey(queue)");
      }
      routingKey = ignored -> "";
    }
    ConfirmingSender.Options options = new ConfirmingSender.Options(maxInFlight, windowTimeout, confirmTimeout,
        resendAfterRecovery, maxBodySize, false, failWhileDisconnected);
    String name = "publisher to " + (exchange.isEmpty() ? "default exchange" : "exchange '" + exchange + "'");
    ConfirmingSender sender = toolkit.sender(name, options);
    Function<? super T, String> ids = messageId;
    if (ids == null) {
      MessageIds generated = new MessageIds();
      ids = ignored -> generated.next();
    }
    DefaultPublisher<T> publisher = new DefaultPublisher<>(sender, codec, exchange, routingKey, ids,
        Map.copyOf(headers), mandatory, persistent, toolkit.interceptors());
    publisher.onClose(toolkit.track(publisher));
    return publisher;
  }

  private static Duration positive(Duration d, String what) {
    requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
    return d;
  }
}
