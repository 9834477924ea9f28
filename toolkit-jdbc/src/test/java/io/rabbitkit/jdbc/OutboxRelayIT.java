package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the relay keeps order, pace and its workers when rows, interceptors or the pool misbehave. */
@RabbitTest
class OutboxRelayIT {

  /** The database the tests run on: the machine's PostgreSQL here, MariaDB in a subclass. */
  TestDatabase database() {
    return new TestDatabase();
  }

  record Order(String id, String customer, int seq) {
  }

  private TestDatabase db;
  private Outbox outbox;

  @BeforeEach
  void schema() throws SQLException {
    db = database();
    outbox = Outbox.in(db.schema);
    outbox.createSchema(db.dataSource);
  }

  @AfterEach
  void drop() throws SQLException {
    if (db != null) { // null when the database was skipped
      db.close();
    }
  }

  /** A topic exchange and a queue that gets its "order.#" messages. */
  private static String[] orders(RabbitToolkit rabbit, TestNames names) {
    String exchange = names.exchange("orders");
    String queue = names.queue("out");
    rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(queue))
        .binding(Binding.of(exchange, queue, "order.#")).build());
    return new String[]{exchange, queue};
  }

  private void write(List<Message<Order>> messages, Outbox.Writer<Order> writer) throws SQLException {
    try (Connection c = db.dataSource.getConnection()) {
      c.setAutoCommit(false);
      for (Message<Order> m : messages) {
        writer.publish(c, m);
      }
      c.commit();
    }
  }

  @Test
  void aFailingHeadHoldsUpOnlyItsOwnKeyAndItsFollowersNeverOvertakeIt(RabbitBroker broker, TestNames names)
      throws Exception {
    try (RabbitToolkit rabbit = broker.connect()) {
      String[] eq = orders(rabbit, names);
      Outbox.Writer<Order> writer = outbox.writer(Order.class, eq[0], "order.placed").orderedBy(Order::customer);
      // The head goes to a routing key nothing is bound to yet: returned, again and again.
      List<Message<Order>> hot = new ArrayList<>();
      hot.add(Message.of(new Order("hot-0", "hot", 0)).withRoutingKey("unbound.placed"));
      for (int i = 1; i <= 500; i++) {
        hot.add(Message.of(new Order("hot-" + i, "hot", i)));
      }
      write(hot, writer);
      Map<String, Long> arrivedAt = new ConcurrentHashMap<>();
      List<Order> received = new CopyOnWriteArrayList<>();
      try (MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(eq[1]).handler(d -> {
        arrivedAt.put(d.body().id(), System.nanoTime());
        received.add(d.body());
      }).build();
          OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).maxAttempts(1000)
              .backOff(Duration.ofSeconds(3), Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).start()) {
        Await.until(Duration.ofSeconds(10), "the head failed", () -> relay.failedAttempts() >= 1);
        Thread.sleep(500); // the head backs off now: its followers must not fill the batches
        List<Message<Order>> others = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
          others.add(Message.of(new Order("other-" + k, "customer-" + k, 0)));
        }
        write(others, writer);
        long committed = System.nanoTime();
        Await.until(Duration.ofSeconds(10), "the other keys' rows arrived",
            () -> others.stream().allMatch(m -> arrivedAt.containsKey(m.body().id())));
        for (Message<Order> m : others) {
          long tookMs = TimeUnit.NANOSECONDS.toMillis(arrivedAt.get(m.body().id()) - committed);
          assertTrue(tookMs < 2_000, m.body().id() + " arrived " + tookMs + " ms after its commit");
        }
        Thread.sleep(1_000);
        assertTrue(received.stream().noneMatch(o -> o.customer().equals("hot")),
            "no row of the hot key may go out before its head: " + received.size() + " received");

        // The head's route appears: it goes out first, then every follower in order.
        rabbit.declare(Topology.builder().binding(Binding.of(eq[0], eq[1], "unbound.#")).build());
        Await.until(Duration.ofSeconds(30), "the hot key relayed",
            () -> received.stream().filter(o -> o.customer().equals("hot")).count() == 501);
        List<Integer> seqs = received.stream().filter(o -> o.customer().equals("hot")).map(Order::seq).toList();
        assertEquals(java.util.stream.IntStream.rangeClosed(0, 500).boxed().toList(), seqs);
        assertEquals(0, relay.parkedRows());
      }
    }
  }

  @Test
  void aFailedAttemptBacksOffFromTheEndOfTheAttemptNotTheStartOfItsBatch(RabbitBroker broker, TestNames names)
      throws Exception {
    Interceptor slowForOne = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        if (context.messageId().equals("slow")) {
          sleep(3_000); // the batch lasts 3 s longer than the unroutable row's own attempt
        }
        return PublishObserver.NONE;
      }
    };
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(slowForOne).connect()) {
      String[] eq = orders(rabbit, names);
      Outbox.Writer<Order> writer = outbox.writer(Order.class, eq[0], "order.placed");
      write(List.of(Message.of(new Order("a", "a", 1)).withMessageId("unroutable").withRoutingKey("nowhere"),
          Message.of(new Order("b", "b", 1)).withMessageId("slow")), writer);
      try (OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit)
          .backOff(Duration.ofSeconds(2), Duration.ofSeconds(2)).start()) {
        Await.until(Duration.ofSeconds(15), "the first attempt settled", () -> relay.failedAttempts() >= 1);
        String dueInSeconds = db.mysql ? "TIMESTAMPDIFF(MICROSECOND, NOW(6), available_at) / 1e6"
            : "extract(epoch FROM available_at - clock_timestamp())";
        double dueIn = seconds("SELECT " + dueInSeconds + " FROM " + db.schema
            + ".outbox WHERE message_id = 'unroutable' AND attempts = 1");
        assertTrue(dueIn > 1.0, "after one attempt the row is due again " + dueIn
            + " s from now; its 2 s back-off should be mostly ahead");
      }
    }
  }

  @Test
  void aWorkerOutlivesAnErrorThrownInItsBatchAndRelaysEveryRow(RabbitBroker broker, TestNames names)
      throws Exception {
    AtomicBoolean thrown = new AtomicBoolean();
    Interceptor throwsOnce = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        if (thrown.compareAndSet(false, true)) {
          throw new AssertionError("a broken interceptor");
        }
        return PublishObserver.NONE;
      }
    };
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(throwsOnce).connect()) {
      String[] eq = orders(rabbit, names);
      Outbox.Writer<Order> writer = outbox.writer(Order.class, eq[0], "order.placed");
      List<Message<Order>> rows = new ArrayList<>();
      for (int i = 0; i < 11; i++) {
        rows.add(Message.of(new Order("o-" + i, "c", i)));
      }
      write(rows, writer);
      try (OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).pollInterval(Duration.ofMillis(50)).start()) {
        Await.until(Duration.ofSeconds(15), "every row relayed", () -> relay.relayed() == 11);
        assertTrue(thrown.get());
        assertEquals(1, relay.failedBatches());
        assertEquals(0, relay.failedAttempts(), "an error in the relay is not the rows' fault");
        OutboxRelay.Status status = relay.status();
        assertTrue(status.up(), status.toString());
        assertEquals(1, status.failedBatches());
      }
    }
  }

  @Test
  void statusIsDownWhileAWorkerIsStuckInABatchAndUpOnceItMovesAgain(RabbitBroker broker, TestNames names)
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Interceptor hangs = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return PublishObserver.NONE;
      }
    };
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(hangs).connect()) {
      String[] eq = orders(rabbit, names);
      write(List.of(Message.of(new Order("o", "c", 1))), outbox.writer(Order.class, eq[0], "order.placed"));
      try (OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).confirmTimeout(Duration.ofMillis(500))
          .start()) {
        assertTrue(relay.status().up(), relay.status().toString());
        OutboxRelay.Status stuck = Await.until(Duration.ofSeconds(30), relay::status, s -> !s.up());
        assertTrue(stuck.detail().contains("has been in one batch"), stuck.detail());
        release.countDown();
        Await.until(Duration.ofSeconds(15), "relayed once it moves", () -> relay.relayed() == 1);
        // The row counts as relayed at the commit, a moment before the worker leaves its batch.
        Await.until(Duration.ofSeconds(5), "up once the batch ended", () -> relay.status().up());
      }
      OutboxRelay closed = outbox.relayBuilder(db.dataSource, rabbit).start();
      closed.close();
      assertFalse(closed.status().up());
      assertEquals("closed", closed.status().detail());
    }
  }

  @Test
  void aPoolTooSmallForTheWorkersAndTheListenerIsRefused(RabbitBroker broker) throws Exception {
    try (HikariDataSource small = pool(2); RabbitToolkit rabbit = broker.connect()) {
      // Where the database has no notifications (MySQL), no connection listens: 3 workers are too many.
      int workers = db.mysql ? 3 : 2;
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> outbox.relayBuilder(small, rabbit).concurrency(workers).start());
      assertTrue(e.getMessage().contains("at most 2") && e.getMessage().contains("needs 3"), e.getMessage());
      outbox.relayBuilder(small, rabbit).concurrency(2).listen(false).start().close();
    }
  }

  @Test
  void theListeningConnectionGoesBackToThePoolNoLongerListening(RabbitBroker broker) throws Exception {
    assumeFalse(db.mysql, "MySQL and MariaDB have no LISTEN: the relay polls");
    try (HikariDataSource pool = pool(3); RabbitToolkit rabbit = broker.connect()) {
      OutboxRelay relay = outbox.relayBuilder(pool, rabbit).start();
      Await.until(Duration.ofSeconds(10), "listening", () -> pool.getHikariPoolMXBean().getActiveConnections() >= 1);
      relay.close();
      // Take every connection the pool has: none may still listen.
      List<Connection> all = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          Connection c = pool.getConnection();
          all.add(c);
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_listening_channels()")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "connection " + i + " still listens");
          }
        }
      } finally {
        for (Connection c : all) {
          c.close();
        }
      }
    }
  }

  private HikariDataSource pool(int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.dataSource.getJdbcUrl());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setConnectionTimeout(10_000);
    return new HikariDataSource(config);
  }

  private double seconds(String sql) throws SQLException {
    try (Connection c = db.dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getDouble(1) : Double.NaN;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
