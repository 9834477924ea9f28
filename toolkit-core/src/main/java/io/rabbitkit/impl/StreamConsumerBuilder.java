package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;

/**
 * Collects a stream consumer's options; the options it shares with a queue consumer are a {@link
 * ConsumerBuilder}'s, checked the same way.
 */
final class StreamConsumerBuilder<T> implements MessageConsumer.StreamBuilder<T> {

  /** Events the broker sends ahead of the handler: enough to keep a handler busy between credit grants. */
  static final int DEFAULT_STREAM_PREFETCH = 250;

  private final Toolkit toolkit;
  final ConsumerBuilder<T> common;
  String name;
  StreamOffset start = StreamOffset.next();
  OffsetStore offsets;

  StreamConsumerBuilder(Toolkit toolkit, Class<T> type, OffsetStore defaultOffsets) {
    this.toolkit = toolkit;
    this.common = new ConsumerBuilder<>(toolkit, type);
    this.common.prefetch(DEFAULT_STREAM_PREFETCH);
    this.offsets = defaultOffsets;
  }

  @Override
  public StreamConsumerBuilder<T> stream(String stream) {
    common.queue(stream);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> name(String name) {
    requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    ShortStrings.check("consumer name", name);
    this.name = name;
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> startAt(StreamOffset start) {
    this.start = requireNonNull(start, "start");
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> offsets(OffsetStore store) {
    this.offsets = requireNonNull(store, "store");
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> codec(MessageCodec<T> codec) {
    common.codec(codec);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> handler(MessageConsumer.Handler<T> handler) {
    common.handler(handler);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> asyncHandler(MessageConsumer.AsyncHandler<T> handler) {
    common.asyncHandler(handler);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> prefetch(int prefetch) {
    common.prefetch(prefetch);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> retry(RetryConfig retry) {
    common.retry(retry);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> retry(int maxAttempts) {
    common.retry(maxAttempts);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> deadLetterQueue(String deadLetterQueue) {
    common.deadLetterQueue(deadLetterQueue);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> drainTimeout(Duration drainTimeout) {
    common.drainTimeout(drainTimeout);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> maxBodySize(int bytes) {
    common.maxBodySize(bytes);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> stopAfter(long events) {
    common.stopAfter(events);
    return this;
  }

  @Override
  public StreamConsumerBuilder<T> listener(MessageConsumer.Listener listener) {
    common.listener(listener);
    return this;
  }

  /** The exclusive queue whose owner holds the name: one connection at a time may declare it. */
  String lockQueue() {
    return "rabbitkit.stream-consumer." + common.queue + "." + name;
  }

  String deadLetterQueueName() {
    return common.deadLetterQueue != null ? common.deadLetterQueue : common.queue + "." + name + ".dlq";
  }

  @Override
  public MessageConsumer build() {
    if (common.queue == null) {
      throw new IllegalStateException("stream(...) is required");
    }
    if (name == null) {
      throw new IllegalStateException("name(...) is required: the consumer's position is kept under it");
    }
    if ((common.handler == null) == (common.asyncHandler == null)) {
      throw new IllegalStateException("set exactly one of handler(...) and asyncHandler(...)");
    }
    ShortStrings.check("the name lock queue '" + lockQueue() + "'", lockQueue());
    ShortStrings.check("dead-letter queue name '" + deadLetterQueueName() + "'", deadLetterQueueName());
    return toolkit.createStreamConsumer(this);
  }
}
