package io.rabbitkit;

import io.rabbitkit.internal.Checks;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** The in-memory {@link ProcessedMessages}: bounded by count and by age. Thread-safe. */
final class InMemoryProcessedMessages implements ProcessedMessages {

  private final Map<String, Long> recordedAt; // id -> System.nanoTime() when recorded
  private final long windowNanos;

  InMemoryProcessedMessages(int capacity, Duration window) {
    Checks.atLeastOne("capacity", capacity);
    this.windowNanos = Checks.positive("window", window).toNanos();
    this.recordedAt = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > capacity;
      }
    };
  }

  @Override
  public synchronized boolean contains(String id) {
    Long at = recordedAt.get(id);
    if (at == null) {
      return false;
    }
    if (System.nanoTime() - at > windowNanos) {
      recordedAt.remove(id);
      return false;
    }
    return true;
  }

  @Override
  public synchronized void add(String id) {
    recordedAt.put(id, System.nanoTime());
  }
}
