package io.rabbitkit.jdbc;

/** Every test of {@link OutboxIT} on the machine's MariaDB ({@code RABBITKIT_MARIADB_URL}): the MySQL dialect. */
class OutboxOnMariaDbIT extends OutboxIT {

  @Override
  TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
