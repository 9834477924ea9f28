package io.rabbitkit.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a throw-away node's RabbitMQ comes from: the machine's own installation, or a root that
 * {@code tools/rabbitmq4 root} built (Debian's RabbitMQ 4.x package in a debootstrapped directory),
 * in which nodes run with {@code chroot}. The root is chosen with the environment variable {@link
 * #ROOT_VARIABLE} (or the system property {@code rabbitkit.test.rabbitmq.root}); a node's files then
 * live under the root's {@code /tmp}, and the node sees them by their paths inside it.
 */
final class RabbitmqInstallation {

  /** The environment variable naming a RabbitMQ root for throw-away nodes. */
  static final String ROOT_VARIABLE = "RABBITKIT_RABBITMQ_ROOT";
  private static final String BIN = "/usr/lib/rabbitmq/bin";

  private final Path root;

  private RabbitmqInstallation(Path root) {
    this.root = root;
  }

  /** The installation chosen for this JVM. */
  static RabbitmqInstallation current() {
    String root = System.getProperty("rabbitkit.test.rabbitmq.root", System.getenv(ROOT_VARIABLE));
    return root == null || root.isBlank() ? new RabbitmqInstallation(null) : new RabbitmqInstallation(Path.of(root));
  }

  /** Whether nodes can be started from it; a root that is not ready says how to make it so. */
  boolean available() {
    if (root == null) {
      return Files.isExecutable(Path.of(BIN, "rabbitmq-server"));
    }
    if (!Files.isExecutable(root.resolve(BIN.substring(1)).resolve("rabbitmq-server"))
        || !Files.exists(root.resolve("proc/self"))) {
      throw new IllegalStateException(ROOT_VARIABLE + "=" + root + " is not a RabbitMQ root ready for nodes: "
          + "build and mount it with tools/rabbitmq4 root");
    }
    return true;
  }

  /** A new, empty directory for one node's files. */
  Path newNodeDirectory() throws IOException {
    if (root == null) {
      return Files.createTempDirectory("rabbitkit-node-");
    }
    return Files.createTempDirectory(Files.createDirectories(root.resolve("tmp")), "rabbitkit-node-");
  }

  /** The path the node sees for the file {@code host}. */
  String seen(Path host) {
    return root == null ? host.toString() : "/" + root.relativize(host);
  }

  /** The command line that runs {@code program} (rabbitmq-server, rabbitmqctl) with {@code args}. */
  List<String> command(String program, List<String> args) {
    List<String> command = new ArrayList<>();
    if (root != null) {
      command.add("chroot");
      command.add(root.toString());
    }
    command.add(BIN + "/" + program);
    command.addAll(args);
    return command;
  }

  /**
   * The installed RabbitMQ version ({@code 3.10.8}, {@code 4.3.6}), read from its library
   * directory; empty if it cannot be told.
   */
  java.util.Optional<String> version() {
    Path lib = root == null ? Path.of("/usr/lib/rabbitmq/lib") : root.resolve("usr/lib/rabbitmq/lib");
    try (var dirs = Files.list(lib)) {
      return dirs.map(d -> d.getFileName().toString()).filter(n -> n.startsWith("rabbitmq_server-"))
          .map(n -> n.substring("rabbitmq_server-".length())).findFirst();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  /** Whether the version is at least {@code major.minor}; false if it cannot be told. */
  boolean atLeast(int major, int minor) {
    return version().map(v -> {
      String[] parts = v.split("[.-]");
      int ma = Integer.parseInt(parts[0]);
      int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return ma > major || ma == major && mi >= minor;
    }).orElse(false);
  }

  @Override
  public String toString() {
    return root == null ? "the local RabbitMQ installation" : "the RabbitMQ root " + root;
  }
}
