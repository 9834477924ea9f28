package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Delivery;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The outbox against the real PostgreSQL and the real broker, each test in a schema of its own. */
@RabbitTest
class OutboxIT {

  record Order(String id, String customer, int seq) {
  }

  private TestDatabase db;
  private Outbox outbox;

  /** The database the tests run on: the machine's PostgreSQL here, MariaDB in a subclass. */
  TestDatabase database() {
    return new TestDatabase();
  }

  @BeforeEach
  void schema() throws SQLException {
    db = database();
    outbox = Outbox.in(db.schema);
    outbox.createSchema(db.dataSource);
    outbox.createSchema(db.dataSource); // idempotent
  }

  @AfterEach
  void drop() throws SQLException {
    if (db != null) { // null when the database was skipped
      db.close();
    }
  }

  private String declareQueue(RabbitToolkit rabbit, TestNames names, String exchange) {
    String queue = names.queue("out");
    rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(queue))
        .binding(Binding.of(exchange, queue, "#")).build());
    return queue;
  }

  private static MessageConsumer collect(RabbitToolkit rabbit, String queue, List<Delivery<Order>> into) {
    return rabbit.consumerBuilder(Order.class).queue(queue).handler(into::add).build();
  }

  @Test
  void aRolledBackTransactionPublishesNothingAndACommittedOnePublishesOnceWithItsId(RabbitBroker broker,
      TestNames names) throws Exception {
    String exchange = names.exchange("orders");
    try (RabbitToolkit rabbit = broker.connect()) {
      String queue = declareQueue(rabbit, names, exchange);
      Outbox.Writer<Order> orders = outbox.writer(Order.class, exchange, "order.placed");
      String committedId;
      try (Connection c = db.dataSource.getConnection()) {
        c.setAutoCommit(false);
        orders.publish(c, new Order("rolled-back-1", "c", 1));
        orders.publish(c, new Order("rolled-back-2", "c", 2));
        c.rollback();
        committedId = orders.publish(c, Message.of(new Order("committed", "c", 3)).withHeader("tenant", "eu"));
        c.commit();
      }
      List<Delivery<Order>> received = Collections.synchronizedList(new ArrayList<>());
      try (MessageConsumer consumer = collect(rabbit, queue, received);
          OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).start()) {
        Await.until(Duration.ofSeconds(10), "the committed row relayed", () -> relay.relayed() == 1);
        Thread.sleep(300); // a second publish, if there were one, would arrive by now
        assertEquals(1, received.size(), "exactly one message: " + received);
        Delivery<Order> d = received.get(0);
        assertEquals("committed", d.body().id());
        assertEquals(committedId, d.messageId().orElseThrow());
        assertEquals("eu", d.headers().get("tenant"));
        assertEquals("order.placed", d.routingKey());
        assertEquals(0, db.count("SELECT count(*) FROM " + db.schema + ".outbox"), "confirmed rows are deleted");
        assertEquals(new Outbox.Lag(Duration.ZERO, 0, 0), relay.lag());
      }
    }
  }

  @Test
  void rowsOfOneOrderingKeyArePublishedInInsertionOrderByThreeRelays(RabbitBroker broker, TestNames names)
      throws Exception {
    String exchange = names.exchange("orders");
    int keys = 6;
    int perKey = 100;
    try (RabbitToolkit rabbit = broker.connect()) {
      String queue = declareQueue(rabbit, names, exchange);
      Outbox.Writer<Order> orders = outbox.writer(Order.class, exchange, "order.placed").orderedBy(Order::customer);
      List<Delivery<Order>> received = Collections.synchronizedList(new ArrayList<>());
      List<RabbitToolkit> processes = new ArrayList<>();
      List<OutboxRelay> relays = new ArrayList<>();
      try (MessageConsumer consumer = collect(rabbit, queue, received)) {
        for (int i = 0; i < 3; i++) {
          RabbitToolkit process = broker.connect();
          processes.add(process);
          // Small batches and two workers each: the relays race for every key.
          relays.add(outbox.relayBuilder(db.dataSource, process).batchSize(7).concurrency(2)
              .pollInterval(Duration.ofMillis(20)).start());
        }
        try (Connection c = db.dataSource.getConnection()) {
          c.setAutoCommit(false);
          for (int seq = 0; seq < perKey; seq++) {
            for (int k = 0; k < keys; k++) {
              orders.publish(c, new Order("o-" + k + "-" + seq, "customer-" + k, seq));
            }
            if (seq % 5 == 4) {
              c.commit(); // transactions of 30 rows, committed while the relays run
            }
          }
          c.commit();
        }
        Await.until(Duration.ofSeconds(30), "all rows consumed", () -> received.size() >= keys * perKey);
        // relayed() counts committed deletes, which can trail the deliveries by a moment.
        Await.until(Duration.ofSeconds(10), "every delete committed",
            () -> relays.stream().mapToLong(OutboxRelay::relayed).sum() >= keys * perKey);
        assertEquals(keys * perKey, relays.stream().mapToLong(OutboxRelay::relayed).sum());
        assertTrue(relays.stream().filter(r -> r.relayed() > 0).count() >= 2,
            "the relays shared the work: " + relays.stream().map(OutboxRelay::relayed).toList());
      } finally {
        relays.forEach(OutboxRelay::close);
        processes.forEach(RabbitToolkit::close);
      }
      Map<String, List<Integer>> sequences = new HashMap<>();
      for (Delivery<Order> d : received) {
        sequences.computeIfAbsent(d.body().customer(), k -> new ArrayList<>()).add(d.body().seq());
      }
      List<Integer> expected = java.util.stream.IntStream.range(0, perKey).boxed().toList();
      for (int k = 0; k < keys; k++) {
        assertEquals(expected, sequences.get("customer-" + k), "customer-" + k + " out of order");
      }
      assertEquals(0, db.count("SELECT count(*) FROM " + db.schema + ".outbox"));
    }
  }

  @Test
  void aRowThatKeepsFailingIsParkedWithItsReasonWithoutHoldingUpOthersThenReplayed(RabbitBroker broker,
      TestNames names) throws Exception {
    String exchange = names.exchange("orders");
    String missing = names.exchange("not-declared-yet");
    try (RabbitToolkit rabbit = broker.connect()) {
      String queue = declareQueue(rabbit, names, exchange);
      String unroutable = names.exchange("unbound");
      rabbit.declare(Topology.builder().exchange(Exchange.topic(unroutable)).build());
      try (Connection c = db.dataSource.getConnection()) {
        c.setAutoCommit(false);
        outbox.writer(Order.class, missing, "order.placed").publish(c, new Order("to-missing", "c", 1));
        outbox.writer(Order.class, unroutable, "order.placed").publish(c, new Order("unroutable", "c", 2));
        outbox.writer(Order.class, exchange, "order.placed").publish(c, new Order("fine", "c", 3));
        c.commit();
      }
      List<Delivery<Order>> got = Collections.synchronizedList(new ArrayList<>());
      try (MessageConsumer consumer = collect(rabbit, queue, got);
          OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).maxAttempts(3)
              .backOff(Duration.ofMillis(50), Duration.ofMillis(100)).pollInterval(Duration.ofMillis(20)).start()) {
        Await.until(Duration.ofSeconds(10), "the good row relayed", () -> got.size() == 1);
        Await.until(Duration.ofSeconds(15), "two rows parked", () -> relay.lag().parked() == 2);
        assertEquals("fine", got.get(0).body().id());
        List<Outbox.Parked> parked;
        try (Connection c = db.dataSource.getConnection()) {
          parked = outbox.parked(c, 10);
        }
        assertEquals(2, parked.size());
        Outbox.Parked toMissing = parked.get(0);
        assertEquals(missing, toMissing.exchange());
        assertEquals(3, toMissing.attempts());
        assertTrue(toMissing.lastError().contains(missing), toMissing.lastError());
        Outbox.Parked returned = parked.get(1);
        assertEquals(3, returned.attempts());
        assertTrue(returned.lastError().contains("MessageReturnedException"), returned.lastError());
        assertEquals(6, relay.failedAttempts());
        assertEquals(0, relay.lag().due());

        // The exchange appears: replay the one row, purge the other.
        rabbit.declare(Topology.builder().exchange(Exchange.topic(missing))
            .binding(Binding.of(missing, queue, "#")).build());
        try (Connection c = db.dataSource.getConnection()) {
          assertEquals(1, outbox.replayParked(c, toMissing.id()));
          assertEquals(0, outbox.replayParked(c, toMissing.id()), "no longer parked");
        }
        Await.until(Duration.ofSeconds(10), "the replayed row relayed", () -> got.size() == 2);
        assertEquals("to-missing", got.get(1).body().id());
        assertEquals(toMissing.messageId(), got.get(1).messageId().orElseThrow());
        try (Connection c = db.dataSource.getConnection()) {
          assertEquals(1, outbox.purgeParked(c));
        }
        // The consumer can see the message before the relay's delete commits: wait for the row to go.
        Await.until(Duration.ofSeconds(10), "the replayed row deleted", () -> relay.lag().due() == 0);
        assertEquals(new Outbox.Lag(Duration.ZERO, 0, 0), relay.lag());
      }
    }
  }

  @Test
  void rowsTheBrokerCouldNeverTakeAreRefusedWhenWrittenAndNothingIsStored() throws Exception {
    String tooLong = "x".repeat(256);
    assertThrows(IllegalArgumentException.class, () -> outbox.writer(Order.class, tooLong, "k"));
    assertThrows(IllegalArgumentException.class, () -> outbox.writer(Order.class, "orders", tooLong));
    assertEquals(16 * 1024 * 1024, outbox.maxBodySize(), "the publishers' and RabbitMQ 4's default");
    Outbox.Writer<String> writer = outbox.withMaxBodySize(1024).writer(String.class, "orders", "k");
    try (Connection c = db.dataSource.getConnection()) {
      c.setAutoCommit(false);
      MessageTooLargeException big = assertThrows(MessageTooLargeException.class,
          () -> writer.publish(c, "y".repeat(1025)));
      assertEquals(1025, big.size());
      assertEquals(1024, big.limit());
      assertEquals(PublishException.Reason.TOO_LARGE, big.reason());
      assertThrows(IllegalArgumentException.class, () -> writer.publish(c, Message.of("z").withRoutingKey(tooLong)));
      assertThrows(IllegalArgumentException.class, () -> writer.publish(c, Message.of("z").withMessageId(tooLong)));
      assertThrows(IllegalArgumentException.class, () -> writer.publish(c, Message.of("z").withHeader(tooLong, 1)));
      assertThrows(IllegalArgumentException.class, () -> Message.of("z").withMessageId(""));
      writer.publish(c, "y".repeat(1024));
      c.commit();
    }
    assertEquals(1, db.count("SELECT count(*) FROM " + db.schema + ".outbox"), "only the row within every limit");

    // The writers NOTIFY on rabbitkit_outbox_<schema>, which must fit PostgreSQL's 63-byte identifiers.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Outbox.in("s".repeat(47)));
    assertTrue(e.getMessage().contains("at most 46"), e.getMessage());
    assertEquals("s".repeat(46), Outbox.in("s".repeat(46)).schema());
    Inbox.builder(db.dataSource).schema("s".repeat(63)); // the inbox sends no notifications
  }

  @Test
  void writingOutsideATransactionOrWithoutTheTablesFailsClearly(RabbitBroker broker) throws Exception {
    Outbox.Writer<Order> orders = outbox.writer(Order.class, "orders", "order.placed");
    try (Connection c = db.dataSource.getConnection()) {
      c.setAutoCommit(true);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> orders.publish(c, new Order("o", "c", 1)));
      assertTrue(e.getMessage().contains("setAutoCommit(false)"), e.getMessage());
    }
    Outbox absent = Outbox.in(db.schema + "_absent");
    try (Connection c = db.dataSource.getConnection()) {
      c.setAutoCommit(false);
      SQLException e = assertThrows(SQLException.class,
          () -> absent.writer(Order.class, "orders", "k").publish(c, new Order("o", "c", 1)));
      assertTrue(e.getMessage().contains("createSchema"), e.getMessage());
      c.rollback();
    }
    try (RabbitToolkit rabbit = broker.connect()) {
      JdbcException e = assertThrows(JdbcException.class, () -> absent.relayBuilder(db.dataSource, rabbit).start());
      assertEquals(db.mysql ? "42S02" : "42P01", e.sqlState()); // the database's "no such table"
      assertTrue(e.getMessage().contains("createSchema") || e.getCause().getMessage().contains("createSchema"),
          e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Outbox.in("Robert'); DROP TABLE students;--"));
    try (Connection c = db.dataSource.getConnection()) {
      c.setAutoCommit(false);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> orders.publish(c,
          Message.of(new Order("o", "c", 1)).withHeader("when", new java.util.Date())));
      assertTrue(e.getMessage().contains("when"), e.getMessage());
      c.rollback();
    }
  }
}
