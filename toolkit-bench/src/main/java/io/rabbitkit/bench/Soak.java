package io.rabbitkit.bench;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Long-running behaviour, outside the build: {@code --only soak} (a publisher and a consumer at a
 * steady rate for {@code --soak-minutes}, sampling RSS, heap after GC, live threads and open file
 * descriptors every 30 s) and {@code --only outage} (a publisher whose broker, a throw-away node,
 * is unreachable for 60 s: how publish() behaves, what it holds, and that every message ends
 * confirmed or failed with a typed error).
 */
final class Soak {

  private final PrintStream out;

  Soak(PrintStream out) {
    this.out = out;
  }

  record Sample(long second, long rssKb, long heapAfterGcKb, int threads, long fds) {
  }

  static Sample sample(long second) {
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024;
    return new Sample(second, rssKb(), heap, ManagementFactory.getThreadMXBean().getThreadCount(), fds());
  }

  private static long rssKb() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
          .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
    } catch (IOException e) {
      return -1;
    }
  }

  private static long fds() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  /** A steady publisher and consumer on {@code queue} for {@code minutes}; one JSON-ready line. */
  Map<String, Object> soak(String uri, String queue, int minutes, int rate) throws Exception {
    List<Sample> samples = new ArrayList<>();
    AtomicLong consumed = new AtomicLong();
    AtomicLong confirmed = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long sent = 0;
    try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).connectionName("bench-soak").connect()) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue(queue)
          .handler(d -> consumed.incrementAndGet()).build();
          Publisher<String> publisher = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        long start = System.nanoTime();
        long end = start + TimeUnit.MINUTES.toNanos(minutes);
        long nextSample = start;
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long next = start;
        while (System.nanoTime() < end) {
          long now = System.nanoTime();
          if (now >= nextSample) {
            Sample s = sample(TimeUnit.NANOSECONDS.toSeconds(now - start));
            samples.add(s);
            out.printf(Locale.ROOT,
                "soak t=%4ds rss=%d KiB heap_after_gc=%d KiB threads=%d fds=%d sent=%d consumed=%d%n",
                s.second(), s.rssKb(), s.heapAfterGcKb(), s.threads(), s.fds(), sent, consumed.get());
            nextSample += TimeUnit.SECONDS.toNanos(30);
          }
          if (now < next) {
            TimeUnit.NANOSECONDS.sleep(Math.min(next - now, 1_000_000));
            continue;
          }
          publisher.publish("soak " + sent).whenComplete((c, e) -> (e == null ? confirmed : failed).incrementAndGet());
          sent++;
          next += interval;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((consumed.get() < sent || confirmed.get() + failed.get() < sent) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        samples.add(sample(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)));
      } finally {
        rabbit.deleteQueue(queue);
      }
    }
    Sample first = samples.get(Math.min(1, samples.size() - 1)); // after warm-up: the 30 s sample
    Sample last = samples.get(samples.size() - 1);
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("workload", "soak");
    line.put("minutes", minutes);
    line.put("rate", rate);
    line.put("sent", sent);
    line.put("confirmed", confirmed.get());
    line.put("failed", failed.get());
    line.put("consumed", consumed.get());
    line.put("rss_kb_first", first.rssKb());
    line.put("rss_kb_last", last.rssKb());
    line.put("heap_after_gc_kb_first", first.heapAfterGcKb());
    line.put("heap_after_gc_kb_last", last.heapAfterGcKb());
    line.put("threads_first", first.threads());
    line.put("threads_last", last.threads());
    line.put("fds_first", first.fds());
    line.put("fds_last", last.fds());
    line.put("samples", samples.size());
    return line;
  }

  /**
   * A throw-away node stopped for 60 s while a publisher keeps publishing at {@code rate}: the
   * longest a publish() call blocked, the heap the waiting messages held, and every outcome.
   */
  Map<String, Object> outage(int rate) throws Exception {
    Map<String, Long> outcomes = new TreeMap<>();
    List<CompletableFuture<?>> futures = new ArrayList<>();
    long longestBlockNanos = 0;
    long peakHeapKb = 0;
    long inQueue;
    long sent = 0;
    Sample before;
    try (ThrowawayBroker broker = ThrowawayBroker.start();
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).connectionName("bench-outage").connect()) {
      String queue = "outage";
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Map<String, Long> counts = new ConcurrentHashMap<>();
      try (Publisher<String> publisher = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        before = sample(0);
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long start = System.nanoTime();
        boolean stopped = false;
        boolean restarted = false;
        long next = start;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(75)) {
          long elapsed = System.nanoTime() - start;
          if (!stopped && elapsed > TimeUnit.SECONDS.toNanos(5)) {
            broker.stopApp();
            stopped = true;
            out.println("outage: broker stopped at t=" + TimeUnit.NANOSECONDS.toSeconds(elapsed) + "s");
          }
          if (stopped && !restarted && elapsed > TimeUnit.SECONDS.toNanos(65)) {
            broker.startApp();
            restarted = true;
            out.println(
                "outage: broker started again at t=" + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + "s");
          }
          if (System.nanoTime() < next) {
            Thread.sleep(1);
            continue;
          }
          long t0 = System.nanoTime();
          CompletableFuture<?> f = publisher.publish("outage " + sent).whenComplete((c, e) -> counts.merge(
              e == null ? "confirmed" : e.getClass().getSimpleName(), 1L, Long::sum));
          longestBlockNanos = Math.max(longestBlockNanos, System.nanoTime() - t0);
          futures.add(f);
          sent++;
          next += interval;
          if (sent % rate == 0) {
            peakHeapKb =
                Math.max(peakHeapKb, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024);
          }
        }
        CompletableFuture.allOf(futures.stream().map(f -> f.handle((v, e) -> null)).toArray(CompletableFuture[]::new))
            .get(120, TimeUnit.SECONDS);
      }
      outcomes.putAll(counts);
      inQueue = rabbit.queueInfo(queue).orElseThrow().messageCount();
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("workload", "outage");
    line.put("rate", rate);
    line.put("unreachable_s", 60);
    line.put("sent", sent);
    line.put("outcomes", outcomes);
    line.put("all_completed", futures.stream().allMatch(CompletableFuture::isDone));
    line.put("in_queue_after", inQueue);
    line.put("longest_publish_block_ms", Duration.ofNanos(longestBlockNanos).toMillis());
    line.put("heap_kb_before", before.heapAfterGcKb());
    line.put("heap_kb_peak", peakHeapKb);
    return line;
  }
}
