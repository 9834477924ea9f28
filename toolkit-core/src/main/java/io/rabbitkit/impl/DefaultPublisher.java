package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import io.rabbitkit.Confirmation;
import io.rabbitkit.Health;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Message;
import io.rabbitkit.PublishException;
import io.rabbitkit.Publisher;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.ShortStrings;
import io.rabbitkit.internal.Wording;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** Encodes typed messages and hands them to a {@link ConfirmingSender}. */
final class DefaultPublisher<T> implements Publisher<T> {

  private final ConfirmingSender sender;
  private final MessageCodec<T> codec;
  private final String exchange;
  private final Function<? super T, String> routingKey;
  private final Function<? super T, String> messageId;
  /** {@link #messageId} is the toolkit's generator: its ids are unique. */
  private final boolean generatedIds;
  private final Map<String, Object> headers;
  private final boolean mandatory;
  private final int deliveryMode;
  private final Interceptors interceptors;
  private volatile Runnable onClose = () -> {
  };

  DefaultPublisher(ConfirmingSender sender, MessageCodec<T> codec, String exchange,
      Function<? super T, String> routingKey,
      Function<? super T, String> messageId, boolean generatedIds, Map<String, Object> headers, boolean mandatory,
      boolean persistent, Interceptors interceptors) {
    this.generatedIds = generatedIds;
    this.sender = sender;
    this.interceptors = interceptors;
    this.codec = codec;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.messageId = messageId;
    this.headers = headers;
    this.mandatory = mandatory;
    this.deliveryMode = persistent ? 2 : 1;
  }

  @Override
  public CompletableFuture<Confirmation> publish(T message) {
    return publish(Message.of(message));
  }

  @Override
  public CompletableFuture<Confirmation> publish(Message<T> message) {
    T body = message.body();
    String id = null;
    String key = null;
    Interceptor.PublishObserver observer = Interceptor.PublishObserver.NONE;
    long start = interceptors.isEmpty() ? 0 : System.nanoTime();
    try {
      Optional<String> givenId = message.messageId();
      id = givenId.isPresent() ? givenId.get() : messageId.apply(body);
      Optional<String> givenKey = message.routingKey();
      key = givenKey.isPresent() ? givenKey.get() : routingKey.apply(body);
      // A Message checks its own properties; these two may come from the publisher's functions.
      ShortStrings.check("message id", id);
      ShortStrings.check("routing key", key);
      byte[] bytes = codec.encode(body);
      Map<String, Object> allHeaders = headers;
      if (!message.headers().isEmpty()) {
        allHeaders = new LinkedHashMap<>(headers);
        allHeaders.putAll(message.headers());
      }
      if (!interceptors.isEmpty()) {
        Map<String, Object> intercepted = new LinkedHashMap<>(allHeaders);
        observer = interceptors.beforePublish(new Shared(exchange, key, id, intercepted));
        allHeaders = intercepted;
      }
      AMQP.BasicProperties props = new AMQP.BasicProperties(codec.contentType(), null,
          allHeaders.isEmpty() ? null : allHeaders, deliveryMode, message.priority().orElse(null),
          message.correlationId().orElse(null), message.replyTo().orElse(null),
          message.expiration().map(d -> Long.toString(d.toMillis())).orElse(null), id, new Date(),
          message.type().orElse(null), null, message.appId().orElse(null), null);
      boolean uniqueId = generatedIds && givenId.isEmpty();
      return observed(sender.send(new Outbound(exchange, key, mandatory, props, bytes, uniqueId)),
          observer, start);
    } catch (RuntimeException e) {
      return observed(CompletableFuture.failedFuture(new PublishException("cannot publish message " + id + " to "
          + Wording.target(exchange, key) + ": " + e.getMessage(), id, exchange, key, e)), observer, start);
    }
  }

  private static CompletableFuture<Confirmation> observed(CompletableFuture<Confirmation> future,
      Interceptor.PublishObserver observer, long start) {
    if (observer != Interceptor.PublishObserver.NONE) {
      future.whenComplete((ok, error) -> observer.outcome(Interceptor.PublishOutcome.of(error),
          Duration.ofNanos(System.nanoTime() - start), error));
    }
    return future;
  }

  private record Shared(String exchange, String routingKey, String messageId, Map<String, Object> headers)
      implements
        Interceptor.PublishContext {
  }

  @Override
  public int inFlight() {
    return sender.inFlight();
  }

  Health.PublisherStatus status() {
    return new Health.PublisherStatus(sender.toString(), sender.inFlight(), sender.resent(), sender.refused(),
        sender.channelReplacements(), sender.oldestUnconfirmedAge());
  }

  /** Runs {@code hook} once this resource has closed (the toolkit forgets it then). */
  void onClose(Runnable hook) {
    this.onClose = hook;
  }

  @Override
  public void close() {
    sender.close();
    onClose.run();
  }

  /** Closes waiting at most {@code grace} for outstanding confirms. */
  void close(java.time.Duration grace) {
    sender.close(grace);
    onClose.run();
  }

  @Override
  public String toString() {
    return sender.toString();
  }
}
