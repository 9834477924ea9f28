package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.Publisher;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.HeaderValues;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Collects a publisher's options and hands them to the toolkit, which opens the publisher. */
final class PublisherBuilder<T> implements Publisher.Builder<T> {

  private final Toolkit toolkit;
  MessageCodec<T> codec;
  String exchange = "";
  Function<? super T, String> routingKey;
  Function<? super T, String> messageId;
  final Map<String, Object> headers = new LinkedHashMap<>();
  boolean mandatory = true;
  boolean persistent = true;
  int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
  Duration windowTimeout = DEFAULT_WINDOW_TIMEOUT;
  boolean resendAfterRecovery = true;
  boolean failWhileDisconnected;
  boolean completeOnConnectionThread;
  int maxBodySize = DEFAULT_MAX_BODY_SIZE;

  PublisherBuilder(Toolkit toolkit, Class<T> type) {
    this.toolkit = toolkit;
    this.codec = MessageCodec.forType(requireNonNull(type, "type"));
  }

  @Override
  public PublisherBuilder<T> exchange(String exchange) {
    ShortStrings.check("exchange", requireNonNull(exchange, "exchange"));
    this.exchange = exchange;
    return this;
  }

  @Override
  public PublisherBuilder<T> routingKey(String routingKey) {
    ShortStrings.check("routingKey", requireNonNull(routingKey, "routingKey"));
    this.routingKey = ignored -> routingKey;
    return this;
  }

  @Override
  public PublisherBuilder<T> routingKey(Function<? super T, String> routingKey) {
    this.routingKey = requireNonNull(routingKey, "routingKey");
    return this;
  }

  @Override
  public PublisherBuilder<T> codec(MessageCodec<T> codec) {
    this.codec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public PublisherBuilder<T> messageId(Function<? super T, String> messageId) {
    this.messageId = requireNonNull(messageId, "messageId");
    return this;
  }

  @Override
  public PublisherBuilder<T> header(String name, Object value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    HeaderValues.check(java.util.Map.of(name, value)); // the same rule as a message's headers
    headers.put(name, value);
    return this;
  }

  @Override
  public PublisherBuilder<T> mandatory(boolean mandatory) {
    this.mandatory = mandatory;
    return this;
  }

  @Override
  public PublisherBuilder<T> persistent(boolean persistent) {
    this.persistent = persistent;
    return this;
  }

  @Override
  public PublisherBuilder<T> maxInFlight(int maxInFlight) {
    this.maxInFlight = Checks.atLeastOne("maxInFlight", maxInFlight);
    return this;
  }

  @Override
  public PublisherBuilder<T> confirmTimeout(Duration confirmTimeout) {
    this.confirmTimeout = positive(confirmTimeout, "confirmTimeout");
    return this;
  }

  @Override
  public PublisherBuilder<T> windowTimeout(Duration windowTimeout) {
    requireNonNull(windowTimeout, "windowTimeout");
    if (windowTimeout.isNegative()) {
      throw new IllegalArgumentException("windowTimeout must not be negative: " + windowTimeout);
    }
    this.windowTimeout = windowTimeout;
    return this;
  }

  @Override
  public PublisherBuilder<T> resendAfterRecovery(boolean resend) {
    this.resendAfterRecovery = resend;
    return this;
  }

  @Override
  public PublisherBuilder<T> completeOnConnectionThread(boolean inline) {
    this.completeOnConnectionThread = inline;
    return this;
  }

  @Override
  public PublisherBuilder<T> failWhileDisconnected(boolean fail) {
    this.failWhileDisconnected = fail;
    return this;
  }

  @Override
  public PublisherBuilder<T> maxBodySize(int bytes) {
    this.maxBodySize = Checks.atLeastOne("maxBodySize", bytes);
    return this;
  }

  @Override
  public Publisher<T> build() {
    if (routingKey == null) {
      if (exchange.isEmpty()) {
        throw new IllegalStateException("the default exchange routes by queue name: set routingKey(queue)");
      }
      routingKey = ignored -> "";
    }
    return toolkit.createPublisher(this);
  }

  private static Duration positive(Duration d, String what) {
    return Checks.positive(what, d);
  }
}
