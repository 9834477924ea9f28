package io.rabbitkit.codec;

/** The raw body; accepts every content type. */
final class BytesCodec implements MessageCodec<byte[]> {

  static final BytesCodec INSTANCE = new BytesCodec("application/octet-stream");

  private final String contentType;

  BytesCodec(String contentType) {
    this.contentType = contentType;
  }

  @Override
  public String contentType() {
    return contentType;
  }

  @Override
  public byte[] encode(byte[] value) {
    return value;
  }

  @Override
  public byte[] decode(byte[] body, String contentType) {
    return body;
  }

  @Override
  public String toString() {
    return "BytesCodec[" + contentType + "]";
  }
}
