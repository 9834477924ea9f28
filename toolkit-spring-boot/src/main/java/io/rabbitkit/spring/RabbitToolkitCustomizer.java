package io.rabbitkit.spring;

import io.rabbitkit.RabbitToolkit;

/**
 * Adjusts the auto-configured toolkit's builder after the properties are applied and before it
 * connects: a listener, a callback executor, a recovery interval, anything {@code rabbitkit.*} does
 * not cover. Customizers run in {@code @Order}.
 */
@FunctionalInterface
public interface RabbitToolkitCustomizer {

  void customize(RabbitToolkit.Builder builder);
}
