package io.rabbitkit.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.test.ThrowawayBroker;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scale sweep: how the cost grows with the number of consumers (busy, then idle), with the
 * threads publishing through one publisher, and with the message size; and how long 1,000
 * consumers take to come back after a forced connection close. Raw amqp-client and the toolkit
 * side by side at every point, one JSON line per point ({@code "workload": "sweep"}).
 *
 * <p>Bodies are plain bytes (no JSON), so the size points measure the transport, not Jackson.
 * Messages for the consumer points come from the feeder connection, whose threads are not counted.
 */
final class Sweep {

  private static final AMQP.BasicProperties BYTES = new AMQP.BasicProperties.Builder()
      .contentType("application/octet-stream").deliveryMode(2).build();

  private final ConnectionFactory factory;
  private final Connection feeder;
  private final String uri;
  private final String prefix;
  private final boolean quick;
  private final int runs;
  /** {@code -Dbench.sweep.consumers=100[,...]}: only these consumer points, each with --repeats runs. */
  private final int[] chosenConsumers;
  private final PrintStream out;

  Sweep(ConnectionFactory factory, Connection feeder, String uri, String prefix, boolean quick, int repeats,
      PrintStream out) {
    this.factory = factory;
    this.feeder = feeder;
    this.uri = uri;
    this.prefix = prefix + "sweep-";
    this.quick = quick;
    String chosen = System.getProperty("bench.sweep.consumers");
    this.chosenConsumers = chosen == null ? null
        : Arrays.stream(chosen.split(",")).mapToInt(c -> Integer.parseInt(c.trim())).toArray();
    // The full sweep takes 3 runs a point at most; a sweep of chosen consumer points takes --repeats.
    this.runs = quick ? 1 : chosenConsumers != null ? repeats : Math.min(repeats, 3);
    this.out = out;
  }

  List<Map<String, Object>> run(Channel admin) throws Exception {
    List<Map<String, Object>> lines = new ArrayList<>();
    int[] consumers = chosenConsumers != null ? chosenConsumers
        : quick ? new int[]{1, 10} : new int[]{1, 10, 100, 1000};
    for (int n : consumers) {
      lines.addAll(consumers(admin, n));
    }
    if (chosenConsumers != null) {
      return lines;
    }
    int[] threads = quick ? new int[]{1, 4} : new int[]{1, 4, 16};
    for (int t : threads) {
      lines.add(publishers(admin, t));
    }
    int[] sizes = quick ? new int[]{200, 65_536} : new int[]{200, 4_096, 65_536, 1_048_576};
    for (int size : sizes) {
      lines.add(size(admin, size));
    }
    Map<String, Object> recovery = recovery(quick ? 20 : 1000);
    if (recovery != null) {
      lines.add(recovery);
    }
    return lines;
  }

  // ------------------------------------------------------------------ consumers

  /** Counts handled messages across consumers; each run waits for all of its {@code expected}. */
  private static final class Tally {
    private final int expected;
    private final AtomicInteger handled = new AtomicInteger();
    private volatile CompletableFuture<Void> done = new CompletableFuture<>();

    Tally(int expected) {
      this.expected = expected;
    }

    /** Starts counting a run from zero; completes when all of its messages were handled. */
    CompletableFuture<Void> run() {
      handled.set(0);
      done = new CompletableFuture<>();
      return done;
    }

    void handledOne() {
      if (handled.incrementAndGet() == expected) {
        done.complete(null);
      }
    }
  }

  private List<Map<String, Object>> consumers(Channel admin, int n) throws Exception {
    List<String> queues = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      queues.add(prefix + "c" + i);
      admin.queueDelete(queues.get(i));
      admin.queueDeclare(queues.get(i), true, false, false, null);
    }
    int perQueue = Math.max(1, (quick ? 2_000 : 20_000) / n);
    int total = perQueue * n;
    try (RabbitToolkit rabbit = toolkit("bench-sweep")) {
      Point busy = new Point();
      Point idle = new Point();
      Point after = new Point();
      for (int r = 0; r <= runs; r++) { // run 0 warms up
        for (int side = 0; side < 2; side++) {
          if (r > 0 && !quick) {
            // Threads an earlier busy run started end first: they are not this run's. (Until 2026-12-05 only
            // the first measured run waited, so two of three raw runs counted the toolkit's idle pool threads.)
            awaitPoolThreadsEnded();
          }
          System.gc();
          long heapBefore = heapAfterGc();
          Tally tally = new Tally(total);
          try (AutoCloseable subscribed = side == 0 ? rawConsumers(queues, perQueue, tally)
              : toolkitConsumers(rabbit, queues, tally)) {
            Thread.sleep(quick ? 200 : 1_000);
            if (r > 0) {
              idle.add(side, Double.NaN, Double.NaN, Double.NaN, liveThreads(),
                  (heapAfterGc() - heapBefore) / (double) n);
            }
            CompletableFuture<Void> done = tally.run();
            Measurement m = Measurement.start();
            fill(queues, perQueue, 200);
            done.get(10, TimeUnit.MINUTES);
            Measurement.Timed t = m.stop(total);
            int threadsBusy = liveThreads();
            if (r > 0) {
              busy.add(side, t.perSecond(), t.cpuMicrosPerMessage(), t.allocPerMessage(), threadsBusy, Double.NaN);
            }
            if (r == runs) {
              // Idle again: threads that were busy must end (or be few and shared), not stay one per consumer.
              Thread.sleep(quick ? 500 : 12_000);
              after.add(side, Double.NaN, Double.NaN, Double.NaN, liveThreads(), Double.NaN);
            }
          }
        }
      }
      for (String q : queues) {
        admin.queueDelete(q);
      }
      Map<String, Object> b = busy.line("consumers", n, "busy");
      Map<String, Object> i = idle.line("consumers", n, "idle");
      Map<String, Object> a = after.line("consumers", n, "idle-after-busy");
      out.printf(Locale.ROOT, "sweep consumers=%-5d busy raw %s/s toolkit %s/s cpu_ratio %s; live threads idle raw %s "
          + "toolkit %s, busy raw %s toolkit %s, idle after busy raw %s toolkit %s%n", n, b.get("raw_msgs_per_s"),
          b.get("toolkit_msgs_per_s"), b.get("cpu_ratio"), i.get("raw_threads"), i.get("toolkit_threads"),
          b.get("raw_threads"), b.get("toolkit_threads"), a.get("raw_threads"), a.get("toolkit_threads"));
      return List.of(b, i, a);
    }
  }

  /** One raw subscription per queue, all on one connection; closing it ends them. */
  private AutoCloseable rawConsumers(List<String> queues, int perQueue, Tally tally) throws Exception {
    Connection c = factory.newConnection("bench-sweep-raw");
    for (String q : queues) {
      Channel ch = c.createChannel();
      ch.basicQos(RawSide.PREFETCH);
      ch.basicConsume(q, false, new DefaultConsumer(ch) {
        private int received; // this channel's dispatch only

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
            throws IOException {
          // Acks batched, as in the other workloads; the last message of each queue is acked too.
          if (++received % RawSide.ACK_EVERY == 0 || received % perQueue == 0) {
            getChannel().basicAck(envelope.getDeliveryTag(), true);
          }
          tally.handledOne();
        }
      });
    }
    return c;
  }

  /** One toolkit consumer per queue. */
  private AutoCloseable toolkitConsumers(RabbitToolkit rabbit, List<String> queues, Tally tally) {
    List<MessageConsumer> consumers = new ArrayList<>();
    for (String q : queues) {
      consumers.add(rabbit.consumerBuilder(byte[].class).queue(q).prefetch(RawSide.PREFETCH)
          .handler(d -> tally.handledOne()).build());
    }
    return () -> consumers.forEach(MessageConsumer::close);
  }

  /** Publishes {@code perQueue} messages of {@code size} bytes to every queue, round-robin, from the feeder. */
  private void fill(List<String> queues, int perQueue, int size) throws Exception {
    byte[] body = new byte[size];
    try (Channel ch = feeder.createChannel()) {
      ch.confirmSelect();
      int sent = 0;
      for (int i = 0; i < perQueue; i++) {
        for (String q : queues) {
          ch.basicPublish("", q, BYTES, body);
          if (++sent % 1000 == 0) {
            ch.waitForConfirmsOrDie(60_000);
          }
        }
      }
      ch.waitForConfirmsOrDie(60_000);
    }
  }

  // ------------------------------------------------------------------ publishing threads

  private Map<String, Object> publishers(Channel admin, int threads) throws Exception {
    String queue = prefix + "publishers";
    admin.queueDelete(queue);
    admin.queueDeclare(queue, true, false, false, null);
    int n = quick ? 2_000 : 30_000;
    byte[] body = new byte[200];
    Point point = new Point();
    try (RabbitToolkit rabbit = toolkit("bench-sweep"); Connection raw = factory.newConnection("bench-sweep-raw")) {
      Publisher<byte[]> publisher = rabbit.publisherBuilder(byte[].class).routingKey(queue)
          .maxInFlight(RawSide.WINDOW).build();
      RawPublisher rawPublisher = new RawPublisher(raw.createChannel());
      for (int r = 0; r <= runs; r++) {
        for (int side = 0; side < 2; side++) {
          System.gc();
          Measurement.Timed t = side == 0
              ? concurrently(threads, n, () -> rawPublisher.publish(queue, body), rawPublisher::awaitAll)
              : concurrently(threads, n, () -> publisher.publish(body), () -> awaitNone(publisher));
          admin.queuePurge(queue);
          if (r > 0) {
            point.add(side, t.perSecond(), t.cpuMicrosPerMessage(), t.allocPerMessage(), liveThreads(), Double.NaN);
          }
        }
      }
      publisher.close();
    } finally {
      admin.queueDelete(queue);
    }
    Map<String, Object> line = point.line("publishing_threads", threads, "busy");
    print(line);
    return line;
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }

  /** {@code threads} threads share {@code n} calls of {@code step}, then {@code end} waits for the confirms. */
  private static Measurement.Timed concurrently(int threads, int n, Step step, Step end) throws Exception {
    Measurement.Timed sent = Measurement.concurrently(n, threads, Pace.NONE, id -> step.run());
    Measurement m = Measurement.start();
    end.run();
    Measurement.Timed tail = m.stop(n);
    return new Measurement.Timed(sent.nanos() + tail.nanos(), sent.allocatedBytes() + tail.allocatedBytes(),
        sent.cpuNanos() + tail.cpuNanos(), n);
  }

  private static void awaitNone(Publisher<?> publisher) throws InterruptedException {
    while (publisher.inFlight() > 0) {
      Thread.sleep(1);
    }
  }

  /**
   * A hand-written publisher shared by threads: one channel, a lock around sequence number and
   * publish (a channel must not interleave frames), a window and a map of outstanding sequence numbers.
   */
  private static final class RawPublisher {
    private final Channel ch;
    private final Semaphore window = new Semaphore(RawSide.WINDOW);
    private final ConcurrentSkipListMap<Long, Long> outstanding = new ConcurrentSkipListMap<>();

    RawPublisher(Channel ch) throws IOException {
      this.ch = ch;
      ch.confirmSelect();
      ch.addConfirmListener((tag, multiple) -> settle(tag, multiple), (tag, multiple) -> settle(tag, multiple));
    }

    private void settle(long tag, boolean multiple) {
      window.release(RawSide.settle(outstanding, tag, multiple, null));
    }

    void publish(String queue, byte[] body) throws Exception {
      window.acquire();
      synchronized (ch) {
        outstanding.put(ch.getNextPublishSeqNo(), System.nanoTime());
        ch.basicPublish("", queue, BYTES, body);
      }
    }

    void awaitAll() throws InterruptedException {
      window.acquire(RawSide.WINDOW);
      window.release(RawSide.WINDOW);
    }
  }

  // ------------------------------------------------------------------ sizes

  private Map<String, Object> size(Channel admin, int size) throws Exception {
    String queue = prefix + "size";
    admin.queueDelete(queue);
    admin.queueDeclare(queue, true, false, false, null);
    int n = size >= 1_000_000 ? (quick ? 30 : 300) : size >= 60_000 ? (quick ? 300 : 4_000) : (quick ? 2_000 : 20_000);
    byte[] body = new byte[size];
    Arrays.fill(body, (byte) 'x');
    Point point = new Point();
    try (RabbitToolkit rabbit = toolkit("bench-sweep"); Connection raw = factory.newConnection("bench-sweep-raw")) {
      for (int r = 0; r <= runs; r++) {
        for (int side = 0; side < 2; side++) {
          System.gc();
          Measurement.Timed t = side == 0 ? rawEndToEnd(raw, queue, body, n) : toolkitEndToEnd(rabbit, queue, body, n);
          admin.queuePurge(queue);
          if (r > 0) {
            point.add(side, t.perSecond(), t.cpuMicrosPerMessage(), t.allocPerMessage(), liveThreads(), Double.NaN);
          }
        }
      }
    } finally {
      admin.queueDelete(queue);
    }
    Map<String, Object> line = point.line("size_bytes", size, "busy");
    line.put("raw_alloc_per_body_byte", round3(Bench.median(point.alloc[0]) / size));
    line.put("toolkit_alloc_per_body_byte", round3(Bench.median(point.alloc[1]) / size));
    line.put("raw_mb_per_s", round3(Bench.median(point.rate[0]) * size / 1e6));
    line.put("toolkit_mb_per_s", round3(Bench.median(point.rate[1]) * size / 1e6));
    print(line);
    return line;
  }

  private static Measurement.Timed rawEndToEnd(Connection c, String queue, byte[] body, int n) throws Exception {
    try (Channel in = c.createChannel(); Channel pub = c.createChannel()) {
      in.basicQos(RawSide.PREFETCH);
      CountDownLatch consumed = new CountDownLatch(n);
      String tag = in.basicConsume(queue, false, new DefaultConsumer(in) {
        private int received;

        @Override
        public void handleDelivery(String t, Envelope envelope, AMQP.BasicProperties props, byte[] b)
            throws IOException {
          if (++received % RawSide.ACK_EVERY == 0 || received == n) {
            in.basicAck(envelope.getDeliveryTag(), true);
          }
          consumed.countDown();
        }
      });
      RawPublisher publisher = new RawPublisher(pub);
      Measurement m = Measurement.start();
      for (int i = 0; i < n; i++) {
        publisher.publish(queue, body);
      }
      publisher.awaitAll();
      consumed.await(10, TimeUnit.MINUTES);
      Measurement.Timed t = m.stop(n);
      in.basicCancel(tag);
      return t;
    }
  }

  private static Measurement.Timed toolkitEndToEnd(RabbitToolkit rabbit, String queue, byte[] body, int n)
      throws Exception {
    CountDownLatch consumed = new CountDownLatch(n);
    try (MessageConsumer consumer = rabbit.consumerBuilder(byte[].class).queue(queue).prefetch(RawSide.PREFETCH)
        .handler(d -> consumed.countDown()).build();
        Publisher<byte[]> publisher = rabbit.publisherBuilder(byte[].class).codec(MessageCodec.bytes())
            .routingKey(queue).maxInFlight(RawSide.WINDOW).maxBodySize(Math.max(body.length, 1 << 20)).build()) {
      Measurement m = Measurement.start();
      for (int i = 0; i < n; i++) {
        publisher.publish(body);
      }
      awaitNone(publisher);
      consumed.await(10, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  // ------------------------------------------------------------------ recovery

  /**
   * {@code n} consumers on a throw-away node; all its connections are closed by force; the time
   * until every consumer is subscribed again and has received one new message. Null (and said so)
   * when no throw-away node can be started here.
   */
  private Map<String, Object> recovery(int n) throws Exception {
    if (!ThrowawayBroker.canStart()) {
      out.println("sweep recovery: skipped, no local rabbitmq-server or Docker to start a throw-away node");
      return null;
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("workload", "sweep");
    line.put("dimension", "recovery");
    line.put("consumers", n);
    try (ThrowawayBroker broker = ThrowawayBroker.start()) {
      ConnectionFactory f = new ConnectionFactory();
      f.setUri(broker.uri());
      f.setVirtualHost("/");
      f.setNetworkRecoveryInterval(2_000); // the toolkit's default, for a like-for-like comparison
      List<String> queues = new ArrayList<>();
      try (Connection admin = f.newConnection("bench-sweep-admin"); Channel ch = admin.createChannel()) {
        for (int i = 0; i < n; i++) {
          queues.add("recovery-" + i);
          ch.queueDeclare(queues.get(i), true, false, false, null);
        }
      }
      line.put("raw_recovery_ms", rawRecovery(f, broker, queues));
      line.put("toolkit_recovery_ms", toolkitRecovery(broker, queues));
    }
    out.printf(Locale.ROOT, "sweep recovery of %d consumers after a forced close: raw %s ms, toolkit %s ms%n", n,
        line.get("raw_recovery_ms"), line.get("toolkit_recovery_ms"));
    return line;
  }

  private long rawRecovery(ConnectionFactory f, ThrowawayBroker broker, List<String> queues) throws Exception {
    try (Connection c = f.newConnection("bench-sweep-raw")) {
      CountDownLatch received = new CountDownLatch(queues.size());
      for (String q : queues) {
        Channel ch = c.createChannel();
        ch.basicConsume(q, true, new DefaultConsumer(ch) {
          @Override
          public void handleDelivery(String t, Envelope e, AMQP.BasicProperties p, byte[] b) {
            received.countDown();
          }
        });
      }
      CountDownLatch recovered = new CountDownLatch(1);
      ((Recoverable) c).addRecoveryListener(new RecoveryListener() {
        @Override
        public void handleRecovery(Recoverable r) {
          recovered.countDown();
        }

        @Override
        public void handleRecoveryStarted(Recoverable r) {
        }
      });
      long start = System.nanoTime();
      broker.closeAllConnections();
      if (!recovered.await(2, TimeUnit.MINUTES)) {
        return -1;
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      return deliveredToAll(f, queues, received) ? ms : -1;
    }
  }

  private long toolkitRecovery(ThrowawayBroker broker, List<String> queues) throws Exception {
    try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).connectionName("bench-sweep").connect()) {
      CountDownLatch received = new CountDownLatch(queues.size());
      List<MessageConsumer> consumers = new ArrayList<>();
      for (String q : queues) {
        consumers.add(rabbit.consumerBuilder(byte[].class).queue(q).handler(d -> received.countDown()).build());
      }
      long start = System.nanoTime();
      broker.closeAllConnections();
      Thread.sleep(50); // the close reaches the client
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!consumers.stream().allMatch(MessageConsumer::isRunning) && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      ConnectionFactory f = new ConnectionFactory();
      f.setUri(broker.uri());
      f.setVirtualHost("/");
      return deliveredToAll(f, queues, received) ? ms : -1;
    }
  }

  /** Sends one message to every queue; whether every consumer got its message within 30 s. */
  private static boolean deliveredToAll(ConnectionFactory f, List<String> queues, CountDownLatch received)
      throws Exception {
    try (Connection c = f.newConnection("bench-sweep-check"); Channel ch = c.createChannel()) {
      for (String q : queues) {
        ch.basicPublish("", q, BYTES, new byte[8]);
      }
    }
    return received.await(30, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ what a point reports

  /** The runs of one sweep point, per side (0 raw, 1 toolkit). */
  private static final class Point {
    final double[][] rate = new double[2][0];
    final double[][] cpu = new double[2][0];
    final double[][] alloc = new double[2][0];
    final double[][] threads = new double[2][0];
    final double[][] perConsumer = new double[2][0];

    void add(int side, double perSecond, double cpuMicros, double allocBytes, int liveThreads,
        double bytesPerConsumer) {
      rate[side] = append(rate[side], perSecond);
      cpu[side] = append(cpu[side], cpuMicros);
      alloc[side] = append(alloc[side], allocBytes);
      threads[side] = append(threads[side], liveThreads);
      perConsumer[side] = append(perConsumer[side], bytesPerConsumer);
    }

    private static double[] append(double[] a, double v) {
      double[] b = Arrays.copyOf(a, a.length + 1);
      b[a.length] = v;
      return b;
    }

    Map<String, Object> line(String dimension, int value, String state) {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("workload", "sweep");
      line.put("dimension", dimension);
      line.put(dimension, value);
      line.put("state", state);
      double raw = Bench.median(rate[0]);
      double tk = Bench.median(rate[1]);
      if (!Double.isNaN(raw)) {
        line.put("raw_msgs_per_s", Math.round(raw));
        line.put("toolkit_msgs_per_s", Math.round(tk));
        line.put("ratio", round3(tk / raw));
        line.put("client_cpu_us_per_msg_raw", round3(Bench.median(cpu[0])));
        line.put("client_cpu_us_per_msg_toolkit", round3(Bench.median(cpu[1])));
        line.put("cpu_ratio", round3(Bench.median(cpu[1]) / Bench.median(cpu[0])));
        line.put("raw_alloc_bytes_per_msg", Math.round(Bench.median(alloc[0])));
        line.put("toolkit_alloc_bytes_per_msg", Math.round(Bench.median(alloc[1])));
      }
      line.put("raw_threads", Math.round(Bench.median(threads[0])));
      line.put("toolkit_threads", Math.round(Bench.median(threads[1])));
      if (!Double.isNaN(Bench.median(perConsumer[0])) && value >= 100) { // fewer are lost in the GC's noise
        line.put("raw_heap_bytes_per_consumer", Math.round(Bench.median(perConsumer[0])));
        line.put("toolkit_heap_bytes_per_consumer", Math.round(Bench.median(perConsumer[1])));
      }
      line.put("rss_kb", rssKb());
      line.put("runs", rate[0].length);
      return line;
    }
  }

  private void print(Map<String, Object> l) {
    out.printf(Locale.ROOT,
        "sweep %s=%-8s raw %s/s toolkit %s/s ratio %s  cpu us/msg raw %s toolkit %s (%s)  alloc B/msg "
            + "raw %s toolkit %s%n",
        l.get("dimension"), l.get(l.get("dimension")), l.get("raw_msgs_per_s"),
        l.get("toolkit_msgs_per_s"), l.get("ratio"), l.get("client_cpu_us_per_msg_raw"),
        l.get("client_cpu_us_per_msg_toolkit"), l.get("cpu_ratio"), l.get("raw_alloc_bytes_per_msg"),
        l.get("toolkit_alloc_bytes_per_msg"));
  }

  /** With {@code -Dbench.dispatchThreads=N} the toolkit runs its consumers on one pool of N threads. */
  private RabbitToolkit toolkit(String name) {
    RabbitToolkit.Builder builder = RabbitToolkit.builder().uri(uri).connectionName(name);
    Integer dispatchThreads = Integer.getInteger("bench.dispatchThreads");
    if (dispatchThreads != null) {
      builder.dispatchThreads(dispatchThreads);
    }
    return builder.connect();
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** Waits, 12 s at most, until no toolkit pool thread is left (each ends 10 s after its last task). */
  private static void awaitPoolThreadsEnded() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
    while (System.nanoTime() < deadline && Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .anyMatch(n -> n.startsWith("rabbitkit-dispatch-") || n.startsWith("rabbitkit-consumer-"))) {
      Thread.sleep(100);
    }
  }

  private static int liveThreads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  private static long heapAfterGc() {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  static long rssKb() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
          .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1L);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
