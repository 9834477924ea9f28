package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
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
      connection.declare(one);
      registry.record(one);
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
