package io.rabbitkit.jdbc.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster of the test's own, for fault tests: restart it, crash it. Never touches
 * the machine's shared server.
 *
 * <p>It runs {@code initdb} and {@code pg_ctl} from the local installation ({@code
 * /usr/lib/postgresql/<version>/bin}) on a free port, with its data, socket and log under a
 * temporary directory (about 1 s), as user {@code postgres} when the JVM runs as root (initdb
 * refuses root). Trust authentication for user {@code postgres}, database {@code postgres},
 * listening on 127.0.0.1 only, fsync off (a test cluster keeps nothing). {@link #close()} stops it
 * and deletes its files; so does a JVM shutdown hook.
 */
public final class ThrowawayPostgres implements ThrowawayDatabase {

  private final Path bin;
  private final ServerDir dir;
  private final Path data;
  private final boolean asPostgresUser;

  private ThrowawayPostgres(Path bin, boolean asPostgresUser) {
    this.bin = bin;
    this.asPostgresUser = asPostgresUser;
    this.dir = new ServerDir("rabbitkit-pg-", this::halt);
    this.data = dir.path.resolve("data");
  }

  /** Returns whether a local PostgreSQL installation can start clusters. */
  public static boolean available() {
    return binaries().isPresent();
  }

  private static Optional<Path> binaries() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(Comparator.comparing(Path::toString));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Creates and starts a cluster.
   *
   * @throws IllegalStateException if PostgreSQL is not installed locally or the cluster does not start
   */
  public static ThrowawayPostgres start() {
    Path bin = binaries().orElseThrow(() -> new IllegalStateException(
        "fault tests need PostgreSQL installed locally (/usr/lib/postgresql/<version>/bin/initdb)"));
    boolean root = "root".equals(System.getProperty("user.name"));
    ThrowawayPostgres pg = new ThrowawayPostgres(bin, root);
    try {
      if (root) {
        pg.dir.run(List.of("chown", "postgres", pg.dir.path.toString()));
      }
      pg.pg("initdb", "-D", pg.data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
      pg.launch();
      return pg;
    } catch (RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  /** Returns a JDBC URL for database {@code postgres}, user {@code postgres}. */
  @Override
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + dir.port + "/postgres?user=postgres";
  }

  /** Returns the port. */
  public int port() {
    return dir.port;
  }

  /**
   * Stops the server (fast shutdown: open connections are terminated, as in a failover), keeping
   * its data for {@link #launch()}.
   */
  @Override
  public void stop() {
    pg("pg_ctl", "-D", data.toString(), "-m", "fast", "-w", "stop");
  }

  /** Starts the server on the same port and data after {@link #stop()}. */
  @Override
  public void launch() {
    pg("pg_ctl", "-D", data.toString(), "-l", dir.path.resolve("log").toString(), "-w", "-t", "60", "-o",
        "-p " + dir.port + " -k " + dir.path + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        "start");
  }

  /** Stops the server at once and deletes its files. Idempotent. */
  @Override
  public void close() {
    dir.close();
  }

  private void halt() {
    if (Files.exists(data.resolve("postmaster.pid"))) {
      try {
        pg("pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "stop");
      } catch (RuntimeException ignored) {
        // already down
      }
    }
  }

  private void pg(String tool, String... args) {
    List<String> command = new ArrayList<>();
    if (asPostgresUser) {
      command.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    command.add(bin.resolve(tool).toString());
    command.addAll(List.of(args));
    dir.run(command);
  }

  @Override
  public String toString() {
    return "ThrowawayPostgres[" + jdbcUrl() + "]";
  }
}
