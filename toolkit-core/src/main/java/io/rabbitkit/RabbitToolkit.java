package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.ForgivingExceptionHandler;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: one per application. Owns two connections (one for publishing, one for
 * consuming, so a publisher blocked by a resource alarm never stops consumers from acking), their
 * channels and the toolkit's threads. Thread-safe.
 *
 * <pre>{@code
 * try (RabbitToolkit rabbit = RabbitToolkit.builder().uri("amqp://guest:guest@localhost:5672").connect()) {
 *   rabbit.declare(Topology.of(Queue.quorum("orders")));
 *   Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey("orders").build();
 *   orders.publish(new Order("o-1", 10.5)).join();
 * }
 * }</pre>
 *
 * <p>Recovery: amqp-client's automatic connection recovery is on. After a recovery the toolkit
 * re-declares everything declared through it, then re-opens its channels, re-subscribes its
 * consumers and re-sends unconfirmed messages. A channel the broker closes (a refused declaration,
 * a missing exchange) is replaced; the toolkit never leaves one dead.
 *
 * <p>{@link #toString()} and every log line and exception message show the user and addresses,
 * never the password.
 */
public final class RabbitToolkit implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitToolkit.class);

  private final String endpoint;
  private final String connectionName;
  private final Shared context;
  private final RoleConnection consuming;
  private final RoleConnection publishing;
  private final Resources resources = new Resources();
  private final AtomicBoolean closed = new AtomicBoolean();

  private RabbitToolkit(String endpoint, String connectionName, Shared context, RoleConnection consuming,
      RoleConnection publishing) {
    this.endpoint = endpoint;
    this.connectionName = connectionName;
    this.context = context;
    this.consuming = consuming;
    this.publishing = publishing;
  }

  /** Returns a builder for the connection settings. */
  public static Builder builder() {
    return new Builder();
  }

  /** Connects with the settings of an {@code amqp://} or {@code amqps://} URI. */
  public static RabbitToolkit connect(String uri) {
    return builder().uri(uri).connect();
  }

  Interceptors interceptors() {
    return context.interceptors;
  }

  // ---------------------------------------------------------------- topology

  /**
   * Declares exchanges, then queues, then bindings. Idempotent: declaring what exists with the same
   * settings does nothing. Everything declared is declared again after a connection recovery.
   *
   * @throws TopologyException if the broker refuses an entity (it names the entity and, for {@code
   *     PRECONDITION_FAILED}, the argument that differs); what was declared before it stays declared
   */
  public void declare(Topology topology) {
    requireNonNull(topology, "topology");
    ensureOpen();
    for (Topology one : TopologyRegistry.entities(topology)) {
      consuming.declare(one);
      context.topology.record(one);
    }
  }

  /**
   * Declares the exchanges and queues that do not exist yet, keeping existing ones exactly as they
   * are whatever their settings, and every binding. For topology shared with other applications or
   * clients (another team's exchange, a queue a Python service declared with other arguments), where
   * {@link #declare} would be refused. Only what this call declared is declared again after recovery.
   *
   * @throws TopologyException if the broker refuses a declaration or a binding
   */
  public void declareMissing(Topology topology) {
    requireNonNull(topology, "topology");
    ensureOpen();
    for (Topology one : TopologyRegistry.entities(topology)) {
      boolean exists = !one.exchanges().isEmpty() ? exchangeExists(one.exchanges().get(0).name())
          : !one.queues().isEmpty() && queueInfo(one.queues().get(0).name()).isPresent();
      if (!exists) {
        consuming.declare(one);
        context.topology.record(one);
      }
    }
  }

  /** Returns whether an exchange of this name exists. */
  public boolean exchangeExists(String name) {
    requireNonNull(name, "name");
    return probeExisting("exchange '" + name + "'", ch -> ch.exchangeDeclarePassive(name)).isPresent();
  }

  /** Returns everything declared through this toolkit and not deleted since: what it re-declares after recovery. */
  public Topology declared() {
    return context.topology.snapshot();
  }

  /**
   * Deletes a queue and its messages, and stops re-declaring it after recovery. Deleting a queue
   * that does not exist succeeds.
   */
  public void deleteQueue(String name) {
    requireNonNull(name, "name");
    adminCall("deleting", "queue '" + name + "'", ch -> ch.queueDelete(name));
    context.topology.forgetQueue(name);
  }

  /** Deletes an exchange and stops re-declaring it after recovery. Deleting one that does not exist succeeds. */
  public void deleteExchange(String name) {
    requireNonNull(name, "name");
    adminCall("deleting", "exchange '" + name + "'", ch -> ch.exchangeDelete(name));
    context.topology.forgetExchange(name);
  }

  /** Removes a binding and stops re-declaring it after recovery. */
  public void unbind(Binding binding) {
    requireNonNull(binding, "binding");
    adminCall("removing", binding.toString(), ch -> {
      if (binding.destinationType() == Binding.DestinationType.QUEUE) {
        return ch.queueUnbind(binding.destination(), binding.source(), binding.routingKey(), binding.arguments());
      }
      return ch.exchangeUnbind(binding.destination(), binding.source(), binding.routingKey(), binding.arguments());
    });
    context.topology.forgetBinding(binding);
  }

  /**
   * Removes every ready message from a queue.
   *
   * @return how many messages were removed
   * @throws TopologyException if the queue does not exist
   */
  public long purgeQueue(String name) {
    requireNonNull(name, "name");
    AMQP.Queue.PurgeOk ok = adminCall("purging", "queue '" + name + "'", ch -> ch.queuePurge(name));
    return ok.getMessageCount();
  }

  /** Returns the queue's message and consumer counts, or empty if it does not exist. */
  public Optional<QueueInfo> queueInfo(String name) {
    requireNonNull(name, "name");
    return probeExisting("queue '" + name + "'", ch -> ch.queueDeclarePassive(name))
        .map(ok -> new QueueInfo(name, ok.getMessageCount(), ok.getConsumerCount()));
  }

  /** A passive declaration: its answer, or empty when the broker says the entity does not exist (404). */
  private <R> Optional<R> probeExisting(String entity, RoleConnection.ChannelCall<R> passiveDeclare) {
    ensureOpen();
    try {
      return Optional.of(consuming.probe(entity, passiveDeclare));
    } catch (TopologyException e) {
      if (e.replyCode() == AMQP.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  <R> R adminCall(String action, String entity, RoleConnection.ChannelCall<R> call) {
    ensureOpen();
    return consuming.adminCall(action, entity, call);
  }

  Optional<Queue> declaredQueue(String name) {
    return context.topology.queue(name);
  }

  // ---------------------------------------------------------------- resources

  /** Starts building a publisher of {@code type} messages (JSON unless {@code String} or {@code byte[]}). */
  public <T> PublisherBuilder<T> publisherBuilder(Class<T> type) {
    ensureOpen();
    return new PublisherBuilder<>(this, type);
  }

  /** Starts building a consumer of {@code type} messages (JSON unless {@code String} or {@code byte[]}). */
  public <T> ConsumerBuilder<T> consumerBuilder(Class<T> type) {
    ensureOpen();
    return new ConsumerBuilder<>(this, type);
  }

  /** Starts building a request/reply client that sends {@code Q} and expects {@code R}. */
  public <Q, R> RpcClientBuilder<Q, R> rpcClientBuilder(Class<Q> requestType, Class<R> responseType) {
    ensureOpen();
    return new RpcClientBuilder<>(this, requestType, responseType);
  }

  /** Starts building a request/reply server that takes {@code Q} and answers {@code R}. */
  public <Q, R> RpcServerBuilder<Q, R> rpcServerBuilder(Class<Q> requestType, Class<R> responseType) {
    ensureOpen();
    return new RpcServerBuilder<>(this, requestType, responseType);
  }

  /** Returns the dead letters of {@code queue}, kept in {@code <queue>.dlq}. */
  public DeadLetters deadLetters(String queue) {
    return deadLetters(queue, queue + ".dlq");
  }

  /** Returns the dead letters of {@code queue}, kept in {@code deadLetterQueue}. */
  public DeadLetters deadLetters(String queue, String deadLetterQueue) {
    requireNonNull(queue, "queue");
    requireNonNull(deadLetterQueue, "deadLetterQueue");
    ensureOpen();
    return new DefaultDeadLetters(this, queue, deadLetterQueue);
  }

  /** Returns whether both connections are open (false while recovering). */
  public boolean isConnected() {
    return consuming.isOpen() && publishing.isOpen();
  }

  /** Returns a snapshot of the connections, publishers and consumers, for health checks. */
  public Health health() {
    return new Health(List.of(publishing.status(), consuming.status()), resources.publishers(), resources.consumers());
  }

  /** Returns whether the broker currently blocks publishing (a memory or disk alarm). */
  public boolean isBlocked() {
    return publishing.isBlocked();
  }

  ConfirmingSender sender(String name, ConfirmingSender.Options options) {
    ensureOpen();
    try {
      return new ConfirmingSender(publishing, name, options);
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel for " + name, e);
    }
  }

  FailurePolicy deadLetterPipeline(String queue, Redelivery tiers, String dlq, int window) {
    ConfirmingSender sender = sender("dead-letter publisher of queue '" + queue + "'", new ConfirmingSender.Options(
        Math.max(16, window), Duration.ofSeconds(30), Duration.ofSeconds(30), true, Integer.MAX_VALUE));
    return new DeadLetterPipeline(queue, sender, tiers.delays(), dlq, publishing.frameMax());
  }

  /**
   * The dead-letter move a consumer falls back on when requeueing would take a message past its
   * queue's delivery limit: to {@code dlq}, declared if it does not exist.
   */
  FailurePolicy limitGuard(String queue, String dlq, int window) {
    if (declaredQueue(dlq).isEmpty()) {
      declareMissing(Topology.of(Queue.classic(dlq)));
    }
    return deadLetterPipeline(queue, Redelivery.none(), dlq, window);
  }

  <T> Consumer startConsumer(QueueConsumer.Settings<T> settings, ConsumerCounters counters, FailurePolicy failures) {
    ensureOpen();
    QueueConsumer<T> consumer = new QueueConsumer<>(settings, consuming, counters);
    consumer.start(failures);
    consumer.onClose(track(consumer));
    return consumer;
  }

  RoleConnection publishing() {
    return publishing;
  }

  RoleConnection consuming() {
    return consuming;
  }

  Shared context() {
    return context;
  }

  /** Remembers a resource so that {@link #close()} closes it; returns a hook the resource runs when it closes itself. */
  Runnable track(AutoCloseable resource) {
    return resources.track(resource);
  }

  /** Publishers, consumers and RPC clients and servers not closed yet. */
  int openResources() {
    return resources.size();
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new ResourceClosedException("the toolkit connected to " + endpoint, "is closed");
    }
  }

  /**
   * Closes gracefully: consumers and RPC servers drain first, publishers wait for their confirms,
   * then the connections close. Idempotent.
   */
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
    return "RabbitToolkit[" + endpoint + ", connection '" + connectionName + "'" + (closed.get() ? ", closed" : "") + "]";
  }

  /** amqp-client's factory, opened up for TLS without hostname verification (its public method always verifies). */
  private static final class Factory extends ConnectionFactory {
    void tls(SSLContext context, boolean verifyHostname) {
      useSslProtocol(context, verifyHostname);
    }
  }

  /**
   * Connection settings. Start from {@link #uri(String)} or set fields one by one; later calls win.
   * Not thread-safe.
   *
   * <p>Defaults: {@code localhost:5672}, user {@code guest}/{@code guest}, vhost {@code /},
   * connection name {@code rabbitkit}, {@value #DEFAULT_CONNECTION_TIMEOUT_SECONDS} s connection
   * timeout, {@value #DEFAULT_HEARTBEAT_SECONDS} s heartbeat, recovery retried every 2 s.
   */
  public static final class Builder {
    /**
     * Default of {@link #maxInboundMessageBodySize}: 512 MiB, the most any RabbitMQ accepts ({@code
     * max_message_size} cannot be set higher), so no message can make amqp-client close a
     * connection; consumers refuse large bodies themselves ({@link ConsumerBuilder#maxBodySize}).
     */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BODY_SIZE = 512 * 1024 * 1024;
    /**
     * Default heartbeat, in seconds: a dead peer or a network black hole is noticed after about
     * two intervals (10 s), within RabbitMQ's advice of 5 to 20 s. amqp-client's default of 60 s
     * took over two minutes.
     */
    public static final int DEFAULT_HEARTBEAT_SECONDS = 5;
    /** Default connection timeout, in seconds: for the TCP connection and again for the AMQP handshake. */
    public static final int DEFAULT_CONNECTION_TIMEOUT_SECONDS = 10;

    private final List<Address> addresses = new ArrayList<>();
    private boolean tls;
    private SSLContext sslContext;
    private java.security.KeyStore trustStore;
    private java.security.KeyStore keyStore;
    private char[] keyStorePassword;
    private boolean hostnameVerification = true;
    private int maxInboundMessageBodySize = DEFAULT_MAX_INBOUND_MESSAGE_BODY_SIZE;
    private String username = "guest";
    private String password = "guest";
    private String virtualHost = "/";
    private String connectionName = "rabbitkit";
    private Duration heartbeat = Duration.ofSeconds(DEFAULT_HEARTBEAT_SECONDS);
    private Duration connectionTimeout = Duration.ofSeconds(DEFAULT_CONNECTION_TIMEOUT_SECONDS);
    private Duration recoveryInterval = Duration.ofSeconds(2);
    private ExecutorService callbackExecutor;
    private ConnectionListener listener = new ConnectionListener() {};
    private final List<Interceptor> interceptors = new ArrayList<>();

    private Builder() {}

    /**
     * Takes everything an AMQP URI says: {@code amqp[s]://user:pass@host1:port,host2:port/vhost
     * ?heartbeat=30&connection_timeout=5000}. An empty path or {@code /} is vhost {@code /};
     * otherwise the path (percent-decoded, {@code %2F} for {@code /}) is the vhost. Several hosts
     * form a cluster: the toolkit connects to the first that answers and recovers to any.
     *
     * @throws IllegalArgumentException if the URI is malformed (the message masks the password)
     */
    public Builder uri(String uri) {
      AmqpUri parsed = AmqpUri.parse(requireNonNull(uri, "uri"));
      addresses.clear();
      addresses.addAll(parsed.addresses());
      tls = parsed.tls();
      if (parsed.username() != null) {
        username = parsed.username();
        password = parsed.password() == null ? "" : parsed.password();
      }
      virtualHost = parsed.virtualHost();
      if (parsed.heartbeat() != null) {
        heartbeat = parsed.heartbeat();
      }
      if (parsed.connectionTimeout() != null) {
        connectionTimeout = parsed.connectionTimeout();
      }
      return this;
    }

    /** Sets one broker host (port 5672, or 5671 with TLS, unless {@link #port} is called). */
    public Builder host(String host) {
      int port = addresses.isEmpty() ? defaultPort() : addresses.get(0).port();
      addresses.clear();
      addresses.add(new Address(requireNonNull(host, "host"), port));
      return this;
    }

    /** Sets the port of the single broker host. */
    public Builder port(int port) {
      String host = addresses.isEmpty() ? "localhost" : addresses.get(0).host();
      addresses.clear();
      addresses.add(new Address(host, port));
      return this;
    }

    /** Sets several broker addresses ({@code host} or {@code host:port}), tried in order. */
    public Builder addresses(String... addresses) {
      if (addresses.length == 0) {
        throw new IllegalArgumentException("at least one address is required");
      }
      this.addresses.clear();
      for (String a : addresses) {
        this.addresses.add(Address.parse(requireNonNull(a, "address"), defaultPort()));
      }
      return this;
    }

    /** Sets the user name. */
    public Builder username(String username) {
      this.username = requireNonNull(username, "username");
      return this;
    }

    /** Sets the password; it is never printed. */
    public Builder password(String password) {
      this.password = requireNonNull(password, "password");
      return this;
    }

    /** Sets the virtual host ({@code /} by default). */
    public Builder virtualHost(String virtualHost) {
      this.virtualHost = requireNonNull(virtualHost, "virtualHost");
      return this;
    }

    /**
     * Turns TLS on with the JVM's default trust store and hostname verification (what {@code
     * amqps://} does).
     */
    public Builder tls() {
      this.tls = true;
      return this;
    }

    /** Turns TLS on with this context; hostname verification stays on. Overrides {@link #trustStore} and {@link #keyStore}. */
    public Builder tls(SSLContext sslContext) {
      this.sslContext = requireNonNull(sslContext, "sslContext");
      this.tls = true;
      return this;
    }

    /**
     * Turns TLS on, trusting only the CAs in {@code file}: PEM certificates ({@code .pem}, {@code
     * .crt}, {@code .cer}, for example RabbitMQ's {@code ca_certificate.pem}) or a PKCS#12/JKS trust
     * store. The file is read now.
     *
     * @param password the store's password, or null for PEM files and stores without one
     * @throws IllegalArgumentException if the file cannot be read or loaded
     */
    public Builder trustStore(java.nio.file.Path file, String password) {
      this.trustStore = Tls.load("trustStore", requireNonNull(file, "file"), chars(password));
      this.tls = true;
      return this;
    }

    /**
     * Turns TLS on and presents the client certificate and key in {@code file} (PKCS#12 or JKS),
     * for brokers that verify peers. The file is read now.
     *
     * @throws IllegalArgumentException if the file cannot be read or loaded
     */
    public Builder keyStore(java.nio.file.Path file, String password) {
      requireNonNull(file, "file");
      this.keyStorePassword = chars(requireNonNull(password, "password"));
      this.keyStore = Tls.load("keyStore", file, keyStorePassword);
      this.tls = true;
      return this;
    }

    /**
     * Checks that the broker's certificate names the host connected to (on by default). Turn it off
     * only for certificates you cannot fix: without it, any certificate the CAs signed is accepted.
     */
    public Builder hostnameVerification(boolean verify) {
      this.hostnameVerification = verify;
      return this;
    }

    private static char[] chars(String password) {
      return password == null ? null : password.toCharArray();
    }

    /** Sets the client-provided connection name, shown in the management UI ({@code /publisher} and {@code /consumer} are appended). */
    public Builder connectionName(String connectionName) {
      this.connectionName = requireNonNull(connectionName, "connectionName");
      return this;
    }

    /**
     * Requested heartbeat interval ({@value #DEFAULT_HEARTBEAT_SECONDS} s by default; the broker may
     * lower it); zero turns heartbeats off. A peer that stays silent for about two intervals is
     * taken for dead and the connection recovers.
     */
    public Builder heartbeat(Duration heartbeat) {
      requireNonNull(heartbeat, "heartbeat");
      if (heartbeat.isNegative()) {
        throw new IllegalArgumentException("heartbeat must not be negative: " + heartbeat);
      }
      this.heartbeat = heartbeat;
      return this;
    }

    /**
     * How long to wait for the TCP connection, and again for the AMQP handshake (a port that
     * accepts connections but never answers fails after this long).
     */
    public Builder connectionTimeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectionTimeout must be positive: " + timeout);
      }
      this.connectionTimeout = timeout;
      return this;
    }

    /** How long to wait between connection recovery attempts. */
    public Builder recoveryInterval(Duration interval) {
      requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("recoveryInterval must be positive: " + interval);
      }
      this.recoveryInterval = interval;
      return this;
    }

    /**
     * Completes futures and runs listeners on this executor instead of the toolkit's own pool. You
     * keep ownership: the toolkit does not shut it down. It must not be a single thread shared with
     * code that waits on the toolkit's futures.
     */
    public Builder callbackExecutor(ExecutorService executor) {
      this.callbackExecutor = requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The largest message body amqp-client accepts ({@value #DEFAULT_MAX_INBOUND_MESSAGE_BODY_SIZE}
     * bytes by default). A larger one makes amqp-client close the whole connection, and the broker
     * delivers it first again after recovery: keep this at or above the broker's {@code
     * max_message_size} (RabbitMQ 4.x: 16 MiB by default, 3.x: 128 MiB). Consumers refuse bodies
     * over their own {@link ConsumerBuilder#maxBodySize} by dead-lettering them.
     */
    public Builder maxInboundMessageBodySize(int bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxInboundMessageBodySize must be >= 1: " + bytes);
      }
      this.maxInboundMessageBodySize = bytes;
      return this;
    }

    /** Hears connection loss, recovery and blocking. */
    public Builder listener(ConnectionListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Installs an interceptor that sees every publish, delivery and RPC call, and the connection
     * events; interceptors run in the order installed. This is how metrics, tracing and similar
     * modules plug in.
     */
    public Builder interceptor(Interceptor interceptor) {
      interceptors.add(requireNonNull(interceptor, "interceptor"));
      return this;
    }

    private int defaultPort() {
      return tls ? 5671 : 5672;
    }

    /**
     * Opens both connections.
     *
     * @throws ConnectionException when the broker cannot be reached or refuses the connection; {@link
     *     ConnectionException#reason()} says whether it was the host, port, credentials or vhost
     */
    public RabbitToolkit connect() {
      List<Address> targets = addresses.isEmpty() ? List.of(new Address("localhost", defaultPort())) : List.copyOf(addresses);
      String endpoint = describe(targets);
      Factory factory = new Factory();
      factory.setUsername(username);
      factory.setPassword(password);
      factory.setVirtualHost(virtualHost);
      factory.setAutomaticRecoveryEnabled(true);
      // The toolkit recovers topology and consumers itself, in order, after amqp-client reconnects.
      factory.setTopologyRecoveryEnabled(false);
      factory.setNetworkRecoveryInterval(recoveryInterval.toMillis());
      factory.setRequestedHeartbeat((int) Math.min(Integer.MAX_VALUE, heartbeat.toSeconds()));
      factory.setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, connectionTimeout.toMillis()));
      // amqp-client waits half the handshake timeout for the broker's first frame.
      factory.setHandshakeTimeout((int) Math.min(Integer.MAX_VALUE, 2 * connectionTimeout.toMillis()));
      factory.setChannelRpcTimeout(30_000);
      factory.setMaxInboundMessageBodySize(maxInboundMessageBodySize);
      factory.setExceptionHandler(new ForgivingExceptionHandler());
      if (tls) {
        factory.tls(sslContext != null ? sslContext : Tls.context(trustStore, keyStore, keyStorePassword),
            hostnameVerification);
      }
      List<com.rabbitmq.client.Address> amqpAddresses = targets.stream()
          .map(a -> new com.rabbitmq.client.Address(a.host(), a.port())).toList();
      Interceptors installed = new Interceptors(interceptors);
      Shared context = new Shared(callbackExecutor, installed);
      ConnectionListener listener = installed.connectionListener(this.listener);
      RoleConnection consuming = null;
      try {
        consuming = RoleConnection.open(factory, amqpAddresses, connectionName + "/consumer", endpoint, context, listener);
        RoleConnection publishing = RoleConnection.open(factory, amqpAddresses, connectionName + "/publisher", endpoint,
            context, listener);
        return new RabbitToolkit(endpoint, connectionName, context, consuming, publishing);
      } catch (RuntimeException e) {
        if (consuming != null) {
          consuming.close();
        }
        context.shutdown();
        throw e;
      }
    }

    private String describe(List<Address> targets) {
      StringBuilder sb = new StringBuilder(tls ? "amqps://" : "amqp://");
      sb.append(URLEncoder.encode(username, StandardCharsets.UTF_8)).append(":****@");
      for (int i = 0; i < targets.size(); i++) {
        sb.append(i == 0 ? "" : ",").append(targets.get(i));
      }
      return sb.append('/').append(URLEncoder.encode(virtualHost, StandardCharsets.UTF_8)).toString();
    }

    @Override
    public String toString() {
      return "RabbitToolkit.Builder[" + describe(addresses.isEmpty() ? List.of(new Address("localhost", defaultPort()))
          : addresses) + "]";
    }
  }
}
