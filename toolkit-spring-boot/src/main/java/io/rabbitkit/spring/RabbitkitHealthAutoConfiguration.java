package io.rabbitkit.spring;

import io.rabbitkit.RabbitToolkit;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code rabbitkit} health component, when Boot's health support is on the class path;
 * {@code management.health.rabbitkit.enabled=false} turns it off.
 */
@AutoConfiguration(after = RabbitkitAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(RabbitToolkit.class)
@ConditionalOnEnabledHealthIndicator("rabbitkit")
public final class RabbitkitHealthAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "rabbitkitHealthIndicator")
  RabbitkitHealthIndicator rabbitkitHealthIndicator(RabbitToolkit toolkit) {
    return new RabbitkitHealthIndicator(toolkit);
  }
}
