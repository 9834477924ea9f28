package io.rabbitkit.jdbc.test;

import io.rabbitkit.jdbc.SqlDialect;

/**
 * A database server of the test's own, for fault tests: stop it, start it again, restart it.
 * Never the machine's shared server: its data lives under a temporary directory and it listens on
 * a free port of 127.0.0.1; {@link #close()} stops it and deletes its files.
 */
public interface ThrowawayDatabase extends AutoCloseable {

  /** Whether a local installation can start a server of {@code dialect}'s database. */
  static boolean available(SqlDialect dialect) {
    return dialect == SqlDialect.POSTGRESQL ? ThrowawayPostgres.available() : ThrowawayMariaDb.available();
  }

  /**
   * Starts a server of {@code dialect}'s database: PostgreSQL through {@code initdb} and {@code
   * pg_ctl}, MySQL's dialect through MariaDB's {@code mariadb-install-db} and {@code mariadbd}.
   *
   * @throws IllegalStateException if it is not installed locally or does not start
   */
  static ThrowawayDatabase start(SqlDialect dialect) {
    return dialect == SqlDialect.POSTGRESQL ? ThrowawayPostgres.start() : ThrowawayMariaDb.start();
  }

  /** A JDBC URL with user and password for a database the tests may use. */
  String jdbcUrl();

  /** Stops the server (open connections are cut), keeping its data for {@link #launch()}. */
  void stop();

  /** Starts the server again on the same port and data after {@link #stop()}. */
  void launch();

  /** Stops and starts the server, as a failover would. */
  default void restart() {
    stop();
    launch();
  }

  /** Stops the server at once and deletes its files. Idempotent. */
  @Override
  void close();
}
