package io.rabbitkit.codec;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.ToolkitException.MessageDecodingException;

/**
 * Turns message bodies into values and back. Implementations must be thread-safe and
 * stateless.
 *
 * <p>The built-in codecs:
 * <ul>
 *   <li>{@link #json(Class)}: Jackson JSON, content type {@code application/json} (the default
 *       for publishers and consumers of any type but {@code String} and {@code byte[]});
 *   <li>{@link #string()}: UTF-8 text, {@code text/plain};
 *   <li>{@link #bytes()}: the raw body, {@code application/octet-stream}.
 * </ul>
 *
 * <p>{@link #decode} throws {@link MessageDecodingException} for malformed content or a content
 * type the codec does not accept; consumers dead-letter such messages without retrying them.
 *
 * @param <T> the value type
 */
public interface MessageCodec<T> {

  /** Returns the content type written on published messages, for example {@code application/json}. */
  String contentType();

  /**
   * Encodes a value.
   *
   * @throws IllegalArgumentException if the value cannot be encoded
   */
  byte[] encode(T value);

  /**
   * Decodes a body.
   *
   * @param body the message body
   * @param contentType the message's content type, or {@code null} when the publisher set none
   * @throws MessageDecodingException for malformed content or an unsupported content type
   */
  T decode(byte[] body, String contentType);

  /**
   * Returns a JSON codec for {@code type} with the toolkit's default {@link ObjectMapper}: unknown
   * properties are ignored, default typing is off (no polymorphic deserialization of untrusted
   * input).
   */
  static <T> MessageCodec<T> json(Class<T> type) {
    return JsonCodec.of(JsonCodec.defaultMapper(), type);
  }

  /** Returns a JSON codec for {@code type} that uses {@code mapper}. The mapper must not be reconfigured afterwards. */
  static <T> MessageCodec<T> json(ObjectMapper mapper, Class<T> type) {
    return JsonCodec.of(mapper, type);
  }

  /** Returns a JSON codec for a generic type such as {@code List<Order>}. */
  static <T> MessageCodec<T> json(ObjectMapper mapper, JavaType type) {
    return new JsonCodec<>(mapper, type);
  }

  /** Returns the UTF-8 text codec. It accepts messages without a content type and any {@code text/*} type. */
  static MessageCodec<String> string() {
    return StringCodec.INSTANCE;
  }

  /** Returns the pass-through codec. It accepts any content type. */
  static MessageCodec<byte[]> bytes() {
    return BytesCodec.INSTANCE;
  }

  /**
   * Returns a pass-through codec that labels published bodies with {@code contentType}, for bodies
   * encoded elsewhere (a payload forwarded as is, a pre-serialized document). It accepts any
   * content type when decoding.
   */
  static MessageCodec<byte[]> bytes(String contentType) {
    return new BytesCodec(java.util.Objects.requireNonNull(contentType, "contentType"));
  }

  /**
   * Returns the default codec for {@code type}: {@link #string()} for {@code String}, {@link
   * #bytes()} for {@code byte[]}, else {@link #json(Class)}.
   */
  @SuppressWarnings("unchecked")
  static <T> MessageCodec<T> forType(Class<T> type) {
    if (type == String.class) {
      return (MessageCodec<T>) string();
    }
    if (type == byte[].class) {
      return (MessageCodec<T>) bytes();
    }
    return json(type);
  }
}
