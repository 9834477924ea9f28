package io.rabbitkit;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/** {@link OffsetStore#inMemory()}: the highest offset each (stream, consumer) finished. */
final class InMemoryOffsetStore implements OffsetStore {

  private record Key(String stream, String consumer) {
  }

  private final Map<Key, Long> done = new ConcurrentHashMap<>();

  @Override
  public OptionalLong lastDone(String stream, String consumer) {
    Long offset = done.get(new Key(stream, consumer));
    return offset == null ? OptionalLong.empty() : OptionalLong.of(offset);
  }

  @Override
  public void done(String stream, String consumer, long offset) {
    done.merge(new Key(stream, consumer), offset, Math::max);
  }

  @Override
  public String toString() {
    return "OffsetStore.inMemory()";
  }
}
