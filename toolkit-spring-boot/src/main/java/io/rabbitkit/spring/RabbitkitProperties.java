package io.rabbitkit.spring;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings under {@code rabbitkit.*}. Whatever is left out keeps the toolkit's default; the
 * connection falls back to {@code spring.rabbitmq.host/port/username/password/virtual-host} when no
 * {@code rabbitkit.uri}, {@code rabbitkit.addresses} or credentials are set. Values are checked
 * when the context starts: a bad one fails the start with the property's name.
 *
 * @param uri an AMQP URI, {@code amqp[s]://user:pass@host:port/vhost}; the other connection
 *     settings given here override its parts
 * @param addresses broker addresses, {@code host} or {@code host:port}, tried in order
 * @param username the user name
 * @param password the password; never printed, logged or shown by an actuator endpoint
 * @param virtualHost the virtual host
 * @param connectionName the client-provided connection name shown in the management UI (defaults to
 *     {@code spring.application.name}, else {@code rabbitkit})
 * @param heartbeat the requested heartbeat interval (5 s by default)
 * @param connectionTimeout the TCP connection and handshake timeout (10 s by default)
 * @param dispatchThreads runs all consumers on one pool of this many threads (see {@code
 *     RabbitToolkit.Builder#dispatchThreads}); unset: a thread per busy channel
 * @param ssl TLS settings
 * @param publisher defaults for the publishers built through {@link RabbitkitDefaults}
 * @param consumer defaults for the consumers built through {@link RabbitkitDefaults} and the {@link
 *     RabbitkitConsumer} beans
 */
@ConfigurationProperties("rabbitkit")
public record RabbitkitProperties(String uri, List<String> addresses, String username, String password,
    String virtualHost, String connectionName, Duration heartbeat, Duration connectionTimeout,
    Integer dispatchThreads, @DefaultValue Ssl ssl, @DefaultValue Publisher publisher,
    @DefaultValue Consumer consumer) {

  public RabbitkitProperties {
    addresses = addresses == null ? List.of() : List.copyOf(addresses);
    notNegative(heartbeat, "rabbitkit.heartbeat");
    positive(connectionTimeout, "rabbitkit.connection-timeout");
    positive(dispatchThreads, "rabbitkit.dispatch-threads");
  }

  /** The password never shows: property dumps, logs and failure analyses print this. */
  @Override
  public String toString() {
    return "RabbitkitProperties[uri=" + (uri == null ? null : Secrets.mask(uri, "****"))
        + ", addresses=" + addresses + ", username=" + username + ", password=" + (password == null ? null : "****")
        + ", virtualHost=" + virtualHost + ", connectionName=" + connectionName + ", heartbeat=" + heartbeat
        + ", connectionTimeout=" + connectionTimeout + ", dispatchThreads=" + dispatchThreads + ", ssl=" + ssl
        + ", publisher=" + publisher
        + ", consumer=" + consumer + "]";
  }

  /**
   * TLS. On when {@code enabled} is true, a bundle or a store is named, or the URI is {@code amqps}.
   *
   * @param enabled turns TLS on with the JVM's trust store
   * @param bundle the name of a Spring Boot SSL bundle ({@code spring.ssl.bundle.*}) to take the
   *     trust and key material from; overrides the stores below
   * @param trustStore a PEM file of CA certificates, or a PKCS#12/JKS trust store
   * @param trustStorePassword the trust store's password (none for PEM)
   * @param keyStore a PKCS#12/JKS key store holding the client certificate
   * @param keyStorePassword the key store's password
   * @param verifyHostname whether the broker's certificate must name the host (true by default)
   * @param saslExternal authenticate with the client certificate (SASL EXTERNAL) instead of a password
   */
  public record Ssl(Boolean enabled, String bundle, String trustStore, String trustStorePassword, String keyStore,
      String keyStorePassword, @DefaultValue("true") boolean verifyHostname, boolean saslExternal) {

    /** True when anything here asks for TLS. */
    public boolean requested() {
      return Boolean.TRUE.equals(enabled) || bundle != null || trustStore != null || keyStore != null;
    }

    @Override
    public String toString() {
      return "Ssl[enabled=" + enabled + ", bundle=" + bundle + ", trustStore=" + trustStore + ", keyStore=" + keyStore
          + ", verifyHostname=" + verifyHostname + ", saslExternal=" + saslExternal + "]";
    }
  }

  /**
   * Publisher defaults.
   *
   * @param maxInFlight the most unconfirmed messages per publisher before publish() waits
   * @param confirmTimeout how long a publish waits for the broker's confirm before it fails
   */
  public record Publisher(Integer maxInFlight, Duration confirmTimeout) {
    public Publisher {
      positive(maxInFlight, "rabbitkit.publisher.max-in-flight");
      positive(confirmTimeout, "rabbitkit.publisher.confirm-timeout");
    }
  }

  /**
   * Consumer defaults.
   *
   * @param prefetch unacknowledged messages the broker sends ahead, per consumer
   * @param concurrency handler threads per consumer
   * @param drainTimeout how long a stopping consumer lets its in-flight handlers finish
   */
  public record Consumer(Integer prefetch, Integer concurrency, Duration drainTimeout) {
    public Consumer {
      positive(prefetch, "rabbitkit.consumer.prefetch");
      positive(concurrency, "rabbitkit.consumer.concurrency");
      notNegative(drainTimeout, "rabbitkit.consumer.drain-timeout");
    }
  }

  private static void positive(Integer value, String property) {
    if (value != null && value <= 0) {
      throw new IllegalArgumentException(property + " must be positive, was " + value);
    }
  }

  private static void positive(Duration value, String property) {
    if (value != null && (value.isNegative() || value.isZero())) {
      throw new IllegalArgumentException(property + " must be positive, was " + value);
    }
  }

  private static void notNegative(Duration value, String property) {
    if (value != null && value.isNegative()) {
      throw new IllegalArgumentException(property + " must not be negative, was " + value);
    }
  }
}
