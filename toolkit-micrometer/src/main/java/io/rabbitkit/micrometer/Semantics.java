package io.rabbitkit.micrometer;

/** Values that metrics and observations both write, so one failure or destination reads the same in each. */
final class Semantics {

  private Semantics() {
  }

  /** The exchange as a tag value: {@code amq.default} for the default exchange (an empty tag is invalid). */
  static String exchange(String exchange) {
    return exchange.isEmpty() ? "amq.default" : exchange;
  }

  /**
   * The failure's class name without the {@code CompletionException} around it (bounded, unlike its
   * message); the full name for a class without a simple one; {@code none} without a failure.
   */
  static String errorType(Throwable failure) {
    if (failure == null) {
      return "none";
    }
    Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    String name = t.getClass().getSimpleName();
    return name.isEmpty() ? t.getClass().getName() : name;
  }
}
