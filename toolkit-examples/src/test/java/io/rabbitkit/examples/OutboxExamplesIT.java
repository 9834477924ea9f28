package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.examples.ExamplesIT.Run;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * outbox-producer, outbox-relay and inbox-consumer together on the real PostgreSQL and broker:
 * every committed order has exactly one effect. Each test has its own schema (tables and outbox),
 * exchange and queues.
 */
@RabbitTest
class OutboxExamplesIT {

  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  private OwnSchema own;
  private String schema;

  /** The server the examples use: the machine's PostgreSQL here, MariaDB in a subclass. */
  String server() {
    return SERVER;
  }

  /** The examples' --jdbc-url: the test's own schema (a database on MariaDB) for the shop's tables. */
  String jdbcUrl(String schema) {
    return SERVER + "&currentSchema=" + schema;
  }

  @BeforeEach
  void createSchema() throws SQLException {
    own = new OwnSchema(server());
    schema = own.name;
  }

  @AfterEach
  void dropSchema() throws SQLException {
    if (own != null) { // null when the test was skipped before it had a schema
      own.close();
    }
  }

  private long count(String query) throws SQLException {
    try (Connection c = DriverManager.getConnection(server());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query.replace("{s}", schema))) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private String[] args(TestNames names, String... argv) {
    String[] common = {"--jdbc-url=" + jdbcUrl(schema), "--outbox-schema=" + schema,
        "--exchange=" + names.exchange("orders"), "--queue=" + names.queue("orders.effects")};
    names.queue("orders.effects.dlq");
    names.queue("orders.effects.retry.1s");
    names.queue("orders.effects.retry.5s");
    String[] all = new String[argv.length + common.length];
    System.arraycopy(argv, 0, all, 0, argv.length);
    System.arraycopy(common, 0, all, argv.length, common.length);
    return all;
  }

  @Test
  void everyCommittedOrderHasExactlyOneEffect(RabbitBroker broker, TestNames names) throws Exception {
    CompletableFuture<Run> consumer = ExamplesIT.inBackground(broker, args(names, "inbox-consumer", "--count", "30"));
    Run commitOnly = ExamplesIT.example(broker, args(names, "outbox-producer", "--count", "20", "--relay", "false"));
    assertEquals(0, commitOnly.code(), commitOnly.err());
    assertTrue(commitOnly.out().contains(" [x] Committed 20 order(s)"), commitOnly.out());
    assertEquals(20, count("SELECT count(*) FROM {s}.outbox"), "committed, not yet relayed");

    // The relay example relays the 20 committed rows; then a producer that relays its own 10.
    Run relay = ExamplesIT.inBackground(broker, args(names, "outbox-relay", "--count", "20")).get(60, TimeUnit.SECONDS);
    assertEquals(0, relay.code(), relay.err());
    assertTrue(relay.out().contains(" [x] Relayed 20 message(s)"), relay.out());

    Run withRelay = ExamplesIT.inBackground(broker, args(names, "outbox-producer", "--count", "10", "--threads", "2"))
        .get(60, TimeUnit.SECONDS);
    assertEquals(0, withRelay.code(), withRelay.err());
    assertTrue(withRelay.out().contains(" [x] Relayed 10 order(s): all confirmed by the broker"), withRelay.out());

    Run consumed = consumer.get(60, TimeUnit.SECONDS);
    assertEquals(0, consumed.code(), consumed.err());
    assertTrue(consumed.out().contains(" [x] Applied 30 order(s), skipped 0 duplicate(s)"), consumed.out());
    assertEquals(30, count("SELECT count(*) FROM {s}.shop_orders"));
    assertEquals(30, count("SELECT count(*) FROM {s}.order_effects"));
    assertEquals(30, count("SELECT count(DISTINCT e.order_id) FROM {s}.order_effects e"
        + " JOIN {s}.shop_orders o USING (order_id)"), "one effect per placed order");
    assertEquals(0, count("SELECT count(*) FROM {s}.outbox"));
  }

  @Test
  void aDatabaseThatDoesNotAnswerIsAClearError(RabbitBroker broker, TestNames names) {
    Run run = ExamplesIT.example(broker, "outbox-producer", "--count", "1",
        "--jdbc-url=jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=secret");
    assertEquals(1, run.code());
    assertTrue(run.err().contains("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/test"), run.err());
    assertTrue(!run.err().contains("secret"), "the URL's query may hold a password: " + run.err());
  }
}
