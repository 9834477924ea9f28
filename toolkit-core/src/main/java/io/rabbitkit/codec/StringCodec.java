package io.rabbitkit.codec;

import io.rabbitkit.ToolkitException.MessageDecodingException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 text. Accepts no content type, {@code text/*} and JSON; rejects bytes that are not valid UTF-8. */
final class StringCodec implements MessageCodec<String> {

  static final StringCodec INSTANCE = new StringCodec();

  private StringCodec() {
  }

  @Override
  public String contentType() {
    return "text/plain";
  }

  @Override
  public byte[] encode(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String decode(byte[] body, String contentType) {
    String mediaType = ContentTypes.mediaType(contentType);
    if (mediaType != null && !mediaType.startsWith("text/") && !ContentTypes.isJson(mediaType)) {
      throw new MessageDecodingException(
          "unsupported content type '" + io.rabbitkit.SafeText.of(contentType) + "', expected text");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw new MessageDecodingException("body is not valid UTF-8 text", e);
    }
  }

  @Override
  public String toString() {
    return "StringCodec";
  }
}
