package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * What the toolkit's connections, publishers and consumers are doing right now, for health checks
 * and dashboards. Obtain one from {@link RabbitToolkit#health()}; it is a snapshot, not a live view.
 *
 * @param broker what the broker is and can do, as learnt when connecting
 * @param connections the publishing and the consuming connection
 * @param publishers the open publishers
 * @param consumers the open consumers (an RPC server's request consumer among them)
 */
public record Health(Broker broker, List<ConnectionStatus> connections, List<PublisherStatus> publishers,
    List<ConsumerStatus> consumers) {

  public Health {
    requireNonNull(broker, "broker");
    connections = List.copyOf(requireNonNull(connections, "connections"));
    publishers = List.copyOf(requireNonNull(publishers, "publishers"));
    consumers = List.copyOf(requireNonNull(consumers, "consumers"));
  }

  /**
   * The broker, from what it announced when the toolkit connected.
   *
   * @param product the product name it announced, {@code RabbitMQ}
   * @param version its version, for example {@code 4.3.6} ({@code unknown} if it announced none)
   * @param delayedRetry whether its quorum queues can delay redeliveries themselves ({@code
   *     x-delayed-retry-*}, RabbitMQ 4.3+), which {@link Redelivery#inQueue} needs
   * @param metadataStore {@code khepri} (RabbitMQ 4.3+, where it is the only store), {@code mnesia}
   *     (3.x), or {@code mnesia or khepri} (4.0-4.2, where a client cannot tell)
   * @param redeliveryBackends the redelivery backends the toolkit's consumers use now ({@code
   *     delay-queues}, {@code in-queue}), each once
   */
  public record Broker(String product, String version, boolean delayedRetry, String metadataStore,
      List<String> redeliveryBackends) {

    public Broker {
      requireNonNull(product, "product");
      requireNonNull(version, "version");
      requireNonNull(metadataStore, "metadataStore");
      redeliveryBackends = List.copyOf(requireNonNull(redeliveryBackends, "redeliveryBackends"));
    }

    /** Whether the broker's version is at least {@code major.minor}. */
    public boolean atLeast(int major, int minor) {
      String[] parts = version.split("[.-]");
      try {
        int ma = Integer.parseInt(parts[0]);
        int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        return ma > major || (ma == major && mi >= minor);
      } catch (NumberFormatException e) {
        return false;
      }
    }
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
  public record ConnectionStatus(String name, State state, long recoveries, Duration longestRecovery) {
  }

  /**
   * How long a sent message may wait for its confirm before its publisher counts as stalled: a
   * broker that stopped answering (a network black hole before the heartbeat notices, a quorum
   * queue without a majority) shows here first.
   */
  public static final Duration STALL_THRESHOLD = Duration.ofSeconds(5);

  /**
   * @param inFlight messages sent or waiting to be re-sent, not yet confirmed
   * @param resent messages re-sent after a channel or connection was lost
   * @param refused messages the broker refused by closing the channel over them (each failed alone
   *     with {@code MessageRefusedException})
   * @param channelReplacements how many times the publisher's channel was lost and replaced
   * @param oldestUnconfirmed how long the oldest message sent and not yet confirmed has waited
   *     (zero if none); over {@link #STALL_THRESHOLD} the publisher is {@link #stalled()}
   */
  public record PublisherStatus(String name, int inFlight, long resent, long refused, long channelReplacements,
      Duration oldestUnconfirmed) {

    /** Whether a sent message has waited longer than {@link #STALL_THRESHOLD} for its confirm. */
    public boolean stalled() {
      return oldestUnconfirmed.compareTo(STALL_THRESHOLD) > 0;
    }
  }

  /**
   * @param running every channel is subscribed (false while recovering or after a broker cancel)
   * @param inFlight deliveries received and not yet settled (handlers running, acks pending)
   */
  public record ConsumerStatus(String queue, boolean running, int inFlight, MessageConsumer.Stats stats) {
  }

  /**
   * True when every connection is open (not blocked, not recovering), no publisher is {@linkplain
   * PublisherStatus#stalled() stalled} and every consumer is subscribed; {@link #problems()} says
   * what is not.
   */
  public boolean healthy() {
    return problems().isEmpty();
  }

  /** What keeps this snapshot from being healthy, one sentence each; empty when it is healthy. */
  public List<String> problems() {
    List<String> problems = new java.util.ArrayList<>();
    for (ConnectionStatus c : connections) {
      if (c.state() != State.OPEN) {
        problems.add("connection " + c.name() + " is " + c.state());
      }
    }
    for (PublisherStatus p : publishers) {
      if (p.stalled()) {
        problems.add(p.name() + ": a message has waited " + p.oldestUnconfirmed().toSeconds()
            + " s for its confirm (the broker or the network stopped answering?)");
      }
    }
    for (ConsumerStatus c : consumers) {
      if (!c.running()) {
        problems.add("the consumer of queue '" + c.queue() + "' is not subscribed");
      }
    }
    return List.copyOf(problems);
  }
}
