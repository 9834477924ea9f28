package io.rabbitkit.jdbc;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.Message;
import io.rabbitkit.MessageIds;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * A transactional outbox in one PostgreSQL schema: messages written in the caller's business
 * transaction and published later, at least once and always with the same message id, by an
 * {@link OutboxRelay}. A transaction that rolls back publishes nothing.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.in("rabbitkit");
 * outbox.createSchema(dataSource);
 * Outbox.Writer<OrderPlaced> orders = outbox.writer(OrderPlaced.class, "orders", "order.placed");
 *
 * try (Connection c = dataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   insertOrder(c, order);
 *   orders.publish(c, order);   // the same transaction
 *   c.commit();
 * }
 * try (OutboxRelay relay = outbox.relayBuilder(dataSource, rabbit).start()) { ... }
 * }</pre>
 *
 * <p>Thread-safe; its writers are too.
 */
public final class Outbox {

  static final ObjectMapper JSON = new ObjectMapper();
  /** Prefix of the NOTIFY channel, followed by the schema name. */
  private static final String CHANNEL_PREFIX = "rabbitkit_outbox_";
  /** PostgreSQL's longest identifier, and so the longest NOTIFY channel name (NAMEDATALEN - 1). */
  private static final int MAX_IDENTIFIER = 63;
  /** Default of {@link #withMaxBodySize}: the publishers' default, and RabbitMQ 4.x's default {@code max_message_size}. */
  public static final int DEFAULT_MAX_BODY_SIZE = Publisher.Builder.DEFAULT_MAX_BODY_SIZE;

  private final Schema schema;
  private final int maxBodySize;

  private Outbox(Schema schema, int maxBodySize) {
    this.schema = schema;
    this.maxBodySize = maxBodySize;
  }

  /**
   * Returns the outbox whose tables live in {@code schema} (a lower-case SQL identifier of at most
   * 46 characters: the writers' NOTIFY channel, {@code rabbitkit_outbox_<schema>}, must fit
   * PostgreSQL's 63).
   *
   * @throws IllegalArgumentException if the name is not one
   */
  public static Outbox in(String schema) {
    Schema s = new Schema(schema);
    if (CHANNEL_PREFIX.length() + schema.length() > MAX_IDENTIFIER) {
      throw new IllegalArgumentException("outbox schema name '" + schema + "' is " + schema.length()
          + " characters long; at most " + (MAX_IDENTIFIER - CHANNEL_PREFIX.length()) + " fit, since the NOTIFY "
          + "channel " + CHANNEL_PREFIX + "<schema> must be a PostgreSQL identifier of at most " + MAX_IDENTIFIER);
    }
    return new Outbox(s, DEFAULT_MAX_BODY_SIZE);
  }

  /**
   * Returns this outbox with another limit on message bodies: a writer refuses a larger body with
   * {@link MessageTooLargeException} instead of storing a row the broker would refuse (RabbitMQ
   * 4.x refuses bodies over 16 MiB by default). The relay's publishers take bodies up to the same size.
   */
  public Outbox withMaxBodySize(int bytes) {
    Checks.atLeastOne("maxBodySize", bytes);
    return new Outbox(schema, bytes);
  }

  /**
   * Returns this outbox on {@code dialect}, instead of the one learned from the first connection
   * it is used with.
   */
  public Outbox withDialect(SqlDialect dialect) {
    return new Outbox(schema.with(requireNonNull(dialect, "dialect")), maxBodySize);
  }

  /** Returns the largest body a writer accepts, in bytes. */
  public int maxBodySize() {
    return maxBodySize;
  }

  /** Returns the schema name. */
  public String schema() {
    return schema.name;
  }

  /** Creates the schema, the outbox and the inbox tables if they are missing (idempotent, safe to race). */
  public void createSchema(Connection connection) throws SQLException {
    schema.create(connection);
  }

  /** Creates the schema and tables on a connection of {@code dataSource}. */
  public void createSchema(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      schema.create(c);
    }
  }

  /** Returns a writer of {@code type} messages (JSON unless {@code String} or {@code byte[]}, as for publishers). */
  public <T> Writer<T> writer(Class<T> type, String exchange, String routingKey) {
    return writer(MessageCodec.forType(requireNonNull(type, "type")), exchange, routingKey);
  }

  /** Returns a writer that encodes with {@code codec}. */
  public <T> Writer<T> writer(MessageCodec<T> codec, String exchange, String routingKey) {
    ShortStrings.check("exchange", requireNonNull(exchange, "exchange"));
    ShortStrings.check("routing key", requireNonNull(routingKey, "routingKey"));
    return new Writer<>(this, requireNonNull(codec, "codec"), exchange, routingKey, null, true);
  }

  /** Starts building a relay that publishes this outbox's rows through {@code rabbit}. */
  public OutboxRelay.Builder relayBuilder(DataSource dataSource, RabbitToolkit rabbit) {
    return new OutboxRelay.Builder(this, requireNonNull(dataSource, "dataSource"), requireNonNull(rabbit, "rabbit"));
  }

  Schema table() {
    return schema;
  }

  String channel() {
    return CHANNEL_PREFIX + schema.name;
  }

  /** How far behind the relays are. */
  public Lag lag(Connection connection) throws SQLException {
    String sql = schema.dialect(connection).lag(schema.outbox);
    try (PreparedStatement st = connection.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
      rs.next();
      double seconds = rs.getDouble(3);
      return new Lag(Duration.ofNanos((long) (seconds * 1e9)), rs.getLong(1), rs.getLong(2));
    } catch (SQLException e) {
      throw schema.explain(e, schema.outbox);
    }
  }

  /** Returns up to {@code limit} parked rows, oldest first. */
  public List<Parked> parked(Connection connection, int limit) throws SQLException {
    Checks.atLeastOne("limit", limit);
    String sql = "SELECT id, message_id, exchange, routing_key, ordering_key, attempts, last_error, created_at,"
        + " parked_at, " + schema.dialect(connection).length("body") + " FROM " + schema.outbox
        + " WHERE parked_at IS NOT NULL ORDER BY id LIMIT ?";
    List<Parked> parked = new ArrayList<>();
    try (PreparedStatement st = connection.prepareStatement(sql)) {
      st.setInt(1, limit);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          parked.add(new Parked(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
              Optional.ofNullable(rs.getString(5)), rs.getInt(6), String.valueOf(rs.getString(7)),
              rs.getTimestamp(8).toInstant(), rs.getTimestamp(9).toInstant(), rs.getInt(10)));
        }
      }
    } catch (SQLException e) {
      throw schema.explain(e, schema.outbox);
    }
    return parked;
  }

  /** Makes every parked row due again with a fresh attempt count; returns how many. */
  public int replayParked(Connection connection) throws SQLException {
    return update(connection, "UPDATE " + schema.outbox + " SET parked_at = NULL, attempts = 0, available_at = "
        + schema.dialect(connection).now() + " WHERE parked_at IS NOT NULL", null);
  }

  /** Makes one parked row due again; returns 1, or 0 if no parked row has this id. */
  public int replayParked(Connection connection, long id) throws SQLException {
    return update(connection, "UPDATE " + schema.outbox + " SET parked_at = NULL, attempts = 0, available_at = "
        + schema.dialect(connection).now() + " WHERE parked_at IS NOT NULL AND id = ?", id);
  }

  /** Deletes every parked row; returns how many. Their messages are never published. */
  public int purgeParked(Connection connection) throws SQLException {
    return update(connection, "DELETE FROM " + schema.outbox + " WHERE parked_at IS NOT NULL", null);
  }

  private int update(Connection connection, String sql, Long id) throws SQLException {
    try (PreparedStatement st = connection.prepareStatement(sql)) {
      if (id != null) {
        st.setLong(1, id);
      }
      return st.executeUpdate();
    } catch (SQLException e) {
      throw schema.explain(e, schema.outbox);
    }
  }

  /**
   * How far behind the relays are.
   *
   * @param oldestDue age of the oldest row that is due (zero when none is)
   * @param due rows due now (not backing off, not parked)
   * @param parked parked rows
   */
  public record Lag(Duration oldestDue, long due, long parked) {
  }

  /**
   * A row the relay gave up on after {@code attempts} failures; {@code lastError} says why.
   *
   * @param id the row's id (for {@link #replayParked(Connection, long)})
   * @param messageId the message id it is published with
   * @param exchange the destination exchange
   * @param routingKey the routing key
   * @param orderingKey the ordering key, if any
   * @param attempts failed attempts
   * @param lastError the last failure
   * @param createdAt when the business transaction wrote it
   * @param parkedAt when it was parked
   * @param bodySize the body's size in bytes
   */
  public record Parked(long id, String messageId, String exchange, String routingKey, Optional<String> orderingKey,
      int attempts, String lastError, Instant createdAt, Instant parkedAt, int bodySize) {
  }

  /**
   * Writes messages of one type and destination into the outbox, on the caller's connection and in
   * its transaction. Immutable and thread-safe; {@link #orderedBy} returns a variant.
   *
   * @param <T> the message type
   */
  public static final class Writer<T> {

    private final Outbox outbox;
    private final MessageCodec<T> codec;
    private final String exchange;
    private final String routingKey;
    private final Function<? super T, String> orderingKey;
    private final boolean notify;
    private final MessageIds ids = new MessageIds();
    private final String insertPostgres;
    private final String insertMysql;

    private Writer(Outbox outbox, MessageCodec<T> codec, String exchange, String routingKey,
        Function<? super T, String> orderingKey, boolean notify) {
      this.outbox = outbox;
      this.codec = codec;
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.orderingKey = orderingKey;
      this.notify = notify;
      this.insertPostgres = SqlDialect.POSTGRESQL.insert(outbox.schema.outbox, notify ? outbox.channel() : null);
      this.insertMysql = SqlDialect.MYSQL.insert(outbox.schema.outbox, null);
    }

    /**
     * Returns a writer that gives each message an ordering key: messages with the same key are
     * published in the order they were written (for example {@code o -> o.customerId()}).
     */
    public Writer<T> orderedBy(Function<? super T, String> orderingKey) {
      return new Writer<>(outbox, codec, exchange, routingKey, requireNonNull(orderingKey, "orderingKey"), notify);
    }

    /**
     * Returns a writer that does not send a NOTIFY on commit (relays then find the rows by polling):
     * for connections that cannot carry notifications, or a commit rate where NOTIFY's lock shows.
     */
    public Writer<T> withoutNotify() {
      return new Writer<>(outbox, codec, exchange, routingKey, orderingKey, false);
    }

    /** Writes {@code body}; returns the message id it will be published with. */
    public String publish(Connection connection, T body) throws SQLException {
      return publish(connection, Message.of(body));
    }

    /**
     * Writes {@code message} (its id, routing key, headers and properties are kept); returns the
     * message id it will be published with.
     *
     * @throws IllegalStateException if the connection is in auto-commit mode: the write would not
     *     belong to the business transaction
     * @throws IllegalArgumentException if the body cannot be encoded or a header is not a JSON value
     *     (String, number, Boolean, List or Map): nothing is written
     * @throws MessageTooLargeException if the encoded body is over {@link #maxBodySize()}: nothing is
     *     written (the broker would refuse it on every attempt)
     * @throws SQLException if the insert fails (the outbox table is missing: the message says so)
     */
    public String publish(Connection connection, Message<T> message) throws SQLException {
      requireNonNull(message, "message");
      if (connection.getAutoCommit()) {
        throw new IllegalStateException("an outbox write belongs in the caller's transaction: "
            + "call connection.setAutoCommit(false) before publish(connection, ...) and commit after");
      }
      String id = message.messageId().orElseGet(ids::next);
      byte[] body = codec.encode(message.body());
      String key = message.routingKey().orElse(routingKey);
      if (body.length > outbox.maxBodySize) {
        throw new MessageTooLargeException(id, exchange, key, body.length, outbox.maxBodySize,
            "the outbox's maxBodySize");
      }
      String insert = outbox.schema.dialect(connection) == SqlDialect.POSTGRESQL ? insertPostgres : insertMysql;
      try (PreparedStatement st = connection.prepareStatement(insert)) {
        st.setString(1, id);
        st.setString(2, exchange);
        st.setString(3, key);
        st.setString(4, orderingKey == null ? null : orderingKey.apply(message.body()));
        st.setString(5, codec.contentType());
        st.setString(6, message.headers().isEmpty() ? null : json(message.headers()));
        st.setString(7, properties(message));
        st.setBytes(8, body);
        st.execute();
      } catch (SQLException e) {
        throw outbox.schema.explain(e, outbox.schema.outbox);
      }
      return id;
    }

    private static String properties(Message<?> m) {
      Map<String, Object> p = new LinkedHashMap<>();
      m.correlationId().ifPresent(v -> p.put("correlation_id", v));
      m.replyTo().ifPresent(v -> p.put("reply_to", v));
      m.expiration().ifPresent(v -> p.put("expiration_ms", v.toMillis()));
      m.priority().ifPresent(v -> p.put("priority", v));
      m.type().ifPresent(v -> p.put("type", v));
      m.appId().ifPresent(v -> p.put("app_id", v));
      return p.isEmpty() ? null : json(p);
    }

    private static String json(Map<String, Object> headers) {
      for (Map.Entry<String, Object> e : headers.entrySet()) {
        if (!jsonValue(e.getValue())) {
          throw new IllegalArgumentException("outbox header '" + e.getKey() + "' has a value of type "
              + e.getValue().getClass().getName() + ", which the outbox cannot store as JSON without losing its "
              + "type (use String, a number, Boolean, List or Map)");
        }
      }
      try {
        return JSON.writeValueAsString(headers);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("headers cannot be written as JSON: " + e.getOriginalMessage(), e);
      }
    }

    private static boolean jsonValue(Object v) {
      if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long
          || v instanceof Double || v instanceof BigDecimal) {
        return true;
      }
      if (v instanceof List<?> list) {
        return list.stream().allMatch(Writer::jsonValue);
      }
      if (v instanceof Map<?, ?> map) {
        return map.values().stream().allMatch(Writer::jsonValue);
      }
      return false;
    }
  }
}
