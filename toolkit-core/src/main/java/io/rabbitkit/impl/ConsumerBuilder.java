package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.Redelivery;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;

/** Collects a consumer's options and hands them to the toolkit, which starts the consumer. */
final class ConsumerBuilder<T> implements MessageConsumer.Builder<T> {

  private final Toolkit toolkit;
  String queue;
  MessageCodec<T> codec;
  MessageConsumer.Handler<T> handler;
  MessageConsumer.AsyncHandler<T> asyncHandler;
  int prefetch = DEFAULT_PREFETCH;
  int concurrency = 1;
  RetryConfig retry;
  Redelivery redelivery;
  String deadLetterQueue;
  boolean deadLetterExchangeOnQueue;
  Duration requeueDelay = DEFAULT_REQUEUE_DELAY;
  Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
  int maxBodySize = DEFAULT_MAX_BODY_SIZE;
  ProcessedMessages deduplicate;
  long stopAfter;
  MessageConsumer.Listener listener = new MessageConsumer.Listener() {
  };

  ConsumerBuilder(Toolkit toolkit, Class<T> type) {
    this.toolkit = toolkit;
    this.codec = MessageCodec.forType(requireNonNull(type, "type"));
  }

  @Override
  public ConsumerBuilder<T> queue(String queue) {
    requireNonNull(queue, "queue");
    if (queue.isEmpty()) {
      throw new IllegalArgumentException("queue must not be empty");
    }
    ShortStrings.check("queue name", queue);
    this.queue = queue;
    return this;
  }

  @Override
  public ConsumerBuilder<T> codec(MessageCodec<T> codec) {
    this.codec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public ConsumerBuilder<T> handler(MessageConsumer.Handler<T> handler) {
    this.handler = requireNonNull(handler, "handler");
    return this;
  }

  @Override
  public ConsumerBuilder<T> asyncHandler(MessageConsumer.AsyncHandler<T> handler) {
    this.asyncHandler = requireNonNull(handler, "handler");
    return this;
  }

  @Override
  public ConsumerBuilder<T> prefetch(int prefetch) {
    if (prefetch < 1 || prefetch > 65535) {
      throw new IllegalArgumentException("prefetch must be 1-65535: " + prefetch);
    }
    this.prefetch = prefetch;
    return this;
  }

  @Override
  public ConsumerBuilder<T> concurrency(int concurrency) {
    if (concurrency < 1 || concurrency > 1000) {
      throw new IllegalArgumentException("concurrency must be 1-1000: " + concurrency);
    }
    this.concurrency = concurrency;
    return this;
  }

  @Override
  public ConsumerBuilder<T> retry(RetryConfig retry) {
    this.retry = requireNonNull(retry, "retry");
    return this;
  }

  @Override
  public ConsumerBuilder<T> retry(int maxAttempts) {
    Checks.atLeastOne("maxAttempts", maxAttempts);
    return retry(RetryConfig.custom().maxAttempts(maxAttempts)
        .waitDuration(java.time.Duration.ofMillis(DEFAULT_RETRY_WAIT_MILLIS)).build());
  }

  @Override
  public ConsumerBuilder<T> redelivery(Redelivery redelivery) {
    this.redelivery = requireNonNull(redelivery, "redelivery");
    return this;
  }

  @Override
  public ConsumerBuilder<T> deadLetterQueue(String deadLetterQueue) {
    requireNonNull(deadLetterQueue, "deadLetterQueue");
    if (deadLetterQueue.isEmpty()) {
      throw new IllegalArgumentException("deadLetterQueue must not be empty");
    }
    ShortStrings.check("deadLetterQueue", deadLetterQueue);
    this.deadLetterQueue = deadLetterQueue;
    return this;
  }

  @Override
  public ConsumerBuilder<T> deadLetterExchangeOnQueue() {
    this.deadLetterExchangeOnQueue = true;
    return this;
  }

  @Override
  public ConsumerBuilder<T> requeueDelay(Duration delay) {
    requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("requeueDelay must not be negative: " + delay);
    }
    this.requeueDelay = delay;
    return this;
  }

  @Override
  public ConsumerBuilder<T> drainTimeout(Duration drainTimeout) {
    requireNonNull(drainTimeout, "drainTimeout");
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must not be negative: " + drainTimeout);
    }
    this.drainTimeout = drainTimeout;
    return this;
  }

  @Override
  public ConsumerBuilder<T> maxBodySize(int bytes) {
    this.maxBodySize = Checks.atLeastOne("maxBodySize", bytes);
    return this;
  }

  @Override
  public ConsumerBuilder<T> deduplicate(int capacity) {
    return deduplicate(ProcessedMessages.inMemory(capacity, Duration.ofHours(1)));
  }

  @Override
  public ConsumerBuilder<T> deduplicate(ProcessedMessages store) {
    this.deduplicate = requireNonNull(store, "store");
    return this;
  }

  @Override
  public ConsumerBuilder<T> stopAfter(long messages) {
    this.stopAfter = Checks.atLeastOne("stopAfter", messages);
    return this;
  }

  @Override
  public ConsumerBuilder<T> listener(MessageConsumer.Listener listener) {
    this.listener = requireNonNull(listener, "listener");
    return this;
  }

  @Override
  public MessageConsumer build() {
    if (queue == null) {
      throw new IllegalStateException("queue(...) is required");
    }
    if ((handler == null) == (asyncHandler == null)) {
      throw new IllegalStateException("set exactly one of handler(...) and asyncHandler(...)");
    }
    boolean pipeline = redelivery != null || deadLetterQueue != null;
    String dlqName = deadLetterQueue != null ? deadLetterQueue : queue + ".dlq";
    ShortStrings.check("dead-letter queue name '" + dlqName + "'", dlqName);
    if (redelivery != null) {
      redelivery.delays().forEach(d -> {
        String delayQueue = Redelivery.delayQueueName(queue, d);
        ShortStrings.check("delay queue name '" + delayQueue + "'", delayQueue);
      });
    }
    if (pipeline && deadLetterExchangeOnQueue) {
      throw new IllegalStateException("deadLetterExchangeOnQueue() conflicts with the toolkit's dead-letter queue");
    }
    MessageConsumer consumer = toolkit.createConsumer(this);
    if (pipeline) {
      toolkit.deadLettersOf(queue, dlqName);
    }
    return consumer;
  }
}
