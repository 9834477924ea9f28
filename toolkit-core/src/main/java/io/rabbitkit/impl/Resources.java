package io.rabbitkit.impl;

import io.rabbitkit.Health;
import io.rabbitkit.MessageConsumer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publishers, consumers and RPC clients and servers of one toolkit that are still open: what
 * {@code health()} reports and {@code close()} closes.
 */
final class Resources {

  private static final Logger LOG = LoggerFactory.getLogger(Resources.class);

  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

  /** Remembers {@code resource}; returns the hook it runs when it closes itself, so it is forgotten. */
  Runnable track(AutoCloseable resource) {
    open.add(resource);
    return () -> open.remove(resource);
  }

  int size() {
    return open.size();
  }

  List<Health.PublisherStatus> publishers() {
    List<Health.PublisherStatus> publishers = new ArrayList<>();
    for (AutoCloseable r : open) {
      if (r instanceof DefaultPublisher<?> p) {
        publishers.add(p.status());
      }
    }
    return publishers;
  }

  List<Health.ConsumerStatus> consumers() {
    List<Health.ConsumerStatus> consumers = new ArrayList<>();
    for (AutoCloseable r : open) {
      if (r instanceof QueueConsumer<?> c) {
        consumers.add(c.status());
      }
    }
    return consumers;
  }

  /** The redelivery backends the open consumers use, each once ({@code delay-queues}, {@code in-queue}). */
  List<String> redeliveryBackends() {
    java.util.Set<String> backends = new java.util.TreeSet<>();
    for (AutoCloseable r : open) {
      if (r instanceof QueueConsumer<?> c && c.usesRedelivery()) {
        backends.add(c.settings().backend().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      }
    }
    return List.copyOf(backends);
  }

  /** Closes everything: consumers first (their dead-letter publishers need the publishing connection). */
  void closeAll() {
    List<AutoCloseable> all = new ArrayList<>(open);
    all.sort((a, b) -> Boolean.compare(!(a instanceof MessageConsumer), !(b instanceof MessageConsumer)));
    for (AutoCloseable resource : all) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.warn("closing {} failed", resource, e);
      }
    }
    open.clear();
  }
}
