package io.rabbitkit.impl;

/** Wording shared by log lines and exception messages. */
final class Names {

  private Names() {
  }

  /** "exchange 'orders' with routing key 'order.placed'" or "the default exchange to queue 'hello'". */
  static String describeTarget(String exchange, String routingKey) {
    if (exchange == null || exchange.isEmpty()) {
      return "the default exchange to queue '" + routingKey + "'";
    }
    return "exchange '" + exchange + "' with routing key '" + routingKey + "'";
  }

  static String orNone(String s) {
    return s == null ? "<none>" : s;
  }
}
