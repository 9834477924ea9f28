package io.rabbitkit.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * A small pool for the examples that use a database: PostgreSQL ({@code jdbc:postgresql:}), MariaDB
 * ({@code jdbc:mariadb:}) or MySQL ({@code jdbc:mysql:}, through MariaDB's driver).
 */
public final class Database {

  private Database() {
  }

  /** A pool of at most {@code size} connections; a database that does not answer is a clear error, not a stack trace. */
  public static HikariDataSource pool(String url, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(mysqlThroughMariaDb(url));
    config.setMaximumPoolSize(size);
    config.setConnectionTimeout(5_000);
    config.setPoolName("examples");
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException("cannot connect to " + kind(url) + " at " + withoutQuery(url) + ": "
          + cause.getMessage() + " (start it, or pass --jdbc-url)", e);
    }
  }

  /** MariaDB's driver serves jdbc:mysql: URLs when they say so. */
  static String mysqlThroughMariaDb(String url) {
    if (!url.startsWith("jdbc:mysql:") || url.contains("permitMysqlScheme")) {
      return url;
    }
    return url + (url.contains("?") ? "&" : "?") + "permitMysqlScheme";
  }

  private static String kind(String url) {
    return url.startsWith("jdbc:mariadb:") ? "MariaDB" : url.startsWith("jdbc:mysql:") ? "MySQL" : "PostgreSQL";
  }

  private static String withoutQuery(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q); // the query may hold a password
  }
}
