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
}
