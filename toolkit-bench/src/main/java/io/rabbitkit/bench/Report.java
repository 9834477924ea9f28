package io.rabbitkit.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a run's lines as one self-contained HTML file: the workload table and, after a sweep,
 * line charts of raw and toolkit on the same axes, as plain SVG (no script, nothing fetched).
 * Each chart is also written beside it as {@code <report>-<chart>.svg}.
 */
final class Report {

  private Report() {
  }

  /** One chart: a sweep dimension on x, a figure on y, one line per side. */
  private record Chart(String name, String title, String dimension, String state, String rawKey, String toolkitKey,
      String unit, boolean log) {
    Chart(String name, String title, String dimension, String state, String rawKey, String toolkitKey, String unit) {
      this(name, title, dimension, state, rawKey, toolkitKey, unit, false);
    }
  }

  private static final List<Chart> CHARTS = List.of(
      new Chart("consumers-throughput", "Throughput against consumers (all busy)", "consumers", "busy",
          "raw_msgs_per_s", "toolkit_msgs_per_s", "msg/s"),
      new Chart("consumers-cpu", "Client CPU per message against consumers (all busy)", "consumers", "busy",
          "client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "µs/msg"),
      new Chart("consumers-threads", "Live threads against idle consumers", "consumers", "idle",
          "raw_threads", "toolkit_threads", "threads"),
      new Chart("threads-throughput", "Throughput against publishing threads (one publisher)", "publishing_threads",
          "busy", "raw_msgs_per_s", "toolkit_msgs_per_s", "msg/s"),
      new Chart("threads-cpu", "Client CPU per message against publishing threads", "publishing_threads", "busy",
          "client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "µs/msg"),
      new Chart("size-throughput", "Throughput against message size (end to end)", "size_bytes", "busy",
          "raw_mb_per_s", "toolkit_mb_per_s", "MB/s"),
      new Chart("size-cpu", "Client CPU per message against message size", "size_bytes", "busy",
          "client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "µs/msg (log scale)", true));

  static void write(Path file, List<Map<String, Object>> lines, String run) throws IOException {
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rabbitkit benchmark</title>\n")
        .append("<style>body{font:14px sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}")
        .append("td:first-child{text-align:left}svg{margin:0 1em 1em 0}</style></head><body>\n")
        .append("<h1>rabbitkit benchmark</h1>\n<p>").append(escape(LocalDate.now() + ": " + run))
        .append(". Raw amqp-client and the toolkit in one process against one broker; ratio = toolkit / raw.</p>\n");
    List<Map<String, Object>> workloads = lines.stream()
        .filter(l -> !"sweep".equals(l.get("workload")) && !"observation-cost".equals(l.get("workload"))).toList();
    if (!workloads.isEmpty()) {
      html.append("<h2>Workloads</h2>\n").append(table(workloads, List.of("workload", "raw_msgs_per_s",
          "toolkit_msgs_per_s", "ratio", "client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "cpu_ratio",
          "raw_p50_ms", "toolkit_p50_ms", "raw_p99_ms", "toolkit_p99_ms", "raw_alloc_bytes_per_msg",
          "toolkit_alloc_bytes_per_msg", "rate")));
    }
    List<Map<String, Object>> cost = lines.stream().filter(l -> "observation-cost".equals(l.get("workload"))).toList();
    if (!cost.isEmpty()) {
      html.append(
          "<h2>Observation cost</h2>\n<p>CPU µs per message (one publish and one delivery) over no interceptors, "
              + "driven in a loop without a broker; bridge = Micrometer's tracing bridge and the SDK with no key values; "
              + "unsampled = tracing with every trace sampled out; untraced = the Observation API with a handler that does "
              + "nothing; otel_native = the same spans written on the OpenTelemetry API, no Observation bridge.</p>\n")
          .append(table(cost, List.of("metrics_us_per_msg", "tracing_us_per_msg", "all_us_per_msg",
              "bridge_floor_us_per_msg", "unsampled_us_per_msg", "untraced_us_per_msg", "otel_native_us_per_msg",
              "off_alloc_bytes_per_msg", "all_alloc_bytes_per_msg", "bridge_alloc_bytes_per_msg",
              "otel_native_alloc_bytes_per_msg")));
    }
    List<Map<String, Object>> sweep = lines.stream().filter(l -> "sweep".equals(l.get("workload"))).toList();
    if (!sweep.isEmpty()) {
      html.append("<h2>Scale sweep</h2>\n");
      String base = file.getFileName().toString().replaceFirst("\\.html?$", "");
      for (Chart c : CHARTS) {
        String svg = svg(c, sweep);
        if (svg != null) {
          html.append(svg).append('\n');
          Files.writeString(file.resolveSibling(base + "-" + c.name() + ".svg"), svg, StandardCharsets.UTF_8);
        }
      }
      html.append("<h3>Every point</h3>\n").append(table(sweep, List.of("dimension", "consumers",
          "publishing_threads", "size_bytes", "state", "raw_msgs_per_s", "toolkit_msgs_per_s", "ratio",
          "client_cpu_us_per_msg_raw", "client_cpu_us_per_msg_toolkit", "cpu_ratio", "raw_alloc_bytes_per_msg",
          "toolkit_alloc_bytes_per_msg", "raw_threads", "toolkit_threads", "raw_heap_bytes_per_consumer",
          "toolkit_heap_bytes_per_consumer", "rss_kb", "raw_recovery_ms", "toolkit_recovery_ms")));
    }
    html.append("</body></html>\n");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, html, StandardCharsets.UTF_8);
  }

  private static String table(List<Map<String, Object>> lines, List<String> keys) {
    List<String> shown = new ArrayList<>(keys);
    shown.removeIf(k -> lines.stream().noneMatch(l -> l.get(k) != null));
    StringBuilder t = new StringBuilder("<table><tr>");
    shown.forEach(k -> t.append("<th>").append(escape(k.replace('_', ' '))).append("</th>"));
    t.append("</tr>\n");
    for (Map<String, Object> l : lines) {
      t.append("<tr>");
      shown.forEach(
          k -> t.append("<td>").append(l.get(k) == null ? "" : escape(String.valueOf(l.get(k)))).append("</td>"));
      t.append("</tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  /** A line chart with x at evenly spaced categories (the sweep's points), or null without data. */
  static String svg(Chart c, List<Map<String, Object>> sweep) {
    Map<String, double[]> points = new LinkedHashMap<>();
    for (Map<String, Object> l : sweep) {
      if (c.dimension().equals(l.get("dimension")) && c.state().equals(l.get("state"))
          && l.get(c.rawKey()) instanceof Number raw && l.get(c.toolkitKey()) instanceof Number tk) {
        points.put(label(c.dimension(), ((Number) l.get(c.dimension())).longValue()),
            new double[]{raw.doubleValue(), tk.doubleValue()});
      }
    }
    if (points.isEmpty()) {
      return null;
    }
    int w = 460;
    int h = 270;
    int left = 60;
    int right = 16;
    int top = 46;
    int bottom = 44;
    double max = points.values().stream().mapToDouble(v -> Math.max(v[0], v[1])).max().orElse(1);
    double min = points.values().stream().mapToDouble(v -> Math.min(v[0], v[1])).filter(v -> v > 0).min().orElse(1);
    // Linear from 0, or logarithmic over whole decades.
    double yMin = c.log() ? Math.pow(10, Math.floor(Math.log10(min))) : 0;
    double yMax = c.log() ? Math.pow(10, Math.ceil(Math.log10(max * 1.01))) : niceCeiling(max * 1.1);
    java.util.function.DoubleUnaryOperator scale = c.log()
        ? v -> (Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
        : v -> v / yMax;
    List<String> labels = new ArrayList<>(points.keySet());
    int n = labels.size();
    double plotW = w - left - right;
    double plotH = h - top - bottom;
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">", w, h, w, h));
    s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%s</text>", left,
        escape(c.title())));
    int ticks = c.log() ? (int) Math.round(Math.log10(yMax / yMin)) : 4;
    for (int i = 0; i <= ticks; i++) {
      double v = c.log() ? yMin * Math.pow(10, i) : yMax * i / ticks;
      double y = top + plotH - plotH * scale.applyAsDouble(v);
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left,
          w - right + 0.0, y, y));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", left - 6, y + 4,
          number(v)));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
        + "text-anchor=\"middle\">%s</text>", top + plotH / 2, top + plotH / 2, escape(c.unit())));
    double[] xs = new double[n];
    for (int i = 0; i < n; i++) {
      xs[i] = n == 1 ? left + plotW / 2 : left + 20 + (plotW - 40) * i / (n - 1);
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", xs[i],
          top + plotH + 16, escape(labels.get(i))));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
        left + plotW / 2, h - 6, escape(c.dimension().replace('_', ' '))));
    String[] colours = {"#888888", "#d9480f"};
    String[] names = {"raw amqp-client", "rabbitkit"};
    for (int side = 0; side < 2; side++) {
      StringBuilder path = new StringBuilder();
      for (int i = 0; i < n; i++) {
        double y = top + plotH - plotH * scale.applyAsDouble(points.get(labels.get(i))[side]);
        path.append(String.format(Locale.ROOT, "%s%.1f,%.1f", i == 0 ? "" : " ", xs[i], y));
        s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", xs[i], y,
            colours[side]));
      }
      s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>",
          colours[side], side == 0 ? " stroke-dasharray=\"5 3\"" : "", path));
      int lx = left + side * 130;
      s.append(String.format(Locale.ROOT,
          "<line x1=\"%d\" x2=\"%d\" y1=\"32\" y2=\"32\" stroke=\"%s\" stroke-width=\"2\"%s/>"
              + "<text x=\"%d\" y=\"35\">%s</text>",
          lx, lx + 18, colours[side], side == 0 ? " stroke-dasharray=\"5 3\"" : "",
          lx + 22, names[side]));
    }
    return s.append("</svg>").toString();
  }

  private static String label(String dimension, long v) {
    if (!dimension.equals("size_bytes")) {
      return Long.toString(v);
    }
    return v >= 1 << 20 ? (v >> 20) + " MB" : v >= 1024 ? (v >> 10) + " KB" : v + " B";
  }

  private static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
    for (double step : new double[]{1, 2, 2.5, 5, 10}) {
      if (step * magnitude >= v) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String number(double v) {
    return v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%,.0f", v)
        : String.format(Locale.ROOT, "%.1f", v);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
