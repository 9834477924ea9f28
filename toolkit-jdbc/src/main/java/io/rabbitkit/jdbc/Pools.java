package io.rabbitkit.jdbc;

import java.lang.reflect.Method;
import javax.sql.DataSource;

/** What can be learnt about a DataSource's pool without depending on its library. */
final class Pools {

  /** The getters of the usual pools' maximum size: HikariCP, Apache DBCP 2, Tomcat JDBC and c3p0. */
  private static final String[] MAXIMUM_SIZE = {"getMaximumPoolSize", "getMaxTotal", "getMaxActive", "getMaxPoolSize"};

  private Pools() {
  }

  /** The most connections the pool hands out at once, or null when it does not say (not a pool we know). */
  static Integer maximumSize(DataSource dataSource) {
    for (String getter : MAXIMUM_SIZE) {
      try {
        Method m = dataSource.getClass().getMethod(getter);
        if (m.getReturnType() == int.class && m.invoke(dataSource) instanceof Integer size && size > 0) {
          return size;
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        // not this pool's getter
      }
    }
    return null;
  }
}
