package io.rabbitkit.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Message;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.jdbc.Inbox;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import io.rabbitkit.jdbc.SqlDialect;
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

  private final boolean mysql;
  private final HikariDataSource db;
  private final RabbitToolkit rabbit;
  private final String schema;
  private final Outbox outbox;
  private final Map<String, Long> confirmedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> publishedAt = new ConcurrentHashMap<>();
  /** Whether the interceptor notes publish and confirm times: only while commit-to-confirm is measured. */
  private volatile boolean timing;

  private OutboxSide(HikariDataSource db, String uri, String schema) throws SQLException {
    this.db = db;
    this.schema = schema;
    this.outbox = Outbox.in(schema);
    Interceptor confirmTimes = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        if (!timing) {
          return PublishObserver.NONE;
        }
        String id = context.messageId();
        publishedAt.put(id, System.nanoTime());
        return (outcome, elapsed, failure) -> {
          if (outcome == PublishOutcome.CONFIRMED) {
            confirmedAt.put(id, System.nanoTime());
          }
        };
      }
    };
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      this.mysql = SqlDialect.of(c) == SqlDialect.MYSQL;
      st.execute(drop());
    }
    this.rabbit = RabbitToolkit.builder().uri(uri).connectionName("bench-outbox").interceptor(confirmTimes).connect();
    outbox.createSchema(db);
  }

  /** The database's name for this schema's removal, with everything in it. */
  private String drop() {
    return mysql ? "DROP DATABASE IF EXISTS " + schema : "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
  }

  /** Which database: the inbox clean-up measurement is PostgreSQL's only. */
  String database() {
    return mysql ? "MySQL/MariaDB" : "PostgreSQL";
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
      out.println(
          "outbox: skipped, no database at " + jdbcUrl.replaceFirst("\\?.*", "") + " (" + e.getMessage() + ")");
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

  /** The database's commit rate and commit latency: single-row transactions back to back, nothing relayed. */
  record Commits(double perSecond, Latencies latencies) {
  }

  /** Single-row transactions committed back to back for {@code duration}, nothing relayed. */
  Commits commitsAlone(Duration duration) throws SQLException {
    Outbox.Writer<Sample> writer = outbox.writer(Sample.class, "", "nowhere").withoutNotify();
    Latencies latencies = new Latencies(1_000_000);
    long end = System.nanoTime() + duration.toNanos();
    long start = System.nanoTime();
    int commits = 0;
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      while (System.nanoTime() < end) {
        long t = System.nanoTime();
        writer.publish(c, Sample.of(commits));
        c.commit();
        latencies.since(t);
        commits++;
      }
    }
    double perSecond = commits * 1e9 / (System.nanoTime() - start);
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DELETE FROM " + schema + ".outbox");
    }
    return new Commits(perSecond, latencies);
  }

  /**
   * Commits one row per transaction at {@code rate} per second for {@code count} rows while a relay
   * runs (LISTEN on), and records each row's time from just before {@code commit()} to its confirm,
   * and to its {@code publish} (the relay's share of it).
   */
  Latencies[] commitToConfirm(String queue, int rate, int count) throws Exception {
    Outbox.Writer<Sample> writer = outbox.writer(Sample.class, "", queue);
    Map<String, Long> committedAt = new ConcurrentHashMap<>();
    confirmedAt.clear();
    publishedAt.clear();
    timing = true;
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
    } finally {
      timing = false;
    }
    Latencies toConfirm = new Latencies(count);
    Latencies toPublish = new Latencies(count);
    committedAt.forEach((id, committed) -> {
      Long confirmed = confirmedAt.get(id);
      if (confirmed != null) {
        toConfirm.record(Math.max(0, confirmed - committed));
        toPublish.record(Math.max(0, publishedAt.get(id) - committed));
      }
    });
    return new Latencies[]{toConfirm, toPublish};
  }

  /** Inbox clean-up: rows per second and the worst concurrent single-row insert, batched and as one bulk DELETE. */
  record Cleanup(double batchedRowsPerSecond, double batchedInsertMaxMs, double bulkRowsPerSecond,
      double bulkInsertMaxMs) {
  }

  /**
   * Fills the inbox with {@code rows} expired ids, deletes them with {@link Inbox#deleteExpired()}
   * while another thread records new ids one transaction at a time, then the same with one bulk
   * {@code DELETE}.
   */
  Cleanup inboxCleanup(int rows) throws Exception {
    if (mysql) {
      return null; // filled with generate_series: not measured on MySQL/MariaDB yet
    }
    try (Inbox inbox = Inbox.builder(db).schema(schema).consumer("bench").retention(Duration.ofDays(1))
        .cleanupInterval(Duration.ofDays(1)).build()) {
      double[] batched = timedWhileInserting(rows, inbox::deleteExpired);
      double[] bulk = timedWhileInserting(rows, () -> {
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
          return (long) st.executeUpdate("DELETE FROM " + schema + ".inbox WHERE consumer = 'bench'"
              + " AND received_at < now() - interval '1 day'");
        }
      });
      return new Cleanup(batched[0], batched[1], bulk[0], bulk[1]);
    }
  }

  @FunctionalInterface
  private interface Delete {
    long run() throws SQLException;
  }

  private double[] timedWhileInserting(int rows, Delete delete) throws Exception {
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO " + schema + ".inbox (consumer, message_id, received_at) SELECT 'bench', 'old-' || g,"
          + " now() - interval '30 days' FROM generate_series(1, " + rows + ") g");
      st.execute("VACUUM ANALYZE " + schema + ".inbox");
    }
    java.util.concurrent.atomic.AtomicBoolean deleting = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong worstNanos = new java.util.concurrent.atomic.AtomicLong();
    Thread inserter = new Thread(() -> {
      try (Connection c = db.getConnection();
          java.sql.PreparedStatement ps = c.prepareStatement(
              "INSERT INTO " + schema + ".inbox (consumer, message_id) VALUES ('bench', ?)")) {
        for (long i = 0; deleting.get(); i++) {
          long t = System.nanoTime();
          ps.setString(1, "new-" + System.nanoTime() + "-" + i);
          ps.executeUpdate();
          worstNanos.accumulateAndGet(System.nanoTime() - t, Math::max);
          LockSupport.parkNanos(1_000_000);
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }, "bench-inbox-inserter");
    inserter.start();
    Thread.sleep(200);
    long start = System.nanoTime();
    long deleted = delete.run();
    long nanos = System.nanoTime() - start;
    deleting.set(false);
    inserter.join();
    if (deleted != rows) {
      throw new IllegalStateException("deleted " + deleted + " of " + rows + " expired inbox rows");
    }
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute("DELETE FROM " + schema + ".inbox");
    }
    return new double[]{rows * 1e9 / nanos, worstNanos.get() / 1e6};
  }

  @Override
  public void close() throws SQLException {
    rabbit.close();
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      st.execute(drop());
    } finally {
      db.close();
    }
  }
}
