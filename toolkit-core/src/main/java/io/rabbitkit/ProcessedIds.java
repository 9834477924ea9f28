package io.rabbitkit;

import java.util.LinkedHashMap;
import java.util.Map;

/** The most recent processed message ids, bounded (least recently seen goes first). Thread-safe. */
final class ProcessedIds {

  private final Map<String, Boolean> ids;

  ProcessedIds(int capacity) {
    this.ids = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  synchronized boolean contains(String id) {
    return ids.get(id) != null;
  }

  synchronized void add(String id) {
    ids.put(id, Boolean.TRUE);
  }
}
