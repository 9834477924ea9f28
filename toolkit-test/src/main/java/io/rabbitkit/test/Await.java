package io.rabbitkit.test;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waits for a condition by polling, instead of sleeping a fixed time. */
public final class Await {

  private Await() {
  }

  /**
   * Polls {@code condition} until it holds.
   *
   * @throws AssertionError if it does not hold within {@code timeout}
   */
  public static void until(Duration timeout, BooleanSupplier condition) {
    until(timeout, "condition", condition);
  }

  /**
   * Polls {@code condition} until it holds.
   *
   * @throws AssertionError naming {@code description} if it does not hold within {@code timeout}
   */
  public static void until(Duration timeout, String description, BooleanSupplier condition) {
    until(timeout, () -> condition.getAsBoolean(), Boolean::booleanValue, description);
  }

  /**
   * Polls {@code value} until {@code accept} holds for it, and returns that value.
   *
   * @throws AssertionError with the last value seen if that does not happen within {@code timeout}
   */
  public static <T> T until(Duration timeout, Supplier<T> value, Predicate<? super T> accept) {
    return until(timeout, value, accept, "value");
  }

  /**
   * Waits for {@code future} to fail and returns why (unwrapped from {@code ExecutionException}).
   *
   * @throws AssertionError if it succeeds, or is still pending after {@code timeout}
   */
  public static Throwable failure(CompletionStage<?> future, Duration timeout) {
    Throwable failure = outcome(future, timeout);
    if (failure == null) {
      throw new AssertionError(
          "expected a failure, but the future completed with " + future.toCompletableFuture().join());
    }
    return failure;
  }

  /**
   * Waits for {@code future} to complete either way: returns {@code null} when it succeeded, else
   * why it failed (unwrapped from {@code ExecutionException}).
   *
   * @throws AssertionError if it is still pending after {@code timeout}
   */
  public static Throwable outcome(CompletionStage<?> future, Duration timeout) {
    try {
      future.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("the future neither failed nor completed within " + timeout.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while awaiting an outcome", e);
    }
  }

  private static <T> T until(Duration timeout, Supplier<T> value, Predicate<? super T> accept, String description) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 5;
    T last = null;
    while (true) {
      last = value.get();
      if (accept.test(last)) {
        return last;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(description + " not reached within " + timeout.toMillis() + " ms; last: " + last);
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while awaiting " + description, e);
      }
      pause = Math.min(100, pause * 2);
    }
  }
}
