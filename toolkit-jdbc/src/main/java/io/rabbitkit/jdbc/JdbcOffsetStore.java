package io.rabbitkit.jdbc;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stream consumers' positions in PostgreSQL (table {@code <schema>.stream_offsets}, created by
 * {@link #createSchema()} with the outbox and inbox tables). A consumer resumes after a restart at
 * the event after the last one it finished.
 *
 * <p>{@link #transactional} makes the effects exactly once: the handler runs in a transaction that
 * locks the consumer's row, skips an event at or before the stored offset (one read again after a
 * crash or a recovery), and stores the event's offset with the handler's own writes. Either both
 * commit or neither does.
 *
 * <pre>{@code
 * JdbcOffsetStore offsets = JdbcOffsetStore.in(dataSource, "rabbitkit");
 * rabbit.streamConsumerBuilder(Event.class).stream("events").name("projector").offsets(offsets)
 *     .handler(offsets.transactional("projector", (delivery, connection) -> project(connection, delivery.body())))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class JdbcOffsetStore implements OffsetStore {

  private static final Logger log = LoggerFactory.getLogger(JdbcOffsetStore.class);

  private record Key(String stream, String consumer) {
  }

  private final DataSource dataSource;
  private final Schema schema;
  private final String select;
  private final String lock;
  /** The highest offset known stored per (stream, consumer): a transactional handler stored it already. */
  private final Map<Key, Long> stored = new ConcurrentHashMap<>();

  private JdbcOffsetStore(DataSource dataSource, Schema schema) {
    this.dataSource = dataSource;
    this.schema = schema;
    String table = schema.streamOffsets;
    this.select = "SELECT last_offset FROM " + table + " WHERE stream = ? AND consumer = ?";
    this.lock = select + " FOR UPDATE";
  }

  /** This store on {@code dialect}, instead of the one learned from the first connection. */
  public JdbcOffsetStore withDialect(SqlDialect dialect) {
    return new JdbcOffsetStore(dataSource, schema.with(requireNonNull(dialect, "dialect")));
  }

  /** A store in {@code schema}'s table, on connections of {@code dataSource}. */
  public static JdbcOffsetStore in(DataSource dataSource, String schema) {
    return new JdbcOffsetStore(requireNonNull(dataSource, "dataSource"), new Schema(schema));
  }

  /** Creates the schema and its tables if they are missing (the outbox's and inbox's too). */
  public void createSchema() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      schema.create(c);
    }
  }

  @Override
  public OptionalLong lastDone(String stream, String consumer) {
    try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(select)) {
      st.setString(1, stream);
      st.setString(2, consumer);
      try (ResultSet rs = st.executeQuery()) {
        long offset = rs.next() ? rs.getLong(1) : -1;
        if (offset >= 0) {
          stored.merge(new Key(stream, consumer), offset, Math::max);
        }
        return offset < 0 ? OptionalLong.empty() : OptionalLong.of(offset);
      }
    } catch (SQLException e) {
      throw new JdbcException("reading the offset of stream consumer '" + consumer + "' on '" + stream + "'",
          schema.explain(e, schema.streamOffsets));
    }
  }

  @Override
  public void done(String stream, String consumer, long offset) {
    Long known = stored.get(new Key(stream, consumer));
    if (known != null && known >= offset) {
      return; // stored with the handler's own writes
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement st = c.prepareStatement(schema.dialect(c).offsetUpsert(schema.streamOffsets))) {
      st.setString(1, stream);
      st.setString(2, consumer);
      st.setLong(3, offset);
      st.executeUpdate();
      stored.merge(new Key(stream, consumer), offset, Math::max);
    } catch (SQLException e) {
      throw new JdbcException("storing offset " + offset + " of stream consumer '" + consumer + "' on '" + stream
          + "'", schema.explain(e, schema.streamOffsets));
    }
  }

  /**
   * Wraps {@code handler} so that each event's effects and its offset commit in one transaction, for
   * the consumer named {@code consumer} (the name given to the stream consumer): an event at or
   * before the stored offset is skipped without running the handler.
   */
  public <T> MessageConsumer.Handler<T> transactional(String consumer, Inbox.Handler<T> handler) {
    requireNonNull(consumer, "consumer");
    requireNonNull(handler, "handler");
    return delivery -> handle(consumer, delivery, handler);
  }

  private <T> void handle(String consumer, Delivery<T> delivery, Inbox.Handler<T> handler) throws Exception {
    long offset = delivery.streamOffset().orElseThrow(() -> new IllegalStateException(
        "JdbcOffsetStore.transactional handles stream consumers' deliveries; this one came from queue '"
            + delivery.queue() + "', not a stream"));
    String stream = delivery.queue();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        long last = lockRow(c, stream, consumer);
        if (offset <= last) {
          c.rollback();
          log.debug("event at offset {} of stream '{}' already finished by consumer '{}': skipped", offset, stream,
              consumer);
          return;
        }
        handler.handle(delivery, c);
        try (PreparedStatement st = c.prepareStatement(schema.dialect(c).offsetUpsert(schema.streamOffsets))) {
          st.setString(1, stream);
          st.setString(2, consumer);
          st.setLong(3, offset);
          st.executeUpdate();
        }
        c.commit();
        stored.merge(new Key(stream, consumer), offset, Math::max);
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

  /** Locks the consumer's row for this transaction (creating it) and returns its offset, -1 if none yet. */
  private long lockRow(Connection c, String stream, String consumer) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(schema.dialect(c).offsetEnsure(schema.streamOffsets))) {
      st.setString(1, stream);
      st.setString(2, consumer);
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement(lock)) {
      st.setString(1, stream);
      st.setString(2, consumer);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public String toString() {
    return "JdbcOffsetStore[" + schema.streamOffsets + "]";
  }
}
