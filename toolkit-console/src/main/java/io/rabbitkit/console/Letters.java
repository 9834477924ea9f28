package io.rabbitkit.console;

import io.rabbitkit.SafeText;
import io.rabbitkit.deadletter.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** A dead letter as the console shows it, and the ids that name a letter and its group. */
final class Letters {

  private static final int PREVIEW_BYTES = 4_096;
  private static final int HEADER_LENGTH = 500;

  private Letters() {
  }

  /** The group: failure reason and exception type. Stable across reads and processes. */
  static String groupId(DeadLetter letter) {
    return hash(new byte[0], letter.reason(), letter.exceptionClass().orElse(""));
  }

  /**
   * The letter: its message id, when it failed and its body. Two copies of one message that failed
   * at the same instant are one letter to the console (a replay or purge of it takes both).
   */
  static String id(DeadLetter letter) {
    return hash(letter.body(), letter.messageId().orElse(""), letter.lastFailedAt().map(Instant::toString).orElse(""));
  }

  static String failedAt(DeadLetter letter) {
    return letter.lastFailedAt().or(letter::firstFailedAt).map(Instant::toString).orElse(null);
  }

  /** Every value as text: the page puts it into the document as text, never as markup. */
  static Map<String, Object> toJson(DeadLetter letter) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id(letter));
    out.put("group", groupId(letter));
    out.put("messageId", letter.messageId().orElse(null));
    out.put("reason", letter.reason());
    out.put("exception", letter.exceptionClass().orElse(null));
    out.put("exceptionMessage", letter.exceptionMessage().map(m -> SafeText.of(m, 1_000)).orElse(null));
    out.put("stackTrace", letter.stackTrace().orElse(null));
    out.put("attempts", letter.attempts());
    out.put("originalQueue", letter.originalQueue());
    out.put("originalExchange", letter.originalExchange());
    out.put("originalRoutingKey", letter.originalRoutingKey());
    out.put("firstFailedAt", letter.firstFailedAt().map(Instant::toString).orElse(null));
    out.put("lastFailedAt", letter.lastFailedAt().map(Instant::toString).orElse(null));
    out.put("contentType", letter.contentType().orElse(null));
    Map<String, String> headers = new TreeMap<>();
    letter.headers().forEach((k, v) -> headers.put(k, SafeText.of(String.valueOf(v), HEADER_LENGTH)));
    out.put("headers", headers);
    out.put("bodySize", letter.body().length);
    String text = text(letter.body());
    out.put("bodyEncoding", text != null ? "text" : "hex");
    out.put("bodyPreview", text != null ? text : hex(letter.body()));
    return out;
  }

  /** The first 4 KiB as text, if they are UTF-8 without control characters but tab and line breaks. */
  private static String text(byte[] body) {
    int length = Math.min(body.length, PREVIEW_BYTES);
    while (length < body.length && length > 0 && (body[length] & 0xC0) == 0x80) {
      length--; // not inside a character
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body, 0, length)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t') {
        return null;
      }
    }
    return length < body.length ? text + "\u2026" : text;
  }

  private static String hex(byte[] body) {
    int length = Math.min(body.length, PREVIEW_BYTES / 8);
    String hex = HexFormat.ofDelimiter(" ").formatHex(body, 0, length);
    return length < body.length ? hex + " \u2026" : hex;
  }

  /** The first 8 bytes, as hex, of one SHA-256 over {@code parts} and then {@code tail}. */
  private static String hash(byte[] tail, String... parts) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
    digest.update(String.join("\u0000", parts).getBytes(StandardCharsets.UTF_8));
    digest.update((byte) 0);
    return HexFormat.of().formatHex(digest.digest(tail), 0, 8);
  }
}
