package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.topology.Queue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Hostile bodies and bad settings: each gets a typed error that says what is wrong. */
class HostileInputTest {

  record Holder(String name, Object payload) {
  }

  private final MessageCodec<Holder> json = MessageCodec.json(Holder.class);

  private Holder decode(String body) {
    return json.decode(body.getBytes(StandardCharsets.UTF_8), "application/json");
  }

  @Test
  void aTypeHintCannotChooseWhatIsInstantiated() {
    Holder h = decode("{\"name\":\"x\",\"payload\":{\"@class\":\"java.lang.ProcessBuilder\",\"command\":[\"id\"]}}");
    assertInstanceOf(Map.class, h.payload(), "a plain map, not a ProcessBuilder");
    Holder array = decode("{\"name\":\"x\",\"payload\":[\"java.net.URL\",\"http://example.invalid/\"]}");
    assertEquals(List.of("java.net.URL", "http://example.invalid/"), array.payload());
    Holder top = decode("{\"@class\":\"java.lang.ProcessBuilder\",\"name\":\"y\"}");
    assertEquals("y", top.name());
    assertNull(top.payload());
  }

  @Test
  void deepNestingIsRejectedBeforeTheStackRunsOut() {
    String deep = "{\"name\":\"x\",\"payload\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    MessageDecodingException e = assertThrows(MessageDecodingException.class, () -> decode(deep));
    assertTrue(e.getMessage().toLowerCase().contains("nesting depth"), e.getMessage());
  }

  @Test
  void hugeNumbersAreRejected() {
    String huge = "{\"name\":\"x\",\"payload\":" + "9".repeat(10_000) + "}";
    MessageDecodingException e = assertThrows(MessageDecodingException.class, () -> decode(huge));
    assertTrue(e.getMessage().toLowerCase().contains("number"), e.getMessage());
  }

  @Test
  void stringsFromMessagesAreMadeSafeForOneLogLine() {
    assertEquals("a\\nb\\rc", SafeText.of("a\nb\rc"));
    assertEquals(101, SafeText.of("x".repeat(500)).length());
    assertEquals("<none>", SafeText.of(null));
  }

  @Test
  void everyBadSettingIsRejectedAtOnceNamingTheFieldAndTheValue() {
    MessageConsumer.Builder<String> consumer = new ConsumerBuilder<>(null, String.class);
    Publisher.Builder<String> publisher = new PublisherBuilder<>(null, String.class);
    RabbitToolkit.Builder connection = RabbitToolkit.builder();
    Map<String, Executable> cases = Map.ofEntries(
        Map.entry("prefetch|-1", () -> consumer.prefetch(-1)),
        Map.entry("concurrency|0", () -> consumer.concurrency(0)),
        Map.entry("queue|empty", () -> consumer.queue("")),
        Map.entry("maxBodySize|0", () -> consumer.maxBodySize(0)),
        Map.entry("requeueDelay|-1", () -> consumer.requeueDelay(Duration.ofSeconds(-1))),
        Map.entry("maxInFlight|0", () -> publisher.maxInFlight(0)),
        Map.entry("confirmTimeout|PT0S", () -> publisher.confirmTimeout(Duration.ZERO)),
        Map.entry("scheme 'http'|http", () -> connection.uri("http://localhost")),
        Map.entry("heartbeat|-5", () -> connection.heartbeat(Duration.ofSeconds(-5))),
        Map.entry("maxInboundMessageBodySize|0", () -> connection.maxInboundMessageBodySize(0)),
        Map.entry("message ttl|-1", () -> Queue.classic("q").withMessageTtl(Duration.ofSeconds(-1))),
        Map.entry("must increase|PT10S", () -> Redelivery.after(Duration.ofSeconds(10), Duration.ofSeconds(5))),
        Map.entry("must increase|PT1S", () -> Redelivery.after(Duration.ofSeconds(1), Duration.ofSeconds(1))));
    cases.forEach((expected, setter) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, setter, expected);
      for (String part : expected.split("\\|")) {
        String message = e.getMessage().toLowerCase();
        assertTrue(message.contains(part.toLowerCase()), "'" + e.getMessage() + "' should name " + part);
      }
    });
  }
}
