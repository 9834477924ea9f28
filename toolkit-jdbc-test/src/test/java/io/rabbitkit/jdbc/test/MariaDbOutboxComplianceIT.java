package io.rabbitkit.jdbc.test;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * The compliance suite on the machine's MariaDB (or {@code RABBITKIT_MARIADB_URL}), as a user runs
 * it; skipped when {@code rabbitkit.mariadb.skip} says why (CI's second pass).
 */
class MariaDbOutboxComplianceIT extends OutboxComplianceSuite {

  private static HikariDataSource pool;

  @BeforeAll
  static void openPool() {
    String skip = System.getProperty("rabbitkit.mariadb.skip");
    Assumptions.assumeTrue(skip == null || skip.isBlank(), skip);
    pool = TestPools.hikari(System.getenv().getOrDefault("RABBITKIT_MARIADB_URL",
        "jdbc:mariadb://127.0.0.1:3306/test?user=root"));
  }

  @AfterAll
  static void closePool() {
    if (pool != null) {
      pool.close();
    }
  }

  @Override
  protected DataSource dataSource() {
    return pool;
  }
}
