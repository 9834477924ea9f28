package io.rabbitkit.jdbc;

import io.rabbitkit.ToolkitException;
import java.sql.SQLException;

/**
 * A database operation of the outbox or inbox failed where no {@link SQLException} can be thrown
 * (starting a relay, reading its lag). The cause is the driver's exception; {@link #sqlState()}
 * is its SQLSTATE.
 */
public final class JdbcException extends ToolkitException {

  private final String sqlState;

  public JdbcException(String message, SQLException cause) {
    super(message + ": " + cause.getMessage(), cause);
    this.sqlState = cause.getSQLState();
  }

  /** The driver's SQLSTATE (for example {@code 42P01}, undefined table), or null. */
  public String sqlState() {
    return sqlState;
  }
}
