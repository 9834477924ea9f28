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
  void truncationMarksWhatWasCut() {
    String s = DeadLetterPipeline.truncate("x".repeat(100), 50);
    assertEquals(50, s.length());
    assertTrue(s.endsWith("...[truncated]"));
    assertEquals("short", DeadLetterPipeline.truncate("short", 50));
  }
}
