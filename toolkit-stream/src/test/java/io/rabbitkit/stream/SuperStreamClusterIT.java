package io.rabbitkit.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Confirmation;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A partition leader's node killed with SIGKILL in a 3-node cluster while a producer publishes and a
 * group reads: every confirmed event is read, and the partition goes on on another node. Needs a
 * local RabbitMQ 3.13+ (the 4.3 root in CI); skipped otherwise.
 */
class SuperStreamClusterIT {

  record Event(String key, int n) {
  }

  private static final Duration WAIT = Duration.ofSeconds(120);

  @Test
  void aPartitionLeadersNodeKilledLosesNothingConfirmed() throws Exception {
    try (ThrowawayCluster cluster = ThrowawayCluster.startWithStreams(3);
        RabbitStreams streams = RabbitStreams.builder()
            .uris(cluster.streamUri(0), cluster.streamUri(1), cluster.streamUri(2)).connect();
        RabbitToolkit rabbit = RabbitToolkit.connect(cluster.uri())) {
      SuperStream s = SuperStream.of("cluster-events", 3);
      streams.declare(s);
      String victim = s.partitionNames().get(0);
      int leader = cluster.leaderOf(victim);
      assertTrue(leader >= 0, "no leader found for " + victim);

      Set<String> confirmed = ConcurrentHashMap.newKeySet();
      Set<String> read = ConcurrentHashMap.newKeySet();
      AtomicInteger failed = new AtomicInteger();
      try (ConsumerGroup group = streams.consumerGroupBuilder(Event.class).superStream(s.name()).group("readers")
          .deadLetters(rabbit).handler(d -> read.add(d.messageId().orElseThrow())).build();
          PartitionedPublisher<Event> events = streams.publisherBuilder(Event.class).superStream(s.name())
              .key(Event::key).messageId(e -> "e-" + e.n()).confirmTimeout(Duration.ofSeconds(10)).build()) {
        List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
        long killedAt = 0;
        for (int n = 0; n < 6_000; n++) {
          if (n == 2_000) {
            cluster.kill(leader);
            killedAt = System.nanoTime();
          }
          CompletableFuture<Confirmation> f = events.publish(new Event("k-" + n % 30, n));
          f.whenComplete((c, e) -> {
            if (e == null) {
              confirmed.add(c.messageId());
            } else {
              failed.incrementAndGet();
            }
          });
          sent.add(f);
          if (n % 100 == 0) {
            Thread.sleep(20); // spread the run over the kill and the leader's move
          }
        }
        for (CompletableFuture<Confirmation> f : sent) {
          f.handle((c, e) -> null).join();
        }
        double settled = (System.nanoTime() - killedAt) / 1e9;
        assertTrue(confirmed.size() > 2_000, "confirmed only " + confirmed.size());
        Await.until(WAIT, "every confirmed event read", () -> read.containsAll(confirmed));
        int newLeader = cluster.leaderOf(victim);
        System.out.printf("leader of %s on node %d killed: %d confirmed, %d failed (not confirmed), all %d read; "
            + "new leader node %d; every publish settled %.1f s and every event read %.1f s after the kill%n", victim,
            leader, confirmed.size(), failed.get(), confirmed.size(), newLeader, settled,
            (System.nanoTime() - killedAt) / 1e9);
        assertTrue(newLeader >= 0 && newLeader != leader, "the partition moved to another node: " + newLeader);
        // The broker may hand the partition over once more while the cluster settles (seen in CI: every
        // event read, then the member re-activated on the new leader and still asking for its position).
        Await.until(WAIT, "the member reads every partition again", () -> group.activePartitions().size() == 3);
      }
    }
  }
}
