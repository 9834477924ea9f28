package io.rabbitkit.test;

/**
 * Skips the running test (JUnit reports it as skipped, never as passed). A class of its own so
 * that {@link ThrowawayBroker} loads JUnit's classes only when a test is really skipped: the
 * examples use it without JUnit on the class path.
 */
final class Skip {

  private Skip() {
  }

  static RuntimeException test(String reason) {
    return new org.opentest4j.TestAbortedException(reason + ": skipped");
  }
}
