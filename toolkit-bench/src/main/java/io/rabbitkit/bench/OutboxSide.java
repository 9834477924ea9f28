package io.rabbitkit.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Message;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The outbox workload: rows committed to a PostgreSQL outbox, then relayed through the toolkit's
 * confirming publisher by an {@link OutboxRelay}. It has its own schema ({@code rabbitkit_bench}
 * unless told otherwise, dropped on close) and a toolkit whose interceptor notes when each message is confirmed, for the
 * commit-to-confirm latency.
 */
final class OutboxSide implements AutoCloseable {

  static final String DEFAULT_SCHEMA = "rabbitkit_bench";
  private static final int WRITE_BATCH = 1_000;

  private final HikariDataSource db;
  private final RabbitToolkit rabbit;
  private final String schema;
  private final Outbox outbox;
  private final Map<String, Long> confirmedAt = new ConcurrentHashMap<>();

  private OutboxSide(HikariDataSource db, String uri, String schema) throws SQLException {
    this.db = db;
    this.schema = schema;
    this.outbox = Outbox.in(schema);
    Interceptor confirmTimes = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        String id = context.messageId();
        return (outcome, elapsed, failure) -> {
          if (outcome == PublishOutcome.CONFIRMED) {
            confirmedAt.put(id, System.nanoTime());
          }
        };
      }
    };
    this.rabbit = RabbitToolkit.builder().uri(uri).connectionName("bench-outbox").interceptor(confirmTimes).connect();
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
    outbox.createSchema(db);
  }

  /** Connects to {@code jdbcUrl}, or returns null (with the reason printed) when the database does not answer. */
  static OutboxSide open(String jdbcUrl, String uri, String schema, java.io.PrintStream out) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setMaximumPoolSize(6);
    config.setConnectionTimeout(3_000);
    config.setPoolName("bench-outbox");
    try {
      return new OutboxSide(new HikariDataSource(config), uri, schema);
    } catch (RuntimeException | SQLException e) {
      out.println("outbox: skipped, no PostgreSQL at " + jdbcUrl.replaceFirst("\\?.*", "") + " (" + e.getMessage() + ")");
      return null;
    }
  }

  /** Commits {@code n} rows (not timed), then times a relay from start until all are confirmed and deleted. */
  Measurement.Timed relay(String queue, int n) throws Exception {
    Outbox.Writer<Sample> writer = outbox.writer(Sample.class, "", queue).withoutNotify();
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        writer.publish(c, Sample.of(i));
        if (i % WRITE_BATCH == WRITE_BATCH - 1) {
          c.commit();
        }
      }
      c.commit();
    }
    Measurement m = Measurement.start();
    try (OutboxRelay relay = outbox.relayBuilder(db, rabbit).batchSize(500).concurrency(2).start()) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (relay.relayed() < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("outbox relay stalled at " + relay.relayed() + " of " + n);
        }
        Thread.sleep(1);
      }
      return m.stop(n);
    }
  }

  /** Single-row transactions committed back to back for {@code duration}, nothing relayed: the database's commit rate. */
  double commitsPerSecond(Duration duration) throws SQLException {
    Outbox.Writer<Sample> writer = outbox.writer(Sample.class, "", "nowhere").withoutNotify();
    long end = System.nanoTime() + duration.toNanos();
    long start = System.nanoTime();
    int commits = 0;
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      while (System.nanoTime() < end) {
        writer.publish(c, Sample.of(commits));
        c.commit();
        commits++;
      }
    }
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DELETE FROM " + schema + ".outbox");
    }
    return commits * 1e9 / (System.nanoTime() - start);
  }

  /**
   * Commits one row per transaction at {@code rate} per second for {@code count} rows while a relay
   * runs (LISTEN on), and records each row's time from just before {@code commit()} to its confirm.
   */
  Latencies commitToConfirm(String queue, int rate, int count) throws Exception {
    Outbox.Writer<Sample> writer = outbox.writer(Sample.class, "", queue);
    Map<String, Long> committedAt = new ConcurrentHashMap<>();
    confirmedAt.clear();
    try (OutboxRelay relay = outbox.relayBuilder(db, rabbit).start(); Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      long interval = 1_000_000_000L / rate;
      long next = System.nanoTime();
      for (int i = 0; i < count; i++) {
        LockSupport.parkNanos(next - System.nanoTime());
        next += interval;
        String id = "lat-" + i;
        writer.publish(c, Message.of(Sample.of(i)).withMessageId(id));
        committedAt.put(id, System.nanoTime());
        c.commit();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (relay.relayed() < count && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    }
    Latencies latencies = new Latencies(count);
    committedAt.forEach((id, committed) -> {
      Long confirmed = confirmedAt.get(id);
      if (confirmed != null) {
        latencies.record(Math.max(0, confirmed - committed));
      }
    });
    return latencies;
  }

  @Override
  public void close() throws SQLException {
    rabbit.close();
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } finally {
      db.close();
    }
  }
}
