package io.rabbitkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TestSupportTest {

  @Test
  void awaitReturnsAsSoonAsTheConditionHolds() {
    AtomicInteger polls = new AtomicInteger();
    assertEquals(3, Await.until(Duration.ofSeconds(5), polls::incrementAndGet, n -> n >= 3));
  }

  @Test
  void awaitFailsWithTheLastValueSeen() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Await.until(Duration.ofMillis(100), () -> "still waiting", "done"::equals));
    assertTrue(e.getMessage().contains("still waiting"), e.getMessage());
  }

  @Test
  void namesAreUniquePerTestAndShareAPrefix() {
    TestNames a = new TestNames("OrdersIT-publishes orders!");
    TestNames b = new TestNames("OrdersIT-publishes orders!");
    assertNotEquals(a.prefix(), b.prefix());
    assertTrue(a.prefix().startsWith("test.OrdersIT-publishes-orders-."), a.prefix());
    assertTrue(a.queue("q").startsWith(a.prefix() + "."));
    assertEquals(java.util.Set.of(a.queue("q")), a.queues());
    assertTrue(new TestNames("x".repeat(500)).prefix().length() < 80);
  }

  @Test
  void brokerSearchFollowsTheDocumentedOrder() {
    RabbitBroker container = new RabbitBroker("amqp://c", "Testcontainers");
    assertEquals("RABBITMQ_URI", BrokerLocator.find(" amqp://x ", () -> true, () -> true, () -> container).source());
    assertEquals("amqp://x", BrokerLocator.find("amqp://x", () -> true, () -> true, () -> container).uri());
    assertEquals("localhost:5672", BrokerLocator.find(null, () -> true, () -> true, () -> container).source());
    assertEquals(container, BrokerLocator.find("", () -> false, () -> true, () -> container));
  }

  @Test
  void withoutAnyBrokerTheSearchFailsSayingWhatToDo() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> BrokerLocator.find(null, () -> false, () -> false, () -> null));
    assertTrue(e.getMessage().contains("RABBITMQ_URI") && e.getMessage().contains("docker compose up -d"),
        e.getMessage());
  }
}
