package io.rabbitkit.test;

import io.rabbitkit.internal.Checks;
import java.time.Duration;
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

  /** The stream protocol's port of each node, when started with {@link #startWithStreams}. */
  private final List<Integer> streamPorts;

  private ThrowawayCluster(List<ThrowawayBroker.Local> nodes, List<Integer> streamPorts) {
    this.nodes = nodes;
    this.streamPorts = streamPorts;
  }

  /**
   * Starts {@code size} nodes and joins them into one cluster.
   *
   * @throws IllegalStateException if RabbitMQ is not installed locally or a node does not start
   */
  public static ThrowawayCluster start(int size) {
    return start(size, false);
  }

  /**
   * How long these nodes keep a single active stream consumer whose node is gone as the active
   * one ({@code stream_sac_disconnected_timeout}, 60 s by default on the broker), for nodes started
   * by {@link #startWithStreams}.
   */
  public static final Duration SAC_DISCONNECTED_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Starts {@code size} nodes with the stream protocol (each on a port of its own, advertised as
   * {@code localhost}) and joins them into one cluster, with {@link #SAC_DISCONNECTED_TIMEOUT}.
   * Local installations of RabbitMQ 3.13+ only.
   *
   * @throws org.opentest4j.TestAbortedException (the test is skipped) without one
   */
  public static ThrowawayCluster startWithStreams(int size) {
    ThrowawayBroker.requireStreams();
    return start(size, true);
  }

  private static ThrowawayCluster start(int size, boolean streams) {
    Checks.atLeastOne("size", size);
    String cookie = Long.toHexString(ThreadLocalRandom.current().nextLong()).toUpperCase() + "RABBITKIT";
    List<CompletableFuture<ThrowawayBroker.Local>> starting = new ArrayList<>();
    List<Integer> streamPorts = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      int streamPort = streams ? ThrowawayBroker.freeStreamPort(streamPorts) : -1;
      streamPorts.add(streamPort);
      List<String> conf = streams ? ThrowawayBroker.streamConf(streamPort) : List.of();
      List<String> plugins = streams ? List.of("rabbitmq_stream") : List.of();
      // A single active consumer on a node that went away keeps its partitions for this long (the
      // broker's default is 60 s, in case the node comes back from a network partition).
      String advanced = streams ? "[{rabbit, [{stream_sac_disconnected_timeout, " + SAC_DISCONNECTED_TIMEOUT.toMillis()
          + "}]}]." : "[].";
      starting.add(CompletableFuture
          .supplyAsync(() -> ThrowawayBroker.Local.start(null, cookie, conf, plugins, advanced)));
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
    ThrowawayCluster cluster = new ThrowawayCluster(nodes, streamPorts);
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

  /** The stream protocol's URI of node {@code i} (a cluster from {@link #startWithStreams}). */
  public String streamUri(int i) {
    int port = streamPorts.get(i);
    if (port < 0) {
      throw new IllegalStateException("this cluster has no stream listeners: start it with startWithStreams()");
    }
    return "rabbitmq-stream://guest:guest@localhost:" + port + "/%2f";
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
