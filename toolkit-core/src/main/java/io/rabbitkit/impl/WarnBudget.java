package io.rabbitkit.impl;

/**
 * Keeps a flood of bad messages from flooding the log: at most {@link #LIMIT} warnings per {@link
 * #WINDOW_NANOS} per consumer; the rest are counted, and the count is reported with the next
 * warning let through, or when the consumer stops. Counters, listeners and interceptors still see
 * every message.
 */
final class WarnBudget {

  static final int LIMIT = 20;
  static final long WINDOW_NANOS = 10_000_000_000L;

  private long windowStart = System.nanoTime();
  private int used;
  private long suppressed;

  /** -1 if this warning is to be dropped; otherwise how many were dropped since the last one let through. */
  synchronized long admit() {
    long now = System.nanoTime();
    if (now - windowStart >= WINDOW_NANOS) {
      windowStart = now;
      used = 0;
    }
    if (used >= LIMIT) {
      suppressed++;
      return -1;
    }
    used++;
    long dropped = suppressed;
    suppressed = 0;
    return dropped;
  }

  /** Warnings dropped and not yet reported; resets the count. */
  synchronized long takeSuppressed() {
    long dropped = suppressed;
    suppressed = 0;
    return dropped;
  }
}
