package io.rabbitkit.spring;

import io.rabbitkit.Health;
import io.rabbitkit.RabbitToolkit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;

/**
 * The {@code rabbitkit} health component, read from {@link RabbitToolkit#health()}: DOWN while a
 * connection is recovering or blocked, a publisher is stalled or a consumer is not subscribed, with
 * the reasons under {@code problems}. Details name connections, publishers and consumers, never
 * credentials. With several toolkits in the context it covers each, under its bean name, and is
 * DOWN when any of them is.
 */
public final class RabbitkitHealthIndicator extends AbstractHealthIndicator {

  private final Map<String, RabbitToolkit> toolkits;

  public RabbitkitHealthIndicator(RabbitToolkit toolkit) {
    this(Map.of("rabbitToolkit", Objects.requireNonNull(toolkit, "toolkit")));
  }

  /** Covers every toolkit of {@code toolkits}, by bean name. */
  public RabbitkitHealthIndicator(Map<String, RabbitToolkit> toolkits) {
    super("rabbitkit health check failed");
    if (toolkits.isEmpty()) {
      throw new IllegalArgumentException("no toolkit to report on");
    }
    this.toolkits = Map.copyOf(toolkits);
  }

  @Override
  protected void doHealthCheck(org.springframework.boot.health.contributor.Health.Builder builder) {
    if (toolkits.size() == 1) {
      Health health = toolkits.values().iterator().next().health();
      status(builder, health.healthy());
      details(health).forEach(builder::withDetail);
      return;
    }
    boolean healthy = true;
    Map<String, Object> each = new LinkedHashMap<>();
    for (Map.Entry<String, RabbitToolkit> t : new java.util.TreeMap<>(toolkits).entrySet()) {
      Health health = t.getValue().health();
      healthy &= health.healthy();
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("status", health.healthy() ? "UP" : "DOWN");
      d.putAll(details(health));
      each.put(t.getKey(), d);
    }
    status(builder, healthy);
    builder.withDetail("toolkits", each);
  }

  private static void status(org.springframework.boot.health.contributor.Health.Builder builder, boolean healthy) {
    if (healthy) {
      builder.up();
    } else {
      builder.down();
    }
  }

  private static Map<String, Object> details(Health health) {
    Map<String, Object> details = new LinkedHashMap<>();
    if (!health.healthy()) {
      details.put("problems", health.problems());
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
    Health.Broker b = health.broker();
    details.put("broker", Map.of("version", b.product() + " " + b.version(), "metadataStore", b.metadataStore(),
        "delayedRetry", b.delayedRetry(), "redeliveryBackends", b.redeliveryBackends()));
    details.put("connections", connections);
    details.put("publishers", publishers);
    details.put("consumers", consumers);
    return details;
  }
}
