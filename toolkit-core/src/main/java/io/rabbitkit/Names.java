package io.rabbitkit;

/** Wording shared by log lines and exception messages. */
final class Names {

  private Names() {}

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

  /** A string from a message or a peer (id, content type, reply text) made safe for one log line: see {@link SafeText}. */
  static String printable(String s) {
    return SafeText.of(s);
  }

  /** {@link #printable(String)} keeping up to {@code max} characters. */
  static String printable(String s, int max) {
    return SafeText.of(s, max);
  }
}
