package io.rabbitkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark's --quick mode, so that the benchmark code keeps working; its figures are not judged here. */
@RabbitTest
class BenchQuickIT {

  @Test
  void everyWorkloadRunsOnBothSidesAndReportsTheContractedKeys(RabbitBroker broker, TestNames names,
      RabbitToolkit rabbit) throws Exception {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    String prefix = names.queue("bench") + "-";
    List<Map<String, Object>> lines;
    try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      lines = new Bench(broker.uri(), 400, 1, true, null, prefix, out)
          .jdbcUrl("jdbc:postgresql://127.0.0.1:5432/test?user=postgres")
          .outboxSchema("bench_" + Long.toHexString(System.nanoTime())).run(); // its own, dropped after
    }
    String printed = buffer.toString(StandardCharsets.UTF_8);
    List<String> json = printed.lines().filter(l -> l.startsWith("{")).toList();
    assertEquals(List.of("publish-confirm", "consume-ack", "end-to-end", "rpc", "rpc-16", "observed-end-to-end", "outbox"),
        lines.stream().map(l -> l.get("workload")).toList(), printed);
    assertEquals(lines.size(), json.size(), printed);

    ObjectMapper mapper = new ObjectMapper();
    for (String line : json) {
      JsonNode n = mapper.readTree(line);
      String workload = n.get("workload").asText();
      for (String key : List.of("raw_msgs_per_s", "toolkit_msgs_per_s", "ratio", "raw_min", "raw_max", "toolkit_min",
          "toolkit_max")) {
        assertTrue(n.path(key).isNumber() && n.get(key).asDouble() > 0, workload + ": " + key + " in " + line);
      }
      assertTrue(n.get("raw_min").asDouble() <= n.get("raw_msgs_per_s").asDouble()
          && n.get("raw_msgs_per_s").asDouble() <= n.get("raw_max").asDouble(), line);
      assertEquals(n.get("toolkit_msgs_per_s").asDouble() / n.get("raw_msgs_per_s").asDouble(),
          n.get("ratio").asDouble(), 0.01, line);
      boolean latency = List.of("end-to-end", "rpc", "rpc-16", "observed-end-to-end").contains(workload);
      for (String key : List.of("raw_p50_ms", "raw_p99_ms", "toolkit_p50_ms", "toolkit_p99_ms")) {
        assertEquals(latency, n.has(key), workload + ": " + key + " in " + line);
      }
      for (String key : List.of("commit_only_per_s", "commit_to_confirm_p50_ms", "commit_to_confirm_p99_ms")) {
        assertEquals(workload.equals("outbox"), n.path(key).isNumber() && n.get(key).asDouble() > 0,
            workload + ": " + key + " in " + line);
      }
    }
    for (Map<String, Object> line : lines) {
      assertFalse(rabbit.queueInfo(prefix + line.get("workload")).isPresent(), "the benchmark removes its queues");
    }
  }
}
