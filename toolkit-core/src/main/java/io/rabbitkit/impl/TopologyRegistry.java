package io.rabbitkit.impl;

import com.rabbitmq.client.Channel;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What this toolkit has declared, so it can declare it again after a connection recovery (the
 * toolkit, not amqp-client, owns topology recovery: amqp-client would re-declare through the
 * channel that first declared, which may be long closed). Thread-safe.
 */
final class TopologyRegistry {

  private final Map<String, Exchange> exchanges = new LinkedHashMap<>();
  private final Map<String, Queue> queues = new LinkedHashMap<>();
  private final Map<Binding, Binding> bindings = new LinkedHashMap<>();

  synchronized void record(Topology topology) {
    topology.exchanges().forEach(x -> exchanges.put(x.name(), x));
    topology.queues().forEach(q -> queues.put(q.name(), q));
    topology.bindings().forEach(b -> bindings.put(b, b));
  }

  synchronized Optional<Queue> queue(String name) {
    return Optional.ofNullable(queues.get(name));
  }

  synchronized void forgetQueue(String name) {
    queues.remove(name);
    bindings.keySet()
        .removeIf(b -> b.destinationType() == Binding.DestinationType.QUEUE && b.destination().equals(name));
  }

  synchronized void forgetExchange(String name) {
    exchanges.remove(name);
    bindings.keySet().removeIf(b -> b.source().equals(name)
        || b.destinationType() == Binding.DestinationType.EXCHANGE && b.destination().equals(name));
  }

  synchronized void forgetBinding(Binding binding) {
    bindings.remove(binding);
  }

  synchronized Topology snapshot() {
    return new Topology(new ArrayList<>(exchanges.values()), new ArrayList<>(queues.values()),
        new ArrayList<>(bindings.values()));
  }

  /** Declares every entity of {@code topology} on {@code channel}; stops at the first refusal. */
  static void declare(Channel channel, Topology topology) {
    for (Exchange x : topology.exchanges()) {
      run(x.toString(), () -> channel.exchangeDeclare(x.name(), x.type().brokerName(), x.durable(), x.autoDelete(),
          x.internal(), x.arguments()));
    }
    for (Queue q : topology.queues()) {
      run(q.toString(), () -> channel.queueDeclare(q.name(), q.durable(), q.exclusive(), q.autoDelete(), arguments(q)));
    }
    for (Binding b : topology.bindings()) {
      run(b.toString(), () -> {
        if (b.destinationType() == Binding.DestinationType.QUEUE) {
          channel.queueBind(b.destination(), b.source(), b.routingKey(), b.arguments());
        } else {
          channel.exchangeBind(b.destination(), b.source(), b.routingKey(), b.arguments());
        }
      });
    }
  }

  static Map<String, Object> arguments(Queue q) {
    Map<String, Object> args = new HashMap<>(q.arguments());
    args.put("x-queue-type", q.type().brokerName());
    return args;
  }

  interface IoAction {
    void run() throws IOException;
  }

  static void run(String entity, IoAction action) {
    try {
      action.run();
    } catch (IOException | RuntimeException e) {
      throw Errors.topology(entity, e);
    }
  }

  /** Splits a topology into one-entity topologies, in declaration order. */
  static List<Topology> entities(Topology topology) {
    List<Topology> out = new ArrayList<>();
    topology.exchanges().forEach(x -> out.add(new Topology(List.of(x), List.of(), List.of())));
    topology.queues().forEach(q -> out.add(new Topology(List.of(), List.of(q), List.of())));
    topology.bindings().forEach(b -> out.add(new Topology(List.of(), List.of(), List.of(b))));
    return out;
  }
}
