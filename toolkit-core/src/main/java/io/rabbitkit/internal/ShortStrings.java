package io.rabbitkit.internal;

import io.rabbitkit.SafeText;
import java.nio.charset.StandardCharsets;

/**
 * AMQP short strings (names, routing keys, message ids, most properties, header names) hold at most
 * 255 UTF-8 bytes; the broker and amqp-client refuse longer ones. The one home of that rule.
 */
public final class ShortStrings {

  /** The most UTF-8 bytes an AMQP short string holds. */
  public static final int MAX_BYTES = 255;

  private ShortStrings() {
  }

  /**
   * Returns {@code value} (which may be null) if it fits.
   *
   * @throws IllegalArgumentException naming {@code what} and the size otherwise
   */
  public static String check(String what, String value) {
    // At most 3 UTF-8 bytes per char: only longer strings need encoding to be measured.
    if (value != null && value.length() > MAX_BYTES / 3) {
      int bytes = value.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > MAX_BYTES) {
        throw new IllegalArgumentException(what + " is longer than 255 UTF-8 bytes (AMQP short string): " + bytes
            + " bytes, starting '" + SafeText.of(value.substring(0, 40)) + "...'");
      }
    }
    return value;
  }
}
