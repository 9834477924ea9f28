package io.rabbitkit;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Makes text that came from a message or a peer (ids, content types, bodies, broker replies) safe
 * to put in one log line or on a terminal: control characters, ANSI escape sequences, line breaks
 * and invisible formatting characters are shown as escapes ({@code \n}, {@code \x1b}, {@code
 * \u202e}), so a message can neither forge a log line nor drive the terminal; long text is cut.
 * Every log line of the toolkit and every line its examples print passes message-borne text
 * through here. Stateless and thread-safe.
 *
 * <pre>{@code
 * System.out.println(" [x] Received " + SafeText.of(delivery.messageId().orElse(null)));
 * System.out.println(SafeText.body(deadLetter.body(), 200));   // text, or "<binary, 20480 bytes: 89504e47...>"
 * }</pre>
 */
public final class SafeText {

  /** Characters kept by {@link #of(String)}. */
  public static final int DEFAULT_MAX_LENGTH = 100;

  private SafeText() {
  }

  /** {@link #of(String, int)} with {@value #DEFAULT_MAX_LENGTH} characters; {@code null} reads {@code <none>}. */
  public static String of(String text) {
    return of(text, DEFAULT_MAX_LENGTH);
  }

  /**
   * Returns {@code text} with every control, formatting and line-breaking character escaped, cut
   * after {@code maxLength} characters (marked with {@code …}); {@code null} reads {@code <none>}.
   */
  public static String of(String text, int maxLength) {
    if (text == null) {
      return "<none>";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), maxLength) + 8);
    int kept = 0;
    for (int i = 0; i < text.length();) {
      if (kept >= maxLength) {
        return out.append('…').toString();
      }
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      kept++;
      appendEscaped(out, cp);
    }
    return out.toString();
  }

  private static void appendEscaped(StringBuilder out, int cp) {
    switch (cp) {
      case '\n' -> out.append("\\n");
      case '\r' -> out.append("\\r");
      case '\t' -> out.append("\\t");
      default -> {
        if (safe(cp)) {
          out.appendCodePoint(cp);
        } else if (cp < 0x100) {
          out.append("\\x").append(Character.forDigit(cp >> 4, 16)).append(Character.forDigit(cp & 0xf, 16));
        } else {
          out.append(String.format("\\u%04x", cp));
        }
      }
    }
  }

  private static boolean safe(int cp) {
    if (Character.isISOControl(cp)) {
      return false;
    }
    int type = Character.getType(cp);
    return type != Character.FORMAT && type != Character.LINE_SEPARATOR && type != Character.PARAGRAPH_SEPARATOR
        && type != Character.SURROGATE && type != Character.UNASSIGNED && type != Character.PRIVATE_USE;
  }

  /**
   * Shows a message body: valid UTF-8 text as by {@link #of(String, int)} (with the total size when
   * cut), anything else as {@code <binary, N bytes: first bytes in hex...>}.
   */
  public static String body(byte[] body, int maxLength) {
    if (body == null || body.length == 0) {
      return "<empty>";
    }
    String text = utf8(body);
    if (text == null || binaryLooking(text)) {
      StringBuilder hex = new StringBuilder();
      for (int i = 0; i < Math.min(16, body.length); i++) {
        hex.append(Character.forDigit((body[i] >> 4) & 0xf, 16)).append(Character.forDigit(body[i] & 0xf, 16));
      }
      return "<binary, " + body.length + " bytes: " + hex + (body.length > 16 ? "..." : "") + ">";
    }
    String shown = of(text, maxLength);
    return text.codePointCount(0, text.length()) > maxLength ? shown + " (" + body.length + " bytes)" : shown;
  }

  /** The body as UTF-8, or {@code null} if it is not valid UTF-8. */
  private static String utf8(byte[] body) {
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body));
      return chars.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Text with a NUL or where more than a tenth of the characters are control characters is treated as binary. */
  private static boolean binaryLooking(String text) {
    int controls = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == 0) {
        return true;
      }
      if (Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t') {
        controls++;
      }
    }
    return controls * 10 > text.length();
  }
}
