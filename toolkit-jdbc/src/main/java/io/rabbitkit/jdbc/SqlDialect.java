package io.rabbitkit.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.Locale;

/**
 * The SQL the outbox, the relay, the inbox and the offset store speak, per database. Chosen from
 * the connection's metadata unless set ({@link Outbox#withDialect}, the builders' {@code dialect}).
 * Both give the same guarantees: rows claimed with {@code FOR UPDATE SKIP LOCKED} in a transaction,
 * deleted only after their confirm, ordering keys, back-off and parking, the inbox row in the
 * handler's transaction with duplicates found by a unique key.
 *
 * <p>What differs: PostgreSQL's writers {@code NOTIFY} the relay, which wakes at once; MySQL and
 * MariaDB have no notifications, so the relay polls, every 10 ms while batches keep finding rows,
 * backing off to the poll interval when idle. There a "schema" is a database ({@code CREATE
 * DATABASE} privilege to create it), tables are InnoDB with a binary collation (message ids and keys
 * compare case-sensitively, as on PostgreSQL), and timestamps are {@code TIMESTAMP(6)}.
 */
public enum SqlDialect {
  /** PostgreSQL 12 and later. */
  POSTGRESQL,
  /** MySQL 8.0 and later, MariaDB 10.6 and later (both have {@code SKIP LOCKED}). */
  MYSQL;

  /**
   * The dialect of the database {@code connection} talks to.
   *
   * @throws SQLException if the metadata cannot be read, or names a database the toolkit has no
   *     dialect for
   */
  public static SqlDialect of(Connection connection) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    String product = meta.getDatabaseProductName().toLowerCase(Locale.ROOT);
    if (product.contains("postgres")) {
      return POSTGRESQL;
    }
    if (product.contains("mysql") || product.contains("mariadb")) {
      return MYSQL;
    }
    throw new SQLException("the outbox speaks PostgreSQL, MySQL and MariaDB, not " + meta.getDatabaseProductName()
        + " " + meta.getDatabaseProductVersion(), "0A000");
  }

  /** The DDL resource: every statement idempotent, {@code ${schema}} for the schema's name. */
  String ddlResource() {
    return this == POSTGRESQL ? "schema.sql" : "schema-mysql.sql";
  }

  /** Serializes schema creation across processes: a statement to run before the DDL. */
  String lockSchema(String schemaName) {
    String key = "rabbitkit.schema." + schemaName;
    return this == POSTGRESQL ? "SELECT pg_advisory_xact_lock(" + key.hashCode() + ")"
        : "SELECT GET_LOCK('" + key + "', 60)";
  }

  /** Releases {@link #lockSchema}'s lock after the DDL, or null where the commit does. */
  String unlockSchema(String schemaName) {
    return this == POSTGRESQL ? null : "SELECT RELEASE_LOCK('rabbitkit.schema." + schemaName + "')";
  }

  /** Whether {@code e} says a table or schema is missing. */
  boolean missingTable(SQLException e) {
    String state = e.getSQLState();
    return this == POSTGRESQL ? "42P01".equals(state) || "3F000".equals(state)
        : "42S02".equals(state) || "42000".equals(state) && e.getErrorCode() == 1049;
  }

  /** The writer's insert of one row (eight parameters); on PostgreSQL with its NOTIFY. */
  String insert(String table, String channel) {
    if (this == MYSQL) {
      return "INSERT INTO " + table + " (message_id, exchange, routing_key, ordering_key, content_type, headers,"
          + " properties, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    }
    String values = "INSERT INTO " + table + " (message_id, exchange, routing_key, ordering_key,"
        + " content_type, headers, properties, body) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)";
    // One round trip for both; PostgreSQL folds equal notifications of one transaction into one, sent on commit.
    return channel == null ? values
        : "WITH row AS (" + values + " RETURNING id) SELECT pg_notify('" + channel + "', '') FROM row";
  }

  /** Due rows, parked rows and the age of the oldest due row in seconds. */
  String lag(String table) {
    if (this == MYSQL) {
      return "SELECT COALESCE(SUM(parked_at IS NULL AND available_at <= NOW(6)), 0),"
          + " COALESCE(SUM(parked_at IS NOT NULL), 0), TIMESTAMPDIFF(MICROSECOND,"
          + " MIN(CASE WHEN parked_at IS NULL AND available_at <= NOW(6) THEN created_at END), NOW(6)) / 1e6"
          + " FROM " + table;
    }
    return "SELECT count(*) FILTER (WHERE parked_at IS NULL AND available_at <= now()),"
        + " count(*) FILTER (WHERE parked_at IS NOT NULL),"
        + " extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL AND available_at <= now()))"
        + " FROM " + table;
  }

  /** The database's clock now, as an SQL expression. */
  String now() {
    return this == POSTGRESQL ? "now()" : "NOW(6)";
  }

  /** The size of a bytes column, as an SQL expression. */
  String length(String column) {
    return this == POSTGRESQL ? "octet_length(" + column + ")" : "LENGTH(" + column + ")";
  }

  /**
   * Backs one row off (parameters: error, back-off in seconds, park?, id). The back-off starts when
   * the attempt ended, not when the batch's transaction began: PostgreSQL's now() is the latter.
   */
  String backOff(String table) {
    if (this == MYSQL) {
      return "UPDATE " + table + " SET attempts = attempts + 1, last_error = ?,"
          + " available_at = NOW(6) + INTERVAL ROUND(? * 1000000) MICROSECOND,"
          + " parked_at = CASE WHEN ? THEN NOW(6) END WHERE id = ?";
    }
    return "UPDATE " + table + " SET attempts = attempts + 1, last_error = ?,"
        + " available_at = clock_timestamp() + make_interval(secs => ?),"
        + " parked_at = CASE WHEN ? THEN clock_timestamp() END WHERE id = ?";
  }

  /**
   * A statement that lets the relay's batch commit without waiting for the disk (a lost commit
   * re-publishes, never loses), or null. MySQL has no per-transaction switch for it.
   */
  String asyncCommit() {
    return this == POSTGRESQL ? "SET LOCAL synchronous_commit TO OFF" : null;
  }

  /** Records an inbox row (consumer, message id); 0 rows inserted means a duplicate. */
  String inboxRecord(String table) {
    return this == POSTGRESQL
        ? "INSERT INTO " + table + " (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        : "INSERT IGNORE INTO " + table + " (consumer, message_id) VALUES (?, ?)";
  }

  /** Deletes up to {@code batch} inbox rows of a consumer older than the given seconds. */
  String inboxCleanup(String table, int batch) {
    if (this == MYSQL) {
      return "DELETE FROM " + table + " WHERE consumer = ? AND received_at < NOW(6) - INTERVAL ROUND(? * 1000000)"
          + " MICROSECOND LIMIT " + batch;
    }
    return "DELETE FROM " + table + " WHERE ctid = ANY (ARRAY (SELECT ctid FROM " + table
        + " WHERE consumer = ? AND received_at < now() - make_interval(secs => ?) LIMIT " + batch + "))";
  }

  /** Stores a stream consumer's offset, never moving it back (stream, consumer, offset). */
  String offsetUpsert(String table) {
    if (this == MYSQL) {
      return "INSERT INTO " + table + " (stream, consumer, last_offset) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE"
          + " last_offset = GREATEST(last_offset, VALUES(last_offset)), updated_at = NOW(6)";
    }
    return "INSERT INTO " + table + " (stream, consumer, last_offset) VALUES (?, ?, ?) ON CONFLICT "
        + "(stream, consumer) DO UPDATE SET last_offset = GREATEST(" + table + ".last_offset, EXCLUDED.last_offset), "
        + "updated_at = now()";
  }

  /** Creates a stream consumer's offset row at -1 unless it exists (stream, consumer). */
  String offsetEnsure(String table) {
    return this == POSTGRESQL
        ? "INSERT INTO " + table + " (stream, consumer, last_offset) VALUES (?, ?, -1) ON CONFLICT DO NOTHING"
        : "INSERT IGNORE INTO " + table + " (stream, consumer, last_offset) VALUES (?, ?, -1)";
  }
}
