package io.rabbitkit.stream;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.stream.ByteCapacity;
import com.rabbitmq.stream.Environment;
import com.rabbitmq.stream.StreamCreator;
import com.rabbitmq.stream.StreamNotAvailableException;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Message;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The entry point to super streams over RabbitMQ's stream protocol (port 5552; the broker needs the
 * {@code rabbitmq_stream} plugin, RabbitMQ 3.13 or later): declare super streams, publish to them
 * routed by key and de-duplicated, and read them in consumer groups whose partitions the broker hands
 * out among processes. One per application; thread-safe; close it last.
 *
 * <pre>{@code
 * try (RabbitStreams streams = RabbitStreams.connect("rabbitmq-stream://guest:guest@localhost:5552/%2f")) {
 *   streams.declare(SuperStream.of("orders-events", 3));
 *   ...
 * }
 * }</pre>
 */
public final class RabbitStreams implements AutoCloseable {

  private final Environment environment;
  private final String shownUri;
  final List<Interceptor> interceptors;

  private RabbitStreams(Environment environment, String shownUri, List<Interceptor> interceptors) {
    this.environment = environment;
    this.shownUri = shownUri;
    this.interceptors = List.copyOf(interceptors);
  }

  /** Connects to the stream protocol at {@code uri} ({@code rabbitmq-stream://user:pass@host:5552/vhost}). */
  public static RabbitStreams connect(String uri) {
    return builder().uri(uri).connect();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** How to connect. */
  public static final class Builder {
    private List<String> uris = List.of("rabbitmq-stream://guest:guest@localhost:5552/%2f");
    private final List<Interceptor> interceptors = new ArrayList<>();
    private Duration rpcTimeout = Duration.ofSeconds(10);

    private Builder() {
    }

    /** {@code rabbitmq-stream://user:pass@host:port/vhost}; default {@code localhost:5552} as guest. */
    public Builder uri(String uri) {
      return uris(uri);
    }

    /** Several nodes of one cluster, tried in order: the client then connects to each partition's leader. */
    public Builder uris(String... uris) {
      if (uris.length == 0) {
        throw new IllegalArgumentException("at least one URI");
      }
      for (String uri : uris) {
        requireNonNull(uri, "uri");
        if (!uri.startsWith("rabbitmq-stream://") && !uri.startsWith("rabbitmq-stream+tls://")) {
          throw new IllegalArgumentException("a stream protocol URI starts with rabbitmq-stream:// (port 5552 by "
              + "default), not " + StreamErrors.masked(uri) + " (an amqp:// URI is for toolkit-core)");
        }
      }
      this.uris = List.of(uris);
      return this;
    }

    private String shown() {
      return String.join(",", uris.stream().map(StreamErrors::masked).toList());
    }

    /** Sees every event a consumer group of these streams handles (metrics, tracing), in order. */
    public Builder interceptor(Interceptor interceptor) {
      interceptors.add(requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /** How long a call to the broker may take; default 10 s. */
    public Builder rpcTimeout(Duration timeout) {
      this.rpcTimeout = io.rabbitkit.internal.Checks.positive("rpcTimeout", timeout);
      return this;
    }

    /**
     * Connects.
     *
     * @throws ConnectionException when the stream port does not answer (is the plugin enabled?) or
     *     refuses the credentials
     */
    public RabbitStreams connect() {
      try {
        Environment environment = Environment.builder().uris(uris).rpcTimeout(rpcTimeout).lazyInitialization(false)
            .build();
        return new RabbitStreams(environment, shown(), interceptors);
      } catch (RuntimeException e) {
        throw StreamErrors.connectFailed(shown(), e);
      }
    }
  }

  /**
   * Declares {@code superStream}: creates it, or checks that the one that exists has its partitions.
   *
   * @throws TopologyException if it exists with other partitions, or the broker refuses it
   */
  public void declare(SuperStream superStream) {
    requireNonNull(superStream, "superStream");
    List<String> partitions = superStream.partitionNames();
    if (partitions.stream().allMatch(this::streamExists)) {
      return; // already there (declared again with other retention arguments, the broker keeps its own)
    }
    StreamCreator creator = environment.streamCreator().name(superStream.name());
    superStream.maxAge().ifPresent(creator::maxAge);
    superStream.maxLengthBytes().ifPresent(b -> creator.maxLengthBytes(ByteCapacity.B(b)));
    superStream.maxSegmentSizeBytes().ifPresent(b -> creator.maxSegmentSizeBytes(ByteCapacity.B(b)));
    StreamCreator.SuperStreamConfiguration config = creator.superStream();
    if (superStream.routedByKey()) {
      config.bindingKeys(superStream.bindingKeys().toArray(String[]::new));
    } else {
      config.partitions(superStream.partitions());
    }
    try {
      config.creator().create();
    } catch (RuntimeException e) {
      throw StreamErrors.declareFailed(superStream, e);
    }
  }

  /** Whether every partition of {@code superStream} exists. */
  public boolean exists(SuperStream superStream) {
    return superStream.partitionNames().stream().allMatch(this::streamExists);
  }

  /** A stream without a leader (just declared, or its node lost) exists: stream-client throws. */
  private boolean streamExists(String stream) {
    try {
      return environment.streamExists(stream);
    } catch (StreamNotAvailableException e) {
      return true;
    }
  }

  /** Deletes the super stream {@code name} and its partitions, with every event in them. */
  public void delete(String name) {
    try {
      environment.deleteSuperStream(requireNonNull(name, "name"));
    } catch (RuntimeException e) {
      throw new TopologyException("super stream '" + name + "'", null, 0,
          "deleting super stream '" + name + "' failed: " + StreamErrors.describe(e), e);
    }
  }

  /** Starts building a producer of {@code type} events (JSON unless {@code String} or {@code byte[]}). */
  public <T> PartitionedPublisher.Builder<T> publisherBuilder(Class<T> type) {
    return new StreamPublisher.BuilderImpl<>(this, type);
  }

  /**
   * A producer of ready-made messages, such as an outbox relay's rows: each goes to the partition of
   * its routing key, with its message id, its headers as application properties and {@code
   * contentType}. Unnamed: a re-sent message is stored again, and consumers drop it by message id
   * (an inbox), which is what keeps order when a relay re-sends an older row after a newer one went
   * out, where the broker's de-duplication would drop the older row for good.
   *
   * <pre>{@code
   * PartitionedPublisher<Message<byte[]>> events = streams.messagePublisher(orders, "application/json");
   * outbox.relayBuilder(dataSource, rabbit).destination("orders-events", events::publish).start();
   * }</pre>
   */
  public PartitionedPublisher<Message<byte[]>> messagePublisher(SuperStream superStream, String contentType) {
    requireNonNull(contentType, "contentType");
    MessageCodec<Message<byte[]>> codec = new MessageCodec<>() {
      @Override
      public String contentType() {
        return contentType;
      }

      @Override
      public byte[] encode(Message<byte[]> message) {
        return message.body();
      }

      @Override
      public Message<byte[]> decode(byte[] body, String type) {
        return Message.of(body);
      }
    };
    StreamPublisher.BuilderImpl<Message<byte[]>> builder = new StreamPublisher.BuilderImpl<>(this, codec);
    builder.headers = Message::headers;
    return builder.superStream(superStream).key(m -> m.routingKey().orElse(null))
        .messageId(m -> m.messageId().orElse(null)).build();
  }

  /** Starts building a member of a consumer group reading {@code type} events. */
  public <T> ConsumerGroup.Builder<T> consumerGroupBuilder(Class<T> type) {
    return new GroupMember.BuilderImpl<>(this, type);
  }

  Environment environment() {
    return environment;
  }

  @Override
  public void close() {
    environment.close();
  }

  @Override
  public String toString() {
    return "RabbitStreams[" + shownUri + "]";
  }
}
