package io.rabbitkit.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A dead-letter queue of 100,000 letters (about 300 bytes of body and seven failure headers each),
 * read in a 96 MB heap (the module's failsafe argLine), which holding them would not fit:
 * the first page and the groups come from reads that hold counts and one page, not the letters;
 * nothing is lost. Prints the times and the heap; asserts counts, not times.
 */
@RabbitTest
class LargeDeadLetterQueueIT {

  private static final int LETTERS = Integer.getInteger("rabbitkit.console.letters", 100_000);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] BODY = ("{\"orderId\":\"o-1\",\"lines\":["
      + "{\"sku\":\"book-0001\",\"quantity\":1},".repeat(8) + "{\"sku\":\"pen\",\"quantity\":2}]}")
      .getBytes(StandardCharsets.UTF_8);
  private static final String[][] FAILURES = {{FailureHeaders.REASON_HANDLER_FAILED, "java.net.SocketTimeoutException"},
      {FailureHeaders.REASON_HANDLER_FAILED, "java.lang.IllegalStateException"},
      {FailureHeaders.REASON_REJECTED, "io.rabbitkit.ToolkitException$RejectMessageException"}};

  @Test
  void firstPageAndGroupsOfOneHundredThousandLetters(RabbitToolkit rabbit, RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("big");
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    fill(broker, queue);
    DeadLetterConsole console = DeadLetterConsole.builder(rabbit).queue(queue).build();

    long baseline = heapAfterGc();
    ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    long started = System.nanoTime();
    JsonNode page = get(console, "/api/queues/" + queue + ".dlq/letters", Map.of("limit", "20"));
    long pageMillis = (System.nanoTime() - started) / 1_000_000;
    started = System.nanoTime();
    JsonNode groups = get(console, "/api/queues/" + queue + ".dlq/groups", Map.of());
    long groupsMillis = (System.nanoTime() - started) / 1_000_000;
    long peak = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
        .mapToLong(p -> p.getPeakUsage().getUsed()).sum();

    assertEquals(20, page.get("letters").size());
    assertEquals(LETTERS, page.get("matching").asLong());
    assertEquals("letter-" + (LETTERS - 1), page.get("letters").get(0).get("messageId").asText(), "newest first");
    Map<String, Long> counts = new HashMap<>();
    groups.get("groups").forEach(g -> counts.put(g.get("exception").asText(), g.get("count").asLong()));
    assertEquals(Map.of(FAILURES[0][1], (long) (LETTERS + 2) / 3, FAILURES[1][1], (long) (LETTERS + 1) / 3,
        FAILURES[2][1], (long) LETTERS / 3), counts);
    assertEquals(LETTERS, rabbit.deadLetters(queue).count(), "nothing lost, nothing left unacknowledged");
    System.out.printf("dead-letter console, %,d letters: first page in %,d ms, %d groups in %,d ms;"
        + " heap %,d MB before, peak %,d MB while reading (bodies %,d MB in all)%n", LETTERS, pageMillis,
        counts.size(), groupsMillis, baseline >> 20, peak >> 20, (long) LETTERS * BODY.length >> 20);
  }

  private static void fill(RabbitBroker broker, String queue) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(broker.uri());
    if (f.getVirtualHost().isEmpty()) {
      f.setVirtualHost("/"); // amqp://host:5672/ names the vhost ""
    }
    byte[] body = BODY;
    try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
      ch.confirmSelect();
      String now = Instant.now().toString();
      for (int i = 0; i < LETTERS; i++) {
        String[] failure = FAILURES[i % 3];
        Map<String, Object> headers = Map.of(FailureHeaders.REASON, failure[0], FailureHeaders.EXCEPTION, failure[1],
            FailureHeaders.EXCEPTION_MESSAGE, "failure " + (i % 3), FailureHeaders.ATTEMPTS, 3,
            FailureHeaders.ORIGINAL_QUEUE, queue, FailureHeaders.FIRST_FAILED_AT, now, FailureHeaders.FAILED_AT, now);
        ch.basicPublish("", queue + ".dlq", new AMQP.BasicProperties.Builder().messageId("letter-" + i)
            .contentType("application/json").headers(headers).build(), body);
        if (i % 2_000 == 1_999) {
          ch.waitForConfirmsOrDie(60_000);
        }
      }
      ch.waitForConfirmsOrDie(60_000);
    }
  }

  private static JsonNode get(DeadLetterConsole console, String path, Map<String, String> query) throws Exception {
    DeadLetterConsole.Response r = console.handle(new DeadLetterConsole.Request("GET", path, query, new byte[0],
        new DeadLetterConsole.Caller("test", false)));
    assertEquals(200, r.status(), () -> new String(r.body(), StandardCharsets.UTF_8));
    return JSON.readTree(r.body());
  }

  private static long heapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
