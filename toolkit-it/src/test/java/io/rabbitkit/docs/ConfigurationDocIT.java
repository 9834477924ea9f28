package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Credentials;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The snippets of docs/configuration.md, run as written on a node of the class's own (it adds a user). */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class ConfigurationDocIT {

  /** Stands for a secret store; the test rotates the password in it and on the broker. */
  static final class Vault {
    final Map<String, String> secrets = new ConcurrentHashMap<>();

    String read(String path) {
      return secrets.get(path);
    }
  }

  @Test
  void credentialsAreAskedAgainAtEveryConnectionSoARotatedPasswordIsPickedUp(ThrowawayBroker node) {
    node.ctl("add_user", "orders-service", "first-password");
    node.ctl("set_permissions", "orders-service", ".*", ".*", ".*");
    Vault vault = new Vault();
    vault.secrets.put("rabbitmq/orders-service", "first-password");
    String uri = "amqp://" + node.uri().substring(node.uri().indexOf('@') + 1); // no user in the URI
    // @formatter:off
    // tag::credentials[]
    Credentials fromVault = new Credentials() {
      @Override public String username() { return "orders-service"; }
      @Override public String password() { return vault.read("rabbitmq/orders-service"); } // at every (re)connection
    };
    RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).credentials(fromVault).connect();
    // end::credentials[]
    // @formatter:on
    try (rabbit) {
      rabbit.declare(Topology.of(Queue.classic("vault-q")));
      node.ctl("change_password", "orders-service", "second-password");
      vault.secrets.put("rabbitmq/orders-service", "second-password");
      node.closeAllConnections();
      Await.until(Duration.ofSeconds(30), "recovered with the rotated password", () -> rabbit.health().healthy());
      assertTrue(rabbit.queueInfo("vault-q").isPresent());
    }
  }
}
