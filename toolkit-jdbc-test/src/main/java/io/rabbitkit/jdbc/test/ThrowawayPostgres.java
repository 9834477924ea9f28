package io.rabbitkit.jdbc.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
  private final Path base;
  private final Path data;
  private final int port;
  private final boolean asPostgresUser;
  private final Thread stopper;

  private ThrowawayPostgres(Path bin, Path base, int port, boolean asPostgresUser) {
    this.bin = bin;
    this.base = base;
    this.data = base.resolve("data");
    this.port = port;
    this.asPostgresUser = asPostgresUser;
    this.stopper = new Thread(this::stopQuietly, "rabbitkit-throwaway-postgres-stop");
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
    try {
      Path base = Files.createTempDirectory("rabbitkit-pg-");
      if (root) {
        run(List.of("chown", "postgres", base.toString()), base);
      }
      ThrowawayPostgres pg = new ThrowawayPostgres(bin, base, freePort(), root);
      Runtime.getRuntime().addShutdownHook(pg.stopper);
      pg.pg("initdb", "-D", pg.data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
      pg.launch();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns a JDBC URL for database {@code postgres}, user {@code postgres}. */
  @Override
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  /** Returns the port. */
  public int port() {
    return port;
  }

  /** Restarts the server (fast shutdown: open connections are terminated, as in a failover). */
  @Override
  public void restart() {
    pg("pg_ctl", "-D", data.toString(), "-m", "fast", "-w", "stop");
    launch();
  }

  /** Stops the server (fast shutdown), keeping its data for {@link #launch()}. */
  @Override
  public void stop() {
    pg("pg_ctl", "-D", data.toString(), "-m", "fast", "-w", "stop");
  }

  /** Starts the server on the same port and data after {@link #stop()}. */
  @Override
  public void launch() {
    pg("pg_ctl", "-D", data.toString(), "-l", base.resolve("log").toString(), "-w", "-t", "60", "-o",
        "-p " + port + " -k " + base + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");
  }

  /** Stops the server at once and deletes its files. Idempotent. */
  @Override
  public void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(stopper);
    } catch (IllegalStateException ignored) {
      // the JVM is shutting down: the hook is running or ran
    }
  }

  private synchronized void stopQuietly() {
    if (!Files.exists(base)) {
      return;
    }
    if (Files.exists(data.resolve("postmaster.pid"))) {
      try {
        pg("pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "stop");
      } catch (RuntimeException ignored) {
        // already down
      }
    }
    try (Stream<Path> files = Files.walk(base)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }

  private void pg(String tool, String... args) {
    List<String> command = new ArrayList<>();
    if (asPostgresUser) {
      command.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    command.add(bin.resolve(tool).toString());
    command.addAll(List.of(args));
    run(command, base);
  }

  static void run(List<String> command, Path dir) {
    try {
      Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: "
            + new String(out, StandardCharsets.UTF_8).strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public String toString() {
    return "ThrowawayPostgres[" + jdbcUrl() + "]";
  }
}
