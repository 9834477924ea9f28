package io.rabbitkit.codec;

/** The raw body; accepts every content type. */
final class BytesCodec implements MessageCodec<byte[]> {

  static final BytesCodec INSTANCE = new BytesCodec();

  private BytesCodec() {}

  @Override
  public String contentType() {
    return "application/octet-stream";
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
    return "BytesCodec";
  }
}
