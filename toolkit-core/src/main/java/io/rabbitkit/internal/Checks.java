package io.rabbitkit.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Checks of settings that several packages and modules make, worded one way. */
public final class Checks {

  private Checks() {
  }

  /**
   * Returns {@code value} if it is longer than zero.
   *
   * @throws IllegalArgumentException "{@code what} must be positive: {@code value}" otherwise
   * @throws NullPointerException naming {@code what} if it is null
   */
  public static Duration positive(String what, Duration value) {
    requireNonNull(value, what);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} if it is at least 1: a count, a size or a rate.
   *
   * @throws IllegalArgumentException "{@code what} must be >= 1: {@code value}" otherwise
   */
  public static int atLeastOne(String what, int value) {
    atLeastOne(what, (long) value);
    return value;
  }

  /** As {@link #atLeastOne(String, int)}, for a count that may pass an int's range. */
  public static long atLeastOne(String what, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(what + " must be >= 1: " + value);
    }
    return value;
  }
}
