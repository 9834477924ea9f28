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

  final String name;
  final String outbox;
  final String inbox;
  final String streamOffsets;
  /** Set, or learned from the first connection that asks. */
  private volatile SqlDialect dialect;

  Schema(String name) {
    this(name, null);
  }

  Schema(String name, SqlDialect dialect) {
    this.dialect = dialect;
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("schema name must be a lower-case SQL identifier "
          + "([a-z_][a-z0-9_]*, at most 63 characters), not " + (name == null ? "null" : "'" + name + "'"));
    }
    this.name = name;
    this.outbox = name + ".outbox";
    this.inbox = name + ".inbox";
    this.streamOffsets = name + ".stream_offsets";
  }

  /** This schema on {@code dialect}. */
  Schema with(SqlDialect dialect) {
    return new Schema(name, dialect);
  }

  /** The dialect set, else the one {@code connection} speaks (remembered). */
  SqlDialect dialect(Connection connection) throws SQLException {
    SqlDialect d = dialect;
    if (d == null) {
      d = SqlDialect.of(connection);
      dialect = d;
    }
    return d;
  }

  /** The DDL statements, in order, for this schema. */
  List<String> ddl(SqlDialect dialect) {
    String text;
    try (InputStream in = Schema.class.getResourceAsStream(dialect.ddlResource())) {
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
    SqlDialect d = dialect(connection);
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Statement st = connection.createStatement()) {
      st.execute(d.lockSchema(name));
      try {
        for (String statement : ddl(d)) {
          st.execute(statement);
        }
        connection.commit();
      } finally {
        if (d.unlockSchema(name) != null) {
          st.execute(d.unlockSchema(name));
        }
      }
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** Replaces a driver's "relation does not exist" with one that says how to fix it; returns others as they are. */
  SQLException explain(SQLException e, String table) {
    SqlDialect d = dialect;
    boolean missing = d != null ? d.missingTable(e)
        : SqlDialect.POSTGRESQL.missingTable(e) || SqlDialect.MYSQL.missingTable(e);
    if (missing) {
      return new SQLException("table " + table + " does not exist: create it with createSchema(connection) "
          + "or run the DDL in io/rabbitkit/jdbc/" + (d == null ? SqlDialect.POSTGRESQL : d).ddlResource() + " ("
          + e.getMessage() + ")", e.getSQLState(), e);
    }
    return e;
  }

  /** The one argument check the builders share: a positive duration. */
  static Duration positive(Duration d, String what) {
    return Checks.positive(what, d);
  }
}
