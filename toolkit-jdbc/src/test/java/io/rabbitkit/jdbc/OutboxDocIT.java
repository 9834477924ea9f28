package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.Message;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * docs/outbox-inbox.md's snippet, run as written: an order and its event commit together, the relay
 * publishes the event, and the inbox applies its effect once (fixed exchange and queue names: on a
 * broker of the class's own; the tables in a schema of the test's own).
 */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class OutboxDocIT {

  record OrderPlaced(String orderId, String customer, double amount) {
  }

  /** The schema of the application's own tables (the test's). */
  private String schema;

  private void insertOrder(Connection c, OrderPlaced order) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO " + schema + ".orders (id, amount) VALUES (?, ?)")) {
      st.setString(1, order.orderId());
      st.setDouble(2, order.amount());
      st.executeUpdate();
    }
  }

  private void applyEffect(Connection c, OrderPlaced order) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement("UPDATE " + schema + ".customers SET spent = spent + ? WHERE id = ?")) {
      st.setDouble(1, order.amount());
      st.setString(2, order.customer());
      st.executeUpdate();
    }
  }

  private double spent(TestDatabase db, String customer) {
    try (Connection c = db.dataSource.getConnection();
        PreparedStatement st = c.prepareStatement("SELECT spent FROM " + schema + ".customers WHERE id = ?")) {
      st.setString(1, customer);
      try (var rs = st.executeQuery()) {
        rs.next();
        return rs.getDouble(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anOrderItsEventAndItsEffectEachHappenOnce(RabbitToolkit rabbit) throws Exception {
    try (TestDatabase db = new TestDatabase()) {
      DataSource dataSource = db.dataSource;
      schema = db.schema;
      db.execute("CREATE SCHEMA " + schema);
      db.execute("CREATE TABLE " + schema + ".orders (id text PRIMARY KEY, amount float8)");
      db.execute("CREATE TABLE " + schema + ".customers (id text PRIMARY KEY, spent float8)");
      db.execute("INSERT INTO " + schema + ".customers VALUES ('c-1', 0)");
      rabbit.declare(Topology.builder().exchange(Exchange.topic("orders")).queue(Queue.quorum("orders.effects"))
          .binding(Binding.of("orders", "orders.effects", "order.placed")).build());
      OrderPlaced order = new OrderPlaced("o-1", "c-1", 10.5);
      // @formatter:off
      // tag::outbox-inbox[]
      Outbox outbox = Outbox.in(schema);                    // its tables live in this schema
      outbox.createSchema(dataSource);                      // idempotent; or run io/rabbitkit/jdbc/schema.sql
      Outbox.Writer<OrderPlaced> events = outbox.writer(OrderPlaced.class, "orders", "order.placed")
          .orderedBy(OrderPlaced::customer);                // optional: per-customer order

      try (Connection c = dataSource.getConnection()) {     // the business transaction
        c.setAutoCommit(false);
        insertOrder(c, order);
        events.publish(c, Message.of(order).withMessageId(order.orderId()));
        c.commit();                                         // the event exists only if this commits
      }

      OutboxRelay relay = outbox.relayBuilder(dataSource, rabbit).start();  // in one or more processes

      Inbox inbox = Inbox.builder(dataSource).schema(schema).consumer("order-effects").build();
      rabbit.consumerBuilder(OrderPlaced.class).queue("orders.effects")
          .handler(inbox.handler((delivery, connection) -> applyEffect(connection, delivery.body())))
          .build();
      // end::outbox-inbox[]
      // @formatter:on
      try (relay; inbox) {
        Await.until(Duration.ofSeconds(30), "the effect applied", () -> spent(db, "c-1") == 10.5);
        assertEquals(0, db.count("SELECT count(*) FROM " + schema + ".outbox"), "relayed and deleted");
      }
    }
  }
}
