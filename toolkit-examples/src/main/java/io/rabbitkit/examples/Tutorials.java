package io.rabbitkit.examples;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;

/**
 * The pika tutorials' entities with the tutorials' own properties, so that a tutorial script run
 * later (or earlier) never fails with PRECONDITION_FAILED: {@code hello} and {@code rpc_queue}
 * non-durable, {@code task_queue} durable, {@code logs}, {@code direct_logs} and {@code topic_logs}
 * non-durable exchanges. Existing entities are kept as they are.
 */
public final class Tutorials {

  private Tutorials() {
  }

  /**
   * Declares a tutorial's queue unless it exists. RabbitMQ 4.3 refuses non-durable shared queues by
   * default (as it refuses the tutorial's own declaration); the queue is then declared durable,
   * with one line saying so.
   */
  public static void queue(RabbitToolkit rabbit, String name, boolean durable, PrintStream out) {
    try {
      rabbit.declareMissing(Topology.of(Queue.classic(name).withDurable(durable)));
    } catch (TopologyException e) {
      if (durable || !String.valueOf(e.getMessage()).contains("transient_nonexcl_queues")) {
        throw e;
      }
      out.println(" [!] this broker refuses non-durable queues: '" + name + "' is declared durable");
      rabbit.declareMissing(Topology.of(Queue.classic(name)));
    }
  }

  /** Declares a tutorial's exchange, non-durable as in the tutorials, unless it exists. */
  public static void exchange(RabbitToolkit rabbit, Exchange exchange) {
    rabbit.declareMissing(Topology.builder().exchange(exchange.withDurable(false)).build());
  }
}
