package io.rabbitkit.jdbc;

/** Every test of {@link InboxIT} on the machine's MariaDB ({@code RABBITKIT_MARIADB_URL}): the MySQL dialect. */
class InboxOnMariaDbIT extends InboxIT {

  @Override
  TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
