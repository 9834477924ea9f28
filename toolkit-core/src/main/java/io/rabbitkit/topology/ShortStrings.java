package io.rabbitkit.topology;

import java.nio.charset.StandardCharsets;

/** AMQP short strings (names, routing keys) hold at most 255 UTF-8 bytes: checked when a value is made. */
final class ShortStrings {

  private ShortStrings() {}

  static String check(String what, String value) {
    // At most 3 UTF-8 bytes per char: only longer strings need encoding to be measured.
    if (value.length() > 85 && value.getBytes(StandardCharsets.UTF_8).length > 255) {
      throw new IllegalArgumentException(what + " is longer than 255 UTF-8 bytes (AMQP short string): "
          + value.getBytes(StandardCharsets.UTF_8).length + " bytes, starting '" + value.substring(0, 40) + "...'");
    }
    return value;
  }
}
