package io.rabbitkit.impl;

import io.github.resilience4j.retry.Retry;
import io.rabbitkit.Health;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.MessageIds;
import io.rabbitkit.Publisher;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.TopologyException;
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
  private final Resources resources = new Resources();
  private final AtomicBoolean closed = new AtomicBoolean();

  Toolkit(String endpoint, String connectionName, Shared context, RoleConnection consuming, RoleConnection publishing) {
    this.endpoint = endpoint;
    this.connectionName = connectionName;
    this.context = context;
    this.consuming = consuming;
    this.publishing = publishing;
    this.admin = new Admin(consuming, context.topology);
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

  <T> Publisher<T> createPublisher(PublisherBuilder<T> b) {
    ConfirmingSender.Options options = new ConfirmingSender.Options(b.maxInFlight, b.windowTimeout, b.confirmTimeout,
        b.resendAfterRecovery, b.maxBodySize, false, b.failWhileDisconnected);
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
    String queue = b.queue;
    boolean pipeline = b.redelivery != null || b.deadLetterQueue != null;
    String dlq = b.deadLetterQueue != null ? b.deadLetterQueue : queue + ".dlq";
    // With a known count, take no more than will be handled (see QueueConsumer.finishedOneMustWait).
    int channels = b.stopAfter > 0 ? (int) Math.min(b.concurrency, b.stopAfter) : b.concurrency;
    int perChannel = b.stopAfter > 0 ? (int) Math.min(b.prefetch, Math.max(1, b.stopAfter / channels)) : b.prefetch;
    Optional<Queue> declared = admin.declaredQueue(queue);
    boolean hasDlx = b.deadLetterExchangeOnQueue || declared.flatMap(Queue::deadLetterExchange).isPresent();
    int deliveryLimit = hasDlx ? QueueConsumer.NO_LIMIT : declared.map(q -> q.type() != Queue.Type.QUORUM
        ? QueueConsumer.NO_LIMIT
        : q.deliveryLimit().orElse(QueueConsumer.DEFAULT_QUORUM_DELIVERY_LIMIT)).orElse(QueueConsumer.UNKNOWN_LIMIT);
    if (!pipeline && !hasDlx && deliveryLimit != QueueConsumer.NO_LIMIT
        && deliveryLimit != QueueConsumer.UNKNOWN_LIMIT) {
      LOG.warn("queue '{}' is a quorum queue with a delivery limit of {} and no dead-letter exchange: a message "
          + "that keeps failing is moved to '{}' before the broker would drop it", queue, deliveryLimit, dlq);
    }
    QueueConsumer.Settings<T> settings = new QueueConsumer.Settings<>(queue, b.codec, b.handler, b.asyncHandler,
        perChannel, channels, b.retry == null ? null : Retry.of("consumer-" + queue, b.retry), b.requeueDelay,
        b.maxBodySize, b.drainTimeout, b.listener, b.deduplicate, b.stopAfter, deliveryLimit,
        () -> limitGuard(queue, dlq, perChannel * channels), backend(queue, b.redelivery, declared));
    FailurePolicy failures;
    if (pipeline) {
      Redelivery tiers = b.redelivery != null ? b.redelivery : Redelivery.none();
      if (tiers.backend() == Redelivery.Backend.IN_QUEUE) {
        declareAuxiliaryQueues(queue, dlq, Redelivery.none()); // the dead-letter queue only
      } else {
        declareAuxiliaryQueues(queue, dlq, tiers);
      }
      failures = deadLetterPipeline(queue, tiers, dlq, perChannel * channels);
    } else if (hasDlx) {
      failures = FailurePolicy.rejectToDeadLetterExchange();
    } else {
      failures = FailurePolicy.requeue();
    }
    QueueConsumer<T> consumer = new QueueConsumer<>(settings, consuming, new ConsumerCounters());
    consumer.start(failures);
    consumer.onClose(resources.track(consumer));
    return consumer;
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
    ConfirmingSender replies = sender("replies of rpc server '" + b.queue + "'", new ConfirmingSender.Options(
        Math.max(16, b.prefetch * b.concurrency), Duration.ofSeconds(30), Duration.ofSeconds(30), true,
        Integer.MAX_VALUE, true, false)); // the reply's confirm only queues the request's ack: no need for a thread hand-off
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

  /**
   * The redelivery backend a consumer of {@code queue} uses; for rounds in the queue itself, checks
   * that the broker can delay them (RabbitMQ 4.3+) and that the queue, if declared through the
   * toolkit, is a quorum queue declared to delay them as {@code redelivery} expects.
   */
  private Redelivery.Backend backend(String queue, Redelivery redelivery, Optional<Queue> declared) {
    if (redelivery == null || redelivery.backend() != Redelivery.Backend.IN_QUEUE) {
      return Redelivery.Backend.DELAY_QUEUES;
    }
    Health.Broker broker = broker();
    if (!broker.delayedRetry()) {
      throw new IllegalStateException("Redelivery.inQueue needs RabbitMQ 4.3 or later, which delays redeliveries in "
          + "quorum queues; this broker is " + broker.product() + " " + broker.version()
          + ": use Redelivery.after(...), whose delay queues work on every version");
    }
    declared.ifPresentOrElse(q -> {
      List<Duration> delays = redelivery.delays();
      Object min = q.arguments().get("x-delayed-retry-min");
      Object max = q.arguments().get("x-delayed-retry-max");
      boolean matches = q.type() == Queue.Type.QUORUM && "failed".equals(q.arguments().get("x-delayed-retry-type"))
          && min instanceof Number n && n.longValue() == delays.get(0).toMillis()
          && max instanceof Number x && x.longValue() >= delays.get(delays.size() - 1).toMillis();
      if (!matches) {
        throw new IllegalStateException("Redelivery.inQueue needs queue '" + queue + "' declared as a quorum queue "
            + "with withDelayedRetry(" + delays.get(0) + ", max), max at least " + delays.get(delays.size() - 1)
            + "; it was declared as " + q.type().brokerName() + " with " + q.arguments());
      }
    }, () -> LOG.warn("queue '{}' was not declared through this toolkit: Redelivery.inQueue cannot check that it is a "
        + "quorum queue that delays redeliveries (withDelayedRetry); without that, rounds come back at once", queue));
    return Redelivery.Backend.IN_QUEUE;
  }

  /**
   * Declares {@link #auxiliaryQueues}. Delay queues that exist with other arguments (classic ones
   * from an earlier version where quorum ones are wanted now, or the other way round from a process
   * that knew less about the work queue) are kept as they are, with a warning: redeclaring them is
   * refused, and deleting them could lose what waits in them.
   */
  private void declareAuxiliaryQueues(String queue, String dlq, Redelivery tiers) {
    boolean quorum = admin.declaredQueue(queue).map(q -> q.type() == Queue.Type.QUORUM).orElse(false);
    Topology aux = auxiliaryQueues(queue, dlq, tiers, quorum);
    try {
      admin.declare(aux);
    } catch (TopologyException e) {
      if (e.replyCode() != 406 || tiers.delays().isEmpty()) {
        throw e;
      }
      admin.declareMissing(aux);
      LOG.warn("the delay queues of queue '{}' exist with other arguments than {} ones; they are kept as they are. "
          + "A quorum work queue's delay queues should be quorum queues with at-least-once dead-lettering (else a "
          + "message whose wait ends while '{}' is missing or full is lost): delete them when empty to have them so",
          queue, quorum ? "quorum" : "classic", queue);
    }
  }

  /**
   * Delay queues (each dead-letters back to {@code queue} after its TTL) and the dead-letter queue if
   * not declared. The hop back is the broker's dead-lettering, which by default is at most once: a
   * message whose TTL ends while the work queue is missing or refuses it (full, reject-publish) is
   * dropped. For a work queue declared as a quorum queue the tiers are quorum queues with
   * at-least-once dead-lettering (RabbitMQ 3.10+): the broker keeps the message in its tier until
   * the work queue takes it.
   */
  private Topology auxiliaryQueues(String queue, String dlq, Redelivery tiers, boolean quorum) {
    Topology.Builder aux = Topology.builder();
    for (Duration delay : tiers.delays()) {
      String name = Redelivery.delayQueueName(queue, delay);
      Queue tier = quorum
          ? Queue.quorum(name).withOverflow(Queue.Overflow.REJECT_PUBLISH)
              .withArgument("x-dead-letter-strategy", "at-least-once")
          : Queue.classic(name);
      aux.queue(tier.withMessageTtl(delay).withDeadLetterExchange("").withDeadLetterRoutingKey(queue));
    }
    if (admin.declaredQueue(dlq).isEmpty()) {
      aux.queue(Queue.classic(dlq));
    }
    return aux.build();
  }

  ConfirmingSender sender(String name, ConfirmingSender.Options options) {
    ensureOpen();
    try {
      return new ConfirmingSender(publishing, name, options);
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel for " + name, e);
    }
  }

  private FailurePolicy deadLetterPipeline(String queue, Redelivery tiers, String dlq, int window) {
    ConfirmingSender sender = sender("dead-letter publisher of queue '" + queue + "'", new ConfirmingSender.Options(
        Math.max(16, window), Duration.ofSeconds(30), Duration.ofSeconds(30), true, Integer.MAX_VALUE));
    return new DeadLetterPipeline(queue, sender, tiers, dlq, publishing.frameMax());
  }

  /**
   * The dead-letter move a consumer falls back on when requeueing would take a message past its
   * queue's delivery limit: to {@code dlq}, declared if it does not exist.
   */
  private FailurePolicy limitGuard(String queue, String dlq, int window) {
    if (admin.declaredQueue(dlq).isEmpty()) {
      admin.declareMissing(Topology.of(Queue.classic(dlq)));
    }
    return deadLetterPipeline(queue, Redelivery.none(), dlq, window);
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
