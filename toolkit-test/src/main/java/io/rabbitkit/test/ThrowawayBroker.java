package io.rabbitkit.test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.testcontainers.rabbitmq.RabbitMQContainer;
import org.testcontainers.utility.MountableFile;

/**
 * A RabbitMQ broker of the test's own, for fault tests: kill its connections, restart it, stop it.
 * Never touches the shared broker.
 *
 * <p>With the RabbitMQ server installed locally ({@code /usr/lib/rabbitmq/bin}), it starts a
 * separate node with its own node name, ports, data directory, config, plugins file and Erlang
 * cookie under a temporary directory (about 5 s). Otherwise, with Docker, it starts a Testcontainers
 * container. {@link #close()} stops it and deletes its files.
 *
 * <pre>{@code
 * try (ThrowawayBroker broker = ThrowawayBroker.start()) {
 *   RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri());
 *   broker.closeAllConnections();   // clients see CONNECTION_FORCED and recover
 * }
 * }</pre>
 */
public final class ThrowawayBroker implements AutoCloseable {

  private static final RabbitmqInstallation INSTALLATION = RabbitmqInstallation.current();

  private final String uri;
  private final String tlsUri;
  private String streamUri;
  private final Local local;
  private final RabbitMQContainer container;

  private ThrowawayBroker(String uri, String tlsUri, Local local, RabbitMQContainer container) {
    this.uri = uri;
    this.tlsUri = tlsUri;
    this.local = local;
    this.container = container;
  }

  /** PEM files for a TLS listener: the CA that signs client certificates, the broker's certificate and key. */
  public record TlsFiles(Path caCertificate, Path certificate, Path key) {
  }

  /**
   * Starts a broker.
   *
   * @throws IllegalStateException if neither a local RabbitMQ installation nor Docker is available
   */
  public static ThrowawayBroker start() {
    return start(null);
  }

  /**
   * Starts a broker that also accepts TLS connections at {@link #tlsUri()}, with host name {@code
   * localhost}. It verifies client certificates against the CA when a client presents one, and
   * accepts clients without one.
   */
  public static ThrowawayBroker startWithTls(TlsFiles files) {
    return start(java.util.Objects.requireNonNull(files, "files"), List.of());
  }

  /**
   * Starts a broker with these lines added to its {@code rabbitmq.conf}, for example {@code
   * deprecated_features.permit.transient_nonexcl_queues = false} (a key the broker's version does
   * not know stops it from booting).
   */
  public static ThrowawayBroker startWithConfig(String... rabbitmqConfLines) {
    return start(null, List.of(rabbitmqConfLines));
  }

  /**
   * Starts a node with the stream protocol ({@code rabbitmq_stream} plugin) listening on a port of
   * its own, at {@link #streamUri()}. Local installations only, RabbitMQ 3.11 or later (single active
   * consumer, super streams): the stream protocol tells clients a host and port to connect to, which
   * a container's mapped port would contradict.
   *
   * @throws org.opentest4j.TestAbortedException (the test is skipped) when neither is at hand
   */
  public static ThrowawayBroker startWithStreams() {
    requireStreams();
    int streamPort = freeStreamPort(List.of());
    Local local = Local.start(null, null, streamConf(streamPort), List.of("rabbitmq_stream"));
    ThrowawayBroker broker = new ThrowawayBroker("amqp://guest:guest@127.0.0.1:" + local.port + "/", null, local, null);
    broker.streamUri = "rabbitmq-stream://guest:guest@localhost:" + streamPort + "/%2f";
    return broker;
  }

  /** Skips the test unless nodes with the stream protocol and super streams can be started here. */
  static void requireStreams() {
    if (!localNodesAvailable()) {
      throw Skip.test("stream protocol tests need a local RabbitMQ installation (or a root from tools/rabbitmq4): "
          + "a container maps the port the stream protocol advertises");
    }
    if (!INSTALLATION.atLeast(3, 13)) {
      throw Skip.test("super streams need RabbitMQ 3.13 or later; " + INSTALLATION + " is "
          + INSTALLATION.version().orElse("of unknown version") + " (CI runs these tests on RabbitMQ 4.3)");
    }
  }

  /** A free port for a stream listener, other than {@code taken}. */
  static int freeStreamPort(List<Integer> taken) {
    try {
      int port;
      do {
        port = Local.freePort(0);
      } while (taken.contains(port));
      return port;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** rabbitmq.conf lines for a stream listener on {@code port}, advertised as localhost. */
  static List<String> streamConf(int port) {
    return List.of("stream.listeners.tcp.default = 127.0.0.1:" + port, "stream.advertised_host = localhost",
        "stream.advertised_port = " + port);
  }

  /** The stream protocol's URI ({@code rabbitmq-stream://...}) of a node from {@link #startWithStreams()}. */
  public String streamUri() {
    if (streamUri == null) {
      throw new IllegalStateException("this node has no stream listener: start it with startWithStreams()");
    }
    return streamUri;
  }

  private static ThrowawayBroker start(TlsFiles tls) {
    return start(tls, List.of());
  }

  private static ThrowawayBroker start(TlsFiles tls, List<String> conf) {
    if (localNodesAvailable()) {
      Local local = Local.start(tls, null, conf, List.of());
      return new ThrowawayBroker("amqp://guest:guest@127.0.0.1:" + local.port + "/",
          tls == null ? null : "amqps://guest:guest@localhost:" + local.tlsPort + "/", local, null);
    }
    String unavailable = BrokerLocator.forcedImageUnavailable();
    if (unavailable != null) {
      throw Skip.test(unavailable);
    }
    String image = BrokerLocator.forcedImage();
    try {
      RabbitMQContainer container = new RabbitMQContainer(image != null ? image : BrokerLocator.IMAGE);
      if (!conf.isEmpty()) {
        Path extra = Files.createTempFile("rabbitkit-", ".conf");
        Files.writeString(extra, String.join("\n", conf) + "\n", StandardCharsets.UTF_8);
        container.withCopyFileToContainer(MountableFile.forHostPath(extra, 0644), "/etc/rabbitmq/conf.d/80-test.conf");
      }
      if (tls != null) {
        Path tlsConf = Files.createTempFile("rabbitkit-tls-", ".conf");
        Files.writeString(tlsConf, "listeners.ssl.default = 5671\n" + sslOptions("/etc/rabbitmq/tls"),
            StandardCharsets.UTF_8);
        container
            .withCopyFileToContainer(MountableFile.forHostPath(tls.caCertificate(), 0644), "/etc/rabbitmq/tls/ca.pem")
            .withCopyFileToContainer(MountableFile.forHostPath(tls.certificate(), 0644), "/etc/rabbitmq/tls/cert.pem")
            .withCopyFileToContainer(MountableFile.forHostPath(tls.key(), 0644), "/etc/rabbitmq/tls/key.pem")
            .withCopyFileToContainer(MountableFile.forHostPath(tlsConf, 0644), "/etc/rabbitmq/conf.d/90-tls.conf")
            .addExposedPort(5671);
      }
      container.start();
      return new ThrowawayBroker("amqp://guest:guest@" + container.getHost() + ":" + container.getAmqpPort() + "/",
          tls == null ? null : "amqps://guest:guest@localhost:" + container.getMappedPort(5671) + "/", null, container);
    } catch (RuntimeException | IOException e) {
      throw new IllegalStateException("fault tests need a broker of their own: install rabbitmq-server locally "
          + "or make Docker available for Testcontainers (" + e.getMessage() + ")", e);
    }
  }

  /** rabbitmq.conf lines for a TLS listener whose PEM files are in {@code dir}: client certificates optional but checked. */
  private static String sslOptions(String dir) {
    return "ssl_options.cacertfile = " + dir + "/ca.pem\n"
        + "ssl_options.certfile = " + dir + "/cert.pem\n"
        + "ssl_options.keyfile = " + dir + "/key.pem\n"
        + "ssl_options.verify = verify_peer\n"
        + "ssl_options.fail_if_no_peer_cert = false\n";
  }

  /** Returns the broker's AMQP URI. */
  public String uri() {
    return uri;
  }

  /**
   * Returns the URI of the TLS listener ({@code amqps://...@localhost:port/}).
   *
   * @throws IllegalStateException if the broker was not started with {@link #startWithTls}
   */
  public String tlsUri() {
    if (tlsUri == null) {
      throw new IllegalStateException("started without TLS: use ThrowawayBroker.startWithTls(...)");
    }
    return tlsUri;
  }

  /** Closes every client connection; clients see {@code 320 CONNECTION_FORCED}. */
  public void closeAllConnections() {
    ctl("close_all_connections", "closed by a fault test");
  }

  /** Stops the RabbitMQ application (the node stays up): clients lose their connections and cannot reconnect. */
  public void stopApp() {
    ctl("stop_app");
  }

  /** Starts the RabbitMQ application again; durable queues and persistent messages are still there. */
  public void startApp() {
    ctl("start_app");
  }

  /** Returns whether {@link #start()} can start a broker here: a local installation or Docker. */
  public static boolean canStart() {
    return localNodesAvailable() || BrokerLocator.dockerAvailable();
  }

  /**
   * Returns whether nodes can be started from a local RabbitMQ installation, which {@link #kill},
   * {@link #stopNode}, {@link #startNode} and {@link ThrowawayCluster} need (containers cannot
   * do those). Use it in an assumption to skip such tests where only Docker is available.
   */
  public static boolean localNodesAvailable() {
    return BrokerLocator.forcedImage() == null && INSTALLATION.available();
  }

  /** Returns the AMQP port. */
  public int port() {
    return local != null ? local.port : container.getAmqpPort();
  }

  /**
   * Kills the node's Erlang VM with SIGKILL, as a crash would (nothing is flushed or closed). Its
   * data stays: {@link #startNode()} boots it again. Local nodes only.
   */
  public void kill() {
    localOnly("kill").kill();
  }

  /** Stops the node gracefully, keeping its data for {@link #startNode()}. Local nodes only. */
  public void stopNode() {
    localOnly("stopNode").shutdown();
  }

  /** Boots the node again on the same ports and data after {@link #kill()} or {@link #stopNode()}. Local nodes only. */
  public void startNode() {
    localOnly("startNode").launch();
  }

  /** Freezes the node (SIGSTOP): connections stay open but nothing answers, as in a long GC pause or a VM stall. */
  public void pause() {
    if (local != null) {
      local.signal("STOP");
    } else {
      container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
    }
  }

  /** Lets a paused node run again (SIGCONT). */
  public void unpause() {
    if (local != null) {
      local.signal("CONT");
    } else {
      container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
    }
  }

  /** Raises a memory alarm: the broker blocks every publishing connection until it is cleared. */
  public void raiseMemoryAlarm() {
    ctl("eval", "rabbit_alarm:set_alarm({{resource_limit, memory, node()}, []}).");
  }

  /** Clears the memory alarm raised by {@link #raiseMemoryAlarm()}. */
  public void clearMemoryAlarm() {
    ctl("eval", "rabbit_alarm:clear_alarm({resource_limit, memory, node()}).");
  }

  private Local localOnly(String what) {
    if (local == null) {
      throw new UnsupportedOperationException(
          what + " needs a local node (rabbitmq-server installed), not a container");
    }
    return local;
  }

  /** Runs {@code rabbitmqctl} against this broker and returns its output. */
  public String ctl(String... args) {
    if (local != null) {
      return local.ctl(args);
    }
    List<String> command = new ArrayList<>(List.of("rabbitmqctl"));
    command.addAll(List.of(args));
    try {
      var result = container.execInContainer(command.toArray(String[]::new));
      if (result.getExitCode() != 0) {
        throw new IllegalStateException("rabbitmqctl " + String.join(" ", args) + " failed: " + result.getStderr());
      }
      return result.getStdout();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Stops the broker and deletes its data. */
  @Override
  public void close() {
    if (local != null) {
      local.stop();
    } else {
      container.stop();
    }
  }

  @Override
  public String toString() {
    return "ThrowawayBroker[" + (local != null ? "node " + local.node : "container") + ", " + uri + "]";
  }

  /** A node of our own, from the local installation; nothing shared with the default node but epmd. */
  static final class Local {
    final String node;
    final int port;
    final int tlsPort;
    final Path base;
    final Map<String, String> env;
    private volatile Process server;
    final Thread stopper;

    private Local(String node, int port, int tlsPort, Path base, Map<String, String> env) {
      this.node = node;
      this.port = port;
      this.tlsPort = tlsPort;
      this.base = base;
      this.env = env;
      this.stopper = new Thread(this::stop, "rabbitkit-throwaway-stop-" + node);
      Runtime.getRuntime().addShutdownHook(stopper);
    }

    /**
     * Starts a node; {@code cookie}, when given, is its Erlang cookie (nodes of one cluster share
     * one); {@code conf} are extra lines for its rabbitmq.conf, {@code advanced} its advanced.config
     * (Erlang terms, for settings rabbitmq.conf has no key for).
     */
    static Local start(TlsFiles tls, String cookie, List<String> conf, List<String> plugins) {
      return start(tls, cookie, conf, plugins, "[].");
    }

    static Local start(TlsFiles tls, String cookie, List<String> conf, List<String> plugins, String advanced) {
      try {
        Path base = INSTALLATION.newNodeDirectory();
        int port = freePortPair();
        int tlsPort = tls == null ? -1 : freePort(port);
        String node =
            "rabbitkit-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL) + "@localhost";
        Path home = Files.createDirectories(base.resolve("home"));
        if (cookie != null) {
          Path cookieFile = home.resolve(".erlang.cookie");
          Files.writeString(cookieFile, cookie, StandardCharsets.US_ASCII);
          cookieFile.toFile().setReadable(false, false);
          cookieFile.toFile().setWritable(false, false);
          cookieFile.toFile().setReadable(true, true);
        }
        StringBuilder config = new StringBuilder("listeners.tcp.default = 127.0.0.1:" + port + "\n");
        conf.forEach(line -> config.append(line).append('\n'));
        if (tls != null) {
          Path dir = Files.createDirectories(base.resolve("tls"));
          Files.copy(tls.caCertificate(), dir.resolve("ca.pem"));
          Files.copy(tls.certificate(), dir.resolve("cert.pem"));
          Files.copy(tls.key(), dir.resolve("key.pem"));
          config.append("listeners.ssl.default = 127.0.0.1:").append(tlsPort).append('\n')
              .append(sslOptions(INSTALLATION.seen(dir)));
        }
        Files.writeString(base.resolve("rabbitmq.conf"), config, StandardCharsets.UTF_8);
        Files.writeString(base.resolve("enabled_plugins"), "[" + String.join(",", plugins) + "].\n",
            StandardCharsets.UTF_8);
        Files.writeString(base.resolve("advanced.config"), advanced + "\n", StandardCharsets.UTF_8);
        Files.writeString(base.resolve("rabbitmq-env.conf"), "", StandardCharsets.UTF_8);
        Map<String, String> env = Map.ofEntries(
            Map.entry("HOME", INSTALLATION.seen(home)),
            Map.entry("RABBITMQ_NODENAME", node),
            Map.entry("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"),
            Map.entry("RABBITMQ_NODE_PORT", Integer.toString(port)),
            Map.entry("RABBITMQ_DIST_PORT", Integer.toString(port + 20000)),
            Map.entry("RABBITMQ_MNESIA_BASE", INSTALLATION.seen(base.resolve("mnesia"))),
            Map.entry("RABBITMQ_LOG_BASE", INSTALLATION.seen(base.resolve("log"))),
            Map.entry("RABBITMQ_CONFIG_FILE", INSTALLATION.seen(base.resolve("rabbitmq.conf"))),
            Map.entry("RABBITMQ_ADVANCED_CONFIG_FILE", INSTALLATION.seen(base.resolve("advanced.config"))),
            Map.entry("RABBITMQ_ENABLED_PLUGINS_FILE", INSTALLATION.seen(base.resolve("enabled_plugins"))),
            Map.entry("RABBITMQ_CONF_ENV_FILE", INSTALLATION.seen(base.resolve("rabbitmq-env.conf"))),
            Map.entry("RABBITMQ_PID_FILE", INSTALLATION.seen(base.resolve("pid"))),
            Map.entry("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "+S 1:1 +A 4"));
        Local local = new Local(node, port, tlsPort, base, env);
        local.launch();
        return local;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /**
     * Starts the node's process on its existing data directory and waits until it runs. A boot that
     * fails is tried once more on the same data (a restart right after a kill has been seen to fail
     * once in CI with "rabbit_is_not_running", its log deleted with the node); a second failure
     * stops the node and reports the end of its console log.
     */
    void launch() {
      IllegalStateException failed = null;
      for (int attempt = 1; attempt <= 2; attempt++) {
        try {
          Files.deleteIfExists(base.resolve("pid"));
          ProcessBuilder pb = new ProcessBuilder(INSTALLATION.command("rabbitmq-server", List.of()))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("console.log").toFile()));
          pb.environment().putAll(env);
          server = pb.start();
          ctl("wait", INSTALLATION.seen(base.resolve("pid")), "--timeout", "120");
          return;
        } catch (IOException | RuntimeException e) {
          failed = new IllegalStateException("throw-away node " + node + " did not start"
              + (attempt > 1 ? " on a second try" : "") + ": " + e.getMessage() + "\n--- end of its console log ---\n"
              + consoleTail(), e);
          System.err.println(failed.getMessage());
          killProcessTree();
        }
      }
      stop();
      throw failed;
    }

    private void killProcessTree() {
      Process s = server;
      if (s != null) {
        s.descendants().forEach(ProcessHandle::destroyForcibly);
        s.destroyForcibly();
        try {
          s.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private String consoleTail() {
      try {
        List<String> lines = Files.readAllLines(base.resolve("console.log"), StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
      } catch (IOException | RuntimeException e) {
        return "(no console log: " + e + ")";
      }
    }

    /** The Erlang VM's process (beam.smp), the one to kill or pause. */
    ProcessHandle beam() {
      Process s = server;
      if (s == null) {
        throw new IllegalStateException("node " + node + " is not running");
      }
      return s.descendants().filter(h -> h.info().command().map(c -> c.contains("beam")).orElse(false))
          .findFirst().orElseThrow(() -> new IllegalStateException("no beam process for node " + node));
    }

    /** Kills the VM with SIGKILL, as a crash would, and waits until it is gone. Data stays for {@link #launch()}. */
    void kill() {
      ProcessHandle beam = beam();
      beam.destroyForcibly();
      beam.onExit().join();
      Process s = server;
      s.descendants().forEach(ProcessHandle::destroyForcibly);
      try {
        s.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Stops the node gracefully, keeping its data for {@link #launch()}. */
    void shutdown() {
      ctl("stop", INSTALLATION.seen(base.resolve("pid")));
      try {
        server.waitFor(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Sends a signal (STOP, CONT) to the VM. */
    void signal(String name) {
      try {
        Process p = new ProcessBuilder("kill", "-" + name, Long.toString(beam().pid())).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException("kill -" + name + " failed for node " + node);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }

    String ctl(String... args) {
      List<String> arguments = new ArrayList<>(List.of("-n", node));
      arguments.addAll(List.of(args));
      List<String> command = INSTALLATION.command("rabbitmqctl", arguments);
      try {
        Path out = Files.createTempFile(base, "ctl-", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("rabbitmqctl " + String.join(" ", args) + " timed out");
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        if (p.exitValue() != 0) {
          throw new IllegalStateException("rabbitmqctl " + String.join(" ", args) + " exited " + p.exitValue()
              + ": " + output.trim());
        }
        return output;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }

    synchronized void stop() {
      if (!Files.exists(base)) {
        return;
      }
      Process server = this.server;
      if (server == null) {
        deleteTree(base);
        return;
      }
      try {
        signal("CONT"); // a paused node cannot stop
      } catch (RuntimeException e) {
        // not running
      }
      try {
        if (server.isAlive()) {
          ctl("stop", INSTALLATION.seen(base.resolve("pid")));
        }
      } catch (RuntimeException e) {
        // fall through to killing the process tree
      }
      killProcessTree();
      deleteTree(base);
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
      } catch (IllegalStateException e) {
        // already shutting down: we are the hook
      }
    }

    /** A port P with P + 20000 (the Erlang distribution port) free too. */
    private static int freePortPair() throws IOException {
      return freePort(port -> portFree(port + 20000));
    }

    /** A free port other than {@code other} and its distribution port. */
    private static int freePort(int other) throws IOException {
      return freePort(port -> port != other && port != other + 20000);
    }

    private static int freePort(java.util.function.IntPredicate alsoRequired) throws IOException {
      for (int i = 0; i < 100; i++) {
        int port = ThreadLocalRandom.current().nextInt(20_000, 45_000);
        if (alsoRequired.test(port) && portFree(port)) {
          return port;
        }
      }
      throw new IOException("no free port for a throw-away node");
    }

    private static boolean portFree(int port) {
      try (ServerSocket s = new ServerSocket(port)) {
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    private static void deleteTree(Path root) {
      try (Stream<Path> paths = Files.walk(root)) {
        paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      } catch (IOException e) {
        // best effort: a temp dir left behind is harmless
      }
    }
  }
}
