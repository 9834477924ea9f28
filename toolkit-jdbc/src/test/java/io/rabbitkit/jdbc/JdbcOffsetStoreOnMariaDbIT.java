package io.rabbitkit.jdbc;

/** Every test of {@link JdbcOffsetStoreIT} on the machine's MariaDB ({@code RABBITKIT_MARIADB_URL}): the MySQL dialect. */
class JdbcOffsetStoreOnMariaDbIT extends JdbcOffsetStoreIT {

  @Override
  TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
