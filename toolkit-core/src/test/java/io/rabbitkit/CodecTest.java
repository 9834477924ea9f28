package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.codec.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodecTest {

  record Order(String orderId, String customer, double amount, List<String> items) {
  }

  record Stamped(String id, Instant at) {
  }

  private final MessageCodec<Order> json = MessageCodec.json(Order.class);

  @Test
  void jsonRoundTripsARecord() {
    Order order = new Order("o-1", "c-1", 10.5, List.of("a"));
    assertEquals(order, json.decode(json.encode(order), "application/json"));
    assertEquals("application/json", json.contentType());
  }

  @Test
  void jsonIgnoresUnknownFieldsAndAcceptsCharsetAndMissingContentType() {
    byte[] body = "{\"orderId\":\"o-1\",\"customer\":\"c-1\",\"amount\":10.5,\"items\":[\"a\"],\"coupon\":\"X\"}"
        .getBytes(StandardCharsets.UTF_8);
    assertEquals("o-1", json.decode(body, "application/json; charset=utf-8").orderId());
    assertEquals("c-1", json.decode(body, null).customer());
  }

  @Test
  void javaTimeIsWrittenAsIsoText() {
    MessageCodec<Stamped> codec = MessageCodec.json(Stamped.class);
    byte[] body = codec.encode(new Stamped("s", Instant.parse("2026-01-02T03:04:05Z")));
    assertTrue(new String(body, StandardCharsets.UTF_8).contains("\"2026-01-02T03:04:05Z\""));
  }

  @Test
  void malformedJsonIsATypedDecodingError() {
    for (String bad : List.of("{not json", "", "null", "{\"orderId\": \"o\"} trailing", "[1,2]")) {
      assertThrows(MessageDecodingException.class,
          () -> json.decode(bad.getBytes(StandardCharsets.UTF_8), "application/json"), bad);
    }
  }

  @Test
  void jsonRefusesOtherContentTypes() {
    MessageDecodingException e = assertThrows(MessageDecodingException.class,
        () -> json.decode("{}".getBytes(StandardCharsets.UTF_8), "application/xml"));
    assertTrue(e.getMessage().contains("application/xml"));
  }

  @Test
  void stringCodecAcceptsTextAndNoContentTypeButNotBinaryOrInvalidUtf8() {
    MessageCodec<String> text = MessageCodec.string();
    assertEquals("Hello World!", text.decode("Hello World!".getBytes(StandardCharsets.UTF_8), null));
    assertEquals("é", text.decode("é".getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8"));
    assertThrows(MessageDecodingException.class, () -> text.decode(new byte[]{(byte) 0xC3, 0x28}, "text/plain"));
    assertThrows(MessageDecodingException.class, () -> text.decode(new byte[]{1}, "application/octet-stream"));
  }

  @Test
  void defaultCodecDependsOnType() {
    assertEquals("text/plain", MessageCodec.forType(String.class).contentType());
    assertEquals("application/octet-stream", MessageCodec.forType(byte[].class).contentType());
    assertEquals("application/json", MessageCodec.forType(Order.class).contentType());
    byte[] raw = {0, 1, 2};
    assertArrayEquals(raw, MessageCodec.bytes().decode(raw, "image/png"));
  }
}
