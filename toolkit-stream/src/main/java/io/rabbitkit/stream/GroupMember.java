package io.rabbitkit.stream;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.stream.Consumer;
import com.rabbitmq.stream.ConsumerBuilder;
import com.rabbitmq.stream.ConsumerFlowStrategy;
import com.rabbitmq.stream.ConsumerUpdateListener;
import com.rabbitmq.stream.Message;
import com.rabbitmq.stream.MessageHandler;
import com.rabbitmq.stream.NoOffsetException;
import com.rabbitmq.stream.OffsetSpecification;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.Delivery;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ConsumerGroup} member on a stream-client super stream consumer with single active
 * consumer. The stream client calls {@link #handle} one event at a time per connection, so each
 * partition's events are handled in order; this class finishes each (handled, or copied to the
 * dead-letter queue) before the next, then records its offset.
 */
final class GroupMember<T> implements ConsumerGroup {

  private static final Logger LOG = LoggerFactory.getLogger(GroupMember.class);
  /** Broker-side tracking stores a partition's position every this many events (and on hand-over). */
  private static final int STORE_EVERY = 1_000;
  /** How long a partition's activation asks for its stored position before it falls back. */
  private static final Duration QUERY_PATIENCE = Duration.ofSeconds(10);

  private final BuilderImpl<T> settings;
  private final RabbitStreams streams;
  private final Retry retry;
  private final String deadLetterQueue;
  private final DeadLetterCopies deadLetters;
  private final Set<String> active = ConcurrentHashMap.newKeySet();
  /** What this member finished per partition, since it last became its active consumer. */
  private final Map<String, Position> positions = new ConcurrentHashMap<>();
  private final LongAdder received = new LongAdder();
  private final LongAdder processed = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final AtomicLong finished = new AtomicLong();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean stopping;
  private volatile Consumer consumer;

  private GroupMember(BuilderImpl<T> b) {
    this.settings = b;
    this.streams = b.streams;
    this.deadLetterQueue = b.deadLetterQueue != null ? b.deadLetterQueue : b.superStream + "." + b.group + ".dlq";
    if (b.retry == null || b.retry.getMaxAttempts() == 1) {
      this.retry = null; // one call: no retry machinery per event
    } else {
      this.retry = Retry.of("group-" + b.group, RetryConfig.from(b.retry)
          .ignoreExceptions(RejectMessageException.class, MessageDecodingException.class).build());
      retry.getEventPublisher().onRetry(e -> retried.increment());
    }
    this.deadLetters = new DeadLetterCopies(b.deadLetters, deadLetterQueue, b.superStream, b.group, () -> stopping);
  }

  private void start() {
    // A consumer of a missing super stream would wait without a word; a producer asks for its
    // partitions at once (stream-client 1.7 offers no public query for them).
    String what = "member of group '" + settings.group + "'";
    try {
      StreamErrors.whileUnavailable(StreamErrors.AVAILABLE_WITHIN, () -> streams.environment().producerBuilder()
          .superStream(settings.superStream).routing(m -> "").producerBuilder().build()).close();
    } catch (RuntimeException e) {
      throw StreamErrors.buildFailed(what, settings.superStream, e);
    }
    settings.deadLetters.declareMissing(Topology.of(Queue.classic(deadLetterQueue)));
    ConsumerBuilder builder = streams.environment().consumerBuilder().superStream(settings.superStream)
        .name(settings.group).singleActiveConsumer().consumerUpdateListener(this::update)
        .flow().strategy(ConsumerFlowStrategy.creditOnChunkArrival(settings.prefetchChunks)).builder()
        .manualTrackingStrategy().builder().messageHandler(this::handle);
    try {
      consumer = StreamErrors.whileUnavailable(StreamErrors.AVAILABLE_WITHIN, builder::build);
    } catch (RuntimeException e) {
      throw StreamErrors.buildFailed(what, settings.superStream, e);
    }
    LOG.info("joined group '{}' of super stream '{}' (positions {})", settings.group, settings.superStream,
        settings.offsets == null ? "on the broker" : "in " + settings.offsets);
  }

  /** The broker made this member active or inactive for one partition; returns where to start. */
  private OffsetSpecification update(ConsumerUpdateListener.Context context) {
    String partition = context.stream();
    if (!context.isActive()) {
      storeOnBroker(partition);
      active.remove(partition);
      LOG.info("group '{}': no longer active on partition '{}'", settings.group, partition);
      settings.listener.deactivated(partition);
      return OffsetSpecification.none();
    }
    OffsetSpecification start = startOf(partition, context.consumer());
    // What another member finished meanwhile is read from the store, not from this process's memory.
    positions.put(partition, new Position());
    active.add(partition);
    LOG.info("group '{}': active on partition '{}' from {}", settings.group, partition, start);
    settings.listener.activated(partition);
    return start;
  }

  /**
   * Where the group goes on in {@code partition}: after the last event it finished there. Right
   * after a node is lost the broker may not answer for a few seconds (the partition elects a new
   * leader): asked again every 500 ms for 10 s, then, if this member read the partition before,
   * after the last event it finished; else from the first event: events read twice, never skipped.
   */
  private OffsetSpecification startOf(String partition, Consumer partitionConsumer) {
    long deadline = System.nanoTime() + QUERY_PATIENCE.toNanos();
    while (true) {
      try {
        OptionalLong done = lastDone(partition, partitionConsumer);
        return done.isPresent() ? OffsetSpecification.offset(done.getAsLong() + 1) : OffsetSpecification.first();
      } catch (RuntimeException e) {
        if (System.nanoTime() - deadline > 0 || stopping) {
          Position p = positions.get(partition);
          Long mine = p == null || p.lastFinished < 0 ? null : p.lastFinished;
          LOG.warn("group '{}': cannot read the position of partition '{}' ({}); going on from {}", settings.group,
              partition, StreamErrors.describe(e),
              mine == null ? "its first event (events may be read twice)" : "the last event this member finished");
          return mine == null ? OffsetSpecification.first() : OffsetSpecification.offset(mine + 1);
        }
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopping = true;
      }
    }
  }

  private OptionalLong lastDone(String partition, Consumer partitionConsumer) {
    if (settings.offsets != null) {
      return settings.offsets.lastDone(partition, settings.group);
    }
    try {
      return OptionalLong.of(partitionConsumer.storedOffset());
    } catch (NoOffsetException e) {
      return OptionalLong.empty();
    }
  }

  private void storeOnBroker(String partition) {
    Position p = positions.get(partition);
    long last = p == null ? -1 : p.lastFinished;
    if (settings.offsets == null && last >= 0) {
      try {
        streams.environment().storeOffset(settings.group, partition, last);
      } catch (RuntimeException e) {
        LOG.warn("group '{}': storing offset {} of partition '{}' failed; its next reader starts earlier: {}",
            settings.group, last, partition, StreamErrors.describe(e));
      }
    }
  }

  private void handle(MessageHandler.Context context, Message message) {
    String partition = context.stream();
    long offset = context.offset();
    if (stopping) {
      return; // not finished: read again by whoever reads the partition next
    }
    Position position = positions.computeIfAbsent(partition, p -> new Position());
    if (offset <= position.lastFinished) {
      duplicates.increment();
      return;
    }
    received.increment();
    Map<String, Object> properties = message.getApplicationProperties() == null ? Map.of()
        : Collections.unmodifiableMap(message.getApplicationProperties());
    String key = properties.get(StreamPublisher.KEY) instanceof String k ? k : "";
    String contentType = message.getProperties() == null ? null : message.getProperties().getContentType();
    String messageId = message.getProperties() == null || message.getProperties().getMessageId() == null ? null
        : String.valueOf(message.getProperties().getMessageId());
    byte[] body = message.getBodyAsBinary();
    Interceptor.ConsumeObserver observer = Observers.before(streams.interceptors, partition, settings.superStream,
        messageId, properties, body.length);
    boolean observed = observer != Interceptor.ConsumeObserver.NONE;
    long startNanos = observed ? System.nanoTime() : 0;
    Throwable failure = null;
    try (Interceptor.Scope scope = observer.handlerScope()) {
      T value;
      try {
        value = settings.codec.decode(body, contentType);
      } catch (RuntimeException e) {
        throw e instanceof MessageDecodingException m ? m : new MessageDecodingException(e.getMessage(), e);
      }
      Delivery<T> delivery = new Delivery<>(value, partition, settings.superStream, key, false, 1,
          Optional.ofNullable(messageId), Optional.empty(), Optional.empty(), Optional.ofNullable(contentType),
          Optional.empty(), properties, Optional.empty(), Optional.empty(), OptionalLong.of(offset));
      if (retry == null) {
        settings.handler.handle(delivery);
      } else {
        retry.executeCheckedSupplier(() -> {
          settings.handler.handle(delivery);
          return null;
        });
      }
    } catch (Throwable t) {
      failure = t;
    }
    long handlerNanos = observed ? System.nanoTime() - startNanos : 0;
    if (failure == null) {
      processed.increment();
      Observers.outcome(observer, Interceptor.ConsumeOutcome.ACKED, handlerNanos, null);
    } else {
      if (deadLetters.copy(partition, offset, key, messageId, contentType, body, failure)) {
        deadLettered.increment();
      }
      Observers.outcome(observer, failure instanceof MessageDecodingException ? Interceptor.ConsumeOutcome.UNDECODABLE
          : Interceptor.ConsumeOutcome.DEAD_LETTERED, handlerNanos, failure);
    }
    finish(context, position, partition, offset);
  }

  private void finish(MessageHandler.Context context, Position position, String partition, long offset) {
    position.lastFinished = offset;
    if (settings.offsets != null) {
      try {
        settings.offsets.done(partition, settings.group, offset);
      } catch (RuntimeException e) {
        LOG.warn("group '{}': storing offset {} of partition '{}' failed; after a hand-over it is read again: {}",
            settings.group, offset, partition, StreamErrors.describe(e));
      }
    } else if (++position.sinceStored >= STORE_EVERY) {
      position.sinceStored = 0;
      context.storeOffset();
    }
    if (settings.stopAfter > 0 && finished.incrementAndGet() >= settings.stopAfter && !stopping) {
      stopping = true;
      stopped.complete(null);
    }
  }

  /**
   * What the member finished in one partition: written by the partition's dispatch thread (one at
   * a time), read when the partition moves.
   */
  private static final class Position {
    volatile long lastFinished = -1;
    int sinceStored;
  }

  @Override
  public Set<String> activePartitions() {
    return Set.copyOf(active);
  }

  @Override
  public String queue() {
    return settings.superStream;
  }

  @Override
  public boolean isRunning() {
    return !stopping && consumer != null;
  }

  @Override
  public MessageConsumer.Stats stats() {
    return new MessageConsumer.Stats(received.sum(), processed.sum(), retried.sum(), 0, deadLettered.sum(), 0,
        duplicates.sum());
  }

  @Override
  public CompletionStage<Void> stopped() {
    return stopped.minimalCompletionStage();
  }

  @Override
  public void close() {
    stopping = true;
    Consumer c = consumer;
    if (c != null) {
      active.forEach(this::storeOnBroker);
      try {
        c.close();
      } catch (RuntimeException e) {
        LOG.debug("closing the member of group '{}' failed: {}", settings.group, e.toString());
      }
    }
    deadLetters.close();
    active.clear();
    stopped.complete(null);
    LOG.info("left group '{}' of super stream '{}' ({})", settings.group, settings.superStream, stats());
  }

  @Override
  public String toString() {
    return "member of group '" + settings.group + "' of super stream '" + settings.superStream + "'";
  }

  static final class BuilderImpl<T> implements ConsumerGroup.Builder<T> {
    final RabbitStreams streams;
    String superStream;
    String group;
    OffsetStore offsets;
    MessageConsumer.Handler<T> handler;
    RetryConfig retry;
    RabbitToolkit deadLetters;
    String deadLetterQueue;
    MessageCodec<T> codec;
    ConsumerGroup.Listener listener = new ConsumerGroup.Listener() {
    };
    int prefetchChunks = 10;
    long stopAfter;

    BuilderImpl(RabbitStreams streams, Class<T> type) {
      this.streams = streams;
      this.codec = MessageCodec.forType(requireNonNull(type, "type"));
    }

    @Override
    public BuilderImpl<T> superStream(String name) {
      this.superStream = requireNonNull(name, "name");
      return this;
    }

    @Override
    public BuilderImpl<T> group(String name) {
      requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("a group name must not be empty");
      }
      this.group = name;
      return this;
    }

    @Override
    public BuilderImpl<T> offsets(OffsetStore store) {
      this.offsets = requireNonNull(store, "store");
      return this;
    }

    @Override
    public BuilderImpl<T> handler(MessageConsumer.Handler<T> handler) {
      this.handler = requireNonNull(handler, "handler");
      return this;
    }

    @Override
    public BuilderImpl<T> retry(RetryConfig retry) {
      this.retry = requireNonNull(retry, "retry");
      return this;
    }

    @Override
    public BuilderImpl<T> retry(int maxAttempts) {
      Checks.atLeastOne("maxAttempts", maxAttempts);
      return retry(RetryConfig.custom().maxAttempts(maxAttempts).waitDuration(Duration.ofMillis(50)).build());
    }

    @Override
    public BuilderImpl<T> deadLetters(RabbitToolkit rabbit, String queue) {
      this.deadLetters = requireNonNull(rabbit, "rabbit");
      this.deadLetterQueue = requireNonNull(queue, "queue");
      return this;
    }

    @Override
    public BuilderImpl<T> deadLetters(RabbitToolkit rabbit) {
      this.deadLetters = requireNonNull(rabbit, "rabbit");
      return this;
    }

    @Override
    public BuilderImpl<T> codec(MessageCodec<T> codec) {
      this.codec = requireNonNull(codec, "codec");
      return this;
    }

    @Override
    public BuilderImpl<T> listener(ConsumerGroup.Listener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    @Override
    public BuilderImpl<T> prefetchChunks(int chunks) {
      this.prefetchChunks = Checks.atLeastOne("prefetchChunks", chunks);
      return this;
    }

    @Override
    public BuilderImpl<T> stopAfter(long events) {
      this.stopAfter = Checks.atLeastOne("stopAfter", events);
      return this;
    }

    @Override
    public ConsumerGroup build() {
      if (superStream == null || group == null || handler == null) {
        throw new IllegalStateException("superStream(...), group(...) and handler(...) are required");
      }
      if (deadLetters == null) {
        throw new IllegalStateException("deadLetters(rabbit) is required: a failed event is copied to a dead-letter "
            + "queue over AMQP, never dropped");
      }
      GroupMember<T> member = new GroupMember<>(this);
      member.start();
      return member;
    }
  }
}
