package io.rabbitkit.topology;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * A set of exchanges, queues and bindings to declare together. Immutable; declared with {@code
 * RabbitToolkit.declare(topology)}, which is idempotent and re-declares everything after a
 * connection recovery.
 *
 * <pre>{@code
 * Topology topology = Topology.builder()
 *     .exchange(Exchange.topic("orders"))
 *     .queue(Queue.quorum("orders.placed").withDeadLetterQueue("orders.placed.dlq"))
 *     .queue(Queue.classic("orders.placed.dlq"))
 *     .binding(Binding.of("orders", "orders.placed", "order.placed"))
 *     .build();
 * }</pre>
 *
 * <p>Declaration order is exchanges, then queues, then bindings, each in the order added.
 *
 * @param exchanges the exchanges, copied
 * @param queues the queues, copied
 * @param bindings the bindings, copied
 */
public record Topology(List<Exchange> exchanges, List<Queue> queues, List<Binding> bindings) {

  public Topology {
    exchanges = List.copyOf(requireNonNull(exchanges, "exchanges"));
    queues = List.copyOf(requireNonNull(queues, "queues"));
    bindings = List.copyOf(requireNonNull(bindings, "bindings"));
  }

  /** Returns a topology of just these queues. */
  public static Topology of(Queue... queues) {
    return new Topology(List.of(), List.of(queues), List.of());
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link Topology}. Not thread-safe. */
  public static final class Builder {
    private final List<Exchange> exchanges = new ArrayList<>();
    private final List<Queue> queues = new ArrayList<>();
    private final List<Binding> bindings = new ArrayList<>();

    private Builder() {
    }

    /** Adds an exchange. */
    public Builder exchange(Exchange exchange) {
      exchanges.add(requireNonNull(exchange, "exchange"));
      return this;
    }

    /** Adds a queue. */
    public Builder queue(Queue queue) {
      queues.add(requireNonNull(queue, "queue"));
      return this;
    }

    /** Adds a binding. */
    public Builder binding(Binding binding) {
      bindings.add(requireNonNull(binding, "binding"));
      return this;
    }

    /** Returns the topology. */
    public Topology build() {
      return new Topology(exchanges, queues, bindings);
    }
  }
}
