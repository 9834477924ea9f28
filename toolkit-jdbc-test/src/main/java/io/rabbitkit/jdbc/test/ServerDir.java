package io.rabbitkit.jdbc.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where a throw-away server lives: a temporary directory, a free port of 127.0.0.1 and a JVM
 * shutdown hook. {@link #close()} (or the hook, if the JVM ends first) halts the server and deletes
 * the directory; the servers keep only their own start and stop.
 */
final class ServerDir implements AutoCloseable {

  final Path path;
  final int port;
  private final Runnable halt;
  private final Thread hook;

  /**
   * {@code halt} stops the server at once; it runs before the directory goes, and must tolerate a
   * server already down.
   */
  ServerDir(String prefix, Runnable halt) {
    try {
      this.path = Files.createTempDirectory(prefix);
      try (ServerSocket s = new ServerSocket(0)) {
        this.port = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.halt = halt;
    this.hook = new Thread(this::remove, prefix + "stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Runs {@code command} in the directory; it fails with the command's output if it does not exit 0 within 90 s. */
  void run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).directory(path.toFile()).redirectErrorStream(true).start();
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

  /** Halts the server and deletes the directory. Idempotent. */
  @Override
  public void close() {
    remove();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // the JVM is shutting down: the hook is running or ran
    }
  }

  private synchronized void remove() {
    if (!Files.exists(path)) {
      return;
    }
    halt.run();
    try (Stream<Path> files = Files.walk(path)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
