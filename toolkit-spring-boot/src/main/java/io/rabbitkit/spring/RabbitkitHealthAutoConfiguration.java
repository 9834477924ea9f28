package io.rabbitkit.spring;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.jdbc.OutboxRelay;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code rabbitkit} health component, when Boot's health support is on the class path;
 * {@code management.health.rabbitkit.enabled=false} turns it off. With toolkit-jdbc and {@link
 * OutboxRelay} beans, the {@code rabbitkitOutbox} component too.
 */
@AutoConfiguration(after = RabbitkitAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(RabbitToolkit.class)
@ConditionalOnEnabledHealthIndicator("rabbitkit")
public final class RabbitkitHealthAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "rabbitkitHealthIndicator")
  RabbitkitHealthIndicator rabbitkitHealthIndicator(Map<String, RabbitToolkit> toolkits) {
    return new RabbitkitHealthIndicator(toolkits); // every toolkit of the context, by bean name
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(OutboxRelay.class)
  @ConditionalOnBean(OutboxRelay.class)
  static class OutboxHealthConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = "rabbitkitOutboxHealthIndicator")
    OutboxRelayHealthIndicator rabbitkitOutboxHealthIndicator(Map<String, OutboxRelay> relays) {
      return new OutboxRelayHealthIndicator(relays);
    }
  }
}
