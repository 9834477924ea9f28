package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.ForgivingExceptionHandler;
import io.rabbitkit.ConnectionListener;
import io.rabbitkit.Credentials;
import io.rabbitkit.Interceptor;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.internal.Checks;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import javax.net.ssl.SSLContext;

/**
 * The toolkit's connection set-up: builds amqp-client's factory from the settings and opens the two
 * role connections. The one public class of this package: {@link RabbitToolkit#builder()} reaches the
 * implementation through it. Not API: use {@link RabbitToolkit#builder()}.
 */
public final class ToolkitBuilder implements RabbitToolkit.Builder {

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
  private Credentials credentials;
  private boolean saslExternal;
  private String connectionName = "rabbitkit";
  private Duration heartbeat = Duration.ofSeconds(DEFAULT_HEARTBEAT_SECONDS);
  private Duration connectionTimeout = Duration.ofSeconds(DEFAULT_CONNECTION_TIMEOUT_SECONDS);
  private Duration recoveryInterval = Duration.ofSeconds(2);
  private ExecutorService callbackExecutor;
  private int dispatchThreads;
  private ConnectionListener listener = new ConnectionListener() {
  };
  private final List<Interceptor> interceptors = new ArrayList<>();
  private com.rabbitmq.client.MetricsCollector metricsCollector;
  private com.rabbitmq.client.observation.ObservationCollector observationCollector;

  public ToolkitBuilder() {
  }

  @Override
  public ToolkitBuilder uri(String uri) {
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

  @Override
  public ToolkitBuilder host(String host) {
    int port = addresses.isEmpty() ? defaultPort() : addresses.get(0).port();
    addresses.clear();
    addresses.add(new Address(requireNonNull(host, "host"), port));
    return this;
  }

  @Override
  public ToolkitBuilder port(int port) {
    String host = addresses.isEmpty() ? "localhost" : addresses.get(0).host();
    addresses.clear();
    addresses.add(new Address(host, port));
    return this;
  }

  @Override
  public ToolkitBuilder addresses(String... addresses) {
    if (addresses.length == 0) {
      throw new IllegalArgumentException("at least one address is required");
    }
    this.addresses.clear();
    for (String a : addresses) {
      this.addresses.add(Address.parse(requireNonNull(a, "address"), defaultPort()));
    }
    return this;
  }

  @Override
  public ToolkitBuilder username(String username) {
    this.username = requireNonNull(username, "username");
    return this;
  }

  @Override
  public ToolkitBuilder password(String password) {
    this.password = requireNonNull(password, "password");
    return this;
  }

  @Override
  public ToolkitBuilder virtualHost(String virtualHost) {
    this.virtualHost = requireNonNull(virtualHost, "virtualHost");
    return this;
  }

  @Override
  public ToolkitBuilder tls() {
    this.tls = true;
    return this;
  }

  @Override
  public ToolkitBuilder tls(SSLContext sslContext) {
    this.sslContext = requireNonNull(sslContext, "sslContext");
    this.tls = true;
    return this;
  }

  @Override
  public ToolkitBuilder trustStore(java.nio.file.Path file, String password) {
    this.trustStore = Tls.load("trustStore", requireNonNull(file, "file"), chars(password));
    this.tls = true;
    return this;
  }

  @Override
  public ToolkitBuilder keyStore(java.nio.file.Path file, String password) {
    requireNonNull(file, "file");
    this.keyStorePassword = chars(requireNonNull(password, "password"));
    this.keyStore = Tls.load("keyStore", file, keyStorePassword);
    this.tls = true;
    return this;
  }

  @Override
  public ToolkitBuilder hostnameVerification(boolean verify) {
    this.hostnameVerification = verify;
    return this;
  }

  private static char[] chars(String password) {
    return password == null ? null : password.toCharArray();
  }

  @Override
  public ToolkitBuilder connectionName(String connectionName) {
    this.connectionName = requireNonNull(connectionName, "connectionName");
    return this;
  }

  @Override
  public ToolkitBuilder heartbeat(Duration heartbeat) {
    requireNonNull(heartbeat, "heartbeat");
    if (heartbeat.isNegative()) {
      throw new IllegalArgumentException("heartbeat must not be negative: " + heartbeat);
    }
    this.heartbeat = heartbeat;
    return this;
  }

  @Override
  public ToolkitBuilder connectionTimeout(Duration timeout) {
    this.connectionTimeout = Checks.positive("connectionTimeout", timeout);
    return this;
  }

  @Override
  public ToolkitBuilder recoveryInterval(Duration interval) {
    this.recoveryInterval = Checks.positive("recoveryInterval", interval);
    return this;
  }

  @Override
  public ToolkitBuilder callbackExecutor(ExecutorService executor) {
    this.callbackExecutor = requireNonNull(executor, "executor");
    return this;
  }

  @Override
  public ToolkitBuilder dispatchThreads(int threads) {
    this.dispatchThreads = Checks.atLeastOne("dispatchThreads", threads);
    return this;
  }

  @Override
  public ToolkitBuilder maxInboundMessageBodySize(int bytes) {
    this.maxInboundMessageBodySize = Checks.atLeastOne("maxInboundMessageBodySize", bytes);
    return this;
  }

  @Override
  public ToolkitBuilder listener(ConnectionListener listener) {
    this.listener = requireNonNull(listener, "listener");
    return this;
  }

  @Override
  public ToolkitBuilder interceptor(Interceptor interceptor) {
    interceptors.add(requireNonNull(interceptor, "interceptor"));
    return this;
  }

  @Override
  public ToolkitBuilder credentials(Credentials credentials) {
    this.credentials = requireNonNull(credentials, "credentials");
    return this;
  }

  @Override
  public ToolkitBuilder saslExternal() {
    this.saslExternal = true;
    return this;
  }

  @Override
  public ToolkitBuilder metricsCollector(com.rabbitmq.client.MetricsCollector collector) {
    this.metricsCollector = requireNonNull(collector, "collector");
    return this;
  }

  @Override
  public ToolkitBuilder observationCollector(com.rabbitmq.client.observation.ObservationCollector collector) {
    this.observationCollector = requireNonNull(collector, "collector");
    return this;
  }

  private int defaultPort() {
    return tls ? 5671 : 5672;
  }

  @Override
  public RabbitToolkit connect() {
    List<Address> targets =
        addresses.isEmpty() ? List.of(new Address("localhost", defaultPort())) : List.copyOf(addresses);
    String endpoint = describe(targets);
    Factory factory = new Factory();
    if (saslExternal && (!tls || (keyStore == null && sslContext == null))) {
      throw new IllegalStateException(
          "saslExternal() needs TLS with a client certificate: call keyStore(file, password)"
              + " or tls(sslContext)");
    }
    if (credentials != null) {
      factory.setCredentialsProvider(new CredentialsAdapter(credentials));
    } else {
      factory.setUsername(username);
      factory.setPassword(password);
    }
    if (saslExternal) {
      factory.setSaslConfig(com.rabbitmq.client.DefaultSaslConfig.EXTERNAL);
    }
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
    if (metricsCollector != null) {
      factory.setMetricsCollector(metricsCollector);
    }
    if (observationCollector != null) {
      factory.setObservationCollector(observationCollector);
    }
    if (tls) {
      factory.tls(sslContext != null ? sslContext : Tls.context(trustStore, keyStore, keyStorePassword),
          hostnameVerification);
    }
    List<com.rabbitmq.client.Address> amqpAddresses = targets.stream()
        .map(a -> new com.rabbitmq.client.Address(a.host(), a.port())).toList();
    Interceptors installed = new Interceptors(interceptors);
    Shared context = new Shared(callbackExecutor, installed, dispatchThreads);
    ConnectionListener listener = installed.connectionListener(this.listener);
    RoleConnection consuming = null;
    try {
      consuming = RoleConnection.open(factory, amqpAddresses, connectionName + "/consumer", endpoint, context,
          context.consumerDispatch(), listener);
      // RPC replies arrive here, on the unbounded pool: a handler blocked on a call is never what holds its reply up.
      RoleConnection publishing = RoleConnection.open(factory, amqpAddresses, connectionName + "/publisher", endpoint,
          context, context.dispatch, listener);
      return new Toolkit(endpoint, connectionName, context, consuming, publishing);
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
    if (credentials == null && !saslExternal) {
      sb.append(URLEncoder.encode(username, StandardCharsets.UTF_8)).append(":****@");
    }
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

  /** amqp-client's factory, opened up for TLS without hostname verification (its public method always verifies). */
  private static final class Factory extends ConnectionFactory {
    void tls(SSLContext context, boolean verifyHostname) {
      useSslProtocol(context, verifyHostname);
    }
  }

  /** The toolkit's {@link Credentials} as amqp-client asks for them. */
  private record CredentialsAdapter(Credentials credentials) implements com.rabbitmq.client.impl.CredentialsProvider {
    @Override
    public String getUsername() {
      return credentials.username();
    }

    @Override
    public String getPassword() {
      return credentials.password();
    }

    @Override
    public Duration getTimeBeforeExpiration() {
      return credentials.expiresIn().orElse(null);
    }

    @Override
    public void refresh() {
      credentials.refresh();
    }

    @Override
    public String toString() {
      return "credentials of " + credentials.username();
    }
  }
}
