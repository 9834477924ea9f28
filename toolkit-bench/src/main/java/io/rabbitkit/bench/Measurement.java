package io.rabbitkit.bench;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Times a run and counts the CPU time and the bytes this JVM's threads used during it (the broker
 * is another process, so this is the client's cost). Threads that end during the run are not
 * counted, nor threads named {@value #UNCOUNTED}* (the feeder of a fixed-rate consume run, which
 * stands for another service).
 */
final class Measurement {

  /** The timed part of one run. */
  record Timed(long nanos, long allocatedBytes, long cpuNanos, int count) {
    double perSecond() {
      return count * 1e9 / nanos;
    }

    double allocPerMessage() {
      return allocatedBytes < 0 ? Double.NaN : (double) allocatedBytes / count;
    }

    double cpuMicrosPerMessage() {
      return cpuNanos < 0 ? Double.NaN : cpuNanos / 1000.0 / count;
    }
  }

  /** Threads whose name starts with this are not counted. */
  static final String UNCOUNTED = "bench-feeder";
  private static final com.sun.management.ThreadMXBean THREADS = threads();

  private final Map<Long, Long> allocatedAtStart;
  private final Map<Long, Long> cpuAtStart;
  private final long start;
  private final Map<Long, Long> switchesAtStart = Boolean.getBoolean("bench.threads") ? contextSwitches() : Map.of();
  private final long processCpuAtStart = Boolean.getBoolean("bench.threads") ? processCpu() : 0;

  private Measurement() {
    this.allocatedAtStart = allocated();
    this.cpuAtStart = cpu();
    this.start = System.nanoTime();
  }

  static Measurement start() {
    return new Measurement();
  }

  /** One call of an RPC loop; {@code id} is unique across all callers. */
  @FunctionalInterface
  interface Call {
    void call(long id) throws Exception;
  }

  /**
   * Times {@code calls} calls made by {@code callers} threads, each in a loop, sharing the calls
   * evenly and, when paced, the rate.
   */
  static Timed concurrently(int calls, int callers, Pace pace, Call call) throws Exception {
    AtomicLong ids = new AtomicLong();
    ExecutorService threads = Executors.newFixedThreadPool(callers);
    try {
      Measurement m = start();
      pace.begin();
      Future<?>[] running = new Future<?>[callers];
      for (int c = 0; c < callers; c++) {
        int share = calls / callers + (c < calls % callers ? 1 : 0);
        running[c] = threads.submit(() -> {
          for (int i = 0; i < share; i++) {
            pace.await();
            call.call(ids.incrementAndGet());
          }
          return null;
        });
      }
      for (Future<?> f : running) {
        f.get();
      }
      return m.stop(calls);
    } finally {
      threads.shutdownNow();
    }
  }

  Timed stop(int count) {
    long nanos = System.nanoTime() - start;
    long bytes = -1;
    long cpuNanos = -1;
    if (THREADS != null) {
      bytes = delta(allocatedAtStart, allocated());
      Map<Long, Long> cpuNow = cpu();
      cpuNanos = delta(cpuAtStart, cpuNow);
      if (Boolean.getBoolean("bench.threads")) {
        printByThread(cpuNow, count);
        System.err.printf(java.util.Locale.ROOT, "context switches per message (all threads): %.2f; CPU us/msg of the "
            + "whole process (with garbage collection and JIT compilation) %.2f, of the threads counted %.2f%n",
            delta(switchesAtStart, contextSwitches()) / (double) count,
            (processCpu() - processCpuAtStart) / 1000.0 / count,
            cpuNanos / 1000.0 / count);
      }
    }
    return new Timed(nanos, bytes, cpuNanos, count);
  }

  /** With {@code -Dbench.threads=true}: where the CPU went, per thread name (digits folded), in µs per message. */
  private void printByThread(Map<Long, Long> cpuNow, int count) {
    Map<String, Long> byName = new java.util.TreeMap<>();
    for (Map.Entry<Long, Long> e : cpuNow.entrySet()) {
      java.lang.management.ThreadInfo info = THREADS.getThreadInfo(e.getKey());
      if (info != null) {
        byName.merge(info.getThreadName().replaceAll("\\d+", "N"),
            e.getValue() - cpuAtStart.getOrDefault(e.getKey(), 0L),
            Long::sum);
      }
    }
    StringBuilder line = new StringBuilder("cpu by thread (us/msg):");
    byName.forEach((name, ns) -> {
      if (ns > 0) {
        line.append(String.format(java.util.Locale.ROOT, " [%s] %.2f", name, ns / 1000.0 / count));
      }
    });
    System.err.println(line);
  }

  /**
   * Context switches so far, voluntary and not, per thread of the process (Linux /proc; empty
   * elsewhere). Per thread, so that a thread ending during a run takes its count out of neither
   * end of the difference.
   */
  private static Map<Long, Long> contextSwitches() {
    Map<Long, Long> switches = new HashMap<>();
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    for (java.io.File task : tasks == null ? new java.io.File[0] : tasks) {
      try {
        long sum = 0;
        for (String line : java.nio.file.Files.readAllLines(task.toPath().resolve("status"))) {
          if (line.contains("ctxt_switches:")) {
            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
        switches.put(Long.parseLong(task.getName()), sum);
      } catch (java.io.IOException | RuntimeException e) {
        // the thread ended while being read
      }
    }
    return switches;
  }

  /** CPU time of the whole JVM, garbage collector and compiler threads too. */
  private static long processCpu() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
  }

  private static long delta(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum;
  }

  /** CPU time of every live thread of this JVM (the client; the broker is another process). */
  private static Map<Long, Long> cpu() {
    Map<Long, Long> result = new HashMap<>();
    if (THREADS != null && THREADS.isThreadCpuTimeSupported()) {
      for (long id : countedThreads()) {
        long t = THREADS.getThreadCpuTime(id);
        if (t >= 0) {
          result.put(id, t);
        }
      }
    }
    return result;
  }

  private static Map<Long, Long> allocated() {
    Map<Long, Long> result = new HashMap<>();
    if (THREADS != null) {
      long[] ids = countedThreads();
      long[] bytes = THREADS.getThreadAllocatedBytes(ids);
      for (int i = 0; i < ids.length; i++) {
        if (bytes[i] >= 0) {
          result.put(ids[i], bytes[i]);
        }
      }
    }
    return result;
  }

  private static long[] countedThreads() {
    long[] ids = THREADS.getAllThreadIds();
    java.lang.management.ThreadInfo[] infos = THREADS.getThreadInfo(ids);
    return java.util.stream.IntStream.range(0, ids.length)
        .filter(i -> infos[i] != null && !infos[i].getThreadName().startsWith(UNCOUNTED))
        .mapToLong(i -> ids[i]).toArray();
  }

  private static com.sun.management.ThreadMXBean threads() {
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
        && t.isThreadAllocatedMemorySupported()) {
      t.setThreadAllocatedMemoryEnabled(true);
      return t;
    }
    return null;
  }
}
