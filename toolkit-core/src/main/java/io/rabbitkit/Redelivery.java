package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.Checks;
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
 * <p>On RabbitMQ 4.3+ a quorum queue can delay its redeliveries itself ({@link #inQueue}, with the
 * queue declared {@link io.rabbitkit.topology.Queue#withDelayedRetry}): the message stays in its
 * queue (no re-publish, no delay queue), the broker counts the rounds in {@code x-delivery-count},
 * and the dead-letter queue gets the same failure headers. What each backend guarantees is in the
 * README ("Broker versions").
 *
 * @param delays the wait before each further round, in order
 * @param backend what does the waiting
 */
public record Redelivery(List<Duration> delays, Backend backend) {

  /** What does the waiting between rounds. */
  public enum Backend {
    /** A delay queue per tier, {@code <queue>.retry.<delay>}, with a TTL that dead-letters back: every broker. */
    DELAY_QUEUES,
    /** The work queue itself ({@code x-delayed-retry-type=failed}, RabbitMQ 4.3+ quorum queues). */
    IN_QUEUE
  }

  /** Tiers in delay queues. */
  public Redelivery(List<Duration> delays) {
    this(delays, Backend.DELAY_QUEUES);
  }

  public Redelivery {
    requireNonNull(backend, "backend");
    delays = List.copyOf(requireNonNull(delays, "delays"));
    for (int i = 1; i < delays.size(); i++) {
      // A delay queue per tier: each tier its own delay. In the queue, the broker's cap repeats the longest.
      int order = delays.get(i).compareTo(delays.get(i - 1));
      if (backend == Backend.DELAY_QUEUES ? order <= 0 : order < 0) {
        throw new IllegalArgumentException("redelivery delays must increase: " + delays.get(i - 1) + " is followed by "
            + delays.get(i) + " in " + delays);
      }
    }
    for (Duration d : delays) {
      Checks.positive("redelivery delays", d);
      if (d.toMillis() < 1) {
        throw new IllegalArgumentException("redelivery delays must be at least 1 ms: " + d);
      }
    }
  }

  /** Tiers with these waits, in order. */
  public static Redelivery after(Duration... delays) {
    return new Redelivery(List.of(delays));
  }

  /**
   * {@code rounds} further rounds delayed by the work queue itself, as RabbitMQ 4.3+ does for a
   * quorum queue declared with {@link io.rabbitkit.topology.Queue#withDelayedRetry withDelayedRetry(min,
   * max)}: the k-th redelivery waits {@code min(k * min, max)} (measured on 4.3.6). The consumer
   * requeues a failed message with {@code basic.reject} instead of re-publishing it, reads the round
   * from the broker's {@code x-delivery-count}, and after the last round moves it to the dead-letter
   * queue with the usual failure headers. A delayed message does not hold a prefetch slot while it
   * waits. Building such a consumer fails on a broker older than 4.3, or when the queue was declared
   * through the toolkit without matching settings.
   */
  public static Redelivery inQueue(Duration min, Duration max, int rounds) {
    requireNonNull(min, "min");
    requireNonNull(max, "max");
    Checks.atLeastOne("rounds", rounds);
    if (min.toMillis() < 1 || max.compareTo(min) < 0) {
      throw new IllegalArgumentException("in-queue delays need 1 ms <= min <= max: " + min + ", " + max);
    }
    Duration[] delays = new Duration[rounds];
    for (int k = 1; k <= rounds; k++) {
      Duration d = min.multipliedBy(k);
      delays[k - 1] = d.compareTo(max) > 0 ? max : d;
    }
    return new Redelivery(List.of(delays), Backend.IN_QUEUE);
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
