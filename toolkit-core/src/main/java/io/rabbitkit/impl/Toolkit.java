package io.rabbitkit.impl;

import io.rabbitkit.Health;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.MessageIds;
import io.rabbitkit.Publisher;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The toolkit: two role connections, the topology declared through it ({@link Admin}) and the
 * resources it opened ({@link Resources}). Builders hand it their finished options; it creates,
 * starts and registers the resource.
 */
final class Toolkit implements RabbitToolkit {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitToolkit.class);

  private final String endpoint;
  private final String connectionName;
  private final Shared context;
  private final RoleConnection consuming;
  private final RoleConnection publishing;
  private final Admin admin;
  private final ConsumerWiring wiring;
  /** Stream and consumer name of every stream consumer this toolkit runs: one per name. */
  private final java.util.Set<String> streamNames = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Work queue to dead-letter queue, for every consumer built with one, in the order built. */
  private final java.util.Map<String, String> deadLetterQueues = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>());
  /** Where stream consumers keep their positions unless given a store: for the toolkit's life. */
  private final io.rabbitkit.OffsetStore offsets = io.rabbitkit.OffsetStore.inMemory();
  private final Resources resources = new Resources();
  private final AtomicBoolean closed = new AtomicBoolean();

  Toolkit(String endpoint, String connectionName, Shared context, RoleConnection consuming, RoleConnection publishing) {
    this.endpoint = endpoint;
    this.connectionName = connectionName;
    this.context = context;
    this.consuming = consuming;
    this.publishing = publishing;
    this.admin = new Admin(consuming, context.topology);
    this.wiring = new ConsumerWiring(this, admin);
  }

  // ---------------------------------------------------------------- topology

  @Override
  public void declare(Topology topology) {
    ensureOpen();
    admin.declare(topology);
  }

  @Override
  public void declareMissing(Topology topology) {
    ensureOpen();
    admin.declareMissing(topology);
  }

  @Override
  public boolean exchangeExists(String name) {
    ensureOpen();
    return admin.exchangeExists(name);
  }

  @Override
  public Topology declared() {
    return admin.declared();
  }

  @Override
  public void deleteQueue(String name) {
    ensureOpen();
    admin.deleteQueue(name);
  }

  @Override
  public void deleteExchange(String name) {
    ensureOpen();
    admin.deleteExchange(name);
  }

  @Override
  public void unbind(Binding binding) {
    ensureOpen();
    admin.unbind(binding);
  }

  @Override
  public long purgeQueue(String name) {
    ensureOpen();
    return admin.purgeQueue(name);
  }

  @Override
  public Optional<QueueInfo> queueInfo(String name) {
    ensureOpen();
    return admin.queueInfo(name);
  }

  // ---------------------------------------------------------------- resources

  @Override
  public <T> Publisher.Builder<T> publisherBuilder(Class<T> type) {
    ensureOpen();
    return new PublisherBuilder<>(this, type);
  }

  @Override
  public <T> MessageConsumer.Builder<T> consumerBuilder(Class<T> type) {
    ensureOpen();
    return new ConsumerBuilder<>(this, type);
  }

  @Override
  public <Q, R> RpcClient.Builder<Q, R> rpcClientBuilder(Class<Q> requestType, Class<R> responseType) {
    ensureOpen();
    return new RpcClientBuilder<>(this, requestType, responseType);
  }

  @Override
  public <T> MessageConsumer.StreamBuilder<T> streamConsumerBuilder(Class<T> type) {
    return new StreamConsumerBuilder<>(this, type, offsets);
  }

  @Override
  public <Q, R> RpcServer.Builder<Q, R> rpcServerBuilder(Class<Q> requestType, Class<R> responseType) {
    ensureOpen();
    return new RpcServerBuilder<>(this, requestType, responseType);
  }

  @Override
  public DeadLetters deadLetters(String queue) {
    return deadLetters(queue, queue + ".dlq");
  }

  @Override
  public DeadLetters deadLetters(String queue, String deadLetterQueue) {
    java.util.Objects.requireNonNull(queue, "queue");
    java.util.Objects.requireNonNull(deadLetterQueue, "deadLetterQueue");
    ensureOpen();
    return new DefaultDeadLetters(this, queue, deadLetterQueue);
  }

  @Override
  public java.util.List<DeadLetters> knownDeadLetters() {
    java.util.List<java.util.Map.Entry<String, String>> known;
    synchronized (deadLetterQueues) {
      known = deadLetterQueues.entrySet().stream().map(e -> java.util.Map.entry(e.getKey(), e.getValue())).toList();
    }
    return known.stream().map(e -> deadLetters(e.getKey(), e.getValue())).toList();
  }

  /** A consumer of {@code queue} sends its failures to {@code deadLetterQueue}. */
  void deadLettersOf(String queue, String deadLetterQueue) {
    deadLetterQueues.putIfAbsent(queue, deadLetterQueue);
  }

  <T> Publisher<T> createPublisher(PublisherBuilder<T> b) {
    SenderOptions options = SenderOptions.forPublisher(b);
    String name = "publisher to " + (b.exchange.isEmpty() ? "default exchange" : "exchange '" + b.exchange + "'");
    ConfirmingSender sender = sender(name, options);
    Function<? super T, String> ids = b.messageId;
    if (ids == null) {
      MessageIds generated = new MessageIds();
      ids = ignored -> generated.next();
    }
    DefaultPublisher<T> publisher = new DefaultPublisher<>(sender, b.codec, b.exchange, b.routingKey, ids,
        b.messageId == null, Map.copyOf(b.headers), b.mandatory, b.persistent, context.interceptors);
    publisher.onClose(resources.track(publisher));
    return publisher;
  }

  <T> MessageConsumer createConsumer(ConsumerBuilder<T> b) {
    ensureOpen();
    ConsumerWiring.Wired<T> wired = wiring.wire(b);
    QueueConsumer<T> consumer = new QueueConsumer<>(wired.settings(), consuming, new ConsumerCounters());
    consumer.start(wired.failures(), wired.guard().apply(consumer.warnings()));
    consumer.onClose(resources.track(consumer));
    return consumer;
  }

  <T> MessageConsumer createStreamConsumer(StreamConsumerBuilder<T> b) {
    ensureOpen();
    String key = b.common.queue + "\u0000" + b.name;
    if (!streamNames.add(key)) {
      throw new StreamException(StreamException.Reason.NAME_IN_USE, "consumer '" + b.name + "' of stream '"
          + b.common.queue + "' cannot start: this toolkit already reads the stream under this name", null);
    }
    try {
      ConsumerWiring.Wired<T> wired = wiring.wireStream(b, consuming);
      QueueConsumer<T> consumer = new QueueConsumer<>(wired.settings(), consuming, new ConsumerCounters());
      consumer.start(wired.failures(), wired.guard().apply(consumer.warnings()));
      Runnable forget = resources.track(consumer);
      consumer.onClose(() -> {
        streamNames.remove(key);
        forget.run();
      });
      return consumer;
    } catch (RuntimeException e) {
      streamNames.remove(key);
      throw e;
    }
  }

  <Q, R> RpcClient<Q, R> createRpcClient(RpcClientBuilder<Q, R> b) {
    ensureOpen();
    DefaultRpcClient<Q, R> client = new DefaultRpcClient<>(publishing, b.exchange, b.routingKey, b.requestCodec,
        b.responseCodec, b.timeout);
    client.onClose(resources.track(client));
    return client;
  }

  <Q, R> RpcServer createRpcServer(RpcServerBuilder<Q, R> b) {
    // A server owns its request queue: declared (durable, classic) unless it already exists as declared elsewhere.
    declareMissing(Topology.of(Queue.classic(b.queue)));
    ConfirmingSender replies = sender("replies of rpc server '" + b.queue + "'",
        SenderOptions.forRpcReplies(b.prefetch * b.concurrency));
    DefaultRpcServer<Q, R> server =
        new DefaultRpcServer<>(b.queue, b.requestCodec, b.responseCodec, b.handler, replies);
    try {
      MessageConsumer.Builder<byte[]> requests = consumerBuilder(byte[].class)
          .queue(b.queue)
          .prefetch(b.prefetch)
          .concurrency(b.concurrency)
          .asyncHandler(server::serve);
      if (b.stopAfter > 0) {
        requests.stopAfter(b.stopAfter);
      }
      server.attach(requests.build());
    } catch (RuntimeException e) {
      replies.close(Duration.ZERO);
      throw e;
    }
    server.onClose(resources.track(server));
    return server;
  }

  ConfirmingSender sender(String name, SenderOptions options) {
    ensureOpen();
    try {
      return new ConfirmingSender(publishing, name, options);
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel for " + name, e);
    }
  }

  RoleConnection publishing() {
    return publishing;
  }

  Admin admin() {
    return admin;
  }

  RoleConnection consuming() {
    return consuming;
  }

  /** Publishers, consumers and RPC clients and servers not closed yet. */
  int openResources() {
    return resources.size();
  }

  // ---------------------------------------------------------------- state

  @Override
  public boolean isConnected() {
    return consuming.isOpen() && publishing.isOpen();
  }

  @Override
  public Health health() {
    return new Health(broker(), List.of(publishing.status(), consuming.status()), resources.publishers(),
        resources.consumers());
  }

  /** The broker, from the properties it announced on the publishing connection. */
  Health.Broker broker() {
    Map<String, Object> announced = publishing.serverProperties();
    String product = String.valueOf(announced.getOrDefault("product", "unknown"));
    String version = String.valueOf(announced.getOrDefault("version", "unknown"));
    Health.Broker probe = new Health.Broker(product, version, false, "", List.of());
    boolean rabbit = product.equals("RabbitMQ");
    String store = !rabbit || !probe.atLeast(4, 0) ? "mnesia" : probe.atLeast(4, 3) ? "khepri" : "mnesia or khepri";
    return new Health.Broker(product, version, rabbit && probe.atLeast(4, 3), rabbit ? store : "unknown",
        resources.redeliveryBackends());
  }

  @Override
  public boolean isBlocked() {
    return publishing.isBlocked();
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new ResourceClosedException("the toolkit connected to " + endpoint, "is closed");
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    resources.closeAll();
    consuming.close();
    publishing.close();
    context.shutdown();
    LOG.info("closed connections to {}", endpoint);
  }

  @Override
  public String toString() {
    return "RabbitToolkit[" + endpoint + ", connection '" + connectionName + "'" + (closed.get() ? ", closed" : "")
        + "]";
  }
}
