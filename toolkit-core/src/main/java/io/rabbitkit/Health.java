package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * What the toolkit's connections, publishers and consumers are doing right now, for health checks
 * and dashboards. Obtain one from {@link RabbitToolkit#health()}; it is a snapshot, not a live view.
 *
 * @param connections the publishing and the consuming connection
 * @param publishers the open publishers
 * @param consumers the open consumers (an RPC server's request consumer among them)
 */
public record Health(List<ConnectionStatus> connections, List<PublisherStatus> publishers,
    List<ConsumerStatus> consumers) {

  public Health {
    connections = List.copyOf(requireNonNull(connections, "connections"));
    publishers = List.copyOf(requireNonNull(publishers, "publishers"));
    consumers = List.copyOf(requireNonNull(consumers, "consumers"));
  }

  /** The state of a connection. */
  public enum State {
    /** Open and usable. */
    OPEN,
    /** Open, but the broker blocks publishing (a memory or disk alarm). */
    BLOCKED,
    /** Lost; amqp-client is reconnecting and the toolkit will restore channels and consumers. */
    RECOVERING,
    /** Closed by the application. */
    CLOSED
  }

  /**
   * @param name the connection's client-provided name
   * @param recoveries how many times it was lost and recovered
   * @param longestRecovery the longest time from loss to restored channels, zero if never lost
   */
  public record ConnectionStatus(String name, State state, long recoveries, Duration longestRecovery) {}

  /**
   * @param inFlight messages sent or waiting to be re-sent, not yet confirmed
   * @param resent messages re-sent after a channel or connection was lost
   */
  public record PublisherStatus(String name, int inFlight, long resent) {}

  /**
   * @param running every channel is subscribed (false while recovering or after a broker cancel)
   * @param inFlight deliveries received and not yet settled (handlers running, acks pending)
   */
  public record ConsumerStatus(String queue, boolean running, int inFlight, ConsumerStats stats) {}

  /** True when every connection is open (not blocked, not recovering) and every consumer is subscribed. */
  public boolean healthy() {
    return connections.stream().allMatch(c -> c.state() == State.OPEN)
        && consumers.stream().allMatch(ConsumerStatus::running);
  }
}
