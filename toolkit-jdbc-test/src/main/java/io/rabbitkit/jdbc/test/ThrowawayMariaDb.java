package io.rabbitkit.jdbc.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A MariaDB server of the test's own, for fault tests: stop it, start it, restart it. Never
 * touches the machine's shared server.
 *
 * <p>It runs {@code mariadb-install-db} and {@code mariadbd} from the local installation on a free
 * port of 127.0.0.1, with its data, socket and log under a temporary directory (about 2 s), without
 * grant tables (any user, no password: a test server keeps nothing) and with a small buffer pool.
 * The database {@code test} is created. {@link #close()} stops it and deletes its files; so does a
 * JVM shutdown hook.
 */
public final class ThrowawayMariaDb implements ThrowawayDatabase {

  private static final List<Path> INSTALL = List.of(Path.of("/usr/bin/mariadb-install-db"),
      Path.of("/usr/bin/mysql_install_db"));
  private static final List<Path> SERVER = List.of(Path.of("/usr/sbin/mariadbd"), Path.of("/usr/sbin/mysqld"));

  private final Path server;
  private final ServerDir dir;
  private final Path data;
  private Process process;

  private ThrowawayMariaDb(Path server) {
    this.server = server;
    this.dir = new ServerDir("rabbitkit-mariadb-", this::halt);
    this.data = dir.path.resolve("data");
  }

  /** Returns whether a local MariaDB installation can start servers. */
  public static boolean available() {
    return find(INSTALL).isPresent() && find(SERVER).isPresent();
  }

  private static Optional<Path> find(List<Path> candidates) {
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  /**
   * Creates and starts a server with a database {@code test}.
   *
   * @throws IllegalStateException if MariaDB is not installed locally or the server does not start
   */
  public static ThrowawayMariaDb start() {
    Path install = find(INSTALL).orElseThrow(() -> new IllegalStateException(
        "fault tests need MariaDB installed locally (mariadb-install-db and mariadbd)"));
    Path server = find(SERVER).orElseThrow(() -> new IllegalStateException("mariadbd is not installed"));
    ThrowawayMariaDb db = new ThrowawayMariaDb(server);
    try {
      db.dir.run(List.of(install.toString(), "--no-defaults", "--datadir=" + db.data, "--user=" + user(),
          "--auth-root-authentication-method=normal", "--skip-test-db"));
      Files.createDirectories(db.data.resolve("test")); // a database is a directory
      db.launch();
      return db;
    } catch (IOException e) {
      db.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  /** The server refuses to run as root unless told to. */
  private static String user() {
    return System.getProperty("user.name");
  }

  @Override
  public String jdbcUrl() {
    return "jdbc:mariadb://127.0.0.1:" + dir.port + "/test?user=root";
  }

  /** Returns the port. */
  public int port() {
    return dir.port;
  }

  @Override
  public synchronized void launch() {
    List<String> command = new ArrayList<>(List.of(server.toString(), "--no-defaults", "--datadir=" + data,
        "--user=" + user(), "--port=" + dir.port, "--bind-address=127.0.0.1", "--socket=" + dir.path.resolve("sock"),
        "--pid-file=" + dir.path.resolve("pid"), "--log-error=" + dir.path.resolve("log"), "--skip-grant-tables",
        "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=2",
        "--max-connections=200"));
    try {
      process = new ProcessBuilder(command).directory(dir.path.toFile()).redirectErrorStream(true)
          .redirectOutput(dir.path.resolve("out").toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!answers()) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("mariadbd did not start on port " + dir.port + ": " + log());
      }
      sleep(100);
    }
  }

  @Override
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    process.destroy(); // SIGTERM: a clean shutdown that cuts the open connections
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    process = null;
  }

  @Override
  public void close() {
    dir.close();
  }

  private synchronized void halt() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  private boolean answers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", dir.port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String log() {
    try {
      Path log = dir.path.resolve("log");
      return Files.exists(log) ? Files.readString(log).strip() : "(no log)";
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return "ThrowawayMariaDb[" + jdbcUrl() + "]";
  }
}
