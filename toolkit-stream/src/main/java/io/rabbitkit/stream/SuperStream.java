package io.rabbitkit.stream;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A super stream to declare: a partitioned stream whose partitions are streams named
 * {@code <name>-0 .. <name>-(n-1)} (hash routing) or {@code <name>-<binding key>} (key routing),
 * with retention as for streams. Immutable; {@code with...} methods return a copy.
 *
 * <pre>{@code
 * streams.declare(SuperStream.of("orders-events", 3).withMaxAge(Duration.ofDays(7)));
 * }</pre>
 *
 * @param name the super stream's name (also its exchange's)
 * @param partitions how many partitions (hash routing), 1-1000
 * @param bindingKeys the partitions' binding keys for key routing, or empty for hash routing
 * @param maxAge retention by age, if any
 * @param maxLengthBytes retention by size per partition, if any
 * @param maxSegmentSizeBytes segment size per partition, if set
 */
public record SuperStream(String name, int partitions, List<String> bindingKeys, Optional<Duration> maxAge,
    OptionalLong maxLengthBytes, OptionalLong maxSegmentSizeBytes) {

  public SuperStream {
    requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a super stream's name must not be empty");
    }
    bindingKeys = List.copyOf(requireNonNull(bindingKeys, "bindingKeys"));
    if (!bindingKeys.isEmpty()) {
      partitions = bindingKeys.size();
    }
    if (partitions < 1 || partitions > 1000) {
      throw new IllegalArgumentException("a super stream has 1-1000 partitions: " + partitions);
    }
    requireNonNull(maxAge, "maxAge");
    requireNonNull(maxLengthBytes, "maxLengthBytes");
    requireNonNull(maxSegmentSizeBytes, "maxSegmentSizeBytes");
    for (String partition : partitionNames(name, partitions, bindingKeys)) {
      ShortStrings.check("partition name '" + partition + "'", partition);
    }
  }

  /** A super stream of {@code partitions} partitions, messages routed by a hash of their key. */
  public static SuperStream of(String name, int partitions) {
    return new SuperStream(name, partitions, List.of(), Optional.empty(), OptionalLong.empty(),
        OptionalLong.empty());
  }

  /** A super stream with one partition per binding key, messages routed by their key as given. */
  public static SuperStream withKeys(String name, String... bindingKeys) {
    if (bindingKeys.length == 0) {
      throw new IllegalArgumentException("at least one binding key");
    }
    return new SuperStream(name, bindingKeys.length, List.of(bindingKeys), Optional.empty(), OptionalLong.empty(),
        OptionalLong.empty());
  }

  /** Drops whole segments once all their events are older than {@code age}; at least one second. */
  public SuperStream withMaxAge(Duration age) {
    if (requireNonNull(age, "age").getSeconds() < 1) {
      throw new IllegalArgumentException("max-age is at least one second: " + age);
    }
    return new SuperStream(name, partitions, bindingKeys, Optional.of(age), maxLengthBytes, maxSegmentSizeBytes);
  }

  /** Keeps at most {@code bytes} per partition, dropping whole segments. */
  public SuperStream withMaxLengthBytes(long bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("max-length-bytes must be >= 1: " + bytes);
    }
    return new SuperStream(name, partitions, bindingKeys, maxAge, OptionalLong.of(bytes), maxSegmentSizeBytes);
  }

  /** Segment files of at most {@code bytes}; the broker's default is 500 MB, its maximum 3 GB. */
  public SuperStream withMaxSegmentSize(long bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("segment size must be >= 1 byte: " + bytes);
    }
    return new SuperStream(name, partitions, bindingKeys, maxAge, maxLengthBytes, OptionalLong.of(bytes));
  }

  /** Whether messages are routed by their key as a binding key (else by a hash of it). */
  public boolean routedByKey() {
    return !bindingKeys.isEmpty();
  }

  /** The partitions' stream names, in order. */
  public List<String> partitionNames() {
    return partitionNames(name, partitions, bindingKeys);
  }

  private static List<String> partitionNames(String name, int partitions, List<String> keys) {
    List<String> names = new ArrayList<>();
    if (keys.isEmpty()) {
      for (int i = 0; i < partitions; i++) {
        names.add(name + "-" + i);
      }
    } else {
      keys.forEach(key -> names.add(name + "-" + key));
    }
    return names;
  }
}
