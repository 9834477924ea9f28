package io.rabbitkit.examples;

/** {@link OutboxExamplesIT} with {@code --jdbc-url jdbc:mariadb://...}: the same examples and tables on MariaDB. */
class OutboxExamplesOnMariaDbIT extends OutboxExamplesIT {

  private static final String MARIADB = System.getenv().getOrDefault("RABBITKIT_MARIADB_URL",
      "jdbc:mariadb://127.0.0.1:3306/test?user=root");

  @Override
  String server() {
    String skip = System.getProperty("rabbitkit.mariadb.skip");
    org.junit.jupiter.api.Assumptions.assumeTrue(skip == null || skip.isBlank(), skip);
    return MARIADB;
  }

  @Override
  String jdbcUrl(String schema) {
    return MARIADB.replace("/test?", "/" + schema + "?");
  }
}
