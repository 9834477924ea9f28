package io.rabbitkit.jdbc;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.RejectMessageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transactional inbox: each delivery is handled in a JDBC transaction that first records its
 * message id for this consumer ({@code INSERT ... ON CONFLICT DO NOTHING}), so a message delivered
 * twice changes the database once.
 *
 * <pre>{@code
 * Inbox inbox = Inbox.builder(dataSource).schema("rabbitkit").consumer("order-effects").build();
 * rabbit.consumerBuilder(OrderPlaced.class).queue("orders.effects")
 *     .handler(inbox.handler((delivery, connection) -> insertEffect(connection, delivery.body())))
 *     .build();
 * }</pre>
 *
 * <p>Per delivery: open a transaction, record the id, run the handler with the connection, commit,
 * and only then let the consumer ack. An id already recorded (a redelivery after a lost ack, a
 * duplicate publish) is acked without running the handler. A handler that throws, or a commit that
 * fails, rolls back the effect and the id, and the delivery goes through the consumer's retry and
 * dead-letter pipeline like any failure. A message without a message id cannot be deduplicated and
 * is dead-lettered at once (reason {@code rejected}). Messages written to an {@link Outbox} on the
 * handler's connection commit or roll back with the rest.
 *
 * <p>Recorded ids are deleted once older than {@code retention}, in small batches every {@code
 * cleanupInterval}: keep the retention longer than the longest time a message can take to come back
 * (redelivery tiers, dead-letter replay), or a late duplicate is handled again. Thread-safe.
 */
public final class Inbox implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Inbox.class);
  private static final int CLEANUP_BATCH = 5_000;

  private final DataSource dataSource;
  private final Schema schema;
  private final String consumer;
  private final Duration retention;
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final ScheduledExecutorService cleaner;

  private Inbox(Builder b) {
    this.dataSource = b.dataSource;
    this.schema = b.dialect == null ? new Schema(b.schema) : new Schema(b.schema, b.dialect);
    this.consumer = b.consumer;
    this.retention = b.retention;

    this.cleaner = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rabbitkit-inbox-cleanup-" + consumer);
      t.setDaemon(true);
      return t;
    });
    long every = b.cleanupInterval.toMillis();
    cleaner.scheduleWithFixedDelay(this::cleanupQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /** Starts building an inbox whose transactions use {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(requireNonNull(dataSource, "dataSource"));
  }

  /** Creates the schema and its outbox and inbox tables if they are missing. */
  public void createSchema() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      schema.create(c);
    }
  }

  /** Wraps {@code handler} so that each delivery runs in a transaction that records its id first. */
  public <T> MessageConsumer.Handler<T> handler(Handler<T> handler) {
    requireNonNull(handler, "handler");
    return delivery -> handle(delivery, handler);
  }

  private <T> void handle(Delivery<T> delivery, Handler<T> handler) throws Exception {
    String id = delivery.messageId().filter(m -> !m.isEmpty()).orElseThrow(() -> new RejectMessageException(
        "the inbox needs a message id to deduplicate, and this message has none"));
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!record(c, id)) {
          c.rollback();
          duplicates.incrementAndGet();
          log.debug("message {} already handled by inbox consumer {}: acked without running the handler",
              SafeText.of(id), consumer);
          return;
        }
        handler.handle(delivery, c);
        c.commit();
        handled.incrementAndGet();
      } catch (Exception | Error e) {
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
          // a broken connection: the pool discards it
        }
      }
    }
  }

  private boolean record(Connection c, String id) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(schema.dialect(c).inboxRecord(schema.inbox))) {
      st.setString(1, consumer);
      st.setString(2, id);
      return st.executeUpdate() == 1;
    } catch (SQLException e) {
      throw schema.explain(e, schema.inbox);
    }
  }

  /** Deliveries handled and committed, since start. */
  public long handled() {
    return handled.get();
  }

  /** Deliveries acked without running the handler because their id was recorded, since start. */
  public long duplicates() {
    return duplicates.get();
  }

  /**
   * Deletes this consumer's ids older than the retention, in batches of 5,000 rows,
   * each its own short transaction; returns how many. Runs every {@code cleanupInterval} on
   * its own; call it to clean up now.
   */
  public long deleteExpired() throws SQLException {
    long total = 0;
    try (Connection c = dataSource.getConnection();
        PreparedStatement st = c.prepareStatement(schema.dialect(c).inboxCleanup(schema.inbox, CLEANUP_BATCH))) {
      c.setAutoCommit(true);
      int deleted;
      do {
        st.setString(1, consumer);
        st.setDouble(2, retention.toMillis() / 1000.0);
        deleted = st.executeUpdate();
        total += deleted;
      } while (deleted == CLEANUP_BATCH);
    } catch (SQLException e) {
      throw schema.explain(e, schema.inbox);
    }
    return total;
  }

  private void cleanupQuietly() {
    try {
      long deleted = deleteExpired();
      if (deleted > 0) {
        log.debug("inbox {}: deleted {} ids older than {}", consumer, deleted, retention);
      }
    } catch (SQLException | RuntimeException e) {
      log.warn("inbox {}: cannot delete expired ids, trying again later: {}", consumer, e.getMessage());
    }
  }

  /** Stops the clean-up task. Handlers already returned by {@link #handler} keep working. Idempotent. */
  @Override
  public void close() {
    cleaner.shutdownNow();
  }

  /**
   * Handles one delivery inside the inbox's transaction.
   *
   * @param <T> the body type
   */
  @FunctionalInterface
  public interface Handler<T> {

    /**
     * Handles {@code delivery}; do its database work on {@code connection} and do not commit, roll
     * back or close it: the inbox does.
     *
     * @throws Exception to roll back and fail the delivery
     */
    void handle(Delivery<T> delivery, Connection connection) throws Exception;
  }

  /**
   * Configures an {@link Inbox}. Defaults: schema {@code rabbitkit}, retention 7 days, clean-up
   * every 10 minutes. The consumer name is required.
   */
  public static final class Builder {

    private final DataSource dataSource;
    private String schema = "rabbitkit";
    private String consumer;
    private SqlDialect dialect;
    private Duration retention = Duration.ofDays(7);
    private Duration cleanupInterval = Duration.ofMinutes(10);

    private Builder(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    /** The schema of the inbox table (a lower-case SQL identifier). */
    public Builder schema(String schema) {
      new Schema(schema);
      this.schema = schema;
      return this;
    }

    /** The consumer's name: ids are deduplicated per name, so two services reading one message both handle it. */
    public Builder consumer(String name) {
      requireNonNull(name, "consumer");
      if (name.isBlank() || name.length() > 255) {
        throw new IllegalArgumentException("a consumer name must have 1-255 characters, not " + name.length());
      }
      this.consumer = name;
      return this;
    }

    /** The database's dialect, instead of the one learned from the first connection. */
    public Builder dialect(SqlDialect dialect) {
      this.dialect = requireNonNull(dialect, "dialect");
      return this;
    }

    /** How long recorded ids are kept. */
    public Builder retention(Duration retention) {
      this.retention = Schema.positive(retention, "retention");
      return this;
    }

    /** How often expired ids are deleted. */
    public Builder cleanupInterval(Duration interval) {
      this.cleanupInterval = Schema.positive(interval, "cleanupInterval");
      return this;
    }

    /**
     * Builds the inbox and schedules its clean-up.
     *
     * @throws IllegalStateException if no consumer name was set
     */
    public Inbox build() {
      if (consumer == null) {
        throw new IllegalStateException("set consumer(name): ids are recorded per consumer");
      }
      return new Inbox(this);
    }
  }
}
