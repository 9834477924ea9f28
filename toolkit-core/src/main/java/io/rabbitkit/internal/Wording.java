package io.rabbitkit.internal;

/** Wording that log lines and exception messages of several packages share. */
public final class Wording {

  private Wording() {
  }

  /** "exchange 'orders' with routing key 'order.placed'" or "the default exchange to queue 'hello'". */
  public static String target(String exchange, String routingKey) {
    if (exchange == null || exchange.isEmpty()) {
      return "the default exchange to queue '" + routingKey + "'";
    }
    return "exchange '" + exchange + "' with routing key '" + routingKey + "'";
  }
}
