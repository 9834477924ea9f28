package io.rabbitkit.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * A connection that LISTENs on one channel. pgjdbc's {@code PGConnection.getNotifications} is
 * reached by reflection, so the module needs no compile-time dependency on the driver.
 */
final class Notifications implements AutoCloseable {

  private final Connection connection;
  private final Object pg;
  private final Method getNotifications;

  private Notifications(Connection connection, Object pg, Method getNotifications) {
    this.connection = connection;
    this.pg = pg;
    this.getNotifications = getNotifications;
  }

  /** Returns a listening connection, or null if the driver is not pgjdbc. */
  static Notifications listen(DataSource dataSource, String channel) throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      Class<?> type = Class.forName("org.postgresql.PGConnection", false, c.getClass().getClassLoader());
      if (!c.isWrapperFor(type)) {
        c.close();
        return null;
      }
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN " + channel);
      }
      return new Notifications(c, c.unwrap(type), type.getMethod("getNotifications", int.class));
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      c.close();
      return null;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Waits up to {@code timeout}; returns whether a notification arrived. */
  boolean await(Duration timeout) throws SQLException {
    try {
      Object[] received = (Object[]) getNotifications.invoke(pg, (int) Math.max(1, timeout.toMillis()));
      return received != null && received.length > 0;
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw new IllegalStateException(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Hands the connection back to its pool no longer listening: a pooled connection that still
   * listened would collect notifications for whoever borrows it next. If UNLISTEN fails, the
   * connection is aborted, which makes a pool discard it.
   */
  @Override
  public void close() {
    try (Statement st = connection.createStatement()) {
      st.execute("UNLISTEN *");
    } catch (SQLException | RuntimeException e) {
      try {
        connection.abort(Runnable::run);
      } catch (SQLException | RuntimeException ignored) {
        // the driver cannot abort: closing below is all that is left
      }
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing a broken connection: nothing left to release
    }
  }
}
