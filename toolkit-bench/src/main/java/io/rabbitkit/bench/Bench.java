package io.rabbitkit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs each workload with the raw amqp-client and with the toolkit, alternating in pairs whose order
 * flips (raw, toolkit, toolkit, raw, raw...) after a warm-up, in one JVM against one broker, and
 * reports medians and ratios.
 *
 * <pre>java -jar toolkit-bench/target/toolkit-bench.jar [--quick] [--messages N] [--repeats R] [--rate R] [--sweep]</pre>
 */
public final class Bench {

  static final String USAGE =
      """
          usage: java -jar toolkit-bench/target/toolkit-bench.jar [--quick] [--messages N] [--repeats R] [--uri URI]
            --quick       small counts, one repeat: a smoke test that takes seconds
            --messages N  messages per run (default 50000; RPC makes N/10 calls; with --rate, 10 s worth)
            --repeats R   timed runs per side and workload (default 5), after one warm-up run each
            --uri URI     broker (default: $RABBITMQ_URI, else amqp://guest:guest@localhost:5672/)
            --only NAME   run one workload (publish-confirm, consume-ack, end-to-end, rpc, rpc-16,
                          stream-consume, super-stream (publish and consume), observed-end-to-end, observation-cost, outbox; soak,
                          outage and sweep
                          run only when named)
            --rate R      fixed rate: every workload publishes (or calls) R messages a second on both
                          sides and reports CPU per message and latency at that rate (consume-ack is
                          fed at R by a publisher the measurement does not count)
            --sweep       the scale sweep: consumers 1-1000 (busy, idle), publishing threads 1-16,
                          message sizes 200 B-1 MB, recovery of 1,000 consumers (= --only sweep)
            --report FILE the HTML report with the workload table and the sweep charts
                          (default bench-report.html; the charts also as FILE-<chart>.svg)
            --report-from F  only draw the report, from the JSON lines a run printed (saved in F)
            --soak-minutes M  length of the soak (default 10); its rate is --rate (default 500)
            --stream-uri U  the stream protocol for the super-stream workload (default: $RABBITMQ_STREAM_URI, else
                          the broker's host on port 5552); without one that answers, the workload is skipped
            --jdbc-url U  PostgreSQL, MySQL or MariaDB (jdbc:mariadb://...) for the outbox workload (default
                      jdbc:postgresql://localhost:5432/test?user=postgres);
                          without one that answers, the outbox workload is skipped
          """;

  /** A workload and how to run it once on one side. */
  private record Workload(String name, int count, boolean latency, Run run, boolean stream) {
    Workload(String name, int count, boolean latency, Run run) {
      this(name, count, latency, run, false);
    }
  }

  @FunctionalInterface
  private interface Run {
    Measurement.Timed on(Side side, String queue, int count, Pace pace, Latencies latencies) throws Exception;
  }

  private final int messages;
  private final int repeats;
  private final boolean quick;
  private final String only;
  private final String queuePrefix;
  private final ConnectionFactory factory = new ConnectionFactory();
  private final String uri;
  private final ObjectMapper json = new ObjectMapper();
  private final PrintStream out;
  private String jdbcUrl = "jdbc:postgresql://localhost:5432/test?user=postgres";
  private String outboxSchema = OutboxSide.DEFAULT_SCHEMA;
  private String streamUri;
  private int rate;
  private Connection feeder;

  Bench(String uri, int messages, int repeats, boolean quick, String only, String queuePrefix, PrintStream out)
      throws Exception {
    this.uri = uri;
    this.only = only;
    this.queuePrefix = queuePrefix;
    this.messages = messages;
    this.repeats = repeats;
    this.quick = quick;
    this.out = out;
    factory.setUri(uri);
    if (factory.getVirtualHost().isEmpty()) {
      factory.setVirtualHost("/"); // "amqp://host/" means the default virtual host, as for the toolkit
    }
  }

  public static void main(String[] args) throws Exception {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    boolean quick = false;
    Integer messages = null;
    Integer repeats = null;
    String only = null;
    String jdbcUrl = null;
    String streamUri = null;
    int soakMinutes = 10;
    Integer rate = null;
    String report = "bench-report.html";
    String reportFrom = null;
    String env = System.getenv("RABBITMQ_URI");
    String uri = env == null || env.isBlank() ? "amqp://guest:guest@localhost:5672/" : env;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--messages" -> messages = positive(args, ++i);
        case "--repeats" -> repeats = positive(args, ++i);
        case "--uri" -> uri = value(args, ++i);
        case "--only" -> only = value(args, ++i);
        case "--jdbc-url" -> jdbcUrl = value(args, ++i);
        case "--stream-uri" -> streamUri = value(args, ++i);
        case "--soak-minutes" -> soakMinutes = positive(args, ++i);
        case "--rate" -> rate = positive(args, ++i);
        case "--sweep" -> only = "sweep";
        case "--report" -> report = value(args, ++i);
        case "--report-from" -> reportFrom = value(args, ++i);
        case "--help", "-h" -> {
          System.out.print(USAGE);
          return;
        }
        default -> {
          System.err.print("unknown option " + args[i] + "\n" + USAGE);
          System.exit(2);
        }
      }
    }
    try { // the observed workloads' settings, checked before anything runs
      Observability.Tracing.fromProperty();
      Observability.sampling();
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    }
    if (reportFrom != null) {
      ObjectMapper mapper = new ObjectMapper();
      List<Map<String, Object>> saved = new ArrayList<>();
      for (String line : java.nio.file.Files.readAllLines(Path.of(reportFrom))) {
        if (line.startsWith("{")) {
          saved.add(mapper.readValue(line, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {
          }));
        }
      }
      Report.write(Path.of(report), saved, "drawn from " + Path.of(reportFrom).getFileName());
      System.out.println("report: " + Path.of(report).toAbsolutePath());
      return;
    }
    if ("soak".equals(only) || "outage".equals(only)) {
      Soak soak = new Soak(System.out);
      int soakRate = rate != null ? rate : 500;
      Map<String, Object> line = "soak".equals(only) ? soak.soak(uri, "rabbitkit-bench-soak", soakMinutes, soakRate)
          : soak.outage(soakRate);
      System.out.println(new ObjectMapper().writeValueAsString(line));
      return;
    }
    int defaultMessages = quick ? 2_000 : rate != null ? rate * 10 : 50_000;
    Bench bench = new Bench(uri, messages != null ? messages : defaultMessages,
        repeats != null ? repeats : quick ? 1 : 5, quick, only, "rabbitkit-bench-", System.out);
    if (jdbcUrl != null) {
      bench.jdbcUrl(jdbcUrl);
    }
    if (streamUri != null) {
      bench.streamUri(streamUri);
    }
    if (rate != null) {
      bench.rate(rate);
    }
    List<Map<String, Object>> lines = bench.run();
    Report.write(Path.of(report), lines, bench.describe());
    System.out.println("report: " + Path.of(report).toAbsolutePath());
  }

  /** Runs every workload at {@code perSecond} messages a second instead of as fast as it goes. */
  Bench rate(int perSecond) {
    this.rate = perSecond;
    return this;
  }

  /** One line on how and where this run was made, for the report. */
  String describe() {
    return String.format(Locale.ROOT, "%d messages per run, %d repeat(s) per side, %s, %d cores, Java %s",
        messages, repeats, rate > 0 ? "fixed rate " + rate + " msg/s" : "saturation",
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));
  }

  /** Sets the stream protocol's URI of the super-stream workload. */
  Bench streamUri(String uri) {
    this.streamUri = uri;
    return this;
  }

  /** {@code --stream-uri}, else {@code RABBITMQ_STREAM_URI}, else the AMQP broker's host on port 5552. */
  private String streamUri() {
    if (streamUri != null) {
      return streamUri;
    }
    String env = System.getenv("RABBITMQ_STREAM_URI");
    if (env != null && !env.isBlank()) {
      return env;
    }
    String host = factory.getHost();
    return "rabbitmq-stream://" + factory.getUsername() + ":" + factory.getPassword() + "@" + host + ":5552/%2f";
  }

  /** Sets the database of the outbox workload. */
  Bench jdbcUrl(String url) {
    this.jdbcUrl = url;
    return this;
  }

  /** Sets the schema of the outbox workload (created and dropped by it). */
  Bench outboxSchema(String schema) {
    this.outboxSchema = schema;
    return this;
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      System.err.print(args[i - 1] + " needs a value\n" + USAGE);
      System.exit(2);
    }
    return args[i];
  }

  private static int positive(String[] args, int i) {
    String v = value(args, i);
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    System.err.print(args[i - 1] + " needs a positive whole number, not '" + v + "'\n" + USAGE);
    System.exit(2);
    return 0;
  }

  List<Map<String, Object>> run() throws Exception {
    boolean paced = rate > 0;
    List<Workload> workloads = List.of(
        new Workload("publish-confirm", messages, paced,
            (s, q, n, p, l) -> s.publishConfirm(q, n, p, paced ? l : null)),
        new Workload("consume-ack", messages, paced, (s, q, n, p, l) -> {
          if (paced) {
            return s.consumeAck(q, n, () -> feed(q, n), l);
          }
          prefill(q, n);
          return s.consumeAck(q, n, null, null);
        }),
        new Workload("end-to-end", messages, true, (s, q, n, p, l) -> s.endToEnd(q, n, p, l)),
        new Workload("rpc", paced ? messages : Math.max(1, messages / 10), true,
            (s, q, n, p, l) -> s.rpc(q, n, 1, p, l)),
        new Workload("rpc-16", paced ? messages : Math.max(16, messages / 5), true,
            (s, q, n, p, l) -> s.rpc(q, n, 16, p, l)));
    out.printf(Locale.ROOT, "rabbitkit benchmark: %s, broker %s%n", describe(), redacted(uri));
    List<Map<String, Object>> lines = new ArrayList<>();
    ConnectionFactory feeding = factory.clone();
    AtomicInteger feederThreads = new AtomicInteger();
    feeding.setThreadFactory(r -> new Thread(r, Measurement.UNCOUNTED + "-" + feederThreads.incrementAndGet()));
    try (Connection admin = factory.newConnection("bench-admin");
        Connection feederConnection = feeding.newConnection("bench-feeder");
        RawSide raw = new RawSide(factory);
        ToolkitSide toolkit = new ToolkitSide(uri)) {
      this.feeder = feederConnection;
      Channel ch = admin.createChannel();
      if ("sweep".equals(only)) {
        lines.addAll(new Sweep(factory, feederConnection, uri, queuePrefix, quick, repeats, out).run(ch));
      }
      for (Workload w : workloads) {
        if (only != null && !only.equals(w.name())) {
          continue;
        }
        lines.add(onFreshQueue(ch, w.name(), queue -> measure(w, queue, ch, raw, toolkit)));
      }
      if (!paced && (only == null || only.equals("stream-consume"))) {
        // A stream is read, not consumed away: filled once, then every run reads it from the first event.
        Workload w = new Workload("stream-consume", messages, false, (s, q, n, p, l) -> s.streamConsume(q, n), true);
        lines.add(onFreshStream(ch, w.name(), messages, stream -> measure(w, stream, ch, raw, toolkit)));
      }
      if (!paced && (only == null || only.equals("super-stream"))) {
        try (SuperStreamSides sides = SuperStreamSides.open(streamUri(), uri, queuePrefix, out)) {
          if (sides != null) {
            Workload publish = new Workload("super-stream-publish", messages, false,
                (s, q, n, p, l) -> s == raw ? sides.rawPublish(n) : sides.toolkitPublish(n), true);
            lines.add(measure(publish, "super-stream", ch, raw, toolkit));
            Workload consume = new Workload("super-stream-consume", messages, false,
                (s, q, n, p, l) -> s == raw ? sides.rawConsume(n) : sides.toolkitConsume(n), true);
            lines.add(measure(consume, "super-stream", ch, raw, toolkit));
          }
        }
      }
      if (only == null || only.equals("observed-end-to-end")) {
        try (Observability observability = Observability.fromProperties();
            ToolkitSide observed = new ToolkitSide(uri, "bench-observed", observability.interceptors)) {
          // Both sides are the toolkit: "raw" is the toolkit without metrics and tracing, ratio = on/off.
          Map<String, Object> line = onFreshQueue(ch, "observed-end-to-end", queue -> measure(new Workload(
              "observed-end-to-end", messages, true, (s, q, n, p, l) -> s.endToEnd(q, n, p, l)), queue, ch, toolkit,
              observed));
          line.put("baseline", "toolkit without metrics and tracing"); // so cpu_ratio is on/off
          line.put("spans_exported", observability.exportedSpans.get());
          lines.add(line);
        }
      }
      if (only == null || only.equals("observed-end-to-end") || only.equals("observation-cost")) {
        Map<String, Object> cost = ObservationCost.measure(quick ? 2_000 : 50_000);
        out.printf(Locale.ROOT,
            "observation-cost us/msg over none, one publish and one delivery in a loop: metrics %s, "
                + "tracing %s, both %s; Micrometer's bridge and the SDK alone (no key values, no scope) %s; tracing with "
                + "every trace sampled out %s; the Observation API without a tracer %s; the same spans on the "
                + "OpenTelemetry API, no bridge %s; toolkit-opentelemetry %s, with one trace in ten %s%n",
            cost.get("metrics_us_per_msg"), cost.get("tracing_us_per_msg"), cost.get("all_us_per_msg"),
            cost.get("bridge_floor_us_per_msg"), cost.get("unsampled_us_per_msg"), cost.get("untraced_us_per_msg"),
            cost.get("otel_native_us_per_msg"), cost.get("otel_module_us_per_msg"),
            cost.get("otel_module_sampled_10_us_per_msg"));
        lines.add(cost);
      }
      if (paced && (only == null || only.equals("outbox"))) {
        out.println(
            "outbox           not run with --rate: its line always measures commit-to-confirm at 1,000 orders/s");
      } else if (only == null || only.equals("outbox")) {
        try (OutboxSide outbox = OutboxSide.open(jdbcUrl, uri, outboxSchema, out)) {
          if (outbox != null) {
            lines.add(onFreshQueue(ch, "outbox", queue -> measureOutbox(outbox, queue, ch, raw, toolkit)));
          }
        }
      }
    }
    out.println();
    for (Map<String, Object> line : lines) {
      out.println(json.writeValueAsString(line));
    }
    return lines;
  }

  @FunctionalInterface
  private interface OnQueue {
    Map<String, Object> run(String queue) throws Exception;
  }

  /** Runs {@code body} on a durable queue of the workload's name, declared empty before and deleted after. */
  private Map<String, Object> onFreshQueue(Channel ch, String workload, OnQueue body) throws Exception {
    String queue = queuePrefix + workload;
    ch.queueDelete(queue);
    ch.queueDeclare(queue, true, false, false, null);
    try {
      return body.run(queue);
    } finally {
      ch.queueDelete(queue);
    }
  }

  /** Runs {@code body} on a stream of the workload's name holding {@code n} samples, deleted after. */
  private Map<String, Object> onFreshStream(Channel ch, String workload, int n, OnQueue body) throws Exception {
    String stream = queuePrefix + workload;
    ch.queueDelete(stream);
    ch.queueDeclare(stream, true, false, false, Map.of("x-queue-type", "stream"));
    try {
      prefill(stream, n);
      return body.run(stream);
    } finally {
      ch.queueDelete(stream);
      ch.queueDelete(stream + ".dlq"); // the toolkit side's dead-letter queue
    }
  }

  private Map<String, Object> measure(Workload w, String queue, Channel admin, Side raw, Side toolkit)
      throws Exception {
    // A full run per side: after half a run the JIT was still compiling through the first timed pair.
    int warmUp = Math.max(1, quick ? w.count() / 4 : w.count());
    for (Side side : List.of(raw, toolkit)) {
      w.run().on(side, queue, warmUp, Pace.of(rate), new Latencies(warmUp));
      if (!w.stream()) {
        admin.queuePurge(queue);
      }
    }
    double[][] perSecond = new double[2][repeats];
    double[][] p50 = new double[2][repeats];
    double[][] p99 = new double[2][repeats];
    double[][] alloc = new double[2][repeats];
    double[][] cpu = new double[2][repeats];
    for (int r = 0; r < repeats; r++) {
      Side[] sides = {raw, toolkit};
      // raw, toolkit, toolkit, raw, raw, ...: drift during the repeats (the JIT still compiling, the
      // machine slowing down or speeding up) falls on both sides alike instead of on the one that
      // always ran first.
      for (int i = 0; i < 2; i++) {
        int s = r % 2 == 0 ? i : 1 - i;
        Latencies latencies = new Latencies(w.count());
        System.gc();
        Measurement.Timed t = w.run().on(sides[s], queue, w.count(), Pace.of(rate), latencies);
        if (!w.stream()) {
          admin.queuePurge(queue);
        }
        perSecond[s][r] = t.perSecond();
        alloc[s][r] = t.allocPerMessage();
        cpu[s][r] = t.cpuMicrosPerMessage();
        p50[s][r] = latencies.percentileMillis(50);
        p99[s][r] = latencies.percentileMillis(99);
      }
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("workload", w.name());
    line.put("raw_msgs_per_s", round(median(perSecond[0])));
    line.put("toolkit_msgs_per_s", round(median(perSecond[1])));
    line.put("ratio", Math.round(median(perSecond[1]) / median(perSecond[0]) * 1000) / 1000.0);
    line.put("raw_min", round(min(perSecond[0])));
    line.put("raw_max", round(max(perSecond[0])));
    line.put("toolkit_min", round(min(perSecond[1])));
    line.put("toolkit_max", round(max(perSecond[1])));
    if (w.latency()) {
      line.put("raw_p50_ms", millis(median(p50[0])));
      line.put("raw_p99_ms", millis(median(p99[0])));
      line.put("toolkit_p50_ms", millis(median(p50[1])));
      line.put("toolkit_p99_ms", millis(median(p99[1])));
    }
    line.put("raw_alloc_bytes_per_msg", round(median(alloc[0])));
    line.put("toolkit_alloc_bytes_per_msg", round(median(alloc[1])));
    line.put("raw_client_cpu_us_per_msg", millis(median(cpu[0])));
    line.put("toolkit_client_cpu_us_per_msg", millis(median(cpu[1])));
    line.put("client_cpu_us_per_msg_raw", millis(median(cpu[0])));
    line.put("client_cpu_us_per_msg_toolkit", millis(median(cpu[1])));
    line.put("cpu_ratio", Math.round(median(cpu[1]) / median(cpu[0]) * 1000) / 1000.0);
    if (rate > 0) {
      line.put("rate", rate);
    }
    line.put("messages", w.count());
    line.put("repeats", repeats);
    out.printf(Locale.ROOT,
        "%-16s raw %9.0f/s (%.0f-%.0f)  toolkit %9.0f/s (%.0f-%.0f)  ratio %.3f%s  alloc B/msg raw %.0f toolkit %.0f  client CPU us/msg raw %.1f toolkit %.1f%n",
        w.name(), median(perSecond[0]), min(perSecond[0]), max(perSecond[0]), median(perSecond[1]), min(perSecond[1]),
        max(perSecond[1]),
        median(perSecond[1]) / median(perSecond[0]),
        w.latency() ? String.format(Locale.ROOT, "  p50/p99 ms raw %.2f/%.2f toolkit %.2f/%.2f", median(p50[0]),
            median(p99[0]), median(p50[1]), median(p99[1])) : "",
        median(alloc[0]), median(alloc[1]), median(cpu[0]), median(cpu[1]));
    return line;
  }

  /**
   * The outbox workload: raw publish-confirm against rows committed to the outbox and relayed
   * (both alternating, same counts), then the database's commit rate alone and the commit-to-confirm
   * latency at a fixed 1,000 orders/s.
   */
  private Map<String, Object> measureOutbox(OutboxSide outbox, String queue, Channel admin, Side raw, Side toolkit)
      throws Exception {
    Workload w = new Workload("outbox", messages, false,
        (s, q, n, p, l) -> s == raw ? s.publishConfirm(q, n, p, null) : outbox.relay(q, n));
    Map<String, Object> line = measure(w, queue, admin, raw, toolkit);
    OutboxSide.Commits alone = outbox.commitsAlone(Duration.ofSeconds(quick ? 1 : 3));
    double commits = alone.perSecond();
    int rate = 1_000;
    Latencies[] measured = outbox.commitToConfirm(queue, rate, quick ? 500 : 5_000);
    Latencies latencies = measured[0];
    admin.queuePurge(queue);
    line.put("commit_only_per_s", round(commits));
    line.put("commit_only_p99_ms", millis(alone.latencies().percentileMillis(99)));
    line.put("fixed_rate_per_s", rate);
    line.put("commit_to_confirm_p50_ms", millis(latencies.percentileMillis(50)));
    line.put("commit_to_confirm_p99_ms", millis(latencies.percentileMillis(99)));
    line.put("commit_to_publish_p99_ms", millis(measured[1].percentileMillis(99)));
    line.put("database", outbox.database());
    out.printf(Locale.ROOT,
        "%-16s %s: single-row commits alone %.0f/s (p99 %.2f ms); at %d orders/s commit-to-confirm p50 %.2f ms p99 %.2f ms (to publish p99 %.2f ms)%n",
        "outbox", outbox.database(), commits, alone.latencies().percentileMillis(99), rate,
        latencies.percentileMillis(50), latencies.percentileMillis(99), measured[1].percentileMillis(99));
    OutboxSide.Cleanup cleanup = outbox.inboxCleanup(quick ? 10_000 : 200_000);
    if (cleanup == null) {
      return line;
    }
    line.put("inbox_cleanup_rows_per_s", round(cleanup.batchedRowsPerSecond()));
    line.put("inbox_insert_max_ms_during_cleanup", millis(cleanup.batchedInsertMaxMs()));
    line.put("inbox_bulk_delete_rows_per_s", round(cleanup.bulkRowsPerSecond()));
    line.put("inbox_insert_max_ms_during_bulk_delete", millis(cleanup.bulkInsertMaxMs()));
    out.printf(Locale.ROOT,
        "%-16s inbox clean-up in batches %.0f rows/s (worst concurrent insert %.1f ms); one bulk DELETE %.0f rows/s (worst insert %.1f ms)%n",
        "inbox", cleanup.batchedRowsPerSecond(), cleanup.batchedInsertMaxMs(), cleanup.bulkRowsPerSecond(),
        cleanup.bulkInsertMaxMs());
    return line;
  }

  /**
   * Starts publishing {@code n} samples to {@code queue} at the fixed rate, from the feeder's
   * connection, whose threads the measurement does not count: another service's work.
   */
  private void feed(String queue, int n) {
    Thread t = new Thread(() -> {
      try {
        publishSamples(queue, n, Pace.of(rate));
      } catch (Exception e) {
        out.println("feeder failed: " + e);
      }
    }, Measurement.UNCOUNTED + "-publisher");
    t.setDaemon(true);
    t.start();
  }

  /** Fills {@code queue} with {@code n} confirmed messages for a consume run (not timed). */
  private void prefill(String queue, int n) throws Exception {
    publishSamples(queue, n, Pace.NONE);
  }

  /** Publishes {@code n} samples to {@code queue} at {@code pace} on the feeder's connection, confirmed. */
  private void publishSamples(String queue, int n, Pace pace) throws Exception {
    try (Channel ch = feeder.createChannel()) {
      ch.confirmSelect();
      pace.begin();
      for (int i = 0; i < n; i++) {
        pace.await();
        ch.basicPublish("", queue, PERSISTENT_JSON, json.writeValueAsBytes(Sample.of(i)));
        if (i % 1000 == 999) {
          ch.waitForConfirmsOrDie(60_000);
        }
      }
      ch.waitForConfirmsOrDie(60_000);
    }
  }

  private static final AMQP.BasicProperties PERSISTENT_JSON = new AMQP.BasicProperties.Builder()
      .contentType("application/json").deliveryMode(2).build();

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double min(double[] values) {
    return Arrays.stream(values).min().orElse(Double.NaN);
  }

  private static double max(double[] values) {
    return Arrays.stream(values).max().orElse(Double.NaN);
  }

  private static Object round(double v) {
    return Double.isNaN(v) ? null : Math.round(v);
  }

  private static Object millis(double v) {
    return Double.isNaN(v) ? null : Math.round(v * 1000) / 1000.0;
  }

  /** The URI without its password. */
  static String redacted(String uri) {
    return uri.replaceFirst("://([^:@/]*):[^@/]*@", "://$1:***@");
  }
}
