package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.ThrowawayBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The partitioned examples as separate processes on a node of their own with the stream plugin:
 * 100,000 events over 50 keys through a consumer group of three processes, one killed with SIGKILL
 * and another started mid-run. Every event ends with exactly one row in partition_effects, each key's
 * rows in sequence order; no partition is ever active in two processes; the hand-over after the kill
 * is timed.
 */
class PartitionedIT {

  private static final Path JAR = Path.of("target", "toolkit-examples.jar");
  private static final int EVENTS = 100_000;
  private static final int KEYS = 50;

  /** A consumer process and the partitions it said it is active on, as seen by polling its output. */
  private static final class Member {
    final String name;
    final ChildJvm process;
    int linesSeen;
    Set<String> active = new HashSet<>();
    boolean killed;

    Member(String name, ChildJvm process) {
      this.name = name;
      this.process = process;
    }

    /** Reads new output; returns whether the active set changed. */
    boolean poll() {
      String[] lines = process.output().split("\n", -1);
      boolean changed = false;
      for (; linesSeen < lines.length - 1; linesSeen++) {
        String line = lines[linesSeen];
        if (line.startsWith(" [p] active on ")) {
          String list = line.substring(" [p] active on ".length()).strip();
          active = list.equals("no partition") ? new HashSet<>() : new HashSet<>(List.of(list.split(", ")));
          changed = true;
        }
      }
      return changed;
    }
  }

  private static long query(HikariDataSource db, String sql) throws Exception {
    try (Connection c = db.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void threeProcessesOneKilledOneAddedApplyEveryEventOnceInKeyOrder() throws Exception {
    assertTrue(Files.exists(JAR), "run after `mvn package`: " + JAR.toAbsolutePath());
    String run = Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24));
    String superStream = "orders-events-" + run;
    String group = "group-" + run;
    try (ThrowawayBroker node = ThrowawayBroker.startWithStreams();
        OwnSchema schema = new OwnSchema(OwnSchema.POSTGRES);
        HikariDataSource db = Database.pool(schema.url(), 2)) {
      String[] common = {"--uri", node.uri(), "--stream-uri", node.streamUri(), "--super-stream", superStream};
      String[] jdbc = {"--jdbc-url", schema.url(), "--schema", schema.name};
      List<String> partitions = List.of(superStream + "-0", superStream + "-1", superStream + "-2");
      List<Member> members = new ArrayList<>();
      List<String> overlaps = new ArrayList<>();
      // An overlap seen in one pass may be two lines read out of order (each child's output comes
      // through its own pipe); one that lasts five passes (50 ms and more) is real.
      Map<String, Integer> seen = new HashMap<>();
      try {
        for (int i = 1; i <= 3; i++) {
          members.add(consumer("c" + i, concat(common, jdbc), group));
        }
        for (Member m : members) {
          m.process.awaitLine(" [*] Joined group", Duration.ofSeconds(60));
        }
        try (ChildJvm producer = ChildJvm.jar(JAR, concat(common, "partitioned-producer", "--count",
            Integer.toString(EVENTS), "--keys", Integer.toString(KEYS))).start()) {
          String effects = "SELECT count(*) FROM partition_effects WHERE partition_name LIKE '" + superStream + "-%'";
          long killedAt = 0;
          double handOver = -1;
          boolean added = false;
          long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
          while (System.nanoTime() < deadline) {
            members.forEach(Member::poll);
            List<String> now = overlapping(members);
            seen.keySet().retainAll(now);
            for (String o : now) {
              if (seen.merge(o, 1, Integer::sum) == 5) {
                overlaps.add(o);
              }
            }
            long rows = tableExists(db) ? query(db, effects) : 0;
            if (killedAt == 0 && rows >= 30_000) {
              Member victim = members.stream().filter(m -> !m.active.isEmpty()).findFirst().orElseThrow();
              victim.process.kill(); // SIGKILL: its partitions must move without it saying goodbye
              victim.killed = true;
              killedAt = System.nanoTime();
            }
            if (killedAt != 0 && handOver < 0 && covered(members, partitions)) {
              handOver = (System.nanoTime() - killedAt) / 1e9;
            }
            if (killedAt != 0 && !added && rows >= 60_000) {
              members.add(consumer("c4", concat(common, jdbc), group));
              added = true;
            }
            if (rows >= EVENTS) {
              break;
            }
            Thread.sleep(10);
          }
          assertEquals(0, producer.waitFor(Duration.ofSeconds(60)), producer.output());
          Thread.sleep(2_000); // a duplicate would arrive meanwhile
          String where = " WHERE partition_name LIKE '" + superStream + "-%'";
          long total = query(db, "SELECT count(*) FROM partition_effects" + where);
          long distinct = query(db, "SELECT count(DISTINCT (event_key, seq)) FROM partition_effects" + where);
          long outOfOrder = query(db, "SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY event_key "
              + "ORDER BY id) AS before FROM partition_effects" + where
              + ") s WHERE before IS NOT NULL AND seq <> before + 1");
          System.out.printf("FIGURES super stream: %d events over %d keys, 3 consumer processes, one killed and one "
              + "added; %d rows, %d distinct, %d out of order; partitions handed over %.1f s after the kill%n",
              EVENTS, KEYS, total, distinct, outOfOrder, handOver);
          assertEquals(EVENTS, distinct, "every event applied");
          assertEquals(EVENTS, total, "no event applied twice");
          assertEquals(0, outOfOrder, "each key's events in order");
          assertTrue(handOver >= 0, "the killed member's partitions never moved");
          assertTrue(overlaps.isEmpty(), "a partition active in two processes: " + overlaps);
        }
      } finally {
        for (Member m : members) {
          m.process.close();
        }
      }
    }
  }

  private static Member consumer(String name, String[] common, String group) {
    return new Member(name, ChildJvm.jar(JAR, concat(common, "partitioned-consumer", "--group", group))
        .jvmOptions("-Xmx256m").start());
  }

  /** Partitions two live processes claim at once (a killed one claims nothing). */
  private static List<String> overlapping(List<Member> members) {
    Map<String, String> owner = new HashMap<>();
    List<String> both = new ArrayList<>();
    for (Member m : members) {
      if (m.killed) {
        continue;
      }
      for (String p : m.active) {
        String other = owner.putIfAbsent(p, m.name);
        if (other != null) {
          both.add(p + " in " + other + " and " + m.name);
        }
      }
    }
    return both;
  }

  private static boolean covered(List<Member> members, List<String> partitions) {
    Set<String> all = new HashSet<>();
    members.stream().filter(m -> !m.killed).forEach(m -> all.addAll(m.active));
    return all.containsAll(partitions);
  }

  private static boolean tableExists(HikariDataSource db) throws Exception {
    return query(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'partition_effects'"
        + " AND table_schema = current_schema()") > 0;
  }

  private static String[] concat(String[] common, String... args) {
    String[] all = new String[args.length + common.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(common, 0, all, args.length, common.length);
    return all;
  }
}
