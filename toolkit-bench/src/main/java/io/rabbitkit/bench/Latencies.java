package io.rabbitkit.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** Collects latencies from many threads into a preallocated array; percentiles in milliseconds. */
final class Latencies {

  private final long[] nanos;
  private final AtomicInteger size = new AtomicInteger();

  Latencies(int capacity) {
    this.nanos = new long[capacity];
  }

  void record(long latencyNanos) {
    int i = size.getAndIncrement();
    if (i < nanos.length) {
      nanos[i] = latencyNanos;
    }
  }

  /** Records the time since {@code sentAtNanos}, a {@link System#nanoTime()} reading. */
  void since(long sentAtNanos) {
    record(System.nanoTime() - sentAtNanos);
  }

  double percentileMillis(double p) {
    int n = Math.min(size.get(), nanos.length);
    if (n == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(nanos, n);
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * n) - 1;
    return sorted[Math.max(0, Math.min(n - 1, index))] / 1e6;
  }
}
