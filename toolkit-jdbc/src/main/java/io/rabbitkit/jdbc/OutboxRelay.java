package io.rabbitkit.jdbc;

import com.fasterxml.jackson.core.type.TypeReference;
import io.rabbitkit.Message;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.codec.MessageCodec;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes an {@link Outbox}'s rows through the toolkit's confirming publishers and deletes each
 * row only after the broker confirmed it.
 *
 * <p>Each worker thread claims up to {@code batchSize} due rows in one transaction ({@code FOR
 * UPDATE SKIP LOCKED}, so relays in other threads and processes take other rows), publishes them,
 * waits for their confirms, then in the same transaction deletes the confirmed rows and backs off
 * the others (nacked, returned as unroutable, timed out, refused), parking a row after {@code
 * maxAttempts} failures. A row whose ordering key has an earlier row still in the table (claimed by
 * another relay, backing off) waits for it, so rows of one key go out in insertion order. If the
 * process dies or the database goes away before the commit, the rows stay and are published again
 * with the same message ids: at least once, never lost.
 *
 * <p>Workers wake on the writers' {@code NOTIFY} (a {@code LISTEN} on a connection of its own)
 * and poll every {@code pollInterval} as well, so a lost notification only delays a row. Database
 * and broker failures are logged (once per outage at WARN) and retried with back-off; a relay
 * never stops by itself. Thread-safe; {@link #close()} finishes the batch in progress.
 */
public final class OutboxRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

  private final Outbox outbox;
  private final Schema schema;
  private final DataSource dataSource;
  private final RabbitToolkit rabbit;
  private final Builder options;
  private final Map<String, Publisher<byte[]>> publishers = new ConcurrentHashMap<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Object wake = new Object();
  private final AtomicLong relayed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong parked = new AtomicLong();
  private final String claim;
  private final String blockers;
  private final String delete;
  private final String backOff;
  private volatile boolean pending;
  private volatile boolean closing;

  private OutboxRelay(Builder b) {
    this.outbox = b.outbox;
    this.schema = b.outbox.table();
    this.dataSource = b.dataSource;
    this.rabbit = b.rabbit;
    this.options = b;
    String t = schema.outbox;
    // The min(id) sub-query walks the index from the left as a plain index scan, which marks the
    // entries of deleted rows dead as it passes them; the claim's bitmap scan then starts at the
    // first live row instead of visiting every row deleted since the last vacuum (measured: 4.4 ms
    // per claim after 50,000 deletes without it, 0.3 ms with it).
    this.claim = "SELECT id, message_id, exchange, routing_key, ordering_key, content_type, headers, properties, body,"
        + " attempts FROM " + t + " WHERE parked_at IS NULL AND available_at <= now()"
        + " AND id >= (SELECT min(id) FROM " + t + " WHERE parked_at IS NULL) ORDER BY id LIMIT ?"
        + " FOR UPDATE SKIP LOCKED";
    // Earlier rows of the claimed rows' ordering keys that this batch does not hold: a claimed row
    // behind one of them must wait. Parked rows do not hold their key up.
    this.blockers = "SELECT ordering_key, min(id) FROM " + t + " WHERE ordering_key = ANY (?) AND parked_at IS NULL"
        + " AND id < ? AND NOT (id = ANY (?)) GROUP BY ordering_key";
    this.delete = "DELETE FROM " + t + " WHERE id = ANY (?)";
    this.backOff = "UPDATE " + t + " SET attempts = attempts + 1, last_error = ?,"
        + " available_at = now() + make_interval(secs => ?),"
        + " parked_at = CASE WHEN ? THEN now() END WHERE id = ?";
  }

  private OutboxRelay start() {
    try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(
        "SELECT 1 FROM " + schema.outbox + " LIMIT 0")) {
      st.executeQuery().close();
    } catch (SQLException e) {
      throw new JdbcException("cannot start the outbox relay on " + schema.outbox, schema.explain(e, schema.outbox));
    }
    for (int i = 1; i <= options.concurrency; i++) {
      threads.add(thread("rabbitkit-outbox-relay-" + i, this::work));
    }
    if (options.listen) {
      threads.add(thread("rabbitkit-outbox-listen", this::listen));
    }
    return this;
  }

  private static Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Rows confirmed by the broker and deleted, since start. */
  public long relayed() {
    return relayed.get();
  }

  /** Failed attempts (nacked, returned, timed out, refused, unencodable), since start. */
  public long failedAttempts() {
    return failed.get();
  }

  /** Rows this relay parked, since start. */
  public long parkedRows() {
    return parked.get();
  }

  /** How far behind the relays are (a query). */
  public Outbox.Lag lag() {
    try (Connection c = dataSource.getConnection()) {
      return outbox.lag(c);
    } catch (SQLException e) {
      throw new JdbcException("cannot read the outbox lag", e);
    }
  }

  /** Stops claiming rows, finishes the batches in progress, closes its publishers. Idempotent. */
  @Override
  public void close() {
    closing = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    for (Thread t : threads) {
      try {
        t.join(options.confirmTimeout.toMillis() + 10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    publishers.values().forEach(Publisher::close);
  }

  private void work() {
    Duration pause = Duration.ZERO;
    boolean outage = false;
    while (!closing) {
      int published;
      try {
        published = relayBatch();
        if (outage) {
          log.info("outbox relay on {} works again", schema.outbox);
          outage = false;
        }
        pause = Duration.ZERO;
      } catch (SQLException | RuntimeException e) {
        pause = pause.isZero() ? Duration.ofMillis(200) : min(pause.multipliedBy(2), Duration.ofSeconds(10));
        if (!outage) {
          log.warn("outbox relay on {} failed, retrying every {} ms or so: {}", schema.outbox, pause.toMillis(),
              SafeText.of(String.valueOf(e.getMessage())));
          outage = true;
        } else {
          log.debug("outbox relay on {} still failing", schema.outbox, e);
        }
        sleep(pause);
        continue;
      }
      // While rows keep coming, claim again at once: the next batch takes what arrived during this
      // one. Only a batch that published nothing waits, for a notification or the poll interval.
      // (Waking per notification instead measured a p99 commit-to-confirm of 220 ms at 1,000 rows/s
      // against 16 ms for claiming back to back.)
      if (published == 0) {
        awaitWork();
      }
    }
  }

  private void awaitWork() {
    synchronized (wake) {
      if (!pending && !closing) {
        try {
          wake.wait(options.pollInterval.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          closing = true;
        }
      }
      pending = false;
    }
  }

  private void wakeUp() {
    synchronized (wake) {
      pending = true;
      wake.notifyAll();
    }
  }

  /** One batch in one transaction; returns the number of rows published (confirmed or not). */
  private int relayBatch() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        List<Row> rows = claim(c);
        List<Row> ready = List.of();
        Settled settled = Settled.NONE;
        if (!rows.isEmpty()) { // an empty poll writes nothing: no setting to send
          asyncCommit(c);
          ready = ready(c, rows);
          if (!ready.isEmpty()) {
            settled = settle(c, publish(ready));
          }
        }
        c.commit();
        // Counted once committed: a rolled-back batch is relayed again and counted then.
        relayed.addAndGet(settled.confirmed);
        failed.addAndGet(settled.failed);
        parked.addAndGet(settled.parked);
        return ready.size();
      } catch (SQLException | RuntimeException | Error e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        try {
          c.setAutoCommit(true);
        } catch (SQLException ignored) {
          // a broken connection: the pool discards it, and the batch's own failure is the one to report
        }
      }
    }
  }

  /**
   * The batch's commit need not wait for its WAL flush: if the database crashes and loses the
   * commit, the deleted rows come back and are published again (a duplicate, with the same id, as
   * after any relay crash), never lost. It leaves the disk's flushes to the business transactions.
   */
  private static void asyncCommit(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL synchronous_commit TO OFF");
    }
  }

  private List<Row> claim(Connection c) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(claim)) {
      st.setInt(1, options.batchSize);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
              rs.getString(6), rs.getString(7), rs.getString(8), rs.getBytes(9), rs.getInt(10)));
        }
      }
    } catch (SQLException e) {
      throw schema.explain(e, schema.outbox);
    }
    return rows;
  }

  /** The claimed rows that no earlier row of their ordering key (outside this batch) holds up. */
  private List<Row> ready(Connection c, List<Row> rows) throws SQLException {
    List<String> keys = new ArrayList<>();
    for (Row r : rows) {
      if (r.orderingKey != null) {
        keys.add(r.orderingKey);
      }
    }
    if (keys.isEmpty()) {
      return rows;
    }
    Map<String, Long> firstBlocker = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement(blockers)) {
      Array keyArray = c.createArrayOf("text", keys.toArray());
      Array idArray = c.createArrayOf("bigint", rows.stream().map(r -> r.id).toArray());
      st.setArray(1, keyArray);
      st.setLong(2, rows.get(rows.size() - 1).id);
      st.setArray(3, idArray);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          firstBlocker.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    if (firstBlocker.isEmpty()) {
      return rows;
    }
    List<Row> ready = new ArrayList<>(rows.size());
    for (Row r : rows) {
      Long blocker = r.orderingKey == null ? null : firstBlocker.get(r.orderingKey);
      if (blocker == null || r.id < blocker) {
        ready.add(r);
      }
    }
    return ready;
  }

  private List<Attempt> publish(List<Row> rows) {
    List<Attempt> attempts = new ArrayList<>(rows.size());
    for (Row r : rows) {
      CompletableFuture<?> confirm;
      boolean permanent = false;
      try {
        Message<byte[]> message = r.message();
        confirm = publisher(r.exchange, r.contentType).publish(message);
      } catch (IllegalArgumentException e) {
        confirm = CompletableFuture.failedFuture(e); // a header or property the broker cannot take: never will
        permanent = true;
      } catch (RuntimeException e) {
        confirm = CompletableFuture.failedFuture(e); // no such exchange, window full, toolkit closed
      }
      attempts.add(new Attempt(r, confirm, permanent));
    }
    return attempts;
  }

  private Publisher<byte[]> publisher(String exchange, String contentType) {
    // A build that fails (no such exchange) leaves no entry: the next row tries again.
    return publishers.computeIfAbsent(exchange + '\n' + contentType, key -> rabbit.publisherBuilder(byte[].class)
        .exchange(exchange).routingKey(body -> "").codec(MessageCodec.bytes(contentType))
        .confirmTimeout(options.confirmTimeout).build());
  }

  private record Settled(int confirmed, int failed, int parked) {
    static final Settled NONE = new Settled(0, 0, 0);
  }

  private Settled settle(Connection c, List<Attempt> attempts) throws SQLException {
    List<Long> confirmed = new ArrayList<>();
    int failures = 0;
    int parks = 0;
    long deadline = System.nanoTime() + options.confirmTimeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
    try (PreparedStatement st = c.prepareStatement(backOff)) {
      for (Attempt a : attempts) {
        Throwable failure = outcome(a.confirm, deadline);
        if (failure == null) {
          confirmed.add(a.row.id);
          continue;
        }
        if (failure instanceof ResourceClosedException && closing) {
          continue; // not the row's fault: it stays due, its attempt uncounted
        }
        // The row is locked by this batch, so the attempts read at claim are the row's.
        boolean park = a.permanent || a.row.attempts + 1 >= options.maxAttempts;
        String reason = reason(failure);
        st.setString(1, reason);
        st.setDouble(2, backOffSeconds(a.row.attempts));
        st.setBoolean(3, park);
        st.setLong(4, a.row.id);
        st.addBatch();
        failures++;
        if (park) {
          parks++;
          log.warn("outbox row {} (message {}) parked after {} attempt(s): {}", a.row.id,
              SafeText.of(a.row.messageId), a.row.attempts + 1, reason);
        } else {
          log.debug("outbox row {} failed: {}", a.row.id, reason);
        }
      }
      if (failures > 0) {
        st.executeBatch();
      }
    }
    if (!confirmed.isEmpty()) {
      try (PreparedStatement st = c.prepareStatement(delete)) {
        st.setArray(1, c.createArrayOf("bigint", confirmed.toArray()));
        st.executeUpdate();
      }
    }
    return new Settled(confirmed.size(), failures, parks);
  }

  private static Throwable outcome(CompletableFuture<?> confirm, long deadline) {
    try {
      confirm.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  private static String reason(Throwable failure) {
    String name = failure.getClass().getSimpleName();
    return SafeText.of(failure.getMessage() == null ? name : name + ": " + failure.getMessage(), 2000);
  }

  private double backOffSeconds(int attemptsBefore) {
    double seconds = options.initialBackOff.toMillis() / 1000.0 * Math.pow(2, Math.min(attemptsBefore, 30));
    return Math.min(seconds, options.maxBackOff.toMillis() / 1000.0);
  }

  /** Holds a connection with LISTEN and wakes the workers on each notification; reconnects with back-off. */
  private void listen() {
    Notifications notifications = null;
    Duration pause = Duration.ofMillis(500);
    while (!closing) {
      try {
        if (notifications == null) {
          notifications = Notifications.listen(dataSource, outbox.channel());
          if (notifications == null) {
            log.info("the JDBC driver cannot receive notifications: outbox relay on {} polls every {} ms",
                schema.outbox, options.pollInterval.toMillis());
            return;
          }
          wakeUp(); // rows may have been written while not listening
          pause = Duration.ofMillis(500);
        }
        if (notifications.await(options.pollInterval)) {
          wakeUp();
        }
      } catch (SQLException | RuntimeException e) {
        log.debug("outbox LISTEN connection failed; polling until it is back", e);
        if (notifications != null) {
          notifications.close();
          notifications = null;
        }
        sleep(pause);
        pause = min(pause.multipliedBy(2), Duration.ofSeconds(10));
      }
    }
    if (notifications != null) {
      notifications.close();
    }
  }

  private void sleep(Duration d) {
    synchronized (wake) {
      if (!closing) {
        try {
          wake.wait(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          closing = true;
        }
      }
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private record Attempt(Row row, CompletableFuture<?> confirm, boolean permanent) {}

  private record Row(long id, String messageId, String exchange, String routingKey, String orderingKey,
      String contentType, String headers, String properties, byte[] body, int attempts) {

    Message<byte[]> message() {
      Message<byte[]> m = Message.of(body).withMessageId(messageId).withRoutingKey(routingKey);
      for (Map.Entry<String, Object> h : read(headers).entrySet()) {
        m = m.withHeader(h.getKey(), h.getValue());
      }
      Map<String, Object> p = read(properties);
      if (p.get("correlation_id") instanceof String v) {
        m = m.withCorrelationId(v);
      }
      if (p.get("reply_to") instanceof String v) {
        m = m.withReplyTo(v);
      }
      if (p.get("expiration_ms") instanceof Number v) {
        m = m.withExpiration(Duration.ofMillis(v.longValue()));
      }
      if (p.get("priority") instanceof Number v) {
        m = m.withPriority(v.intValue());
      }
      if (p.get("type") instanceof String v) {
        m = m.withType(v);
      }
      if (p.get("app_id") instanceof String v) {
        m = m.withAppId(v);
      }
      return m;
    }

    private static Map<String, Object> read(String json) {
      if (json == null) {
        return Map.of();
      }
      try {
        return Outbox.JSON.readValue(json, new TypeReference<Map<String, Object>>() {});
      } catch (IOException e) {
        throw new IllegalArgumentException("unreadable JSON in the outbox row: " + e.getMessage(), e);
      }
    }
  }

  /**
   * Configures and starts an {@link OutboxRelay}. Obtain one from {@link Outbox#relayBuilder}.
   * Each setter checks its argument at once. Not thread-safe.
   *
   * <p>Defaults: {@value #DEFAULT_BATCH_SIZE} rows per batch, one worker thread, {@value
   * #DEFAULT_MAX_ATTEMPTS} attempts before parking, back-off from 1 s doubling to 5 min, LISTEN on,
   * polling every 500 ms, a 30 s confirm timeout.
   */
  public static final class Builder {

    /** Default rows claimed per transaction. */
    public static final int DEFAULT_BATCH_SIZE = 200;
    /** Default failed attempts before a row is parked. */
    public static final int DEFAULT_MAX_ATTEMPTS = 10;

    private final Outbox outbox;
    private final DataSource dataSource;
    private final RabbitToolkit rabbit;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int concurrency = 1;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration initialBackOff = Duration.ofSeconds(1);
    private Duration maxBackOff = Duration.ofMinutes(5);
    private Duration pollInterval = Duration.ofMillis(500);
    private Duration confirmTimeout = Duration.ofSeconds(30);
    private boolean listen = true;

    Builder(Outbox outbox, DataSource dataSource, RabbitToolkit rabbit) {
      this.outbox = outbox;
      this.dataSource = dataSource;
      this.rabbit = rabbit;
    }

    /** Rows claimed, published and settled per transaction (1-10,000). */
    public Builder batchSize(int rows) {
      if (rows < 1 || rows > 10_000) {
        throw new IllegalArgumentException("batchSize must be 1-10000: " + rows);
      }
      this.batchSize = rows;
      return this;
    }

    /** Worker threads, each with its own transactions (1-64). */
    public Builder concurrency(int threads) {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException("concurrency must be 1-64: " + threads);
      }
      this.concurrency = threads;
      return this;
    }

    /** Failed attempts after which a row is parked (at least 1). */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1: " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /** Back-off after a failed attempt: {@code initial}, doubling per attempt, at most {@code max}. */
    public Builder backOff(Duration initial, Duration max) {
      Schema.positive(initial, "initial back-off");
      Schema.positive(max, "max back-off");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max back-off " + max + " is shorter than the initial " + initial);
      }
      this.initialBackOff = initial;
      this.maxBackOff = max;
      return this;
    }

    /** How often idle workers look for due rows (with LISTEN on, a fallback for lost notifications). */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = Schema.positive(interval, "pollInterval");
      return this;
    }

    /** How long to wait for each row's confirm before backing it off. */
    public Builder confirmTimeout(Duration timeout) {
      this.confirmTimeout = Schema.positive(timeout, "confirmTimeout");
      return this;
    }

    /**
     * Whether to LISTEN for the writers' notifications ({@code true}, the default) or only poll:
     * turn it off behind PgBouncer in transaction mode, which cannot hold a LISTEN.
     */
    public Builder listen(boolean listen) {
      this.listen = listen;
      return this;
    }

    /**
     * Checks that the outbox table exists and starts the worker threads.
     *
     * @throws JdbcException if the database cannot be reached or the table is missing
     */
    public OutboxRelay start() {
      return new OutboxRelay(this).start();
    }
  }
}
