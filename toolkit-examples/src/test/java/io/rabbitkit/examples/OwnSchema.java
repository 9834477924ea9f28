package io.rabbitkit.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A schema of the test's own (a database, on MariaDB) on a shared server, dropped with everything
 * in it on {@link #close()}: the examples' tables and offsets land there instead of in the server's
 * shared schemas.
 */
final class OwnSchema implements AutoCloseable {

  /** The machine's PostgreSQL, or {@code RABBITKIT_JDBC_URL}. */
  static final String POSTGRES = System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  final String name = "ex_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
  private final String server;

  /** Creates the schema on {@code server}, a JDBC URL without a schema. */
  OwnSchema(String server) throws SQLException {
    this.server = server;
    execute("CREATE SCHEMA " + name);
  }

  /** On PostgreSQL: a URL whose unqualified table names resolve in this schema. */
  String url() {
    return server + (server.contains("?") ? "&" : "?") + "currentSchema=" + name;
  }

  @Override
  public void close() throws SQLException {
    execute("DROP SCHEMA " + name + (server.startsWith("jdbc:postgresql:") ? " CASCADE" : ""));
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(server); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
