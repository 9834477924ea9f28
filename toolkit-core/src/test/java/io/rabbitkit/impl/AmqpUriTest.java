package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AmqpUriTest {

  @Test
  void plainUriUsesDefaultPortAndVhostSlash() {
    AmqpUri uri = AmqpUri.parse("amqp://guest:secret@broker.example");
    assertFalse(uri.tls());
    assertEquals(List.of(new Address("broker.example", 5672)), uri.addresses());
    assertEquals("guest", uri.username());
    assertEquals("secret", uri.password());
    assertEquals("/", uri.virtualHost());
  }

  @Test
  void bareSlashAndEncodedSlashBothSelectTheDefaultVhost() {
    assertEquals("/", AmqpUri.parse("amqp://h/").virtualHost());
    assertEquals("/", AmqpUri.parse("amqp://h/%2F").virtualHost());
    assertEquals("orders", AmqpUri.parse("amqp://h/orders").virtualHost());
    assertEquals("a/b", AmqpUri.parse("amqp://h/a%2Fb").virtualHost());
  }

  @Test
  void amqpsTurnsTlsOnWithPort5671() {
    AmqpUri uri = AmqpUri.parse("amqps://h");
    assertTrue(uri.tls());
    assertEquals(5671, uri.addresses().get(0).port());
  }

  @Test
  void severalHostsFormACluster() {
    AmqpUri uri = AmqpUri.parse("amqp://u:p@h1:5673,h2,[::1]:5674/vh");
    assertEquals(List.of(new Address("h1", 5673), new Address("h2", 5672), new Address("::1", 5674)), uri.addresses());
    assertEquals("vh", uri.virtualHost());
  }

  @Test
  void userInfoIsPercentDecoded() {
    AmqpUri uri = AmqpUri.parse("amqp://us%40er:p%3Ass+w@h");
    assertEquals("us@er", uri.username());
    assertEquals("p:ss+w", uri.password());
  }

  @Test
  void queryParametersSetHeartbeatAndTimeout() {
    AmqpUri uri = AmqpUri.parse("amqp://h?heartbeat=15&connection_timeout=2500");
    assertEquals(Duration.ofSeconds(15), uri.heartbeat());
    assertEquals(Duration.ofMillis(2500), uri.connectionTimeout());
  }

  @Test
  void badUrisAreRefusedWithoutRepeatingThePassword() {
    for (String bad : List.of("http://u:hunter2@h", "amqp://u:hunter2@h/a/b", "amqp://u:hunter2@h?frame_max=1",
        "amqp://u:hunter2@h:notaport", "amqp://u:hunter2@", "u:hunter2@h")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AmqpUri.parse(bad), bad);
      assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }
  }

  @Test
  void maskHidesTheWholeUserInfoEvenWithOddCharacters() {
    assertEquals("amqp://****@h:5672/v", AmqpUri.mask("amqp://u:secret@h:5672/v"));
    assertEquals("amqp://****@h", AmqpUri.mask("amqp://u:se/cr@et@h"));
    assertEquals("amqp://h:5672/v", AmqpUri.mask("amqp://h:5672/v"));
    assertEquals("amqp://****@h", AmqpUri.mask("amqp://u@h"));
    assertFalse(AmqpUri.parse("amqp://u:secret@h").toString().contains("secret"));
  }

  @Test
  void unencodedSlashQuestionMarkOrHashInThePasswordIsRefusedWithAHintAndWithoutPrintingIt() {
    for (String bad : List.of("amqp://app:Tr0ub4dor/x9@host/", "amqp://app:7781/Summer2024@host/",
        "amqp://app:pa?ss9@host", "amqp://app:pa#ss9@host/vh")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AmqpUri.parse(bad), bad);
      assertTrue(e.getMessage().contains("percent-encode / ? # @ : in the password"), e.getMessage());
      for (String secret : List.of("app", "Tr0ub4dor", "x9", "7781", "Summer2024", "ss9")) {
        assertFalse(e.getMessage().contains(secret), secret + " printed: " + e.getMessage());
      }
    }
    // Encoded, the same passwords are fine, and the user named in the URI is used, never guest.
    AmqpUri ok = AmqpUri.parse("amqp://app:7781%2FSummer2024@host/");
    assertEquals("app", ok.username());
    assertEquals("7781/Summer2024", ok.password());
    assertEquals(List.of(new Address("host", 5672)), ok.addresses());
    assertEquals("/", ok.virtualHost());
  }

  @Test
  void aZeroConnectionTimeoutIsRefusedAsTheBuilderRefusesIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AmqpUri.parse("amqp://h?connection_timeout=0"));
    assertTrue(e.getMessage().contains("connection_timeout must be positive"), e.getMessage());
    assertEquals(Duration.ZERO, AmqpUri.parse("amqp://h?heartbeat=0").heartbeat(), "heartbeat 0 turns heartbeats off");
  }
}
