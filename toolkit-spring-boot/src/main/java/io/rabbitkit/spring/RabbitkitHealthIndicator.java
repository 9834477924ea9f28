package io.rabbitkit.spring;

import io.rabbitkit.Health;
import io.rabbitkit.RabbitToolkit;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;

/**
 * The {@code rabbitkit} health component, read from {@link RabbitToolkit#health()}: DOWN while a
 * connection is recovering or blocked, a publisher is stalled or a consumer is not subscribed, with
 * the reasons under {@code problems}. Details name connections, publishers and consumers, never
 * credentials.
 */
public final class RabbitkitHealthIndicator extends AbstractHealthIndicator {

  private final RabbitToolkit toolkit;

  public RabbitkitHealthIndicator(RabbitToolkit toolkit) {
    super("rabbitkit health check failed");
    this.toolkit = toolkit;
  }

  @Override
  protected void doHealthCheck(org.springframework.boot.health.contributor.Health.Builder builder) {
    Health health = toolkit.health();
    if (health.healthy()) {
      builder.up();
    } else {
      builder.down().withDetail("problems", health.problems());
    }
    Map<String, Object> connections = new LinkedHashMap<>();
    for (Health.ConnectionStatus c : health.connections()) {
      connections.put(c.name(), Map.of("state", c.state().name(), "recoveries", c.recoveries()));
    }
    Map<String, Object> publishers = new LinkedHashMap<>();
    for (Health.PublisherStatus p : health.publishers()) {
      publishers.put(p.name(), Map.of("inFlight", p.inFlight(), "resent", p.resent(), "stalled", p.stalled()));
    }
    Map<String, Object> consumers = new LinkedHashMap<>();
    for (Health.ConsumerStatus c : health.consumers()) {
      consumers.put(c.queue(), Map.of("running", c.running(), "inFlight", c.inFlight(),
          "processed", c.stats().processed(), "deadLettered", c.stats().deadLettered()));
    }
    builder.withDetail("connections", connections).withDetail("publishers", publishers)
        .withDetail("consumers", consumers);
  }
}
