package io.rabbitkit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.Message;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL outbox relayed into a super stream: a row's ordering key picks its partition, the
 * order of commits per key is the order a consumer group applies them, across a relay restart that
 * sends rows again. Needs a node with the stream plugin (RabbitMQ 3.13+; skipped on older).
 */
class OutboxToSuperStreamIT {

  record Event(String key, int seq) {
  }

  private static final Duration WAIT = Duration.ofSeconds(90);
  private static ThrowawayBroker node;
  private static RabbitStreams streams;
  private static RabbitToolkit rabbit;
  private static HikariDataSource db;
  private static String unavailable;

  @BeforeAll
  static void start() {
    try {
      node = ThrowawayBroker.startWithStreams();
    } catch (org.opentest4j.TestAbortedException e) {
      unavailable = e.getMessage();
      return;
    }
    streams = RabbitStreams.connect(node.streamUri());
    rabbit = RabbitToolkit.connect(node.uri());
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(System.getProperty("rabbitkit.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"));
    config.setMaximumPoolSize(8);
    db = new HikariDataSource(config);
  }

  @BeforeEach
  void needsTheNode() {
    assumeTrue(unavailable == null, unavailable);
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[]{db, rabbit, streams, node}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  private static String unique(String base) {
    return base + "_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16, 1 << 20));
  }

  private static void dropSchema(String schema) throws Exception {
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  private static void write(Outbox.Writer<Event> writer, List<Event> events) throws Exception {
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      for (Event e : events) {
        writer.publish(c, e);
      }
      c.commit();
    }
  }

  @Test
  void rowsOfAKeyReachTheirPartitionInCommitOrderAcrossARelayRestart() throws Exception {
    String schema = unique("ss_outbox");
    SuperStream s = SuperStream.of(schema.replace('_', '-'), 3);
    streams.declare(s);
    Outbox outbox = Outbox.in(schema);
    outbox.createSchema(db);
    // @formatter:off
    // tag::outbox-super-stream[]
    Outbox.Writer<Event> writer = outbox.writer(Event.class, s.name(), "")   // s: the super stream
        .orderedBy(Event::key);                   // the ordering key picks the partition
    // end::outbox-super-stream[]
    // @formatter:on
    int keys = 30;
    int perKey = 100;
    List<Event> all = new ArrayList<>();
    for (int seq = 1; seq <= perKey; seq++) {
      for (int k = 0; k < keys; k++) {
        all.add(new Event("k-" + k, seq));
      }
    }
    for (int i = 0; i < all.size(); i += 10) {
      write(writer, all.subList(i, i + 10));
    }

    Map<String, List<Integer>> applied = new ConcurrentHashMap<>();
    Map<String, String> partitionOf = new ConcurrentHashMap<>();
    Set<String> seenIds = ConcurrentHashMap.newKeySet();
    List<String> wrongPartition = new CopyOnWriteArrayList<>();
    int[] duplicates = {0};
    try (ConsumerGroup group = streams.consumerGroupBuilder(Event.class).superStream(s.name()).group("apply")
        .deadLetters(rabbit).handler(d -> {
          // An inbox in memory: a row sent again after the relay restarted has the same message id.
          if (!seenIds.add(d.messageId().orElseThrow())) {
            synchronized (duplicates) {
              duplicates[0]++;
            }
            return;
          }
          applied.computeIfAbsent(d.body().key(), k -> new CopyOnWriteArrayList<>()).add(d.body().seq());
          String first = partitionOf.putIfAbsent(d.body().key(), d.queue());
          if (first != null && !first.equals(d.queue())) {
            wrongPartition.add(d.body().key() + " in " + first + " and " + d.queue());
          }
        }).build()) {
      // @formatter:off
      // tag::outbox-super-stream[]
      try (PartitionedPublisher<Message<byte[]>> events = streams.messagePublisher(s, "application/json")) {
        OutboxRelay first = outbox.relayBuilder(db, rabbit).concurrency(2).batchSize(100)
            .destination(s.name(), events::publish)   // rows written for this name go to the super stream
            .start();
        // end::outbox-super-stream[]
        // @formatter:on
        Await.until(WAIT, "a third relayed", () -> first.relayed() >= all.size() / 3);
        first.close(); // as a process that stops: the next relay takes over the table
        OutboxRelay second = outbox.relayBuilder(db, rabbit).concurrency(2).batchSize(100)
            .destination(s.name(), events::publish).start();
        try (second) {
          Await.until(WAIT, "every row relayed", () -> first.relayed() + second.relayed() == all.size());
        }
      }
      Await.until(WAIT, "every event applied", () -> seenIds.size() == all.size());
    }
    assertTrue(wrongPartition.isEmpty(), "a key in two partitions: " + wrongPartition);
    assertEquals(3, partitionOf.values().stream().distinct().count(), "30 keys over 3 partitions");
    List<Integer> expected = new ArrayList<>();
    for (int seq = 1; seq <= perKey; seq++) {
      expected.add(seq);
    }
    for (int k = 0; k < keys; k++) {
      assertEquals(expected, applied.get("k-" + k), "order of key k-" + k);
    }
    try (Connection c = db.getConnection()) {
      assertEquals(0, outbox.lag(c).due(), "rows left in the outbox");
    }
    System.out.printf("outbox -> super stream: %d rows, %d keys, %d duplicates dropped by message id%n", all.size(),
        keys, duplicates[0]);
    streams.delete(s.name());
    dropSchema(schema);
  }

  @Test
  void aRowTheStreamRefusesIsParkedAndHoldsUpOnlyItsKey() throws Exception {
    String schema = unique("ss_park");
    SuperStream s = SuperStream.of(schema.replace('_', '-'), 2);
    streams.declare(s);
    Outbox outbox = Outbox.in(schema);
    outbox.createSchema(db);
    Outbox.Writer<byte[]> writer = outbox.writer(byte[].class, s.name(), "").orderedBy(body -> new String(body,
        0, 2, java.nio.charset.StandardCharsets.US_ASCII));
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      byte[] big = new byte[StreamPublisher.MAX_BODY + 1]; // over the stream protocol's frame
      big[0] = 'b';
      big[1] = '1';
      writer.publish(c, big);
      writer.publish(c, "b1 after".getBytes());
      writer.publish(c, "a1 other key".getBytes());
      c.commit();
    }
    List<String> got = new CopyOnWriteArrayList<>();
    try (ConsumerGroup group = streams.consumerGroupBuilder(byte[].class).superStream(s.name()).group("g")
        .deadLetters(rabbit).handler(d -> got.add(new String(d.body()))).build();
        PartitionedPublisher<Message<byte[]>> events = streams.messagePublisher(s, "application/octet-stream");
        OutboxRelay relay = outbox.relayBuilder(db, rabbit).maxAttempts(2)
            .backOff(Duration.ofMillis(100), Duration.ofMillis(100)).destination(s.name(), events::publish).start()) {
      Await.until(WAIT, "the oversize row parked", () -> relay.parkedRows() == 1);
      Await.until(WAIT, "the other key's row", () -> got.contains("a1 other key"));
      try (Connection c = db.getConnection()) {
        List<Outbox.Parked> parked = outbox.parked(c, 10);
        assertEquals(1, parked.size());
        assertTrue(parked.get(0).lastError().contains("TooLarge"), parked.get(0).lastError());
      }
      // Parked rows do not hold their key: the row behind it goes out.
      Await.until(WAIT, "the row behind the parked one", () -> got.contains("b1 after"));
    }
    streams.delete(s.name());
    dropSchema(schema);
  }
}
