package io.rabbitkit.jdbc.test;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/** The build's pools for the suite: room for three relays pipelining and the suite's own connections. */
final class TestPools {

  private TestPools() {
  }

  static HikariDataSource hikari(String url) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(16);
    config.setConnectionTimeout(10_000);
    return new HikariDataSource(config);
  }
}
