package io.rabbitkit.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/** A small pool on a PostgreSQL URL for the examples that use a database. */
public final class Database {

  private Database() {
  }

  /** A pool of at most {@code size} connections; a database that does not answer is a clear error, not a stack trace. */
  public static HikariDataSource pool(String url, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(size);
    config.setConnectionTimeout(5_000);
    config.setPoolName("examples");
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException("cannot connect to PostgreSQL at " + withoutQuery(url) + ": "
          + cause.getMessage() + " (start it, or pass --jdbc-url)", e);
    }
  }

  private static String withoutQuery(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q); // the query may hold a password
  }
}
