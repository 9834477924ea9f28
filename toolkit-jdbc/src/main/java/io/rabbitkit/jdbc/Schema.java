package io.rabbitkit.jdbc;

import io.rabbitkit.internal.Checks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The outbox, inbox and stream offset tables of one schema: the name check, the DDL and the errors that name them. */
final class Schema {

  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final String UNDEFINED_TABLE = "42P01";
  private static final String UNDEFINED_SCHEMA = "3F000";

  final String name;
  final String outbox;
  final String inbox;
  final String streamOffsets;

  Schema(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("schema name must be a lower-case SQL identifier "
          + "([a-z_][a-z0-9_]*, at most 63 characters), not " + (name == null ? "null" : "'" + name + "'"));
    }
    this.name = name;
    this.outbox = name + ".outbox";
    this.inbox = name + ".inbox";
    this.streamOffsets = name + ".stream_offsets";
  }

  /** The DDL statements, in order, for this schema. */
  List<String> ddl() {
    String text;
    try (InputStream in = Schema.class.getResourceAsStream("schema.sql")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    StringBuilder code = new StringBuilder();
    for (String line : text.split("\n")) {
      int comment = line.indexOf("--");
      code.append(comment < 0 ? line : line.substring(0, comment)).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String statement : code.toString().replace("${schema}", name).split(";")) {
      if (!statement.isBlank()) {
        statements.add(statement.strip());
      }
    }
    return statements;
  }

  /** Creates what is missing, in one transaction, serialized against other processes doing the same. */
  void create(Connection connection) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Statement st = connection.createStatement()) {
      st.execute("SELECT pg_advisory_xact_lock(" + ("rabbitkit.schema." + name).hashCode() + ")");
      for (String statement : ddl()) {
        st.execute(statement);
      }
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** Replaces a driver's "relation does not exist" with one that says how to fix it; returns others as they are. */
  SQLException explain(SQLException e, String table) {
    if (UNDEFINED_TABLE.equals(e.getSQLState()) || UNDEFINED_SCHEMA.equals(e.getSQLState())) {
      return new SQLException("table " + table + " does not exist: create it with createSchema(connection) "
          + "or run the DDL in io/rabbitkit/jdbc/schema.sql (" + e.getMessage() + ")", e.getSQLState(), e);
    }
    return e;
  }

  /** The one argument check the builders share: a positive duration. */
  static Duration positive(Duration d, String what) {
    return Checks.positive(what, d);
  }
}
