package io.rabbitkit.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A PostgreSQL schema of the test's own on the shared server, dropped with everything in it on
 * {@link #close()}: the examples' tables and offsets land there instead of in the server's shared
 * schemas.
 */
final class OwnSchema implements AutoCloseable {

  /** The server's URL, without a schema. */
  static final String SERVER = System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  final String name = "ex_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);

  OwnSchema() throws SQLException {
    execute("CREATE SCHEMA " + name);
  }

  /** A URL whose unqualified table names resolve in this schema. */
  String url() {
    return SERVER + (SERVER.contains("?") ? "&" : "?") + "currentSchema=" + name;
  }

  @Override
  public void close() throws SQLException {
    execute("DROP SCHEMA " + name + " CASCADE");
  }

  private static void execute(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(SERVER); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
