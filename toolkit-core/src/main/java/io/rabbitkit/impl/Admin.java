package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The toolkit's topology operations: declarations, deletions and look-ups on the consuming
 * connection, each recorded in (or removed from) the registry that recovery declares again.
 */
final class Admin {

  private static final Logger LOG = LoggerFactory.getLogger(Admin.class);

  private final RoleConnection connection;
  private final TopologyRegistry registry;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  /** Queues given to declareMissing that existed already, as the application described them. */
  private final Map<String, Queue> described = new ConcurrentHashMap<>();

  Admin(RoleConnection connection, TopologyRegistry registry) {
    this.connection = connection;
    this.registry = registry;
  }

  void declare(Topology topology) {
    requireNonNull(topology, "topology");
    for (Topology one : TopologyRegistry.entities(topology)) {
      warnAboutRabbitmq4(one);
      declareRetryingMetadataTimeouts(one);
      registry.record(one);
    }
  }

  /**
   * The waits before each further attempt at a declaration the broker's metadata store could not
   * commit (no quorum). Each attempt itself takes the broker's 30 s: one more is enough to ride out
   * a leader election, and a caller does not wait minutes for an answer.
   */
  static final Duration[] METADATA_RETRY_WAITS = {Duration.ofSeconds(2)};

  /**
   * RabbitMQ 4.x on Khepri answers a declaration it cannot commit for want of a quorum with 541
   * after its own 30 s, closing the connection: wait for the connection to come back, then try
   * again, with back-off; after the last try, the typed error says what it means.
   */
  private void declareRetryingMetadataTimeouts(Topology one) {
    for (int attempt = 0;; attempt++) {
      try {
        connection.declare(one);
        return;
      } catch (RuntimeException e) {
        // The broker's 541 and the client's own channel timeout (both 30 s) race: either may come first.
        boolean metadata = Errors.metadataStoreTimedOut(e);
        boolean noAnswer = !metadata && causedBy(e, java.util.concurrent.TimeoutException.class);
        if (!metadata && !noAnswer) {
          throw e;
        }
        if (attempt == METADATA_RETRY_WAITS.length) {
          String entity = one.exchanges().isEmpty() ? one.queues().isEmpty() ? one.bindings().get(0).toString()
              : one.queues().get(0).toString() : one.exchanges().get(0).toString();
          throw new TopologyException(entity, null, 541, (metadata ? e.getMessage() : "declaring " + entity
              + " got no answer in time: on RabbitMQ 4.x that is its metadata store (Khepri) without a quorum of its "
              + "cluster (a majority of the nodes down or unreachable), else an overloaded broker")
              + "; tried " + (attempt + 1) + " times", e);
        }
        Duration wait = METADATA_RETRY_WAITS[attempt];
        LOG.warn("{}; trying again in {} s", e.getMessage(), wait.toSeconds());
        sleepUntilOpen(wait);
      }
    }
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private void sleepUntilOpen(Duration wait) {
    long deadline = System.nanoTime() + wait.plusSeconds(30).toNanos();
    long earliest = System.nanoTime() + wait.toNanos();
    try {
      while (System.nanoTime() < earliest || !connection.isOpen() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ToolkitException.TransportException("interrupted while waiting to declare again", e);
    }
  }

  /**
   * RabbitMQ 4.x deprecates transient (non-durable) shared classic queues, and refuses them where
   * {@code deprecated_features.permit.transient_nonexcl_queues = false} (not yet the default in
   * 4.3.6, which logs a warning): say so, once per queue, before the broker does. (The toolkit never
   * uses global QoS, which 4.3 no longer permits.)
   */
  private void warnAboutRabbitmq4(Topology one) {
    for (Queue q : one.queues()) {
      if (q.type() == Queue.Type.CLASSIC && !q.durable() && !q.exclusive() && warned.add(q.name())) {
        LOG.warn("queue '{}' is non-durable and not exclusive: RabbitMQ 4.x deprecates such queues and a broker set to "
            + "deprecated_features.permit.transient_nonexcl_queues = false refuses them; declare it durable, or "
            + "exclusive if one connection uses it", io.rabbitkit.SafeText.of(q.name()));
      }
    }
  }

  void declareMissing(Topology topology) {
    requireNonNull(topology, "topology");
    for (Topology one : TopologyRegistry.entities(topology)) {
      boolean exists = !one.exchanges().isEmpty() ? exchangeExists(one.exchanges().get(0).name())
          : !one.queues().isEmpty() && queueInfo(one.queues().get(0).name()).isPresent();
      if (exists) {
        // Not declared here, but described: what a consumer needs to know of its queue (its type,
        // delivery limit, dead-letter exchange) is the same whichever process declared it first.
        one.queues().forEach(q -> described.put(q.name(), q));
      } else {
        warnAboutRabbitmq4(one);
        connection.declare(one);
        registry.record(one);
      }
    }
  }

  boolean exchangeExists(String name) {
    requireNonNull(name, "name");
    return probeExisting("exchange '" + name + "'", ch -> ch.exchangeDeclarePassive(name)).isPresent();
  }

  Topology declared() {
    return registry.snapshot();
  }

  /** The queue as declared through this toolkit (or described to declareMissing, which found it), if it was. */
  Optional<Queue> declaredQueue(String name) {
    return registry.queue(name).or(() -> Optional.ofNullable(described.get(name)));
  }

  void deleteQueue(String name) {
    requireNonNull(name, "name");
    connection.adminCall("deleting", "queue '" + name + "'", ch -> ch.queueDelete(name));
    registry.forgetQueue(name);
    described.remove(name);
  }

  void deleteExchange(String name) {
    requireNonNull(name, "name");
    connection.adminCall("deleting", "exchange '" + name + "'", ch -> ch.exchangeDelete(name));
    registry.forgetExchange(name);
  }

  void unbind(Binding binding) {
    requireNonNull(binding, "binding");
    connection.adminCall("removing", binding.toString(), ch -> {
      if (binding.destinationType() == Binding.DestinationType.QUEUE) {
        return ch.queueUnbind(binding.destination(), binding.source(), binding.routingKey(), binding.arguments());
      }
      return ch.exchangeUnbind(binding.destination(), binding.source(), binding.routingKey(), binding.arguments());
    });
    registry.forgetBinding(binding);
  }

  long purgeQueue(String name) {
    requireNonNull(name, "name");
    AMQP.Queue.PurgeOk ok = connection.adminCall("purging", "queue '" + name + "'", ch -> ch.queuePurge(name));
    return ok.getMessageCount();
  }

  Optional<QueueInfo> queueInfo(String name) {
    requireNonNull(name, "name");
    return probeExisting("queue '" + name + "'", ch -> ch.queueDeclarePassive(name))
        .map(ok -> new QueueInfo(name, ok.getMessageCount(), ok.getConsumerCount()));
  }

  <R> R call(String action, String entity, RoleConnection.ChannelCall<R> call) {
    return connection.adminCall(action, entity, call);
  }

  /** A passive declaration: its answer, or empty when the broker says the entity does not exist (404). */
  private <R> Optional<R> probeExisting(String entity, RoleConnection.ChannelCall<R> passiveDeclare) {
    try {
      return Optional.of(connection.probe(entity, passiveDeclare));
    } catch (TopologyException e) {
      if (e.replyCode() == AMQP.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }
}
