package io.rabbitkit.jdbc.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.Delivery;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.PublishException;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.jdbc.Inbox;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import io.rabbitkit.jdbc.SqlDialect;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TcpProxy;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox and inbox compliance suite: the toolkit's guarantees, checked against your database
 * and your broker. Subclass it in your tests and hand it your {@link DataSource}:
 *
 * <pre>{@code
 * class OurOutboxComplianceIT extends OutboxComplianceSuite {
 *   static final HikariDataSource POOL = new HikariDataSource(ourConfig()); // yours
 *
 *   @Override
 *   protected DataSource dataSource() {
 *     return POOL;
 *   }
 * }
 * }</pre>
 *
 * <p>Each test writes orders through the outbox, relays them to a queue of its own and applies them
 * through an {@link Inbox} into a table of effects, then checks that every committed order took
 * effect exactly once and nothing else did: a rolled-back write publishes nothing; a commit
 * publishes once, with one message id; three relays keep the order of each key; a relay killed
 * after publishing a batch and before its commit loses nothing (its rows go out again and the inbox
 * drops the copies); the broker's connections closed mid-stream; the database restarted (a
 * throw-away server of the same kind, never yours: see {@link ThrowawayDatabase}; skipped when none
 * is installed locally); a duplicate delivery applied once. Fault tests print what they saw: {@code
 * outbox compliance [<database>] <test>: orders N, relayed N, re-sent N, duplicate effects 0, lost
 * 0}.
 *
 * <p>By default each test creates a schema of its own (a database, on MySQL and MariaDB) and drops
 * it after, so the DataSource's user needs the right to. To run against your own schema (made by
 * your migrations), return its name from {@link #schema()}: the suite then needs it to itself, as it
 * relays every row in its outbox; it creates and drops its table {@code compliance_effects} there
 * and deletes its rows from the outbox and inbox tables after each test.
 *
 * <p>The broker is found as for {@link RabbitTest} ({@code RABBITMQ_URI}, {@code localhost:5672}, or
 * a Testcontainers container).
 */
@RabbitTest
public abstract class OutboxComplianceSuite {

  /** The suite's message: the {@code seq}-th order of key {@code key}, from 1. */
  public record Order(String key, int seq) {
  }

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String ROUTING_KEY = "order";

  private SqlDialect dialect;
  private String schema;
  private boolean ownSchema;
  private Outbox outbox;
  private String effects;
  private String database;

  /** The database under test. */
  protected abstract DataSource dataSource();

  /**
   * A schema (a database, on MySQL and MariaDB) the suite may use alone, its outbox and inbox tables
   * already made; null (the default) for one of the suite's own per test, created and dropped.
   */
  protected String schema() {
    return null;
  }

  @BeforeEach
  void prepare() throws SQLException {
    try (Connection c = dataSource().getConnection()) {
      dialect = SqlDialect.of(c);
      database = c.getMetaData().getDatabaseProductName() + " " + c.getMetaData().getDatabaseProductVersion();
    }
    ownSchema = schema() == null;
    schema = ownSchema ? "rk_compliance_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10) : schema();
    outbox = Outbox.in(schema);
    if (ownSchema) {
      outbox.createSchema(dataSource());
    }
    effects = schema + ".compliance_effects";
    execute(dataSource(), "CREATE TABLE " + effects
        + " (message_id VARCHAR(200) NOT NULL, order_key VARCHAR(100) NOT NULL, seq INT NOT NULL)");
  }

  @AfterEach
  void cleanUp() throws SQLException {
    if (schema == null) {
      return;
    }
    if (ownSchema) {
      execute(dataSource(), dialect == SqlDialect.MYSQL ? "DROP DATABASE IF EXISTS " + schema
          : "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } else {
      execute(dataSource(), "DROP TABLE IF EXISTS " + effects);
      execute(dataSource(), "DELETE FROM " + schema + ".outbox");
      execute(dataSource(), "DELETE FROM " + schema + ".inbox WHERE consumer LIKE 'compliance-%'");
    }
  }

  @Test
  void aRolledBackWritePublishesNothing(RabbitBroker broker, TestNames names) throws Exception {
    try (Scene s = new Scene(broker, names, dataSource(), outbox)) {
      s.write(List.of(new Order("rolled-back", 1)), false);
      s.write(List.of(new Order("committed", 1)), true);
      try (OutboxRelay relay = s.relay(s.rabbit, dataSource(), outbox).start()) {
        s.awaitEffects(1);
        Await.until(WAIT, "the outbox empty", () -> relay.lag().due() == 0);
      }
      assertEquals(List.of("committed"), s.arrivals.stream().map(a -> a.order.key).toList(),
          "only the committed order is published");
    }
  }

  @Test
  void aCommitPublishesEachRowOnceWithItsId(RabbitBroker broker, TestNames names) throws Exception {
    try (Scene s = new Scene(broker, names, dataSource(), outbox)) {
      List<String> ids = s.write(orders(1, 100), true);
      try (OutboxRelay relay = s.relay(s.rabbit, dataSource(), outbox).start()) {
        s.awaitEffects(100);
        Await.until(WAIT, "the outbox empty", () -> relay.lag().due() == 0);
        assertEquals(100, relay.relayed());
      }
      assertEquals(new HashSet<>(ids),
          s.arrivals.stream().map(a -> a.messageId).collect(Collectors.toSet()));
      assertEquals(100, s.arrivals.size(), "each row published once");
      s.assertExactlyOnce(ids);
    }
  }

  @Test
  void threeRelaysKeepTheOrderOfEachKey(RabbitBroker broker, TestNames names) throws Exception {
    int keys = 10;
    int perKey = 40;
    try (Scene s = new Scene(broker, names, dataSource(), outbox)) {
      List<RabbitToolkit> toolkits = new ArrayList<>();
      List<OutboxRelay> relays = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          RabbitToolkit rabbit = broker.connect();
          toolkits.add(rabbit);
          relays.add(s.relay(rabbit, dataSource(), outbox).batchSize(8).start());
        }
        List<String> ids = new ArrayList<>();
        for (int seq = 1; seq <= perKey; seq++) { // each key's orders committed in order, keys interleaved
          List<Order> round = new ArrayList<>();
          for (int k = 0; k < keys; k++) {
            round.add(new Order("k-" + k, seq));
          }
          ids.addAll(s.write(round, true));
        }
        s.awaitEffects(keys * perKey);
        s.assertExactlyOnce(ids);
      } finally {
        relays.forEach(OutboxRelay::close);
        toolkits.forEach(RabbitToolkit::close);
      }
      Map<String, Integer> last = new HashMap<>();
      for (Arrival a : s.arrivals) {
        int before = last.getOrDefault(a.order.key, 0);
        assertTrue(a.order.seq > before, () -> a.order + " arrived after seq " + before + " of its key");
        last.put(a.order.key, a.order.seq);
      }
      s.report("three relays", keys * perKey, relays.stream().mapToLong(OutboxRelay::relayed).sum());
    }
  }

  @Test
  void aRelayKilledAfterPublishingBeforeItsCommitLosesNothing(RabbitBroker broker, TestNames names)
      throws Exception {
    int count = 200;
    try (Scene s = new Scene(broker, names, dataSource(), outbox)) {
      List<String> ids = s.write(orders(1, count), true);
      // The doomed relay publishes for real but never hears a confirm, as a process that dies after
      // publishing a batch: its sessions are then killed on the server, which rolls its transactions back.
      Sessions sessions = new Sessions(dataSource(), dialect);
      List<CompletableFuture<?>> published = new CopyOnWriteArrayList<>();
      List<CompletableFuture<Object>> withheld = new CopyOnWriteArrayList<>();
      AtomicBoolean dead = new AtomicBoolean();
      long relayed;
      try (RabbitToolkit doomed = broker.connect();
          Publisher<byte[]> out = doomed.publisherBuilder(byte[].class).exchange(s.exchange)
              .routingKey(body -> ROUTING_KEY).codec(MessageCodec.bytes("application/json")).build()) {
        OutboxRelay relay = s.relay(doomed, sessions, outbox).batchSize(50)
            .destination(s.exchange, message -> {
              if (dead.get()) {
                return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.NOT_SENT,
                    "the process is gone", message.messageId().orElse(null), s.exchange, ROUTING_KEY, null));
              }
              // A destination gets the row's ordering key as routing key: route it as the relay would.
              published.add(out.publish(message.withRoutingKey(ROUTING_KEY)));
              CompletableFuture<Object> never = new CompletableFuture<>();
              withheld.add(never);
              return never;
            }).start();
        Await.until(WAIT, "a batch published and confirmed by the broker",
            () -> published.size() >= 50 && published.stream().allMatch(CompletableFuture::isDone));
        sessions.kill();
        dead.set(true);
        withheld.forEach(f -> f.completeExceptionally(new IllegalStateException("the process is gone")));
        relay.close();
        relayed = relay.relayed();
      }
      int resent = (int) published.stream().filter(f -> !f.isCompletedExceptionally()).count();
      assertTrue(resent >= 50, "the killed relay published a batch the broker confirmed: " + resent);
      assertEquals(0, relayed, "the killed relay deleted nothing");
      try (OutboxRelay relay = s.relay(s.rabbit, dataSource(), outbox).start()) {
        s.awaitEffects(count);
        Await.until(WAIT, "the copies delivered", () -> s.arrivals.size() >= count + resent);
        s.assertExactlyOnce(ids);
        assertEquals(resent, s.inbox.duplicates(), "the inbox dropped each copy");
        s.report("relay killed mid-batch", count, relay.relayed());
      }
    }
  }

  @Test
  void theBrokersConnectionsClosedMidStreamLoseNothing(RabbitBroker broker, TestNames names) throws Exception {
    int count = 2_000;
    URI uri = URI.create(broker.uri());
    try (Scene s = new Scene(broker, names, dataSource(), outbox);
        TcpProxy proxy = TcpProxy.to(uri.getHost(), uri.getPort() == -1 ? 5672 : uri.getPort())) {
      List<String> ids = s.write(orders(1, count), true);
      String viaProxy = broker.uri().replaceFirst("@[^/:]+(:\\d+)?", "@127.0.0.1:" + proxy.port());
      try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(viaProxy).connectionName("compliance-relay").connect();
          OutboxRelay relay = s.relay(rabbit, dataSource(), outbox).batchSize(50).start()) {
        for (int cut = 1; cut <= 3; cut++) {
          long at = count * cut / 4;
          Await.until(WAIT, at + " rows relayed", () -> relay.relayed() >= at);
          proxy.reset();
        }
        s.awaitEffects(count);
        s.assertExactlyOnce(ids);
        s.report("broker connections closed", count, relay.relayed());
      }
    }
  }

  @Test
  void theDatabaseRestartedMidStreamLosesNothing(RabbitBroker broker, TestNames names) throws Exception {
    assumeTrue(ThrowawayDatabase.available(dialect), "no local " + dialect + " installation to start a server of the"
        + " suite's own (the restart never touches yours)");
    int before = 1_000;
    int after = 100;
    try (Scene s = new Scene(broker, names, dataSource(), outbox);
        ThrowawayDatabase server = ThrowawayDatabase.start(dialect)) {
      DataSource restarting = new Sessions(server.jdbcUrl());
      Outbox there = Outbox.in("rk_compliance");
      there.createSchema(restarting);
      List<String> ids = new ArrayList<>(s.write(restarting, there, orders(1, before), true));
      try (OutboxRelay relay = s.relay(s.rabbit, restarting, there).batchSize(20).start()) {
        Await.until(WAIT, "a tenth relayed", () -> relay.relayed() >= before / 10);
        server.restart();
        ids.addAll(s.write(restarting, there, orders(before + 1, after), true));
        s.awaitEffects(before + after);
        s.assertExactlyOnce(ids);
        Await.until(WAIT, "the relay up again", () -> relay.status().up());
        s.report("database restarted", before + after, relay.relayed());
      }
    }
  }

  @Test
  void aDuplicateDeliveryIsAppliedOnce(RabbitBroker broker, TestNames names) throws Exception {
    try (Scene s = new Scene(broker, names, dataSource(), outbox)) {
      Outbox.Writer<Order> writer = outbox.writer(Order.class, s.exchange, ROUTING_KEY);
      try (Connection c = dataSource().getConnection()) {
        c.setAutoCommit(false);
        writer.publish(c, Message.of(new Order("twice", 1)).withMessageId("the-same-id"));
        writer.publish(c, Message.of(new Order("twice", 1)).withMessageId("the-same-id"));
        writer.publish(c, Message.of(new Order("once", 1)).withMessageId("another-id"));
        c.commit();
      }
      try (OutboxRelay relay = s.relay(s.rabbit, dataSource(), outbox).start()) {
        Await.until(WAIT, "three deliveries", () -> s.arrivals.size() == 3 && s.inbox.duplicates() == 1);
      }
      s.assertExactlyOnce(List.of("the-same-id", "another-id"));
    }
  }

  private static List<Order> orders(int from, int count) {
    List<Order> orders = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      orders.add(new Order("o-" + i, 1));
    }
    return orders;
  }

  private static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** A delivery as the consumer saw it, duplicates included. */
  private record Arrival(String messageId, Order order) {
  }

  /** One test's queue, consumer with its inbox, and toolkit. */
  private final class Scene implements AutoCloseable {
    final RabbitToolkit rabbit;
    final String exchange;
    final String queue;
    final Inbox inbox;
    final MessageConsumer consumer;
    final List<Arrival> arrivals = Collections.synchronizedList(new ArrayList<>());
    private final Outbox.Writer<Order> writer;
    private final String test;

    Scene(RabbitBroker broker, TestNames names, DataSource effectsDb, Outbox outbox) throws SQLException {
      this.rabbit = names.track(broker.connect());
      this.exchange = names.exchange("compliance");
      this.queue = names.queue("compliance");
      this.test = names.prefix();
      rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange)).queue(Queue.classic(queue))
          .binding(Binding.of(exchange, queue, ROUTING_KEY)).build());
      this.writer = outbox.writer(Order.class, exchange, ROUTING_KEY).orderedBy(Order::key);
      this.inbox = Inbox.builder(effectsDb).schema(schema).consumer("compliance-" + UUID.randomUUID()).build();
      MessageConsumer.Handler<Order> apply = inbox.handler((d, c) -> {
        try (PreparedStatement st = c.prepareStatement("INSERT INTO " + effects + " VALUES (?, ?, ?)")) {
          st.setString(1, d.messageId().orElseThrow());
          st.setString(2, d.body().key);
          st.setInt(3, d.body().seq);
          st.executeUpdate();
        }
      });
      this.consumer = rabbit.consumerBuilder(Order.class).queue(queue).concurrency(1).handler((Delivery<Order> d) -> {
        arrivals.add(new Arrival(d.messageId().orElse(null), d.body()));
        apply.handle(d);
      }).build();
    }

    OutboxRelay.Builder relay(RabbitToolkit rabbit, DataSource ds, Outbox outbox) {
      return outbox.relayBuilder(ds, rabbit).pollInterval(Duration.ofMillis(100)).backOff(Duration.ofMillis(100),
          Duration.ofSeconds(1));
    }

    /** Writes {@code orders} in one transaction through the suite's outbox; returns their message ids. */
    List<String> write(List<Order> orders, boolean commit) throws SQLException {
      return write(dataSource(), writer, orders, commit);
    }

    /** Writes {@code orders} in one transaction through {@code other}, an outbox on {@code ds}. */
    List<String> write(DataSource ds, Outbox other, List<Order> orders, boolean commit) throws SQLException {
      return write(ds, other.writer(Order.class, exchange, ROUTING_KEY).orderedBy(Order::key), orders, commit);
    }

    private static List<String> write(DataSource ds, Outbox.Writer<Order> w, List<Order> orders, boolean commit)
        throws SQLException {
      List<String> ids = new ArrayList<>();
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        for (Order o : orders) {
          ids.add(w.publish(c, o));
        }
        if (commit) {
          c.commit();
        } else {
          c.rollback();
        }
      }
      return ids;
    }

    void awaitEffects(int n) {
      Await.until(WAIT, n + " effects", () -> effectIds().size() >= n);
    }

    /** Every one of {@code ids} took effect once, and nothing else did. */
    void assertExactlyOnce(List<String> ids) throws SQLException {
      List<String> applied = effectIds();
      Set<String> distinct = new HashSet<>(applied);
      assertEquals(applied.size(), distinct.size(), "duplicate effects");
      assertEquals(new HashSet<>(ids), distinct, "the effects are those of the committed orders");
    }

    List<String> effectIds() {
      try (Connection c = dataSource().getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT message_id FROM " + effects)) {
        List<String> ids = new ArrayList<>();
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
        return ids;
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Prints what a fault test saw, in the suite's one-line format. */
    void report(String what, int orders, long relayed) {
      List<String> applied = effectIds();
      Set<String> distinct = new HashSet<>(applied);
      int deliveries = arrivals.size();
      System.out.printf("outbox compliance [%s] %s: orders %d, relayed %d, re-sent %d, duplicate effects %d,"
          + " lost %d%n", database, what, orders, relayed, deliveries - distinct.size(),
          applied.size() - distinct.size(), orders - distinct.size());
    }

    @Override
    public void close() {
      consumer.close();
      inbox.close();
      rabbit.close();
    }
  }
}
