package io.rabbitkit.examples;

import java.io.PrintStream;

/** One runnable example. */
@FunctionalInterface
public interface Example {

  /**
   * Runs the example, printing what it does to {@code out}.
   *
   * @return the process exit code
   */
  int run(Args args, PrintStream out) throws Exception;
}
