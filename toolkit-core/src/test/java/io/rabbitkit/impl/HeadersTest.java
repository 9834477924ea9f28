package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.impl.LongStringHelper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Headers as the toolkit reads them from deliveries and writes them on dead letters. */
class HeadersTest {

  @Test
  void receivedHeadersBecomePlainJavaAndBrokerHeadersAreStripped() {
    Map<String, Object> raw = Map.of("s", LongStringHelper.asLongString("v"),
        "x-death", List.of(Map.of("queue", LongStringHelper.asLongString("q"))), "n", 3);
    Map<String, Object> java = Headers.toJava(raw);
    assertEquals("v", java.get("s"));
    assertEquals("q", ((Map<?, ?>) ((List<?>) java.get("x-death")).get(0)).get("queue"));
    assertEquals(Map.of("s", LongStringHelper.asLongString("v"), "n", 3), Headers.withoutBrokerHeaders(raw));
    assertEquals(3, Headers.integer(raw, "n", 0));
    assertEquals(7, Headers.integer(raw, "missing", 7));
  }

  @Test
  void receivedHeadersAreFrozenOnceInOrderWithVoidValuesAndADeliveryKeepsThemWithoutACopy() {
    Map<String, Object> raw = new java.util.LinkedHashMap<>();
    raw.put("b", LongStringHelper.asLongString("1"));
    raw.put("a", null); // AMQP's void
    raw.put("c", 3);
    Map<String, Object> java = Headers.toJava(raw);
    assertEquals(List.of("b", "a", "c"), List.copyOf(java.keySet()));
    assertTrue(java.containsKey("a"));
    raw.put("d", 4);
    assertEquals(3, java.size(), "a copy, not a view");
    org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> java.put("e", 5));
    org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
        () -> java.entrySet().iterator().next().setValue("x"));
    org.junit.jupiter.api.Assertions.assertSame(java, delivery(java).headers(), "no second copy");
    Map<String, Object> mutable = new java.util.HashMap<>(Map.of("k", "v"));
    io.rabbitkit.Delivery<String> other = delivery(mutable);
    mutable.put("k", "changed");
    assertEquals("v", other.headers().get("k"), "any other map is copied");
  }

  private static io.rabbitkit.Delivery<String> delivery(Map<String, Object> headers) {
    java.util.Optional<String> none = java.util.Optional.empty();
    return new io.rabbitkit.Delivery<>("body", "q", "", "q", false, 1, none, none, none, none,
        java.util.Optional.empty(), headers, none, none, java.util.OptionalLong.empty());
  }

  @Test
  void truncationMarksWhatWasCut() {
    String s = DeadLetterPipeline.truncate("x".repeat(100), 50);
    assertEquals(50, s.length());
    assertTrue(s.endsWith("...[truncated]"));
    assertEquals("short", DeadLetterPipeline.truncate("short", 50));
  }
}
