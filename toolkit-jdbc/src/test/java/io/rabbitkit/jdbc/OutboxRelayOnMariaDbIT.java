package io.rabbitkit.jdbc;

/** Every test of {@link OutboxRelayIT} on the machine's MariaDB ({@code RABBITKIT_MARIADB_URL}): the MySQL dialect. */
class OutboxRelayOnMariaDbIT extends OutboxRelayIT {

  @Override
  TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
