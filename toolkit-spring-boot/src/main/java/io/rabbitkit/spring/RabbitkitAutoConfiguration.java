package io.rabbitkit.spring;

import com.rabbitmq.client.impl.CredentialsProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.rabbitkit.Interceptor;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.micrometer.RabbitkitObservations;
import io.rabbitkit.topology.Topology;
import java.nio.file.Path;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
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
 * CredentialsProvider} beans (OAuth 2 tokens) replace the user name and password; {@link
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
      Environment environment, ObjectProvider<SslBundles> sslBundles, ObjectProvider<CredentialsProvider> credentials,
      ObjectProvider<Interceptor> interceptors, ObjectProvider<RabbitToolkitCustomizer> customizers,
      ObjectProvider<Topology> topologies) {
    RabbitToolkit.Builder builder = RabbitToolkit.builder();
    connection(builder, details);
    tls(builder, properties.ssl(), details.sslBundle(), sslBundles);
    credentials.ifAvailable(builder::credentialsProvider);
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

  @Bean
  @ConditionalOnMissingBean
  RabbitkitDefaults rabbitkitDefaults(RabbitToolkit toolkit, RabbitkitProperties properties) {
    return new RabbitkitDefaults(toolkit, properties);
  }

  @Bean
  @ConditionalOnMissingBean
  RabbitkitConsumers rabbitkitConsumers(RabbitkitDefaults defaults, ObjectProvider<RabbitkitConsumer<?>> consumers) {
    return new RabbitkitConsumers(defaults, consumers.orderedStream().toList());
  }

  /**
   * Actuator's env and configprops endpoints show values when {@code show-values} allows: never
   * the toolkit's passwords, nor the password inside an AMQP URI.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(SanitizingFunction.class)
  static class SanitizingConfiguration {
    @Bean
    SanitizingFunction rabbitkitSanitizingFunction() {
      return data -> {
        String key = data.getLowerCaseKey();
        boolean ours = key.startsWith("rabbitkit.") || key.startsWith("spring.rabbitmq.") || data.getPropertySource() == null;
        if (!ours) {
          return data;
        }
        if (key.endsWith("password")) {
          return data.withSanitizedValue();
        }
        if (data.getValue() instanceof CharSequence value) {
          String masked = RabbitkitProperties.maskUriPassword(value.toString(), SanitizableData.SANITIZED_VALUE);
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
      return () -> toolkit.ifAvailable(metrics::bindTo);
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
}
