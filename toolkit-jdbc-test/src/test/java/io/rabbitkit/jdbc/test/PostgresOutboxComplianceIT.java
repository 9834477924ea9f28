package io.rabbitkit.jdbc.test;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;

/** The compliance suite on the machine's PostgreSQL (or {@code RABBITKIT_JDBC_URL}), as a user runs it. */
// tag::compliance-suite[]
class PostgresOutboxComplianceIT extends OutboxComplianceSuite {

  static final HikariDataSource POOL = TestPools.hikari(System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"));

  @Override
  protected DataSource dataSource() {
    return POOL;
  }
}
// end::compliance-suite[]
