package io.rabbitkit.test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.ConnectionListener;
import io.rabbitkit.RabbitToolkit;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class ThrowawayBrokerIT {

  @Test
  void aThrowAwayBrokerIsSeparateCanBeFaultedAndGoesAwayOnClose() {
    URI uri;
    try (ThrowawayBroker broker = ThrowawayBroker.start()) {
      uri = URI.create(broker.uri());
      assertNotEquals(5672, uri.getPort(), "must never be the shared broker");
      Set<String> recovered = ConcurrentHashMap.newKeySet();
      try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).recoveryInterval(Duration.ofMillis(200))
          .connectionName("throwaway").listener(new ConnectionListener() {
            @Override
            public void recovered(String connection) {
              recovered.add(connection);
            }
          }).connect()) {
        broker.closeAllConnections();
        Await.until(Duration.ofSeconds(60), "both connections dropped and recovered", () -> recovered.size() == 2);
        assertTrue(rabbit.isConnected());
      }
    }
    assertFalse(BrokerLocator.answers(uri.getHost(), uri.getPort()), "the node still listens after close");
    assertTrue(BrokerLocator.answers("localhost", 5672) || System.getenv("RABBITMQ_URI") != null,
        "the shared broker must be untouched");
  }
}
