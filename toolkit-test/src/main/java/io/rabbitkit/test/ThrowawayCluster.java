package io.rabbitkit.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A RabbitMQ cluster of local throw-away nodes (own names, ports, data and a shared Erlang cookie),
 * for quorum-queue and fail-over tests. Needs the RabbitMQ server installed locally; never touches
 * the shared broker. About 20 s to start three nodes.
 *
 * <pre>{@code
 * try (ThrowawayCluster cluster = ThrowawayCluster.start(3)) {
 *   RabbitToolkit rabbit = RabbitToolkit.connect(cluster.uri());   // all three addresses
 *   cluster.kill(cluster.nodeOf("my-app/publisher"));              // the node the client is on
 *   cluster.startNode(0);
 * }
 * }</pre>
 */
public final class ThrowawayCluster implements AutoCloseable {

  private static final Pattern PID_NODE = Pattern.compile("<([^.<>]+@[^.<>]+)\\.");

  private final List<ThrowawayBroker.Local> nodes;

  private ThrowawayCluster(List<ThrowawayBroker.Local> nodes) {
    this.nodes = nodes;
  }

  /**
   * Starts {@code size} nodes and joins them into one cluster.
   *
   * @throws IllegalStateException if RabbitMQ is not installed locally or a node does not start
   */
  public static ThrowawayCluster start(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("size must be >= 1: " + size);
    }
    String cookie = Long.toHexString(ThreadLocalRandom.current().nextLong()).toUpperCase() + "RABBITKIT";
    List<CompletableFuture<ThrowawayBroker.Local>> starting = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      starting
          .add(CompletableFuture.supplyAsync(() -> ThrowawayBroker.Local.start(null, cookie, List.of(), List.of())));
    }
    List<ThrowawayBroker.Local> nodes = new ArrayList<>();
    RuntimeException failure = null;
    for (CompletableFuture<ThrowawayBroker.Local> f : starting) {
      try {
        nodes.add(f.join());
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    ThrowawayCluster cluster = new ThrowawayCluster(nodes);
    if (failure != null) {
      cluster.close();
      throw new IllegalStateException("a cluster node did not start: " + failure.getMessage(), failure);
    }
    try {
      for (int i = 1; i < size; i++) {
        ThrowawayBroker.Local n = nodes.get(i);
        n.ctl("stop_app");
        n.ctl("join_cluster", nodes.get(0).node);
        n.ctl("start_app");
      }
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** An AMQP URI listing every node, in order. */
  public String uri() {
    return "amqp://guest:guest@" + nodes.stream().map(n -> "127.0.0.1:" + n.port).collect(Collectors.joining(","))
        + "/";
  }

  public int size() {
    return nodes.size();
  }

  /** The Erlang node name of node {@code i}. */
  public String nodeName(int i) {
    return nodes.get(i).node;
  }

  /** Runs {@code rabbitmqctl} against node {@code i}. */
  public String ctl(int i, String... args) {
    return nodes.get(i).ctl(args);
  }

  /** Kills node {@code i} with SIGKILL (a crash); its data stays for {@link #startNode}. */
  public void kill(int i) {
    nodes.get(i).kill();
  }

  /** Boots node {@code i} again after {@link #kill}; it rejoins the cluster. */
  public void startNode(int i) {
    nodes.get(i).launch();
  }

  /** The index of the node that holds the client connection named {@code connectionName}, or -1. */
  public int nodeOf(String connectionName) {
    String out = nodes.get(anyRunning()).ctl("list_connections", "pid", "client_properties");
    for (String line : out.lines().toList()) {
      if (line.contains("\"" + connectionName + "\"") || line.contains("<<\"" + connectionName + "\">>")) {
        Matcher m = PID_NODE.matcher(line);
        if (m.find()) {
          return indexOf(m.group(1));
        }
      }
    }
    return -1;
  }

  /** The index of the node that leads quorum queue {@code queue}, or -1. */
  public int leaderOf(String queue) {
    String out = nodes.get(anyRunning()).ctl("list_queues", "name", "leader");
    for (String line : out.lines().toList()) {
      String[] cols = line.split("\t");
      if (cols.length >= 2 && cols[0].equals(queue)) {
        return indexOf(cols[1].trim());
      }
    }
    return -1;
  }

  private int indexOf(String nodeName) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).node.equals(nodeName)) {
        return i;
      }
    }
    return -1;
  }

  private int anyRunning() {
    for (int i = 0; i < nodes.size(); i++) {
      try {
        nodes.get(i).ctl("status");
        return i;
      } catch (RuntimeException e) {
        // down: try the next
      }
    }
    throw new IllegalStateException("no cluster node is running");
  }

  /** Stops every node and deletes their data. */
  @Override
  public void close() {
    nodes.parallelStream().forEach(ThrowawayBroker.Local::stop);
  }
}
