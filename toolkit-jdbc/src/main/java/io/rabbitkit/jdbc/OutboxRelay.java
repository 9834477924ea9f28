package io.rabbitkit.jdbc;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.type.TypeReference;
import io.rabbitkit.Message;
import io.rabbitkit.PublishException;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
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
 * <p>Each worker thread claims up to {@code batchSize} due rows (and at most {@code maxBatchBytes}
 * of bodies) in one transaction ({@code FOR UPDATE SKIP LOCKED}, so relays in other threads and
 * processes take other rows), publishes them, waits for their confirms, then in the same
 * transaction deletes the confirmed rows and backs off the failed ones. If the process dies or the
 * database goes away before the commit, the rows stay and are published again with the same
 * message ids: at least once, never lost.
 *
 * <p><b>Order per key.</b> Rows with the same ordering key go out in insertion order and never
 * overtake each other: within a batch a key's row is published only once the one before it is
 * confirmed (rows without a key, and rows of different keys, go out together); a row whose key has
 * an earlier row still in the table (claimed by another relay, or backing off) waits for it, and
 * is not even claimed while that row backs off, so a failing key holds up only itself.
 *
 * <p><b>Failures.</b> Only a failure about the row itself counts towards parking it: returned as
 * unroutable, nacked, refused by the broker, too large, its exchange refused, unreadable (see
 * {@link PublishException.Reason#aboutMessage()}). A row is parked after {@code maxAttempts} of
 * those, and backs off between them (measured from the end of the attempt). A failure that says
 * nothing about the row (the connection down or blocked, no confirm in time, the toolkit closing)
 * leaves the row as it was, due and unpenalized, and makes the worker pause (200 ms, doubling to 5
 * s) before it tries again: after an outage of any length every row goes out, in key order,
 * without an operator.
 *
 * <p><b>Liveness.</b> A worker never ends before {@link #close()}: a database failure, a broken
 * interceptor, even an {@link Error}, ends only the batch (rolled back), is logged (a database or
 * broker outage once at WARN, anything else at ERROR with its stack trace), and the worker tries
 * again with back-off. {@link #status()} is down while a worker is not running, has been in one
 * batch for longer than it can legitimately take, or has failed every batch for 30 s.
 *
 * <p>On PostgreSQL, workers wake on the writers' {@code NOTIFY} (a {@code LISTEN} on a connection
 * of its own, handed back to the pool with {@code UNLISTEN *}) and poll every {@code pollInterval}
 * as well, so a lost notification only delays a row. On MySQL and MariaDB, which have no
 * notifications, they poll: 10 ms after a batch that found rows, the wait doubling per empty poll
 * up to {@code pollInterval}. Thread-safe; {@link #close()} finishes the batch in
 * progress.
 */
public final class OutboxRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
  /** How long every batch of a worker must have failed before {@link #status()} says down. */
  static final Duration FAILING_IS_DOWN_AFTER = Duration.ofSeconds(30);
  private static final Duration FIRST_PAUSE = Duration.ofMillis(200);
  private static final Duration LONGEST_PAUSE = Duration.ofSeconds(5);
  /** The first wait of a polling worker after a batch that found rows. */
  private static final Duration FIRST_IDLE_WAIT = Duration.ofMillis(10);

  private final Outbox outbox;
  private final Schema schema;
  private final DataSource dataSource;
  private final RabbitToolkit rabbit;
  private final Builder options;
  private final Map<String, Publisher<byte[]>> publishers = new ConcurrentHashMap<>();
  private final List<Worker> workers = new ArrayList<>();
  private Thread listener;
  private final Object wake = new Object();
  private final AtomicLong relayed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong parked = new AtomicLong();
  private final AtomicLong failedBatches = new AtomicLong();
  /**
   * A batch open longer than this is stuck: its chains stop after one confirm timeout, each wait
   * after two, and a pipelined batch is settled after the next one's chains.
   */
  private final long stuckAfterNanos;
  // The SQL of the database's dialect, set by start() before the workers start.
  private SqlDialect dialect;
  private String claim;
  private String blockers;
  private String delete;
  private String backOff;
  /** Batches a worker holds open at once: 2 when it pipelines, 1 when the pool cannot spare the connections. */
  private int depth;
  private volatile boolean pending;
  private volatile boolean closing;

  private OutboxRelay(Builder b) {
    this.outbox = b.outbox;
    this.schema = b.outbox.table();
    this.dataSource = b.dataSource;
    this.rabbit = b.rabbit;
    this.options = b;
    this.stuckAfterNanos = b.confirmTimeout.multipliedBy(5).plusSeconds(15).toNanos();
  }

  /** The claim, blockers, delete and back-off statements in {@code d}. */
  private void speak(SqlDialect d) {
    this.dialect = d;
    String t = schema.outbox;
    this.backOff = d.backOff(t);
    if (d == SqlDialect.MYSQL) {
      // Two steps, without arrays or window functions: the candidates' ids and sizes unlocked (the
      // same filter as below, less the batch in flight), then the rows that fit maxBatchBytes,
      // locked. The IN lists (and the blockers') are expanded per batch.
      this.claim = "SELECT id, LENGTH(body) FROM " + t + " o WHERE parked_at IS NULL AND available_at <= NOW(6)%s"
          + " AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM " + t + " h WHERE h.ordering_key = o.ordering_key"
          + " AND h.id < o.id AND h.parked_at IS NULL AND h.available_at > NOW(6))) ORDER BY id LIMIT ?";
      this.blockers = "SELECT ordering_key, MIN(id) FROM " + t + " WHERE ordering_key IN (%s) AND parked_at IS NULL"
          + " AND id < ? AND id NOT IN (%s) GROUP BY ordering_key";
      // One primary-key delete per row, sent as one batch: an IN list may be planned as a scan, which
      // waits on the rows the worker's next batch holds locked (50 s, the lock wait timeout).
      this.delete = "DELETE FROM " + t + " WHERE id = ?";
      return;
    }
    // Candidates, in id order: due, not parked, not held by this worker's batch in flight (its locks
    // would leave the next batch empty), and not behind a row of their key that backs off (a
    // failing head holds up its own key only, and its followers do not fill the batch). The min(id)
    // sub-query walks the index from the left as a plain index scan, which marks the entries of
    // deleted rows dead as it passes them; the scan then starts at the first live row instead of
    // visiting every row deleted since the last vacuum (4.4 ms per claim after 50,000 deletes without
    // it, 0.3 ms with it). Of the candidates, the batch takes rows while their bodies add up to
    // maxBatchBytes (always the first), then locks what no other relay holds. The conditions are
    // repeated outside, where they are checked again on the row version that is locked.
    String due = "parked_at IS NULL AND available_at <= now()";
    this.claim = "SELECT id, message_id, exchange, routing_key, ordering_key, content_type, headers, properties, body,"
        + " attempts FROM " + t + " WHERE id = ANY (ARRAY("
        + "SELECT id FROM (SELECT id, row_number() OVER w AS n, sum(octet_length(body)) OVER w AS upto FROM ("
        + "SELECT id, body FROM " + t + " o WHERE " + due
        + " AND id >= (SELECT min(id) FROM " + t + " WHERE parked_at IS NULL) AND NOT (id = ANY (?))"
        + " AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM " + t + " h WHERE h.ordering_key = o.ordering_key"
        + " AND h.id < o.id AND h.parked_at IS NULL AND h.available_at > now()))"
        + " ORDER BY id LIMIT ?) candidates WINDOW w AS (ORDER BY id)) sized WHERE n = 1 OR upto <= ?))"
        + " AND " + due + " ORDER BY id FOR UPDATE SKIP LOCKED";
    // Earlier rows of the claimed rows' ordering keys that this batch does not hold: a claimed row
    // behind one of them must wait. Parked rows do not hold their key up.
    this.blockers = "SELECT ordering_key, min(id) FROM " + t + " WHERE ordering_key = ANY (?) AND parked_at IS NULL"
        + " AND id < ? AND NOT (id = ANY (?)) GROUP BY ordering_key";
    this.delete = "DELETE FROM " + t + " WHERE id = ANY (?)";
  }

  private OutboxRelay start() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement st = c.prepareStatement("SELECT 1 FROM " + schema.outbox + " LIMIT 0")) {
      speak(schema.dialect(c));
      st.executeQuery().close();
    } catch (SQLException e) {
      throw new JdbcException("cannot start the outbox relay on " + schema.outbox, schema.explain(e, schema.outbox));
    }
    boolean listens = listens();
    int needed = options.concurrency + (listens ? 1 : 0);
    Integer poolSize = Pools.maximumSize(dataSource);
    this.depth = options.pipeline && (poolSize == null || poolSize >= needed + options.concurrency) ? 2 : 1;
    if (options.pipeline && depth == 1 && poolSize >= needed) {
      log.info("outbox relay on {}: the pool's {} connection(s) leave none for a second batch per worker; not"
          + " pipelining", schema.outbox, poolSize);
    }
    if (poolSize != null && poolSize < needed) {
      throw new IllegalArgumentException("the DataSource's pool holds at most " + poolSize + " connection(s), and "
          + "the relay needs " + needed + " (" + options.concurrency + " worker(s), each holding one during a batch"
          + (listens ? ", and one that LISTENs" : "") + "), besides what the application itself uses: "
          + "grow the pool or lower concurrency");
    }
    for (int i = 1; i <= options.concurrency; i++) {
      Worker w = new Worker(i, options.pollInterval);
      workers.add(w);
      run(w);
    }
    if (listens) {
      listener = thread("rabbitkit-outbox-listen", this::listen);
    }
    return this;
  }

  /** Whether the workers wake on the writers' notifications: PostgreSQL's, unless turned off. */
  private boolean listens() {
    return options.listen && dialect == SqlDialect.POSTGRESQL;
  }

  /** Starts the worker's thread; should it ever end before the relay closes, another takes its place. */
  private void run(Worker w) {
    Thread t = new Thread(() -> work(w), "rabbitkit-outbox-relay-" + w.number);
    t.setDaemon(true);
    t.setUncaughtExceptionHandler((dead, e) -> {
      if (!closing) {
        log.error("outbox relay worker {} on {} ended unexpectedly; starting another", w.number, schema.outbox, e);
        run(w);
      }
    });
    w.thread = t;
    t.start();
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

  /** Failed attempts that count towards parking (returned, nacked, refused, too large, unreadable), since start. */
  public long failedAttempts() {
    return failed.get();
  }

  /** Rows this relay parked, since start. */
  public long parkedRows() {
    return parked.get();
  }

  /** Batches that ended in an exception (the database, an interceptor, an error), since start. */
  public long failedBatches() {
    return failedBatches.get();
  }

  /**
   * Whether the relay is doing its job, for a health check: down while closed, while a worker is
   * not running, has held one batch open longer than five confirm timeouts and 15 s, or has failed
   * every batch for 30 s ({@link #FAILING_IS_DOWN_AFTER}); the detail says which and why.
   */
  public Status status() {
    long now = System.nanoTime();
    List<String> problems = new ArrayList<>();
    for (Worker w : workers) {
      Thread t = w.thread;
      long inBatch = w.batchStartedAt == 0 ? 0 : now - w.batchStartedAt;
      long failing = w.failingSince == 0 ? 0 : now - w.failingSince;
      if (t == null || !t.isAlive()) {
        problems.add("worker " + w.number + " is not running");
      } else if (inBatch > stuckAfterNanos) {
        problems.add("worker " + w.number + " has been in one batch for " + TimeUnit.NANOSECONDS.toSeconds(inBatch)
            + " s (stuck in " + SafeText.of(String.valueOf(w.thread.getStackTrace().length > 0
                ? w.thread.getStackTrace()[0] : "?"))
            + ")");
      } else if (failing > FAILING_IS_DOWN_AFTER.toNanos()) {
        problems.add("worker " + w.number + " has failed every batch for " + TimeUnit.NANOSECONDS.toSeconds(failing)
            + " s: " + w.lastFailure);
      }
    }
    String detail = closing ? "closed" : problems.isEmpty() ? "relaying" : String.join("; ", problems);
    return new Status(!closing && problems.isEmpty(), detail, relayed.get(), failed.get(), parked.get(),
        failedBatches.get());
  }

  /**
   * A relay's condition and counters since start.
   *
   * @param up whether it is relaying (see {@link #status()})
   * @param detail "relaying", "closed", or what is wrong
   * @param relayed rows confirmed and deleted
   * @param failedAttempts failed attempts that count towards parking
   * @param parked rows parked
   * @param failedBatches batches that ended in an exception
   */
  public record Status(boolean up, String detail, long relayed, long failedAttempts, long parked, long failedBatches) {
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
    List<Thread> threads = new ArrayList<>();
    workers.forEach(w -> threads.add(w.thread));
    threads.add(listener);
    for (Thread t : threads) {
      try {
        if (t != null) {
          t.join(options.confirmTimeout.multipliedBy(2).toMillis() + 10_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    publishers.values().forEach(Publisher::close);
  }

  /** What one worker is doing, for {@link #status()}: written by the worker, read by anyone. */
  private static final class Worker {
    final int number;
    volatile Thread thread;
    /** System.nanoTime() when the batch in progress began; 0 between batches. */
    volatile long batchStartedAt;
    /** System.nanoTime() of the first of the failed batches in a row; 0 after a batch that worked. */
    volatile long failingSince;
    volatile String lastFailure;
    Duration pause = Duration.ZERO;
    /** How long an empty poll waits before the next, when no notification wakes the worker. */
    Duration idleWait;

    Worker(int number, Duration pollInterval) {
      this.number = number;
      this.idleWait = pollInterval;
    }
  }

  /**
   * The worker's loop. Pipelined, each turn claims and publishes a batch (its own transaction,
   * without the rows of the batch in flight), then settles the batch before it, whose confirms came
   * in meanwhile: the database's round trips overlap the broker's. Only a full batch (a backlog)
   * stays open over the next turn: a small one is settled at once, as overlapping transactions at a
   * trickle measured a p99 commit-to-confirm of 695 ms at 1,000 rows/s after a backlog, against 26
   * ms. Trouble settles both before the pause, so no transaction stays open while the worker
   * sleeps.
   */
  private void work(Worker w) {
    Open inFlight = null;
    while (!closing) {
      w.batchStartedAt = inFlight == null ? System.nanoTime() : inFlight.startedAt;
      Open next = null;
      Batch settled = Batch.NONE;
      Throwable failure = null;
      try {
        next = open(inFlight);
      } catch (Throwable e) { // the database, a broken interceptor, an Error: the batch ends, the worker does not
        failure = e;
      }
      if (inFlight != null) {
        try {
          settled = settled.plus(inFlight.settle());
        } catch (Throwable e) {
          failure = also(failure, e);
        }
      }
      if (next != null && (depth == 1 || !next.full || failure != null || settled.brokerAway() || closing)) {
        try {
          settled = settled.plus(next.settle());
        } catch (Throwable e) {
          failure = also(failure, e);
        }
        next = null;
      }
      boolean onlyOpened = inFlight == null && next != null; // nothing settled: nothing learnt about health
      inFlight = next;
      w.batchStartedAt = inFlight == null ? 0 : inFlight.startedAt;
      if (onlyOpened) {
        continue;
      }
      if (failure != null) {
        failedBatches.incrementAndGet();
        trouble(w, failure);
        continue;
      }
      if (settled.brokerAway()) {
        trouble(w, null);
        continue;
      }
      if (w.failingSince != 0) {
        log.info("outbox relay on {} works again", schema.outbox);
        w.failingSince = 0;
        w.pause = Duration.ZERO;
      }
      // While rows keep coming, claim again at once: the next batch takes what arrived during this
      // one. Only a turn that published nothing waits, for a notification or the poll interval.
      // (Waking per notification instead measured a p99 commit-to-confirm of 220 ms at 1,000 rows/s
      // against 16 ms for claiming back to back.)
      // Without notifications (MySQL, MariaDB, listen off) the wait starts short after a batch that
      // found rows and doubles per empty poll up to the poll interval.
      if (settled.published > 0) {
        w.idleWait = FIRST_IDLE_WAIT;
      } else {
        awaitWork(listens() ? options.pollInterval : w.idleWait);
        w.idleWait = min(w.idleWait.multipliedBy(2), options.pollInterval);
      }
    }
    if (inFlight != null) {
      try {
        inFlight.settle();
      } catch (Throwable e) {
        log.debug("outbox relay on {}: the last batch failed while closing; its rows stay", schema.outbox, e);
      }
    }
    w.batchStartedAt = 0;
  }

  private static Throwable also(Throwable first, Throwable then) {
    if (first == null) {
      return then;
    }
    first.addSuppressed(then);
    return first;
  }

  /**
   * A batch failed ({@code e}), or published rows of which none was confirmed for reasons that say
   * nothing about them (the broker away, {@code e} null): log once per streak, pause, go on.
   */
  private void trouble(Worker w, Throwable e) {
    w.pause = w.pause.isZero() ? FIRST_PAUSE : min(w.pause.multipliedBy(2), LONGEST_PAUSE);
    String what = e == null ? "no row was confirmed (the broker is unreachable, blocked or not confirming)"
        : SafeText.of(e.getClass().getSimpleName() + ": " + e.getMessage(), 500);
    w.lastFailure = what;
    boolean first = w.failingSince == 0;
    if (first) {
      w.failingSince = System.nanoTime();
    }
    if (e != null && !(e instanceof SQLException)) {
      if (first) {
        log.error("outbox relay worker {} on {}: a batch failed; retrying every {} ms or so", w.number, schema.outbox,
            LONGEST_PAUSE.toMillis(), e);
      } else {
        log.debug("outbox relay on {} still failing", schema.outbox, e);
      }
    } else if (first) {
      log.warn("outbox relay on {}: {}; retrying every {} ms or so", schema.outbox, what, LONGEST_PAUSE.toMillis());
    }
    sleep(w.pause);
  }

  private void awaitWork(Duration atMost) {
    synchronized (wake) {
      if (!pending && !closing) {
        try {
          wake.wait(Math.max(1, atMost.toMillis()));
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

  /**
   * What one batch did.
   *
   * @param published rows published (confirmed or not)
   * @param confirmed rows confirmed and deleted
   * @param failed failed attempts that count towards parking
   * @param parked rows parked
   * @param unsettled rows published whose failure says nothing about them (left due, uncounted)
   */
  private record Batch(int published, int confirmed, int failed, int parked, int unsettled) {
    static final Batch NONE = new Batch(0, 0, 0, 0, 0);

    Batch plus(Batch b) {
      return new Batch(published + b.published, confirmed + b.confirmed, failed + b.failed, parked + b.parked,
          unsettled + b.unsettled);
    }

    /** Nothing was confirmed and nothing failed on its own account: the broker, not the rows. */
    boolean brokerAway() {
      return unsettled > 0 && confirmed == 0 && failed == 0;
    }
  }

  /**
   * Claims a batch (none of {@code inFlight}'s rows) in a transaction of its own and publishes what
   * is ready; returns it open, its confirms coming in, or null when it claimed nothing to publish
   * (committed at once).
   */
  private Open open(Open inFlight) throws SQLException, InterruptedException {
    Connection c = dataSource.getConnection();
    Open batch = new Open(c);
    try {
      List<Long> exclude = inFlight == null ? List.of() : inFlight.claimed;
      List<Row> rows = dialect == SqlDialect.MYSQL ? claimInSteps(c, exclude) : claim(c, exclude);
      if (!rows.isEmpty() && dialect.asyncCommit() != null) { // an empty poll writes nothing: no setting to send
        asyncCommit(c, dialect.asyncCommit());
      }
      List<Row> ready = rows.isEmpty() ? rows : ready(c, rows);
      if (ready.isEmpty()) {
        batch.end(Batch.NONE);
        return null;
      }
      long bytes = 0;
      for (Row r : rows) {
        batch.claimed.add(r.id);
        bytes += r.body.length;
      }
      batch.full = rows.size() == options.batchSize || bytes > options.maxBatchBytes / 2;
      batch.attempts = publish(ready);
      return batch;
    } catch (SQLException | InterruptedException | RuntimeException | Error e) {
      batch.abandon(e);
      throw e;
    }
  }

  /**
   * A claimed batch in its transaction: its rows locked, its publishes out, until {@link #settle}
   * commits what their outcomes say or {@link #abandon} rolls it back.
   */
  private final class Open {
    final Connection c;
    final int isolation;
    final long startedAt = System.nanoTime();
    final List<Long> claimed = new ArrayList<>();
    List<Attempt> attempts = List.of();
    /** Whether the claim took all it could: a backlog, so the worker pipelines. */
    boolean full;

    Open(Connection c) throws SQLException {
      this.c = c;
      try {
        this.isolation = c.getTransactionIsolation();
        if (dialect == SqlDialect.MYSQL && isolation != Connection.TRANSACTION_READ_COMMITTED) {
          // Each statement sees what is committed now, as on PostgreSQL, and takes no gap locks.
          c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        }
        c.setAutoCommit(false);
      } catch (SQLException e) {
        c.close();
        throw e;
      }
    }

    /** Waits for the confirms, deletes and backs off rows as they say, commits. */
    Batch settle() throws SQLException, InterruptedException {
      try {
        Batch batch = OutboxRelay.this.settle(c, attempts);
        end(batch);
        return batch;
      } catch (SQLException | InterruptedException | RuntimeException | Error e) {
        abandon(e);
        throw e;
      }
    }

    /** Commits; counted once committed (a rolled-back batch is relayed again and counted then). */
    void end(Batch batch) throws SQLException {
      c.commit();
      relayed.addAndGet(batch.confirmed);
      failed.addAndGet(batch.failed);
      parked.addAndGet(batch.parked);
      close();
    }

    void abandon(Throwable e) {
      try {
        c.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      close();
    }

    private void close() {
      try {
        c.setAutoCommit(true);
        if (c.getTransactionIsolation() != isolation) {
          c.setTransactionIsolation(isolation);
        }
      } catch (SQLException ignored) {
        // a broken connection: the pool discards it, and the batch's own failure is the one to report
      }
      try {
        c.close();
      } catch (SQLException ignored) {
        // handed back broken: nothing to add to the batch's outcome
      }
    }
  }

  /**
   * The batch's commit need not wait for its WAL flush: if the database crashes and loses the
   * commit, the deleted rows come back and are published again (a duplicate, with the same id, as
   * after any relay crash), never lost. It leaves the disk's flushes to the business transactions.
   */
  private static void asyncCommit(Connection c, String statement) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  /**
   * The MySQL claim: the candidates' ids and body sizes without locks, then those that fit
   * maxBatchBytes (always the first) locked with SKIP LOCKED, the due filter checked again on the
   * locked version.
   */
  private List<Row> claimInSteps(Connection c, List<Long> exclude) throws SQLException {
    List<Long> ids = new ArrayList<>();
    String sql = String.format(claim, exclude.isEmpty() ? "" : " AND id NOT IN (" + placeholders(exclude.size()) + ")");
    try (PreparedStatement st = c.prepareStatement(sql)) {
      int p = 1;
      for (long id : exclude) {
        st.setLong(p++, id);
      }
      st.setInt(p, options.batchSize);
      long bytes = 0;
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          bytes += rs.getLong(2);
          if (!ids.isEmpty() && bytes > options.maxBatchBytes) {
            break;
          }
          ids.add(rs.getLong(1));
        }
      }
    } catch (SQLException e) {
      throw schema.explain(e, schema.outbox);
    }
    if (ids.isEmpty()) {
      return List.of();
    }
    List<Row> rows = new ArrayList<>(ids.size());
    String lock = "SELECT id, message_id, exchange, routing_key, ordering_key, content_type, headers, properties, body,"
        + " attempts FROM " + schema.outbox + " WHERE id IN (" + placeholders(ids.size()) + ") AND parked_at IS NULL"
        + " AND available_at <= NOW(6) ORDER BY id FOR UPDATE SKIP LOCKED";
    try (PreparedStatement st = c.prepareStatement(lock)) {
      for (int i = 0; i < ids.size(); i++) {
        st.setLong(i + 1, ids.get(i));
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
              rs.getString(6), rs.getString(7), rs.getString(8), rs.getBytes(9), rs.getInt(10)));
        }
      }
    }
    return rows;
  }

  private static String placeholders(int n) {
    return String.join(", ", Collections.nCopies(n, "?"));
  }

  private List<Row> claim(Connection c, List<Long> exclude) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(claim)) {
      st.setArray(1, c.createArrayOf("bigint", exclude.toArray()));
      st.setInt(2, options.batchSize);
      st.setLong(3, options.maxBatchBytes);
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
    boolean arrays = dialect == SqlDialect.POSTGRESQL;
    String sql = arrays ? blockers : String.format(blockers, placeholders(keys.size()), placeholders(rows.size()));
    try (PreparedStatement st = c.prepareStatement(sql)) {
      if (arrays) {
        Array keyArray = c.createArrayOf("text", keys.toArray());
        Array idArray = c.createArrayOf("bigint", rows.stream().map(r -> r.id).toArray());
        st.setArray(1, keyArray);
        st.setLong(2, rows.get(rows.size() - 1).id);
        st.setArray(3, idArray);
      } else {
        int p = 1;
        for (String k : keys) {
          st.setString(p++, k);
        }
        st.setLong(p++, rows.get(rows.size() - 1).id);
        for (Row r : rows) {
          st.setLong(p++, r.id);
        }
      }
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

  /**
   * Publishes {@code rows} (in id order) and waits for their outcomes. Rows without an ordering key
   * and the first row of each key go out at once; a key's next row goes out when the one before it
   * is confirmed, so a key's rows never overtake each other, and one whose predecessor failed is not
   * published at all (it stays due, behind it). A key's chain stops growing one confirm timeout
   * after the batch began; what it did not reach is left for the next batch.
   */
  private List<Attempt> publish(List<Row> rows) throws InterruptedException {
    Map<String, ArrayDeque<Row>> behind = new HashMap<>();
    List<Row> first = new ArrayList<>(rows.size());
    for (Row r : rows) {
      ArrayDeque<Row> queue = r.orderingKey == null ? null : behind.get(r.orderingKey);
      if (queue != null) {
        queue.add(r);
      } else {
        first.add(r);
        if (r.orderingKey != null) {
          behind.put(r.orderingKey, new ArrayDeque<>());
        }
      }
    }
    // Only a row with a successor in its key's chain reports its outcome here; settle() waits for the rest.
    BlockingQueue<Attempt> done = new LinkedBlockingQueue<>();
    List<Attempt> attempts = new ArrayList<>(rows.size());
    int outstanding = 0;
    for (Row r : first) {
      boolean chained = r.orderingKey != null && !behind.get(r.orderingKey).isEmpty();
      attempts.add(send(r, chained ? done : null));
      outstanding += chained ? 1 : 0;
    }
    long start = System.nanoTime();
    long stopChains = start + options.confirmTimeout.toNanos();
    // The publisher fails every future within its confirm timeout; the extra wait is a safety net.
    long deadline = start + options.confirmTimeout.multipliedBy(2).plusSeconds(5).toNanos();
    while (outstanding > 0) {
      Attempt a = done.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (a == null) {
        break;
      }
      outstanding--;
      ArrayDeque<Row> queue = behind.get(a.row.orderingKey);
      if (a.failure() == null && System.nanoTime() - stopChains < 0 && !closing) {
        Row next = queue.poll();
        boolean chained = !queue.isEmpty();
        attempts.add(send(next, chained ? done : null));
        outstanding += chained ? 1 : 0;
      } else {
        queue.clear(); // not published: the rows stay due, behind the failed one
      }
    }
    return attempts;
  }

  /** Publishes {@code r}; its attempt goes to {@code done}, if given, when its outcome is known. */
  private Attempt send(Row r, BlockingQueue<Attempt> done) {
    CompletableFuture<?> confirm;
    try {
      Message<byte[]> message = r.message();
      Destination destination = options.destinations.get(r.exchange);
      confirm = destination == null ? publisher(r.exchange, r.contentType).publish(message)
          : destination.send(r.orderingKey == null ? message : message.withRoutingKey(r.orderingKey));
    } catch (RuntimeException e) {
      confirm = CompletableFuture.failedFuture(e); // unreadable row, no connection to build a publisher on
    }
    Attempt a = new Attempt(r, confirm);
    if (done != null) {
      confirm.whenComplete((ok, e) -> done.add(a));
    }
    return a;
  }

  private Publisher<byte[]> publisher(String exchange, String contentType) {
    // A build that fails (no connection) leaves no entry: the next row tries again.
    return publishers.computeIfAbsent(exchange + '\n' + contentType, key -> rabbit.publisherBuilder(byte[].class)
        .exchange(exchange).routingKey(body -> "").codec(MessageCodec.bytes(contentType))
        .maxBodySize(outbox.maxBodySize()).confirmTimeout(options.confirmTimeout)
        // Fail at once while the connection is down: the worker pauses instead of holding the batch open.
        .failWhileDisconnected(true).build());
  }

  private Batch settle(Connection c, List<Attempt> attempts) throws SQLException, InterruptedException {
    List<Long> confirmed = new ArrayList<>();
    int failures = 0;
    int parks = 0;
    int unsettled = 0;
    long deadline = System.nanoTime() + options.confirmTimeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
    try (PreparedStatement st = c.prepareStatement(backOff)) {
      for (Attempt a : attempts) {
        Throwable failure = a.await(deadline);
        if (failure == null) {
          confirmed.add(a.row.id);
          continue;
        }
        if (!countsAgainstRow(failure)) {
          unsettled++; // not the row's fault: it stays due, its attempt uncounted
          log.debug("outbox row {} not relayed: {}", a.row.id, reason(failure));
          continue;
        }
        // The row is locked by this batch, so the attempts read at claim are the row's.
        boolean park = a.row.attempts + 1 >= options.maxAttempts;
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
      if (dialect == SqlDialect.POSTGRESQL) {
        try (PreparedStatement st = c.prepareStatement(delete)) {
          st.setArray(1, c.createArrayOf("bigint", confirmed.toArray()));
          st.executeUpdate();
        }
      } else {
        try (PreparedStatement st = c.prepareStatement(delete)) {
          for (long id : confirmed) {
            st.setLong(1, id);
            st.addBatch();
          }
          st.executeBatch();
        }
      }
    }
    return new Batch(attempts.size(), confirmed.size(), failures, parks, unsettled);
  }

  /**
   * Whether a failed attempt counts towards parking its row: only a failure about the message
   * itself does. The connection down, blocked or closing, no confirm in time: not the row's fault.
   */
  static boolean countsAgainstRow(Throwable failure) {
    if (failure instanceof PublishException p) {
      return p.reason().aboutMessage();
    }
    if (failure instanceof TopologyException) {
      return true; // the broker refused its exchange
    }
    // Other toolkit failures are the connection's or the toolkit's; a timeout or interrupt is our own wait.
    return !(failure instanceof ToolkitException || failure instanceof TimeoutException
        || failure instanceof InterruptedException);
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

  /**
   * Where rows for one exchange name go instead of an AMQP exchange: the relay's extension point
   * for other confirming destinations. The message carries the row's id, headers and properties;
   * its routing key is the row's ordering key when the row has one (so a key routes to one
   * partition), its routing key otherwise.
   */
  @FunctionalInterface
  public interface Destination {
    /**
     * Sends {@code message}; the future completes once the destination holds it safely (a confirm),
     * and fails otherwise. Only a {@link PublishException} whose reason is {@linkplain
     * PublishException.Reason#aboutMessage() about the message}, or an exception that is not a
     * {@link ToolkitException}, counts towards parking the row; anything else leaves it due.
     */
    CompletableFuture<?> send(Message<byte[]> message);
  }

  /** One row's publish and its confirm. */
  private record Attempt(Row row, CompletableFuture<?> confirm) {

    /** The failure of a completed attempt, null if it was confirmed. */
    Throwable failure() {
      return await(System.nanoTime());
    }

    /** Waits until {@code deadline} (System.nanoTime()); returns null if confirmed, else why not. */
    Throwable await(long deadline) {
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
  }

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
        return Outbox.JSON.readValue(json, new TypeReference<Map<String, Object>>() {
        });
      } catch (IOException e) {
        throw new IllegalArgumentException("unreadable JSON in the outbox row: " + e.getMessage(), e);
      }
    }
  }

  /**
   * Configures and starts an {@link OutboxRelay}. Obtain one from {@link Outbox#relayBuilder}.
   * Each setter checks its argument at once. Not thread-safe.
   *
   * <p>Defaults: {@value #DEFAULT_BATCH_SIZE} rows and {@value #DEFAULT_MAX_BATCH_BYTES} bytes of
   * bodies per batch, one worker thread, {@value #DEFAULT_MAX_ATTEMPTS} attempts before parking,
   * back-off from 1 s doubling to 5 min, LISTEN on, polling every 500 ms, a 30 s confirm timeout.
   */
  public static final class Builder {

    /** Default rows claimed per transaction. */
    public static final int DEFAULT_BATCH_SIZE = 200;
    /** Default bytes of bodies claimed per transaction (a batch always takes at least one row). */
    public static final long DEFAULT_MAX_BATCH_BYTES = 16L * 1024 * 1024;
    /** Default failed attempts (about the row itself) before a row is parked. */
    public static final int DEFAULT_MAX_ATTEMPTS = 10;

    private final Outbox outbox;
    private final DataSource dataSource;
    private final RabbitToolkit rabbit;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private long maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
    private int concurrency = 1;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration initialBackOff = Duration.ofSeconds(1);
    private Duration maxBackOff = Duration.ofMinutes(5);
    private Duration pollInterval = Duration.ofMillis(500);
    private Duration confirmTimeout = Duration.ofSeconds(30);
    private boolean listen = true;
    private boolean pipeline = true;
    private final Map<String, Destination> destinations = new HashMap<>();

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

    /**
     * Bytes of message bodies held per batch (at least 1 KiB): a batch stops taking rows once their
     * bodies add up to this, but always takes one, so large rows cannot exhaust the heap.
     */
    public Builder maxBatchBytes(long bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxBatchBytes must be >= 1024: " + bytes);
      }
      this.maxBatchBytes = bytes;
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

    /** Failed attempts about the row itself after which it is parked (at least 1). */
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = Checks.atLeastOne("maxAttempts", attempts);
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

    /** How long to wait for each row's confirm before trying it again (a timeout never parks a row). */
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
     * Whether each worker pipelines ({@code true}, the default): it claims and publishes its next
     * batch while the confirms of the one before come in, then settles that one, so the database's
     * and the broker's round trips overlap. It then holds two connections during a batch: with a
     * pool known to be too small for that, the relay does not pipeline (and says so at INFO).
     */
    public Builder pipeline(boolean pipeline) {
      this.pipeline = pipeline;
      return this;
    }

    /**
     * Sends the rows written for {@code exchange} to {@code destination} instead of the AMQP
     * exchange of that name: for example a super stream ({@code toolkit-stream}'s {@code
     * RabbitStreams.messagePublisher}), where the row's ordering key routes it to its partition.
     * The relay keeps its guarantees (deleted only after the destination confirms, key order,
     * back-off and parking on the destination's failures); the destination stays the caller's to
     * close, after the relay.
     */
    public Builder destination(String exchange, Destination destination) {
      destinations.put(requireNonNull(exchange, "exchange"), requireNonNull(destination, "destination"));
      return this;
    }

    /**
     * Checks the pool and the table and starts the worker threads.
     *
     * @throws IllegalArgumentException if the DataSource's pool is known to hold fewer connections
     *     than the workers and the listener need at once
     * @throws JdbcException if the database cannot be reached or the table is missing
     */
    public OutboxRelay start() {
      return new OutboxRelay(this).start();
    }
  }
}
