package io.rabbitkit.bench;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed rate shared by every thread of one run: each {@link #await()} takes the next slot and
 * waits until its time ({@code start + slot / rate}). Unpaced ({@link #NONE}) returns at once.
 */
final class Pace {

  static final Pace NONE = new Pace(0);

  private final long intervalNanos;
  private final AtomicLong slots = new AtomicLong();
  private volatile long start;

  private Pace(int perSecond) {
    this.intervalNanos = perSecond == 0 ? 0 : 1_000_000_000L / perSecond;
  }

  /** A pace of {@code perSecond} messages a second, or {@link #NONE} for 0. */
  static Pace of(int perSecond) {
    return perSecond == 0 ? NONE : new Pace(perSecond);
  }

  boolean paced() {
    return intervalNanos > 0;
  }

  /** Starts the clock; slots are counted from now. */
  Pace begin() {
    slots.set(0);
    start = System.nanoTime();
    return this;
  }

  /** Waits for the next slot. */
  void await() {
    if (intervalNanos == 0) {
      return;
    }
    long due = start + slots.getAndIncrement() * intervalNanos;
    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
      LockSupport.parkNanos(wait);
    }
  }
}
