package io.rabbitkit.test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Java process of the test's own, for what must happen in another process: a consumer killed with
 * SIGKILL while it handles a message, a relay held to a small heap, the whole log of a scenario
 * searched for a secret. Its output (standard output and error together) is collected as it comes;
 * the test waits for a line, writes to its input, kills it and reads its exit code.
 *
 * <pre>{@code
 * try (ChildJvm consumer = ChildJvm.main(CrashingConsumer.class, broker.uri(), queue).start()) {
 *   consumer.awaitLine("handling", Duration.ofSeconds(30));
 *   consumer.kill();                       // no ack, no clean close
 * }
 * }</pre>
 *
 * <p>Every failure is an {@link AssertionError} that quotes the output so far. {@link #close()}
 * kills the process if it still runs.
 */
public final class ChildJvm implements AutoCloseable {

  private final Process process;
  private final ByteArrayOutputStream output = new ByteArrayOutputStream(); // guarded by itself; decoded whole
  private final Thread pump;
  private int nextLine; // lines before it were looked at by awaitLine; guarded by output

  private ChildJvm(Process process) {
    this.process = process;
    this.pump = new Thread(() -> pump(process.getInputStream()), "child-jvm-output-" + process.pid());
    pump.setDaemon(true);
    pump.start();
  }

  /** A child that runs {@code mainClass} with this JVM's class path. */
  public static Builder main(Class<?> mainClass, String... args) {
    return new Builder(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()), args);
  }

  /** A child that runs an executable jar. */
  public static Builder jar(Path jar, String... args) {
    return new Builder(List.of("-jar", jar.toString()), args);
  }

  /** What to start. */
  public static final class Builder {
    private final List<String> target;
    private final List<String> args;
    private final List<String> jvmOptions = new ArrayList<>();
    private final List<String> removedEnv = new ArrayList<>();
    private final Map<String, String> env = new java.util.LinkedHashMap<>();

    private Builder(List<String> target, String... args) {
      this.target = target;
      this.args = List.of(args);
    }

    /** JVM options before the class or jar, for example {@code -Xmx256m} or {@code -Dkey=value}. */
    public Builder jvmOptions(String... options) {
      jvmOptions.addAll(List.of(options));
      return this;
    }

    /** Sets an environment variable of the child. */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Removes an environment variable the child would inherit (such as {@code RABBITMQ_URI}). */
    public Builder withoutEnv(String name) {
      removedEnv.add(name);
      return this;
    }

    public ChildJvm start() {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.addAll(target);
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      removedEnv.forEach(builder.environment()::remove);
      builder.environment().putAll(env);
      try {
        return new ChildJvm(builder.start());
      } catch (IOException e) {
        throw new UncheckedIOException("could not start " + command, e);
      }
    }
  }

  private void pump(InputStream in) {
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        synchronized (output) {
          output.write(buffer, 0, n);
          output.notifyAll();
        }
      }
    } catch (IOException e) {
      // the process ended or was killed
    }
  }

  /**
   * Waits for the next line that starts with {@code prefix} and returns it; lines before it (and
   * those an earlier call looked at) are passed over.
   *
   * @throws AssertionError with the output so far when none came within {@code timeout}, or the process ended first
   */
  public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (output) {
      while (true) {
        String[] lines = output.toString(StandardCharsets.UTF_8).split("\n", -1); // the last one is not complete yet
        while (nextLine < lines.length - 1) {
          String line = lines[nextLine++].stripTrailing();
          if (line.startsWith(prefix)) {
            return line;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !pump.isAlive()) { // the pump ends once the child closed its output: all of it is here
          String why = left <= 0 ? "printed no line starting with '" + prefix + "' within " + timeout.toMillis() + " ms"
              : (process.isAlive() ? "closed its output" : "ended (exit " + process.exitValue() + ")")
                  + " before a line starting with '" + prefix + "'";
          throw new AssertionError("the child " + why + "; its output:\n" + output.toString(StandardCharsets.UTF_8));
        }
        output.wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 100));
      }
    }
  }

  /** Writes a line to the child's standard input. */
  public void send(String line) {
    try {
      OutputStream in = process.getOutputStream();
      in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    } catch (IOException e) {
      throw new AssertionError("could not write to the child: " + e.getMessage() + "; its output:\n" + output(), e);
    }
  }

  /**
   * Waits for the child to end and returns its exit code.
   *
   * @throws AssertionError with its output when it did not end within {@code timeout}
   */
  public int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the child did not end within " + timeout.toMillis() + " ms; its output:\n" + output());
    }
    pump.join(5_000); // its last output
    return process.exitValue();
  }

  /** Kills the child with SIGKILL, as a crash would (no shutdown hook runs), and waits until it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  /** Stops the child with SIGTERM, as Ctrl-C would (shutdown hooks run); does not wait. */
  public void terminate() {
    process.destroy();
  }

  /** Everything the child printed so far, as bytes (all of it once {@link #waitFor} returned). */
  public byte[] outputBytes() {
    synchronized (output) {
      return output.toByteArray();
    }
  }

  /** Everything the child printed so far, decoded as UTF-8 (all of it once {@link #waitFor} returned). */
  public String output() {
    synchronized (output) {
      return output.toString(StandardCharsets.UTF_8);
    }
  }

  public Process process() {
    return process;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
