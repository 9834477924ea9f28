package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TcpProxy;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.test.ThrowawayCluster;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The delivery guarantees under faults, on a node of the suite's own: connections force-closed,
 * TCP connections reset and black-holed through a proxy, the node stopped and killed. Each test
 * publishes persistent messages with confirms while consuming them, injects faults mid-stream, and
 * prints one line of figures: messages, re-sent, duplicates, lost, longest recovery.
 */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class FaultSuiteIT {

  record Order(String id, int n) {
  }

  private static ThrowawayBroker broker;

  @BeforeAll
  static void ownBroker(ThrowawayBroker node) {
    broker = node;
  }

  /** What one stream of messages went through. */
  static final class Stream {
    final int total;
    final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    final AtomicInteger confirmed = new AtomicInteger();
    final List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicLong resent = new AtomicLong();
    final List<CompletableFuture<Confirmation>> futures = new ArrayList<>();

    Stream(int total) {
      this.total = total;
    }

    int duplicates() {
      return handled.values().stream().mapToInt(c -> c.get() - 1).sum();
    }
  }

  /**
   * Publishes {@code total} messages to {@code queue} while consuming them; when publishing
   * passes each of {@code at} (fractions of the total), starts the next fault on another thread
   * (one fault at a time), so that publishing and consuming go on while it happens. Returns once
   * every fault is over, every future has completed and every confirmed message has been handled.
   */
  private static Stream run(String label, RabbitToolkit rabbit, String queue, int total, boolean idempotent,
      double[] at, Runnable fault) throws Exception {
    return run(label, rabbit, queue, total, idempotent, at, fault, false);
  }

  /**
   * As above; with {@code inline}, the publishing thread runs each fault itself, so the fault
   * strikes with the in-flight window full and publishing resumes only after it (for faults that
   * take longer than publishing the rest of the stream, such as restarting the node).
   */
  private static Stream run(String label, RabbitToolkit rabbit, String queue, int total, boolean idempotent,
      double[] at, Runnable fault, boolean inline) throws Exception {
    Stream s = new Stream(total);
    MessageConsumer.Builder<Order> cb = rabbit.consumerBuilder(Order.class).queue(queue).prefetch(200)
        .handler(d -> s.handled.computeIfAbsent(d.body().id(), k -> new AtomicInteger()).incrementAndGet());
    if (idempotent) {
      cb.deduplicate(ProcessedMessages.inMemory(total, Duration.ofMinutes(10)));
    }
    try (MessageConsumer consumer = cb.build();
        Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).messageId(Order::id)
            .confirmTimeout(Duration.ofSeconds(60)).windowTimeout(Duration.ofSeconds(60)).build()) {
      int nextFault = 0;
      CompletableFuture<Void> faults = CompletableFuture.completedFuture(null);
      for (int i = 0; i < total; i++) {
        if (nextFault < at.length && i >= at[nextFault] * total) {
          nextFault++;
          if (inline) {
            fault.run();
          } else {
            faults = faults.thenRunAsync(fault);
          }
        }
        CompletableFuture<Confirmation> f = p.publish(new Order("m" + i, i));
        f.whenComplete((c, e) -> {
          if (e == null) {
            s.confirmed.incrementAndGet();
          } else {
            s.failures.add(e);
          }
        });
        s.futures.add(f);
      }
      faults.get(3, TimeUnit.MINUTES);
      CompletableFuture.allOf(s.futures.toArray(CompletableFuture[]::new)).handle((v, e) -> null)
          .get(3, TimeUnit.MINUTES);
      assertTrue(s.futures.stream().allMatch(CompletableFuture::isDone), "every future completed");
      Await.until(Duration.ofMinutes(3), "every confirmed message handled",
          () -> s.handled.size() >= s.confirmed.get() && confirmedAllHandled(s));
      Await.until(Duration.ofSeconds(30), "consumer running again", consumer::isRunning);
      if (idempotent) {
        assertEquals(0, s.duplicates(), "the handler saw each message once");
      }
      s.resent.set(rabbit.health().publishers().stream().mapToLong(Health.PublisherStatus::resent).sum());
      long skipped = consumer.stats().duplicates();
      report(label, rabbit, s, skipped);
    }
    return s;
  }

  private static boolean confirmedAllHandled(Stream s) {
    return lost(s) == 0;
  }

  /** Messages whose future did not fail but which the handler has not seen (yet). */
  private static long lost(Stream s) {
    long lost = 0;
    for (int i = 0; i < s.total; i++) {
      if (!s.futures.get(i).isCompletedExceptionally() && !s.handled.containsKey("m" + i)) {
        lost++;
      }
    }
    return lost;
  }

  private static void report(String label, RabbitToolkit rabbit, Stream s, long skippedDuplicates) {
    long lost = lost(s);
    Duration longest = rabbit.health().connections().stream().map(Health.ConnectionStatus::longestRecovery)
        .max(Duration::compareTo).orElse(Duration.ZERO);
    System.out.printf("FIGURES %s: messages=%d confirmed=%d failed=%d resent=%d duplicates_before_dedup=%d "
        + "duplicates_handled=%d lost=%d longest_recovery_ms=%d%n", label, s.total, s.confirmed.get(),
        s.failures.size(), s.resent.get(), s.duplicates() + skippedDuplicates, s.duplicates(), lost,
        longest.toMillis());
    assertEquals(0, lost, "confirmed but never handled");
  }

  private static RabbitToolkit.Builder toolkit() {
    return RabbitToolkit.builder().uri(broker.uri()).recoveryInterval(Duration.ofMillis(250));
  }

  private static String queue(String name) {
    return "suite." + name + "." + Long.toHexString(System.nanoTime());
  }

  @Test
  void forceClosingAllConnectionsFiveTimesLosesNothingAndIdempotentModeHandlesEachOnce() throws Exception {
    try (RabbitToolkit rabbit = toolkit().connectionName("suite-close").connect()) {
      String queue = queue("close");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Stream s = run("6 forced connection closes, idempotent consumer", rabbit, queue, 100_000, true,
          new double[]{0.1, 0.25, 0.4, 0.55, 0.7, 0.85},
          broker::closeAllConnections);
      assertEquals(100_000, s.confirmed.get(), "every publish confirmed, re-sent where needed: " + s.failures);
      assertEquals(100_000, s.handled.size());
      assertTrue(rabbit.health().connections().stream().allMatch(c -> c.recoveries() >= 6), rabbit.health().toString());
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void resetAndBlackHoledConnectionsAreDetectedByHeartbeatsAndRecovered() throws Exception {
    try (TcpProxy proxy = TcpProxy.to("127.0.0.1", broker.port());
        RabbitToolkit rabbit = toolkit().host("127.0.0.1").port(proxy.port()).heartbeat(Duration.ofSeconds(1))
            .connectionTimeout(Duration.ofSeconds(2)).connectionName("suite-proxy").connect()) {
      String queue = queue("proxy");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      AtomicInteger step = new AtomicInteger();
      Stream s = run("TCP reset, then 5 s black hole", rabbit, queue, 20_000, false, new double[]{0.3, 0.6}, () -> {
        if (step.getAndIncrement() == 0) {
          proxy.reset();
        } else {
          proxy.blackHole();
          sleep(5_000); // nothing fails; only missing heartbeats tell
          proxy.restore();
        }
      });
      assertEquals(20_000, s.confirmed.get(), "every publish confirmed: " + s.failures);
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void aNodeStoppedGracefullyAndKilledLosesNoConfirmedMessageInClassicOrQuorumQueues() throws Exception {
    assumeTrue(ThrowawayBroker.localNodesAvailable(), "needs a local RabbitMQ installation");
    try (RabbitToolkit rabbit = toolkit().connectionName("suite-restart").connect()) {
      for (Queue q : List.of(Queue.classic(queue("restart-classic")), Queue.quorum(queue("restart-quorum")))) {
        rabbit.declare(Topology.of(q));
        AtomicInteger step = new AtomicInteger();
        Stream s = run("node stopped, then killed (" + q.type().brokerName() + " queue)", rabbit, q.name(), 20_000,
            false, new double[]{0.3, 0.6}, () -> {
              if (step.getAndIncrement() == 0) {
                broker.stopNode();
                broker.startNode();
              } else {
                broker.kill();
                broker.startNode();
              }
            }, true);
        assertTrue(s.confirmed.get() > 0);
        rabbit.deleteQueue(q.name());
      }
    }
  }

  @Test
  void publishersWaitOutAMemoryAlarmAndResumeWhenItClearsLosingNothing() throws Exception {
    try (RabbitToolkit rabbit = toolkit().connectionName("suite-alarm").connect()) {
      String queue = queue("alarm");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      List<Boolean> sawBlocked = new java.util.concurrent.CopyOnWriteArrayList<>();
      List<CompletableFuture<Confirmation>> probes = new ArrayList<>();
      try (Publisher<Order> probe = rabbit.publisherBuilder(Order.class).routingKey(queue).build()) {
        Stream s = run("memory alarm for 3 s", rabbit, queue, 20_000, false, new double[]{0.05}, () -> {
          broker.raiseMemoryAlarm();
          try {
            // A publish after the alarm makes the broker block the (shared) publishing connection, however
            // far the stream has got by now.
            probes.add(probe.publish(new Order("probe", -1)));
            Await.until(Duration.ofSeconds(20), "publishing connection blocked", rabbit::isBlocked);
            sawBlocked.add(rabbit.health().connections().stream().anyMatch(c -> c.state() == Health.State.BLOCKED));
            sleep(3_000);
          } finally {
            broker.clearMemoryAlarm();
          }
        });
        probes.get(0).get(30, TimeUnit.SECONDS);
        assertEquals(20_000, s.confirmed.get(), "every publish confirmed after the alarm cleared: " + s.failures);
      }
      assertEquals(List.of(true), sawBlocked, "health showed the blocked connection");
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void rpcCallsInFlightFailWithATypedErrorOnConnectionLossAndCallsWorkAgainAfterRecovery() throws Exception {
    try (RabbitToolkit rabbit = toolkit().connectionName("suite-rpc").connect()) {
      String queue = queue("rpc");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      java.util.concurrent.CountDownLatch connectionsClosed = new java.util.concurrent.CountDownLatch(1);
      try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue).handler(r -> {
        if (r.startsWith("slow")) {
          connectionsClosed.await(30, TimeUnit.SECONDS); // still working when the connection dies
        }
        return r.toUpperCase();
      }).build();
          RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
              .timeout(Duration.ofSeconds(30)).build()) {
        assertEquals("FAST", client.call("fast").get(10, TimeUnit.SECONDS));
        CompletableFuture<String> inFlight = client.call("slow");
        Thread.sleep(300);
        long lostAt = System.nanoTime();
        broker.closeAllConnections();
        connectionsClosed.countDown();
        Throwable e = Await.failure(inFlight, Duration.ofSeconds(30));
        assertTrue(e instanceof ConnectionException, "typed failure, not a hang or a timeout: " + e);
        long failedAfterMs = (System.nanoTime() - lostAt) / 1_000_000;
        Await.until(Duration.ofSeconds(30), "reconnected", rabbit::isConnected);
        String again = Await.until(Duration.ofSeconds(30), () -> {
          try {
            return client.call("again").get(5, TimeUnit.SECONDS);
          } catch (Exception retry) {
            return null; // the reply subscription may still be coming back
          }
        }, "AGAIN"::equals);
        assertEquals("AGAIN", again);
        System.out.println("FIGURES rpc: in-flight call failed " + failedAfterMs + " ms after the connection loss with "
            + e.getClass().getSimpleName() + "; calls work again after recovery");
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void whileTheNodeIsDownPublishingWaitsByDefaultOrFailsAtOnceWhenConfiguredTo() throws Exception {
    assumeTrue(ThrowawayBroker.localNodesAvailable(), "needs a local RabbitMQ installation");
    try (RabbitToolkit rabbit = toolkit().connectionName("suite-down").connect()) {
      String queue = queue("down");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Set<String> consumed = ConcurrentHashMap.newKeySet();
      try (
          MessageConsumer c =
              rabbit.consumerBuilder(String.class).queue(queue).handler(d -> consumed.add(d.body())).build();
          Publisher<String> waiting = rabbit.publisherBuilder(String.class).routingKey(queue).build();
          Publisher<String> failing = rabbit.publisherBuilder(String.class).routingKey(queue)
              .failWhileDisconnected(true).build()) {
        broker.stopNode();
        boolean restarted = false;
        try {
          Await.until(Duration.ofSeconds(10), "connection lost", () -> !rabbit.isConnected());
          Throwable e = Await.failure(failing.publish("refused"), Duration.ofSeconds(2));
          assertTrue(e instanceof PublishException && e.getCause() instanceof ConnectionException, e.toString());
          CompletableFuture<Confirmation> parked = waiting.publish("waited");
          Thread.sleep(500);
          assertTrue(!parked.isDone(), "waits for the connection");
          broker.startNode();
          restarted = true;
          parked.get(30, TimeUnit.SECONDS);
          Await.until(Duration.ofSeconds(30), "consumed after recovery", () -> consumed.contains("waited"));
          assertTrue(!consumed.contains("refused"));
        } finally {
          if (!restarted) {
            broker.startNode(); // leave the node up for the other tests
          }
        }
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void inAThreeNodeClusterKillingTheClientsNodeAndThenTheQuorumLeaderLosesNoConfirmedMessage() throws Exception {
    assumeTrue(ThrowawayBroker.localNodesAvailable(), "needs a local RabbitMQ installation");
    try (ThrowawayCluster cluster = ThrowawayCluster.start(3);
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(cluster.uri()).recoveryInterval(Duration.ofMillis(250))
            .connectionName("suite-cluster").connect()) {
      String queue = queue("cluster");
      rabbit.declare(Topology.of(Queue.quorum(queue)));
      List<CompletableFuture<Void>> restarts = new ArrayList<>();
      List<String> killed = new ArrayList<>();
      AtomicInteger step = new AtomicInteger();
      Stream s = run("3-node cluster: client's node killed, then the quorum leader", rabbit, queue, 20_000, false,
          new double[]{0.3, 0.6}, () -> {
            restarts.forEach(CompletableFuture::join); // keep a quorum: two of three nodes up before the next kill
            int victim =
                step.getAndIncrement() == 0 ? cluster.nodeOf("suite-cluster/publisher") : cluster.leaderOf(queue);
            assertTrue(victim >= 0,
                () -> "found no node to kill in:\n" + cluster.ctl(2, "list_connections", "pid", "name")
                    + "\n" + cluster.ctl(2, "list_queues", "name", "leader"));
            killed.add((step.get() == 1 ? "client's node " : "leader ") + cluster.nodeName(victim));
            cluster.kill(victim);
            // Publishing and consuming go on through the other nodes while this one boots again.
            restarts.add(CompletableFuture.runAsync(() -> cluster.startNode(victim)));
          });
      restarts.forEach(CompletableFuture::join);
      System.out.println("FIGURES cluster: killed " + killed);
      assertEquals(20_000, s.confirmed.get(), "every publish confirmed: " + s.failures);
      rabbit.deleteQueue(queue);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
