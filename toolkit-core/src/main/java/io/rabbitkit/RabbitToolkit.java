package io.rabbitkit;

import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.impl.ToolkitBuilder;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import javax.net.ssl.SSLContext;

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
 * <p>{@code toString()} and every log line and exception message show the user and addresses,
 * never the password.
 */
public interface RabbitToolkit extends AutoCloseable {

  /** Returns a builder for the connection settings. */
  static Builder builder() {
    return new ToolkitBuilder();
  }

  /** Connects with the settings of an {@code amqp://} or {@code amqps://} URI. */
  static RabbitToolkit connect(String uri) {
    return builder().uri(uri).connect();
  }
  /**
   * Declares exchanges, then queues, then bindings. Idempotent: declaring what exists with the same
   * settings does nothing. Everything declared is declared again after a connection recovery.
   *
   * @throws TopologyException if the broker refuses an entity (it names the entity and, for {@code
   *     PRECONDITION_FAILED}, the argument that differs); what was declared before it stays declared
   */
  void declare(Topology topology);

  /**
   * Declares the exchanges and queues that do not exist yet, keeping existing ones exactly as they
   * are whatever their settings, and every binding. For topology shared with other applications or
   * clients (another team's exchange, a queue a Python service declared with other arguments), where
   * {@link #declare} would be refused. Only what this call declared is declared again after recovery.
   *
   * @throws TopologyException if the broker refuses a declaration or a binding
   */
  void declareMissing(Topology topology);

  /** Returns whether an exchange of this name exists. */
  boolean exchangeExists(String name);

  /** Returns everything declared through this toolkit and not deleted since: what it re-declares after recovery. */
  Topology declared();

  /**
   * Deletes a queue and its messages, and stops re-declaring it after recovery. Deleting a queue
   * that does not exist succeeds.
   */
  void deleteQueue(String name);

  /** Deletes an exchange and stops re-declaring it after recovery. Deleting one that does not exist succeeds. */
  void deleteExchange(String name);

  /** Removes a binding and stops re-declaring it after recovery. */
  void unbind(Binding binding);

  /**
   * Removes every ready message from a queue.
   *
   * @return how many messages were removed
   * @throws TopologyException if the queue does not exist
   */
  long purgeQueue(String name);

  /** Returns the queue's message and consumer counts, or empty if it does not exist. */
  Optional<QueueInfo> queueInfo(String name);

  /** Starts building a publisher of {@code type} messages (JSON unless {@code String} or {@code byte[]}). */
  <T> Publisher.Builder<T> publisherBuilder(Class<T> type);

  /** Starts building a consumer of {@code type} messages (JSON unless {@code String} or {@code byte[]}). */
  <T> MessageConsumer.Builder<T> consumerBuilder(Class<T> type);

  /** Starts building a consumer of a stream, whose position the toolkit keeps (see {@link MessageConsumer.StreamBuilder}). */
  <T> MessageConsumer.StreamBuilder<T> streamConsumerBuilder(Class<T> type);

  /** Starts building a request/reply client that sends {@code Q} and expects {@code R}. */
  <Q, R> RpcClient.Builder<Q, R> rpcClientBuilder(Class<Q> requestType, Class<R> responseType);

  /** Starts building a request/reply server that takes {@code Q} and answers {@code R}. */
  <Q, R> RpcServer.Builder<Q, R> rpcServerBuilder(Class<Q> requestType, Class<R> responseType);

  /** Returns the dead letters of {@code queue}, kept in {@code <queue>.dlq}. */
  DeadLetters deadLetters(String queue);

  /** Returns the dead letters of {@code queue}, kept in {@code deadLetterQueue}. */
  DeadLetters deadLetters(String queue, String deadLetterQueue);

  /**
   * Returns the dead letters of every queue a consumer of this toolkit sends its failures to (one
   * built with a dead-letter queue or redelivery, closed or not), in the order they were built:
   * what a dead-letter console lists without being told.
   */
  java.util.List<DeadLetters> knownDeadLetters();

  /** Returns whether both connections are open (false while recovering). */
  boolean isConnected();

  /** Returns a snapshot of the connections, publishers and consumers, for health checks. */
  Health health();

  /** Returns whether the broker currently blocks publishing (a memory or disk alarm). */
  boolean isBlocked();

  /**
   * Closes gracefully: consumers and RPC servers drain first, publishers wait for their confirms,
   * then the connections close. Idempotent.
   */
  @Override
  void close();

  /**
   * Connection settings. Start from {@link #uri(String)} or set fields one by one; later calls win.
   * Not thread-safe.
   *
   * <p>Defaults: {@code localhost:5672}, user {@code guest}/{@code guest}, vhost {@code /},
   * connection name {@code rabbitkit}, {@value #DEFAULT_CONNECTION_TIMEOUT_SECONDS} s connection
   * timeout, {@value #DEFAULT_HEARTBEAT_SECONDS} s heartbeat, recovery retried every 2 s.
   */
  interface Builder {
    /**
     * Default of {@link #maxInboundMessageBodySize}: 512 MiB, the most any RabbitMQ accepts ({@code
     * max_message_size} cannot be set higher), so no message can make amqp-client close a
     * connection; consumers refuse large bodies themselves ({@link MessageConsumer.Builder#maxBodySize}).
     */
    int DEFAULT_MAX_INBOUND_MESSAGE_BODY_SIZE = 512 * 1024 * 1024;
    /**
     * Default heartbeat, in seconds: a dead peer or a network black hole is noticed after about
     * two intervals (10 s), within RabbitMQ's advice of 5 to 20 s. amqp-client's default of 60 s
     * took over two minutes.
     */
    int DEFAULT_HEARTBEAT_SECONDS = 5;
    /** Default connection timeout, in seconds: for the TCP connection and again for the AMQP handshake. */
    int DEFAULT_CONNECTION_TIMEOUT_SECONDS = 10;
    /**
     * Takes everything an AMQP URI says: {@code amqp[s]://user:pass@host1:port,host2:port/vhost
     * ?heartbeat=30&connection_timeout=5000}. An empty path or {@code /} is vhost {@code /};
     * otherwise the path (percent-decoded, {@code %2F} for {@code /}) is the vhost. Several hosts
     * form a cluster: the toolkit connects to the first that answers and recovers to any.
     *
     * @throws IllegalArgumentException if the URI is malformed (the message masks the password)
     */
    Builder uri(String uri);

    /** Sets one broker host (port 5672, or 5671 with TLS, unless {@link #port} is called). */
    Builder host(String host);

    /** Sets the port of the single broker host. */
    Builder port(int port);

    /** Sets several broker addresses ({@code host} or {@code host:port}), tried in order. */
    Builder addresses(String... addresses);

    /** Sets the user name. */
    Builder username(String username);

    /** Sets the password; it is never printed. */
    Builder password(String password);

    /**
     * Takes the user name and password from {@code credentials} at every connection and recovery
     * attempt instead of {@link #username}/{@link #password}: for OAuth 2 tokens that expire.
     * Whatever it returns is never printed.
     */
    Builder credentials(Credentials credentials);

    /**
     * Authenticates with SASL EXTERNAL: the broker takes the user from the client certificate of
     * {@link #keyStore} (its {@code rabbitmq_auth_mechanism_ssl} plugin), no password is sent.
     * Needs TLS with a key store.
     */
    Builder saslExternal();

    /** Sets the virtual host ({@code /} by default). */
    Builder virtualHost(String virtualHost);

    /**
     * Turns TLS on with the JVM's default trust store and hostname verification (what {@code
     * amqps://} does).
     */
    Builder tls();

    /** Turns TLS on with this context; hostname verification stays on. Overrides {@link #trustStore} and {@link #keyStore}. */
    Builder tls(SSLContext sslContext);

    /**
     * Turns TLS on, trusting only the CAs in {@code file}: PEM certificates ({@code .pem}, {@code
     * .crt}, {@code .cer}, for example RabbitMQ's {@code ca_certificate.pem}) or a PKCS#12/JKS trust
     * store. The file is read now.
     *
     * @param password the store's password, or null for PEM files and stores without one
     * @throws IllegalArgumentException if the file cannot be read or loaded
     */
    Builder trustStore(java.nio.file.Path file, String password);

    /**
     * Turns TLS on and presents the client certificate and key in {@code file} (PKCS#12 or JKS),
     * for brokers that verify peers. The file is read now.
     *
     * @throws IllegalArgumentException if the file cannot be read or loaded
     */
    Builder keyStore(java.nio.file.Path file, String password);

    /**
     * Checks that the broker's certificate names the host connected to (on by default). Turn it off
     * only for certificates you cannot fix: without it, any certificate the CAs signed is accepted.
     */
    Builder hostnameVerification(boolean verify);

    /** Sets the client-provided connection name, shown in the management UI ({@code /publisher} and {@code /consumer} are appended). */
    Builder connectionName(String connectionName);

    /**
     * Requested heartbeat interval ({@value #DEFAULT_HEARTBEAT_SECONDS} s by default; the broker may
     * lower it); zero turns heartbeats off. A peer that stays silent for about two intervals is
     * taken for dead and the connection recovers.
     */
    Builder heartbeat(Duration heartbeat);

    /**
     * How long to wait for the TCP connection, and again for the AMQP handshake (a port that
     * accepts connections but never answers fails after this long).
     */
    Builder connectionTimeout(Duration timeout);

    /** How long to wait between connection recovery attempts. */
    Builder recoveryInterval(Duration interval);

    /**
     * Completes futures and runs listeners on this executor instead of the toolkit's own pool. You
     * keep ownership: the toolkit does not shut it down. It must not be a single thread shared with
     * code that waits on the toolkit's futures.
     */
    Builder callbackExecutor(ExecutorService executor);

    /**
     * Runs every consumer of this toolkit (amqp-client's dispatch of their deliveries, their
     * handlers, acks and retries) on one pool of at most {@code threads} threads, instead of a
     * thread per busy channel and a pool per consumer (the default). For services with many light
     * consumers: a hundred busy consumers then hold {@code threads} threads instead of about two
     * hundred. Each consumer's order and concurrency limit hold as before; consumers wait for a free
     * thread instead of running at once, so a handler that blocks holds one of the few. A handler
     * must not wait for another consumer of the same toolkit, for a message to be handled there or
     * for its close (that consumer may be waiting for the very thread the handler holds). RPC
     * replies are not dispatched on this pool, so a handler may make RPC calls. {@code 2 * cores}
     * is the raw client's own default.
     */
    Builder dispatchThreads(int threads);

    /**
     * The largest message body amqp-client accepts ({@value #DEFAULT_MAX_INBOUND_MESSAGE_BODY_SIZE}
     * bytes by default). A larger one makes amqp-client close the whole connection, and the broker
     * delivers it first again after recovery: keep this at or above the broker's {@code
     * max_message_size} (RabbitMQ 4.x: 16 MiB by default, 3.x: 128 MiB). Consumers refuse bodies
     * over their own {@link MessageConsumer.Builder#maxBodySize} by dead-lettering them.
     */
    Builder maxInboundMessageBodySize(int bytes);

    /** Hears connection loss, recovery and blocking. */
    Builder listener(ConnectionListener listener);

    /**
     * Installs an interceptor that sees every publish, delivery and RPC call, and the connection
     * events; interceptors run in the order installed. This is how metrics, tracing and similar
     * modules plug in.
     */
    Builder interceptor(Interceptor interceptor);

    /**
     * Passes amqp-client's own {@code MetricsCollector} (for example its {@code
     * MicrometerMetricsCollector}) to both connections, for teams standardised on amqp-client's
     * metrics. They count frames, channels and basic operations below the toolkit; the toolkit's
     * interceptors (toolkit-micrometer) count its outcomes (confirmed, retried, dead-lettered).
     * Install one or the other for a given meter name: they do not share names, so both together
     * count nothing twice, but report the same traffic twice over.
     */
    Builder metricsCollector(com.rabbitmq.client.MetricsCollector collector);

    /**
     * Passes amqp-client's own {@code ObservationCollector} to both connections. Its publish
     * observation ends when {@code basicPublish} returns, not on the confirm, and it knows nothing of
     * retries and dead-lettering: prefer toolkit-micrometer's {@code RabbitkitObservations}, and do
     * not install both, or every message gets two producer spans.
     */
    Builder observationCollector(com.rabbitmq.client.observation.ObservationCollector collector);

    /**
     * Opens both connections.
     *
     * @throws ConnectionException when the broker cannot be reached or refuses the connection; {@link
     *     ConnectionException#reason()} says whether it was the host, port, credentials or vhost
     */
    RabbitToolkit connect();
  }
}
