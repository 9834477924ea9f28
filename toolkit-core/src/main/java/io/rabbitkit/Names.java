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

  /**
   * A string from a message (id, content type...) made safe for one log line: control characters
   * become '?', and more than 100 characters are cut.
   */
  static String printable(String s) {
    if (s == null) {
      return "<none>";
    }
    StringBuilder sb = new StringBuilder(Math.min(s.length(), 101));
    for (int i = 0; i < s.length() && i < 100; i++) {
      char c = s.charAt(i);
      sb.append(Character.isISOControl(c) ? '?' : c);
    }
    return s.length() > 100 ? sb.append('…').toString() : sb.toString();
  }
}
