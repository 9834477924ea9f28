package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Confirmation;
import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Stream offsets in PostgreSQL: resume after a restart, effects exactly once across forced closes. */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class JdbcOffsetStoreIT {

  /** The database the tests run on: the machine's PostgreSQL here, MariaDB in a subclass. */
  TestDatabase database() {
    return new TestDatabase();
  }

  record Event(int n) {
  }

  private static void publish(RabbitToolkit rabbit, String stream, int from, int to) {
    try (Publisher<Event> p = rabbit.publisherBuilder(Event.class).routingKey(stream).build()) {
      List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
      for (int i = from; i < to; i++) {
        sent.add(p.publish(new Event(i)));
      }
      sent.forEach(CompletableFuture::join);
    }
  }

  private static void insert(Connection c, String table, long offset) throws Exception {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO " + table + " (stream_offset) VALUES (?)")) {
      st.setLong(1, offset);
      st.executeUpdate();
    }
  }

  @Test
  void effectsCommitWithTheOffsetExactlyOnceAcrossForcedCloses(RabbitToolkit rabbit, ThrowawayBroker node)
      throws Exception {
    try (TestDatabase db = database()) {
      JdbcOffsetStore offsets = JdbcOffsetStore.in(db.dataSource, db.schema);
      offsets.createSchema();
      String effects = db.schema + ".effects";
      db.execute("CREATE TABLE " + effects + " (stream_offset bigint)"); // no unique key: a duplicate shows
      rabbit.declare(Topology.of(Queue.stream("projected")));
      int events = 3_000;
      publish(rabbit, "projected", 0, events);
      AtomicInteger calls = new AtomicInteger();
      // The handler stops at each allowance until the test has closed the connections, so both closes
      // land mid-stream (with a fixed pace, the consumer once read all 3,000 before the second close).
      AtomicInteger allowance = new AtomicInteger(300);
      try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream("projected").name("projector")
          .startAt(StreamOffset.first()).offsets(offsets).prefetch(100)
          .handler(offsets.transactional("projector", (delivery, connection) -> {
            while (calls.get() >= allowance.get()) {
              Thread.sleep(1);
            }
            calls.incrementAndGet();
            insert(connection, effects, delivery.streamOffset().orElseThrow());
          })).build()) {
        for (int close = 0; close < 2; close++) {
          int upTo = allowance.get();
          Await.until(Duration.ofSeconds(60), "events up to the allowance handled", () -> calls.get() >= upTo);
          node.closeAllConnections();
          allowance.addAndGet(close == 0 ? 1_000 : events);
        }
        Await.until(Duration.ofSeconds(60), "every effect",
            () -> count(db, "SELECT count(*) FROM " + effects) >= events);
        Thread.sleep(500);
      }
      assertEquals(events, count(db, "SELECT count(*) FROM " + effects));
      assertEquals(events, count(db, "SELECT count(DISTINCT stream_offset) FROM " + effects), "an effect twice");
      assertEquals(events - 1, offsets.lastDone("projected", "projector").getAsLong());
    }
  }

  @Test
  void aConsumerResumesAfterARestartWhereTheLastProcessStopped(RabbitToolkit rabbit, RabbitBroker broker)
      throws Exception {
    try (TestDatabase db = database()) {
      JdbcOffsetStore offsets = JdbcOffsetStore.in(db.dataSource, db.schema);
      offsets.createSchema();
      rabbit.declare(Topology.of(Queue.stream("restarted")));
      publish(rabbit, "restarted", 0, 100);
      List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (int run = 0; run < 2; run++) {
        try (RabbitToolkit process = broker.connect(); // each run stands for a new process
            MessageConsumer c = process.streamConsumerBuilder(Event.class).stream("restarted").name("restarter")
                .startAt(StreamOffset.first()).offsets(JdbcOffsetStore.in(db.dataSource, db.schema)).stopAfter(50)
                .handler(d -> seen.add(d.body().n())).build()) {
          c.stopped().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
      }
      List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        expected.add(i);
      }
      assertEquals(expected, seen, "the second run began where the first ended");
    }
  }

  @Test
  void anEventAtOrBeforeTheStoredOffsetIsSkippedWithoutItsHandler() throws Exception {
    try (TestDatabase db = database()) {
      JdbcOffsetStore offsets = JdbcOffsetStore.in(db.dataSource, db.schema);
      offsets.createSchema();
      offsets.done("test", "c", 10); // Delivery.of(...) comes from queue "test"
      AtomicInteger calls = new AtomicInteger();
      MessageConsumer.Handler<String> handler = offsets.transactional("c", (delivery, connection) -> calls
          .incrementAndGet());
      handler.handle(Delivery.of("again").withStreamOffset(10));
      handler.handle(Delivery.of("older").withStreamOffset(3));
      assertEquals(0, calls.get(), "at or before the stored offset: skipped");
      handler.handle(Delivery.of("new").withStreamOffset(11));
      assertEquals(1, calls.get());
      assertEquals(11, offsets.lastDone("test", "c").getAsLong());
      assertTrue(offsets.lastDone("s", "other").isEmpty());
    }
  }

  private static long count(TestDatabase db, String sql) {
    try {
      return db.count(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
