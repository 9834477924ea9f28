package io.rabbitkit.spring;

import com.rabbitmq.client.impl.CredentialsProvider;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.observation.ObservationRegistry;
import io.rabbitkit.Credentials;
import io.rabbitkit.Interceptor;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.jdbc.OutboxRelay;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.micrometer.RabbitkitObservations;
import io.rabbitkit.topology.Topology;
import java.nio.file.Path;
import java.util.List;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Auto-configures a {@link RabbitToolkit} from {@code rabbitkit.*}, declares every {@link Topology}
 * bean on it, runs the {@link RabbitkitConsumer} beans in the context's lifecycle, and adds the
 * {@code rabbitkit} health component and, with toolkit-micrometer present, metrics and
 * observations in the application's registries. Every bean backs off when the application
 * defines its own.
 *
 * <p>The health component comes from {@link RabbitkitHealthAutoConfiguration}. Every {@link Interceptor} bean is installed in the toolkit, in {@code @Order}; {@link
 * Credentials} beans, or amqp-client {@code CredentialsProvider} beans such as its OAuth 2 provider,
 * replace the user name and password; {@link
 * RabbitToolkitCustomizer} beans adjust the builder last.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration"})
@ConditionalOnClass(RabbitToolkit.class)
@EnableConfigurationProperties(RabbitkitProperties.class)
public final class RabbitkitAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(RabbitkitConnectionDetails.class)
  RabbitkitConnectionDetails rabbitkitConnectionDetails(RabbitkitProperties properties, Environment environment) {
    return new PropertiesConnectionDetails(properties, environment);
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  RabbitToolkit rabbitToolkit(RabbitkitProperties properties, RabbitkitConnectionDetails details,
      Environment environment, ObjectProvider<SslBundles> sslBundles, ObjectProvider<Credentials> credentials,
      ObjectProvider<CredentialsProvider> amqpCredentials,
      ObjectProvider<Interceptor> interceptors, ObjectProvider<RabbitToolkitCustomizer> customizers,
      ObjectProvider<Topology> topologies) {
    RabbitToolkit.Builder builder = RabbitToolkit.builder();
    connection(builder, details);
    tls(builder, properties.ssl(), details.sslBundle(), sslBundles);
    credentials.ifAvailable(builder::credentials);
    amqpCredentials.ifAvailable(provider -> builder.credentials(new AmqpClientCredentials(provider)));
    String name = properties.connectionName() != null ? properties.connectionName()
        : environment.getProperty("spring.application.name");
    if (name != null) {
      builder.connectionName(name);
    }
    if (properties.heartbeat() != null) {
      builder.heartbeat(properties.heartbeat());
    }
    if (properties.connectionTimeout() != null) {
      builder.connectionTimeout(properties.connectionTimeout());
    }
    if (properties.dispatchThreads() != null) {
      builder.dispatchThreads(properties.dispatchThreads());
    }
    interceptors.orderedStream().forEach(builder::interceptor);
    customizers.orderedStream().forEach(c -> c.customize(builder));
    RabbitToolkit toolkit = builder.connect();
    try {
      topologies.orderedStream().forEach(toolkit::declare);
    } catch (RuntimeException e) {
      toolkit.close();
      throw e;
    }
    return toolkit;
  }

  private static void connection(RabbitToolkit.Builder builder, RabbitkitConnectionDetails details) {
    if (details instanceof PropertiesConnectionDetails fromProperties && fromProperties.uri() != null) {
      builder.uri(fromProperties.uri());
    }
    if (!details.addresses().isEmpty()) {
      builder.addresses(details.addresses().toArray(String[]::new));
    }
    if (details.username() != null) {
      builder.username(details.username());
    }
    if (details.password() != null) {
      builder.password(details.password());
    }
    if (details.virtualHost() != null) {
      builder.virtualHost(details.virtualHost());
    }
  }

  private static void tls(RabbitToolkit.Builder builder, RabbitkitProperties.Ssl ssl, SslBundle fromDetails,
      ObjectProvider<SslBundles> bundles) {
    SslBundle bundle = fromDetails;
    if (bundle == null && ssl.bundle() != null) {
      SslBundles registered = bundles.getIfAvailable();
      if (registered == null) {
        throw new IllegalStateException("rabbitkit.ssl.bundle=" + ssl.bundle() + " but no SSL bundles are configured");
      }
      bundle = registered.getBundle(ssl.bundle());
    }
    if (bundle != null) {
      builder.tls(bundle.createSslContext());
    } else {
      if (ssl.trustStore() != null) {
        builder.trustStore(Path.of(ssl.trustStore()), ssl.trustStorePassword());
      }
      if (ssl.keyStore() != null) {
        builder.keyStore(Path.of(ssl.keyStore()), ssl.keyStorePassword());
      }
      if (Boolean.TRUE.equals(ssl.enabled()) && ssl.trustStore() == null && ssl.keyStore() == null) {
        builder.tls();
      }
    }
    if (!ssl.verifyHostname()) {
      builder.hostnameVerification(false);
    }
    if (ssl.saslExternal()) {
      builder.saslExternal();
    }
  }

  /** With several toolkits in the context, the defaults (and the consumer beans) use the {@code @Primary} one. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnSingleCandidate(RabbitToolkit.class)
  RabbitkitDefaults rabbitkitDefaults(RabbitToolkit toolkit, RabbitkitProperties properties) {
    return new RabbitkitDefaults(toolkit, properties);
  }

  @Bean
  @ConditionalOnMissingBean
  RabbitkitConsumers rabbitkitConsumers(ObjectProvider<RabbitkitDefaults> defaults,
      ObjectProvider<RabbitkitConsumer<?>> consumers, ObjectProvider<RabbitToolkit> toolkits) {
    List<RabbitkitConsumer<?>> declared = consumers.orderedStream().toList();
    RabbitkitDefaults chosen = defaults.getIfAvailable();
    if (chosen == null && !declared.isEmpty()) {
      throw new IllegalStateException(declared.size() + " RabbitkitConsumer bean(s) need one RabbitToolkit to run on, "
          + "and the context has " + toolkits.stream().count() + " with none marked @Primary: mark one @Primary, "
          + "or build those consumers on the toolkit you mean");
    }
    return new RabbitkitConsumers(chosen, declared);
  }

  /**
   * Actuator's env and configprops endpoints show values when {@code show-values} allows: never a
   * toolkit or Spring AMQP password, whether a property, an environment variable ({@code
   * RABBITKIT_PASSWORD}) or a system property, nor the password inside any URI or command line
   * ({@code sun.java.command} with {@code --rabbitkit.uri=amqp://u:p@ss@host}).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(SanitizingFunction.class)
  static class SanitizingConfiguration {
    @Bean
    SanitizingFunction rabbitkitSanitizingFunction() {
      return data -> {
        if (Secrets.isPassword(data.getKey(), data.getPropertySource() == null)) {
          return data.withSanitizedValue();
        }
        if (data.getValue() instanceof CharSequence value) {
          String masked = Secrets.mask(value.toString(), SanitizableData.SANITIZED_VALUE);
          return masked.equals(value.toString()) ? data : data.withValue(masked);
        }
        return data;
      };
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({RabbitkitMetrics.class, MeterRegistry.class})
  @ConditionalOnBean(MeterRegistry.class)
  static class MetricsConfiguration {
    @Bean
    @ConditionalOnMissingBean
    RabbitkitMetrics rabbitkitMetrics(MeterRegistry registry) {
      return RabbitkitMetrics.of(registry);
    }

    /** The gauges over health() need the connected toolkit. */
    @Bean
    SmartInitializingSingleton rabbitkitMetricsGauges(RabbitkitMetrics metrics, ObjectProvider<RabbitToolkit> toolkit) {
      return () -> toolkit.ifUnique(metrics::bindTo); // several toolkits without a @Primary one: no gauges
    }
  }

  /**
   * Per {@link OutboxRelay} bean (tag {@code relay}, the bean name): {@code rabbitkit.outbox.relay.up}
   * (1 while {@link OutboxRelay#status()} is up), and the counters {@code rabbitkit.outbox.relayed},
   * {@code rabbitkit.outbox.failed.attempts}, {@code rabbitkit.outbox.parked} and {@code
   * rabbitkit.outbox.failed.batches}.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({OutboxRelay.class, MeterRegistry.class})
  @ConditionalOnBean(MeterRegistry.class)
  static class OutboxMetricsConfiguration {
    @Bean
    SmartInitializingSingleton rabbitkitOutboxGauges(MeterRegistry registry, ListableBeanFactory beans) {
      return () -> beans.getBeansOfType(OutboxRelay.class).forEach((name, relay) -> {
        Tags tags = Tags.of("relay", name);
        Gauge.builder("rabbitkit.outbox.relay.up", relay, r -> r.status().up() ? 1 : 0)
            .tags(tags).register(registry);
        FunctionCounter.builder("rabbitkit.outbox.relayed", relay, OutboxRelay::relayed)
            .tags(tags).register(registry);
        FunctionCounter.builder("rabbitkit.outbox.failed.attempts", relay,
            OutboxRelay::failedAttempts).tags(tags).register(registry);
        FunctionCounter.builder("rabbitkit.outbox.parked", relay, OutboxRelay::parkedRows)
            .tags(tags).register(registry);
        FunctionCounter.builder("rabbitkit.outbox.failed.batches", relay,
            OutboxRelay::failedBatches).tags(tags).register(registry);
      });
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({RabbitkitObservations.class, ObservationRegistry.class})
  @ConditionalOnBean(ObservationRegistry.class)
  static class ObservationConfiguration {
    @Bean
    @ConditionalOnMissingBean
    RabbitkitObservations rabbitkitObservations(ObservationRegistry registry) {
      return RabbitkitObservations.of(registry);
    }
  }

  /** An amqp-client credentials provider (its OAuth 2 one, say) as the toolkit's {@link Credentials}. */
  private record AmqpClientCredentials(CredentialsProvider provider) implements Credentials {
    @Override
    public String username() {
      return provider.getUsername();
    }

    @Override
    public String password() {
      return provider.getPassword();
    }

    @Override
    public java.util.Optional<java.time.Duration> expiresIn() {
      return java.util.Optional.ofNullable(provider.getTimeBeforeExpiration());
    }

    @Override
    public void refresh() {
      provider.refresh();
    }
  }
}
