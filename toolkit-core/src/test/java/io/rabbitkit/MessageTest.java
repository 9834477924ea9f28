package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageTest {

  @Test
  void brokerOwnedHeadersAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Message.of("x").withHeader("x-death", "forged"));
    assertTrue(e.getMessage().contains("x-death"));
  }

  @Test
  void headerValuesAmqpCannotCarryAreRefusedUpFront() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Message.of("x").withHeader("when", new Object()));
    assertTrue(e.getMessage().contains("when"));
    Message<String> ok = Message.of("x").withHeader("n", 1).withHeader("list", List.of("a", 2L))
        .withHeader("map", Map.of("k", true));
    assertEquals(3, ok.headers().size());
  }

  @Test
  void priorityAndExpirationAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> Message.of("x").withPriority(256));
    assertThrows(IllegalArgumentException.class, () -> Message.of("x").withExpiration(Duration.ofSeconds(-1)));
    Message<String> m = Message.of("x").withMessageId("id-1").withCorrelationId("c").withPriority(5);
    assertEquals("id-1", m.messageId().orElseThrow());
    assertEquals(5, m.priority().orElseThrow());
  }

  @Test
  void propertiesTheProtocolCannotCarryAndAnEmptyIdAreRefusedWhenTheMessageIsMade() {
    String longest = "é".repeat(127) + "x"; // 255 UTF-8 bytes
    String tooLong = "é".repeat(128); // 256
    assertEquals(longest, Message.of("x").withRoutingKey(longest).routingKey().orElseThrow());
    for (java.util.function.Function<Message<String>, Message<String>> set : List.<java.util.function.Function<Message<String>, Message<String>>>of(
        m -> m.withMessageId(tooLong), m -> m.withRoutingKey(tooLong),
        m -> m.withCorrelationId(tooLong), m -> m.withReplyTo(tooLong), m -> m.withType(tooLong),
        m -> m.withAppId(tooLong), m -> m.withHeader(tooLong, 1))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> set.apply(Message.of("x")));
      assertTrue(e.getMessage().contains("256 bytes"), e.getMessage());
    }
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> Message.of("x").withMessageId(""));
    assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
  }
}
