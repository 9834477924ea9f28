package io.rabbitkit.spring;

import io.rabbitkit.jdbc.OutboxRelay;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;

/**
 * The {@code rabbitkitOutbox} health component, read from {@link OutboxRelay#status()} of every
 * relay bean: DOWN while a relay is closed, a worker is not running or stuck in one batch, or every
 * batch has failed for 30 s; the detail says which and why, with each relay's counters.
 */
public final class OutboxRelayHealthIndicator extends AbstractHealthIndicator {

  private final Map<String, OutboxRelay> relays;

  public OutboxRelayHealthIndicator(Map<String, OutboxRelay> relays) {
    super("rabbitkit outbox health check failed");
    this.relays = new TreeMap<>(relays);
  }

  @Override
  protected void doHealthCheck(org.springframework.boot.health.contributor.Health.Builder builder) {
    boolean up = true;
    for (Map.Entry<String, OutboxRelay> r : relays.entrySet()) {
      OutboxRelay.Status s = r.getValue().status();
      up &= s.up();
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("status", s.up() ? "UP" : "DOWN");
      d.put("detail", s.detail());
      d.put("relayed", s.relayed());
      d.put("failedAttempts", s.failedAttempts());
      d.put("parked", s.parked());
      d.put("failedBatches", s.failedBatches());
      builder.withDetail(r.getKey(), d);
    }
    if (up) {
      builder.up();
    } else {
      builder.down();
    }
  }
}
