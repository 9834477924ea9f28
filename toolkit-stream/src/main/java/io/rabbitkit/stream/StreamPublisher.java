package io.rabbitkit.stream;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.stream.Message;
import com.rabbitmq.stream.MessageBuilder;
import com.rabbitmq.stream.Producer;
import com.rabbitmq.stream.ProducerBuilder;
import io.rabbitkit.Confirmation;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.SafeText;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/** A {@link PartitionedPublisher} on a stream-client super stream producer. */
final class StreamPublisher<T> implements PartitionedPublisher<T> {

  /** The application property that carries an event's key, for routing and for consumers. */
  static final String KEY = "key";
  /**
   * The largest body sent: the stream protocol's frames default to 1 MiB, and an event with its
   * properties must fit in one.
   */
  static final int MAX_BODY = 1_000_000;

  private final String superStream;
  private final Producer producer;
  private final MessageCodec<T> codec;
  private final Function<? super T, String> key;
  private final ToLongFunction<? super T> publishingId;
  private final Function<? super T, String> messageId;
  private final Function<? super T, Map<String, Object>> headers;

  private StreamPublisher(BuilderImpl<T> b, Producer producer) {
    this.superStream = b.superStream;
    this.producer = producer;
    this.codec = b.codec;
    this.key = b.key;
    this.publishingId = b.publishingId;
    this.messageId = b.messageId;
    this.headers = b.headers;
  }

  @Override
  public CompletableFuture<Confirmation> publish(T event) {
    CompletableFuture<Confirmation> confirmed = new CompletableFuture<>();
    publish(event, (confirmation, failure) -> {
      if (failure == null) {
        confirmed.complete(confirmation);
      } else {
        confirmed.completeExceptionally(failure);
      }
    });
    return confirmed;
  }

  @Override
  public void publish(T event, Outcome outcome) {
    requireNonNull(event, "event");
    requireNonNull(outcome, "outcome");
    String id = messageId == null ? null : messageId.apply(event);
    String k;
    byte[] body;
    try {
      k = key.apply(event);
      if (k == null) {
        outcome.completed(null, new PublishException(PublishException.Reason.INVALID,
            "cannot publish to super stream '" + superStream + "': the key function returned null for event "
                + SafeText.of(id),
            id, superStream, null, null));
        return;
      }
      body = codec.encode(event);
    } catch (RuntimeException e) {
      outcome.completed(null, new PublishException(PublishException.Reason.INVALID,
          "cannot publish to super stream '" + superStream + "': " + e.getMessage(), id, superStream, null, e));
      return;
    }
    if (body.length > MAX_BODY) {
      outcome.completed(null, new MessageTooLargeException(id, superStream, k, body.length, MAX_BODY,
          "the stream protocol's frame size"));
      return;
    }
    MessageBuilder builder = producer.messageBuilder();
    if (publishingId != null) {
      builder.publishingId(publishingId.applyAsLong(event));
    }
    MessageBuilder.PropertiesBuilder properties = builder.properties().contentType(codec.contentType());
    if (id != null) {
      properties.messageId(id);
    }
    MessageBuilder.ApplicationPropertiesBuilder applicationProperties = properties.messageBuilder()
        .applicationProperties();
    if (headers != null) {
      headers.apply(event).forEach((name, value) -> put(applicationProperties, name, value));
    }
    Message message = applicationProperties.entry(KEY, k).messageBuilder().addData(body).build();
    String routingKey = k;
    try {
      producer.send(message, status -> {
        if (status.isConfirmed()) {
          outcome.completed(new Confirmation(id, superStream, routingKey), null);
        } else {
          outcome.completed(null, StreamErrors.notConfirmed(status.getCode(), id, superStream, routingKey));
        }
      });
    } catch (RuntimeException e) {
      outcome.completed(null, new PublishException(PublishException.Reason.NOT_SENT, "cannot publish event "
          + SafeText.of(id) + " to super stream '" + superStream + "': " + StreamErrors.describe(e), id, superStream,
          routingKey, e));
    }
  }

  /** A header as an application property: the AMQP 1.0 types a stream message can carry, or text. */
  private static void put(MessageBuilder.ApplicationPropertiesBuilder to, String name, Object value) {
    if (name.equals(KEY) || value == null) {
      return;
    }
    if (value instanceof Long v) {
      to.entry(name, v);
    } else if (value instanceof Integer v) {
      to.entry(name, v);
    } else if (value instanceof Boolean v) {
      to.entry(name, v);
    } else if (value instanceof Double v) {
      to.entry(name, v);
    } else {
      to.entry(name, String.valueOf(value));
    }
  }

  @Override
  public void close() {
    producer.close();
  }

  @Override
  public String toString() {
    return "publisher to super stream '" + superStream + "'";
  }

  static final class BuilderImpl<T> implements PartitionedPublisher.Builder<T> {
    private final RabbitStreams streams;
    String superStream;
    boolean byKey;
    Function<? super T, String> key;
    String name;
    ToLongFunction<? super T> publishingId;
    Function<? super T, String> messageId;
    Function<? super T, Map<String, Object>> headers;
    MessageCodec<T> codec;
    int maxInFlight = 10_000;
    Duration confirmTimeout = Duration.ofSeconds(30);

    BuilderImpl(RabbitStreams streams, Class<T> type) {
      this(streams, MessageCodec.forType(requireNonNull(type, "type")));
    }

    BuilderImpl(RabbitStreams streams, MessageCodec<T> codec) {
      this.streams = streams;
      this.codec = codec;
    }

    @Override
    public BuilderImpl<T> superStream(String name) {
      this.superStream = requireNonNull(name, "name");
      return this;
    }

    @Override
    public BuilderImpl<T> superStream(SuperStream superStream) {
      this.superStream = superStream.name();
      this.byKey = superStream.routedByKey();
      return this;
    }

    @Override
    public BuilderImpl<T> key(Function<? super T, String> key) {
      this.key = requireNonNull(key, "key");
      return this;
    }

    @Override
    public BuilderImpl<T> name(String name) {
      requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("a producer name must not be empty");
      }
      this.name = name;
      return this;
    }

    @Override
    public BuilderImpl<T> publishingId(ToLongFunction<? super T> id) {
      this.publishingId = requireNonNull(id, "id");
      return this;
    }

    @Override
    public BuilderImpl<T> messageId(Function<? super T, String> id) {
      this.messageId = requireNonNull(id, "id");
      return this;
    }

    @Override
    public BuilderImpl<T> codec(MessageCodec<T> codec) {
      this.codec = requireNonNull(codec, "codec");
      return this;
    }

    @Override
    public BuilderImpl<T> maxInFlight(int events) {
      this.maxInFlight = Checks.atLeastOne("maxInFlight", events);
      return this;
    }

    @Override
    public BuilderImpl<T> confirmTimeout(Duration timeout) {
      this.confirmTimeout = Checks.positive("confirmTimeout", timeout);
      return this;
    }

    @Override
    public PartitionedPublisher<T> build() {
      if (superStream == null || key == null) {
        throw new IllegalStateException("superStream(...) and key(...) are required");
      }
      if (publishingId != null && name == null) {
        throw new IllegalStateException(
            "publishingId(...) needs name(...): the broker de-duplicates per producer name");
      }
      String what = "publisher to super stream '" + superStream + "'";
      try {
        ProducerBuilder.RoutingConfiguration routing = streams.environment().producerBuilder().superStream(superStream)
            .routing(m -> (String) m.getApplicationProperties().get(KEY));
        ProducerBuilder builder =
            (byKey ? routing.key() : routing.hash()).producerBuilder().maxUnconfirmedMessages(maxInFlight)
                .confirmTimeout(confirmTimeout);
        if (name != null) {
          builder.name(name);
        }
        return new StreamPublisher<>(this,
            StreamErrors.whileUnavailable(StreamErrors.AVAILABLE_WITHIN, builder::build));
      } catch (RuntimeException e) {
        throw StreamErrors.buildFailed(what, superStream, e);
      }
    }
  }
}
