package io.rabbitkit.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A pool on the machine's PostgreSQL (or {@code RABBITKIT_JDBC_URL}), or its MariaDB ({@code
 * RABBITKIT_MARIADB_URL}), and a schema of the test's own (a database, on MariaDB), dropped on close.
 * Never touches anything else on the shared server.
 */
final class TestDatabase implements AutoCloseable {

  static final String URL = System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  static final String MARIADB_URL = System.getenv().getOrDefault("RABBITKIT_MARIADB_URL",
      "jdbc:mariadb://127.0.0.1:3306/test?user=root");

  final HikariDataSource dataSource;
  final String schema;
  final boolean mysql;

  TestDatabase() {
    this(URL);
  }

  /**
   * A database on MariaDB, or the test is skipped when {@code rabbitkit.mariadb.skip} says why
   * (CI's second pass, on another broker: these tests are about the database, and ran in the first).
   */
  static TestDatabase mariadb() {
    String skip = System.getProperty("rabbitkit.mariadb.skip");
    org.junit.jupiter.api.Assumptions.assumeTrue(skip == null || skip.isBlank(), skip);
    return new TestDatabase(MARIADB_URL);
  }

  TestDatabase(String url) {
    this.mysql = url.startsWith("jdbc:mariadb:") || url.startsWith("jdbc:mysql:");
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
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
      execute(mysql ? "DROP DATABASE IF EXISTS " + schema : "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } finally {
      dataSource.close();
    }
  }
}
