package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The events examples as separate processes: the consumer, keeping its offset in PostgreSQL, killed
 * with SIGKILL three times while it reads 10,000 events; every event ends with exactly one row in
 * event_effects.
 */
@RabbitTest
class EventsIT {

  private static final Path JAR = Path.of("target", "toolkit-examples.jar");
  private static final int EVENTS = 10_000;

  private static long query(HikariDataSource db, String sql) throws Exception {
    try (Connection c = db.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aConsumerKilledThreeTimesAppliesEveryEventExactlyOnce(RabbitBroker broker, TestNames names) throws Exception {
    assertTrue(Files.exists(JAR), "run after `mvn package`: " + JAR.toAbsolutePath());
    String stream = names.queue("events");
    String consumer = "fault-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24));
    try (ChildJvm producer = ChildJvm.jar(JAR, "events-producer", "--uri", broker.uri(), "--stream", stream,
        "--count", Integer.toString(EVENTS)).start()) {
      assertEquals(0, producer.waitFor(Duration.ofSeconds(120)), producer.output());
    }
    try (OwnSchema schema = new OwnSchema(OwnSchema.POSTGRES); HikariDataSource db = Database.pool(schema.url(), 2)) {
      String[] consume = {"events-consumer", "--uri", broker.uri(), "--stream", stream, "--name", consumer, "--from",
          "first", "--jdbc-url", schema.url(), "--schema", schema.name};
      String rows = "SELECT count(*) FROM event_effects WHERE consumer = '" + consumer + "'";
      for (int kill = 1; kill <= 3; kill++) {
        try (ChildJvm c = ChildJvm.jar(JAR, consume).start()) {
          c.awaitLine(" [*] Reading stream", Duration.ofSeconds(60));
          long target = kill * 2_000L;
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (tableExists(db) && query(db, rows) < target && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          c.kill(); // SIGKILL mid-stream: no clean close, the transaction in flight rolls back
        }
      }
      try (ChildJvm last = ChildJvm.jar(JAR, consume).start()) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (query(db, rows) < EVENTS && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        Thread.sleep(1_000); // anything more would be a duplicate
        last.terminate();
        last.waitFor(Duration.ofSeconds(30));
      }
      long total = query(db, rows);
      long distinct =
          query(db, "SELECT count(DISTINCT event_id) FROM event_effects WHERE consumer = '" + consumer + "'");
      long offsets = query(db,
          "SELECT count(DISTINCT stream_offset) FROM event_effects WHERE consumer = '" + consumer + "'");
      System.out.printf("FIGURES events: %d events, consumer killed 3 times, %d rows, %d distinct events%n", EVENTS,
          total, distinct);
      assertEquals(EVENTS, distinct, "every event applied");
      assertEquals(EVENTS, total, "no event applied twice");
      assertEquals(EVENTS, offsets);
    }
    try (RabbitToolkit rabbit = broker.connect()) {
      rabbit.deleteQueue(stream + "." + consumer + ".dlq");
    }
  }

  private static boolean tableExists(HikariDataSource db) throws Exception {
    return query(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'event_effects'"
        + " AND table_schema = current_schema()") > 0;
  }
}
