package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * Broker-side delayed retry: after a failed processing round the message waits in a delay queue,
 * one per tier, then goes back to the work queue. No broker plugin is needed: each tier is a queue
 * {@code <queue>.retry.<delay>} with a per-queue TTL that dead-letters to the work queue, so a
 * message waiting in a long tier never holds back one in a shorter tier.
 *
 * <pre>{@code
 * consumerBuilder(Order.class).queue("orders").redelivery(Redelivery.after(ofSeconds(1), ofSeconds(10), ofMinutes(1)))
 * }</pre>
 *
 * <p>With {@code n} tiers a message gets {@code n + 1} rounds (each round may itself retry in
 * process); after the last it goes to the dead-letter queue. The round count travels in the
 * message's {@code toolkit-attempts} header, so it survives restarts and moves between processes.
 *
 * @param delays the wait before each further round, in order
 */
public record Redelivery(List<Duration> delays) {

  public Redelivery {
    delays = List.copyOf(requireNonNull(delays, "delays"));
    for (int i = 1; i < delays.size(); i++) {
      if (delays.get(i).compareTo(delays.get(i - 1)) <= 0) {
        throw new IllegalArgumentException("redelivery delays must increase: " + delays.get(i - 1) + " is followed by "
            + delays.get(i) + " in " + delays);
      }
    }
    for (Duration d : delays) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("redelivery delays must be positive: " + d);
      }
      if (d.toMillis() < 1) {
        throw new IllegalArgumentException("redelivery delays must be at least 1 ms: " + d);
      }
    }
  }

  /** Tiers with these waits, in order. */
  public static Redelivery after(Duration... delays) {
    return new Redelivery(List.of(delays));
  }

  /** No delayed rounds: after in-process retries, a failed message goes straight to the dead-letter queue. */
  public static Redelivery none() {
    return new Redelivery(List.of());
  }

  /** Returns the delay queue name for {@code delay}, for example {@code orders.retry.10s}. */
  public static String delayQueueName(String queue, Duration delay) {
    return queue + ".retry." + format(delay);
  }

  private static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1_000 == 0) {
      return ms / 1_000 + "s";
    }
    return ms + "ms";
  }
}
