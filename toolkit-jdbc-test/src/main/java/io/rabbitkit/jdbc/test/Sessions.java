package io.rabbitkit.jdbc.test;

import io.rabbitkit.jdbc.SqlDialect;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A DataSource for the suite's faults: either one that opens a connection per call on a JDBC URL
 * (a throw-away server's, no pool needed), or one that hands out another DataSource's connections
 * and knows the server sessions it has out, so that {@link #kill()} can end them on the server, as
 * the death of their process would.
 */
final class Sessions implements DataSource {

  private final DataSource pool;
  private final String url;
  private final SqlDialect dialect;
  private final Set<Long> out = ConcurrentHashMap.newKeySet();

  /** Connections on {@code url}, one per call. */
  Sessions(String url) {
    this.pool = null;
    this.url = url;
    this.dialect = null;
  }

  /** {@code pool}'s connections, tracked. */
  Sessions(DataSource pool, SqlDialect dialect) {
    this.pool = pool;
    this.url = null;
    this.dialect = dialect;
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (pool == null) {
      return DriverManager.getConnection(url);
    }
    Connection c = pool.getConnection();
    long session;
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(dialect == SqlDialect.MYSQL ? "SELECT CONNECTION_ID()" : "SELECT pg_backend_pid()")) {
      rs.next();
      session = rs.getLong(1);
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    out.add(session);
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            out.remove(session);
          }
          try {
            return method.invoke(c, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /** Ends, on the server, every session handed out and not yet given back: their transactions roll back. */
  void kill() throws SQLException {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      for (long session : out) {
        if (dialect == SqlDialect.MYSQL) {
          st.execute("KILL CONNECTION " + session);
        } else {
          st.execute("SELECT pg_terminate_backend(" + session + ")");
        }
      }
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("the suite's DataSource takes no credentials");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {
  }

  @Override
  public void setLoginTimeout(int seconds) {
  }

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return false;
  }
}
