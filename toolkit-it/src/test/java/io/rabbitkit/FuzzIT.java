package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 5,000 random and malformed messages, published with the raw client, at a toolkit consumer with
 * a dead-letter queue: every one is either handled or dead-lettered with a reason, the counts add
 * up exactly, and the consumer still consumes afterwards. The generator knows which messages are
 * valid, so the split is checked too, not just the sum.
 */
@RabbitTest
class FuzzIT {

  record Order(String orderId, int quantity) {
  }

  private static final int MESSAGES = 5_000;
  private static final int MAX_BODY = 64 * 1024;

  /** One generated message and whether the consumer should accept it. */
  private record Case(String kind, boolean valid, AMQP.BasicProperties props, byte[] body) {
  }

  @Test
  void everyHostileMessageIsHandledOrDeadLetteredWithAReasonAndTheConsumerKeepsGoing(RabbitToolkit rabbit,
      RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("fuzz");
    String dlq = queue + ".dlq";
    rabbit.declare(Topology.of(Queue.classic(queue)));
    long seed = System.nanoTime();
    Random random = new Random(seed);
    Set<String> handledIds = ConcurrentHashMap.newKeySet();
    AtomicInteger handled = new AtomicInteger();
    Map<String, Integer> expectedValid = new TreeMap<>();
    Map<String, Integer> expectedInvalid = new TreeMap<>();
    int valid = 0;

    try (MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(dlq).prefetch(100)
        .maxBodySize(MAX_BODY).handler(d -> {
          handled.incrementAndGet();
          handledIds.add(d.body().orderId());
        }).build();
        Connection connection = raw(broker.uri());
        Channel ch = connection.createChannel()) {
      ch.confirmSelect();
      for (int i = 0; i < MESSAGES; i++) {
        Case c = generate(random, i);
        (c.valid() ? expectedValid : expectedInvalid).merge(c.kind(), 1, Integer::sum);
        valid += c.valid() ? 1 : 0;
        ch.basicPublish("", queue, c.props(), c.body());
      }
      ch.waitForConfirmsOrDie(60_000);
      int expectedHandled = valid;
      String figures = "seed " + seed + ", valid " + expectedValid + ", invalid " + expectedInvalid;
      try {
        // The broker counts a dead letter once it is enqueued; the consumer counts it once the
        // broker has confirmed it, a little later (after the disk write for a durable queue).
        Await.until(Duration.ofSeconds(120), () -> handled.get() == expectedHandled
            && rabbit.queueInfo(dlq).map(QueueInfo::messageCount).orElse(0L) == MESSAGES - expectedHandled
            && consumer.stats().deadLettered() == MESSAGES - expectedHandled);
      } catch (AssertionError e) {
        throw new AssertionError("handled " + handled.get() + " of " + expectedHandled + ", dead-lettered "
            + rabbit.queueInfo(dlq).map(QueueInfo::messageCount).orElse(-1L) + " of " + (MESSAGES - expectedHandled)
            + "; " + figures, e);
      }

      // Still consuming: a well-formed message after the flood is handled.
      ch.basicPublish("", queue, json(), "{\"orderId\":\"canary\",\"quantity\":1}".getBytes(StandardCharsets.UTF_8));
      Await.until(Duration.ofSeconds(10), () -> handledIds.contains("canary"));
      assertTrue(consumer.isRunning());
      assertEquals(MESSAGES - expectedHandled, consumer.stats().deadLettered(), figures);
      assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount(), "nothing left behind");

      int withReason = 0;
      for (GetResponse r; (r = ch.basicGet(dlq, true)) != null;) {
        Map<String, Object> h = r.getProps().getHeaders();
        assertTrue(h != null && h.get(FailureHeaders.REASON) != null, "no reason on " + r.getProps());
        String reason = h.get(FailureHeaders.REASON).toString();
        // Oversized bodies are told apart from malformed ones; both skip every retry.
        assertTrue(reason.equals(FailureHeaders.REASON_UNDECODABLE) || reason.equals(FailureHeaders.REASON_TOO_LARGE),
            reason);
        withReason++;
      }
      assertEquals(MESSAGES - expectedHandled, withReason, figures);
      System.out.println("FuzzIT: " + MESSAGES + " messages, " + expectedHandled + " handled, " + withReason
          + " dead-lettered with a reason; " + figures);
    }
  }

  private static Case generate(Random r, int i) {
    String id = "m" + i;
    byte[] order =
        ("{\"orderId\":\"" + id + "\",\"quantity\":" + r.nextInt(100) + "}").getBytes(StandardCharsets.UTF_8);
    return switch (r.nextInt(17)) {
      case 0 -> new Case("plain", true, json(), order);
      case 1 -> new Case("no content type", true, props().build(), order);
      case 2 -> new Case("charset", true, props().contentType("application/json; charset=utf-8").build(), order);
      case 3 -> new Case("utf-8 encoding", true, json().builder().contentEncoding("UTF-8").build(), order);
      case 4 -> new Case("odd headers", true, json().builder().headers(oddHeaders(r)).build(), order);
      case 5 -> new Case("odd message id", true, json().builder().messageId(oddString(r)).correlationId(oddString(r))
          .type(oddString(r)).build(), order);
      case 6 -> new Case("random bytes", false, json(), randomBytes(r));
      case 7 -> new Case("empty body", false, json(), new byte[0]);
      case 8 -> new Case("wrong shape", false, json(),
          pick(r, "[1,2]", "\"s\"", "null", "42", "true", "{\"orderId\":[]}",
              "{\"orderId\":\"x\",\"quantity\":\"many\"}", "{\"orderId\":\"x\"} trailing")
              .getBytes(StandardCharsets.UTF_8));
      case 9 -> new Case("deep nesting", false, json(), ("{\"orderId\":" + "[".repeat(5000 + r.nextInt(5000))
          + "]".repeat(3)).getBytes(StandardCharsets.UTF_8));
      case 10 ->
        new Case("huge number", false, json(), ("{\"orderId\":\"x\",\"quantity\":" + "9".repeat(2000 + r.nextInt(5000))
            + "}").getBytes(StandardCharsets.UTF_8));
      case 11 -> new Case("foreign content type", false, props().contentType(pick(r, "application/xml", "text/plain",
          "image/png", "%%%;;;", "application/json-patch", "x".repeat(200))).build(), order);
      case 12 -> new Case("compressed", false, json().builder().contentEncoding(pick(r, "gzip", "deflate", "br",
          "x-garbage\n")).build(), order);
      case 13 -> new Case("oversized", false, json(), ("{\"orderId\":\"" + "o".repeat(MAX_BODY + r.nextInt(1000))
          + "\",\"quantity\":1}").getBytes(StandardCharsets.UTF_8));
      case 14 -> new Case("bad attempts header", true, json().builder().headers(Map.of(FailureHeaders.ATTEMPTS,
          pick(r, Integer.MAX_VALUE, -5, Long.MAX_VALUE, "abc", Map.of("a", 1), List.of(1, 2)))).build(), order);
      case 15 -> new Case("type hint", true, json(), ("{\"@class\":\"java.lang.ProcessBuilder\",\"orderId\":\"" + id
          + "\",\"quantity\":1,\"command\":[\"touch\",\"/tmp/pwned\"]}").getBytes(StandardCharsets.UTF_8));
      default -> new Case("huge headers, bad body", false, json().builder().headers(hugeHeaders(r)).build(),
          randomBytes(r));
    };
  }

  private static AMQP.BasicProperties.Builder props() {
    return new AMQP.BasicProperties.Builder().deliveryMode(2);
  }

  private static AMQP.BasicProperties json() {
    return props().contentType("application/json").build();
  }

  @SafeVarargs
  private static <T> T pick(Random r, T... choices) {
    return choices[r.nextInt(choices.length)];
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[1 + r.nextInt(2000)];
    r.nextBytes(b);
    b[0] = (byte) 0xFF; // never valid UTF-8, so never valid JSON by accident
    return b;
  }

  private static String oddString(Random r) {
    return pick(r, "", "x".repeat(255), "line\nbreak\r\u0000nul", "ünïcødé-✓", " ", "\u202Eright-to-left");
  }

  private static Map<String, Object> oddHeaders(Random r) {
    Map<String, Object> h = new HashMap<>();
    Map<String, Object> nested = new LinkedHashMap<>();
    Map<String, Object> cursor = nested;
    for (int d = 0; d < 10; d++) {
      Map<String, Object> next = new LinkedHashMap<>();
      cursor.put("level" + d, next);
      cursor = next;
    }
    h.put("nested", nested);
    h.put("void", null);
    h.put("list", List.of(1, "two", 3.0, List.of(), Map.of("k", "v")));
    h.put("bytes", new byte[]{0, 1, 2, (byte) 0xFF});
    h.put("decimal", new BigDecimal("12345.6789"));
    h.put("timestamp", new Date(r.nextLong() & 0xFFFFFFFFFFL));
    h.put("bool", r.nextBoolean());
    h.put("long-string", "s".repeat(r.nextInt(10_000)));
    h.put("x-death", List.of("not", "a", "table"));
    h.put("", "empty name");
    return h;
  }

  /** About 100 KB of headers: the dead-letter copy cannot add a large stack trace on top within frame_max. */
  private static Map<String, Object> hugeHeaders(Random r) {
    Map<String, Object> h = new HashMap<>();
    List<Object> items = new ArrayList<>();
    for (int k = 0; k < 100; k++) {
      items.add("v".repeat(1000));
    }
    h.put("huge", items);
    h.put("n", r.nextInt());
    return h;
  }

  private static Connection raw(String uri) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(uri);
    if (f.getVirtualHost().isEmpty()) {
      f.setVirtualHost("/");
    }
    return f.newConnection("fuzz-publisher");
  }
}
