package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SafeTextTest {

  /** True when the text could end a line, start an ANSI sequence or reorder what a terminal shows. */
  private static boolean dangerous(String s) {
    return s.chars().anyMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
        || c == '\u2028' || c == '\u2029');
  }

  @Test
  void lineBreaksCannotForgeALogLine() {
    String forged = "text/plain\n12:00:00.000 [main] WARN FAKE - all good";
    String safe = SafeText.of(forged, 200);
    assertFalse(dangerous(safe), safe);
    assertEquals("text/plain\\n12:00:00.000 [main] WARN FAKE - all good", safe);
    assertFalse(dangerous(SafeText.of("a\r\nb\u2028c\u2029d\u0085e")));
  }

  @Test
  void ansiEscapesAndBidiOverridesAreShownNotObeyed() {
    String clearAndTitle = "\u001b[2J\u001b]0;pwned\u0007order";
    String safe = SafeText.of(clearAndTitle);
    assertFalse(dangerous(safe), safe);
    assertEquals("\\x1b[2J\\x1b]0;pwned\\x07order", safe);
    assertEquals("abc\\u202edcba", SafeText.of("abc\u202edcba"));
    assertEquals("tab\\there\\x7f", SafeText.of("tab\there\u007f"));
  }

  @Test
  void longTextIsCutAndNullIsNamed() {
    assertEquals("<none>", SafeText.of(null));
    String cut = SafeText.of("é".repeat(500), 10);
    assertEquals("é".repeat(10) + "…", cut);
    assertEquals("😀😀…", SafeText.of("😀😀😀", 2), "cut by code point, never inside a surrogate pair");
  }

  @Test
  void bodiesShowTextOrSayTheyAreBinary() {
    assertEquals("hello", SafeText.body("hello".getBytes(StandardCharsets.UTF_8), 100));
    assertEquals("<empty>", SafeText.body(new byte[0], 100));
    byte[] invalidUtf8 = {(byte) 0xc3, (byte) 0x28, 'a', 'b'};
    assertTrue(SafeText.body(invalidUtf8, 100).startsWith("<binary, 4 bytes: c328"), SafeText.body(invalidUtf8, 100));
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 13};
    assertTrue(SafeText.body(png, 100).startsWith("<binary, 8 bytes:"));
    String big = SafeText.body("x".repeat(20_000).getBytes(StandardCharsets.UTF_8), 50);
    assertEquals("x".repeat(50) + "… (20000 bytes)", big);
    String escapes = SafeText.body("line1\nline2\u001b[31m".getBytes(StandardCharsets.UTF_8), 100);
    assertFalse(dangerous(escapes), escapes);
  }
}
