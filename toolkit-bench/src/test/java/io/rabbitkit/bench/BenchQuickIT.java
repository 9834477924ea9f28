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
import io.rabbitkit.test.ThrowawayBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    assertEquals(
        List.of("publish-confirm", "consume-ack", "end-to-end", "rpc", "rpc-16", "stream-consume",
            "observed-end-to-end",
            "observation-cost", "outbox"),
        lines.stream().map(l -> l.get("workload")).toList(), printed);
    assertEquals(lines.size(), json.size(), printed);

    ObjectMapper mapper = new ObjectMapper();
    for (String line : json) {
      JsonNode n = mapper.readTree(line);
      String workload = n.get("workload").asText();
      if (workload.equals("observation-cost")) {
        // No broker, no raw side: what each part costs per message over none, and bytes per variant.
        for (String key : List.of("metrics_us_per_msg", "tracing_us_per_msg", "all_us_per_msg",
            "bridge_floor_us_per_msg",
            "unsampled_us_per_msg", "untraced_us_per_msg", "otel_native_us_per_msg")) {
          assertTrue(n.path(key).isNumber(), key + " in " + line);
        }
        assertTrue(n.get("tracing_alloc_bytes_per_msg").asDouble() > n.get("off_alloc_bytes_per_msg").asDouble(),
            "two spans a message allocate more than none: " + line);
        // Spans sampled out are not recorded, and a do-nothing handler makes no span at all.
        assertTrue(n.get("untraced_alloc_bytes_per_msg").asDouble() < n.get("unsampled_alloc_bytes_per_msg").asDouble()
            && n.get("unsampled_alloc_bytes_per_msg").asDouble() < n.get("tracing_alloc_bytes_per_msg").asDouble(),
            line);
        continue;
      }
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
      for (String key : List.of("client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "cpu_ratio")) {
        assertTrue(n.path(key).isNumber() && n.get(key).asDouble() > 0, workload + ": " + key + " in " + line);
      }
      assertEquals(n.get("client_cpu_us_per_msg_toolkit").asDouble() / n.get("client_cpu_us_per_msg_raw").asDouble(),
          n.get("cpu_ratio").asDouble(), 0.01, line);
      for (String key : List.of("commit_only_per_s", "commit_to_confirm_p50_ms", "commit_to_confirm_p99_ms")) {
        assertEquals(workload.equals("outbox"), n.path(key).isNumber() && n.get(key).asDouble() > 0,
            workload + ": " + key + " in " + line);
      }
    }
    for (Map<String, Object> line : lines) {
      assertFalse(rabbit.queueInfo(prefix + line.get("workload")).isPresent(), "the benchmark removes its queues");
    }
  }

  @Test
  void aFixedRateHoldsBothSidesToItAndMeasuresLatencyOnEveryWorkload(RabbitBroker broker, TestNames names)
      throws Exception {
    String prefix = names.queue("bench") + "-";
    for (String workload : List.of("consume-ack", "publish-confirm", "rpc")) {
      List<Map<String, Object>> lines =
          new Bench(broker.uri(), 300, 1, true, workload, prefix, quiet()).rate(400).run();
      assertEquals(1, lines.size(), workload);
      Map<String, Object> line = lines.get(0);
      assertEquals(400, line.get("rate"), line.toString());
      for (String side : List.of("raw", "toolkit")) {
        double perSecond = ((Number) line.get(side + "_msgs_per_s")).doubleValue();
        // 300 messages at 400/s take 0.75 s: paced, not as fast as the broker goes.
        assertTrue(perSecond > 100 && perSecond < 440, side + " at " + perSecond + "/s: " + line);
        assertTrue(((Number) line.get(side + "_p99_ms")).doubleValue() > 0, line.toString());
      }
    }
  }

  @Test
  void theSweepReportsEveryPointOnBothSidesAndDrawsItsCharts(RabbitBroker broker, TestNames names,
      @TempDir Path dir) throws Exception {
    String prefix = names.queue("bench") + "-";
    List<Map<String, Object>> lines = new Bench(broker.uri(), 400, 1, true, "sweep", prefix, quiet()).run();
    List<String> points = lines.stream().map(l -> l.get("dimension") + "=" + l.get(String.valueOf(l.get("dimension")))
        + (l.containsKey("state") ? "/" + l.get("state") : "")).toList();
    List<String> expected = new java.util.ArrayList<>(List.of("consumers=1/busy", "consumers=1/idle",
        "consumers=1/idle-after-busy", "consumers=10/busy", "consumers=10/idle", "consumers=10/idle-after-busy",
        "publishing_threads=1/busy", "publishing_threads=4/busy", "size_bytes=200/busy", "size_bytes=65536/busy"));
    if (ThrowawayBroker.canStart()) {
      expected.add("recovery=null");
    }
    assertEquals(expected, points.stream().map(p -> p.startsWith("recovery") ? "recovery=null" : p).toList());
    for (Map<String, Object> l : lines) {
      assertEquals("sweep", l.get("workload"));
      if ("busy".equals(l.get("state"))) {
        for (String key : List.of("raw_msgs_per_s", "toolkit_msgs_per_s", "cpu_ratio", "toolkit_alloc_bytes_per_msg",
            "raw_threads", "toolkit_threads", "rss_kb")) {
          assertTrue(((Number) l.get(key)).doubleValue() > 0, key + " in " + l);
        }
      }
      if ("recovery".equals(l.get("dimension"))) {
        // Every consumer came back and got a new message (-1 otherwise).
        assertTrue(((Number) l.get("toolkit_recovery_ms")).longValue() > 0, l.toString());
        assertTrue(((Number) l.get("raw_recovery_ms")).longValue() > 0, l.toString());
      }
    }
    Path report = dir.resolve("report.html");
    Report.write(report, lines, "test");
    String html = Files.readString(report);
    // Self-contained: charts inline, no script, nothing loaded from anywhere.
    assertTrue(html.contains("<svg") && !html.contains("<script") && !html.contains("src=") && !html.contains("href="),
        html);
    assertTrue(Files.exists(dir.resolve("report-consumers-throughput.svg")));
  }

  private static PrintStream quiet() {
    return new PrintStream(java.io.OutputStream.nullOutputStream());
  }
}
