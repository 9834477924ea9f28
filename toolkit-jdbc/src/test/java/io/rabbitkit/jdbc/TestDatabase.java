package io.rabbitkit.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A pool on the machine's PostgreSQL (or {@code RABBITKIT_JDBC_URL}) and a schema of the test's
 * own, dropped on close. Never touches anything else on the shared server.
 */
final class TestDatabase implements AutoCloseable {

  static final String URL = System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  final HikariDataSource dataSource;
  final String schema;

  TestDatabase() {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(URL);
    config.setMaximumPoolSize(12);
    config.setConnectionTimeout(10_000);
    this.dataSource = new HikariDataSource(config);
    this.schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
  }

  /** Runs one statement under auto-commit. */
  void execute(String sql) throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** Runs a count query. */
  long count(String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Override
  public void close() throws SQLException {
    try {
      execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } finally {
      dataSource.close();
    }
  }
}
