package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.LongStringHelper;
import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.Redelivery;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.TopologyException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmallPartsTest {

  @Test
  void aHandlerCanBeUnitTestedWithADeliveryBuiltWithoutABroker() throws Exception {
    Delivery<String> d = Delivery.of("hello");
    assertEquals("hello", d.body());
    assertEquals(1, d.attempt());
    assertTrue(d.messageId().isEmpty());
    assertTrue(d.headers().isEmpty());
    List<String> seen = new java.util.ArrayList<>();
    MessageConsumer.Handler<String> handler = delivery -> seen.add(delivery.body() + "@" + delivery.queue());
    handler.handle(d);
    assertEquals(List.of("hello@test"), seen);
  }

  @Test
  void delayQueueNamesUseTheLargestWholeUnit() {
    assertEquals("q.retry.1s", Redelivery.delayQueueName("q", Duration.ofSeconds(1)));
    assertEquals("q.retry.1m", Redelivery.delayQueueName("q", Duration.ofSeconds(60)));
    assertEquals("q.retry.2h", Redelivery.delayQueueName("q", Duration.ofHours(2)));
    assertEquals("q.retry.1500ms", Redelivery.delayQueueName("q", Duration.ofMillis(1500)));
    assertThrows(IllegalArgumentException.class, () -> Redelivery.after(Duration.ZERO));
  }

  @Test
  void receivedHeadersBecomePlainJavaAndBrokerHeadersAreStripped() {
    Map<String, Object> raw = Map.of("s", LongStringHelper.asLongString("v"),
        "x-death", List.of(Map.of("queue", LongStringHelper.asLongString("q"))), "n", 3);
    Map<String, Object> java = Headers.toJava(raw);
    assertEquals("v", java.get("s"));
    assertEquals("q", ((Map<?, ?>) ((List<?>) java.get("x-death")).get(0)).get("queue"));
    assertEquals(Map.of("s", LongStringHelper.asLongString("v"), "n", 3), Headers.withoutBrokerHeaders(raw));
    assertEquals(3, Headers.integer(raw, "n", 0));
    assertEquals(7, Headers.integer(raw, "missing", 7));
  }

  @Test
  void refusedDeclarationNamesEntityAndArgument() {
    AMQP.Channel.Close close = new AMQP.Channel.Close.Builder().replyCode(406)
        .replyText("PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': "
            + "received '20' but current is '10'")
        .classId(50).methodId(10).build();
    ToolkitException e = Errors.topology("queue 'q'", new ShutdownSignalException(false, false, close, null));
    TopologyException te = (TopologyException) e;
    assertEquals("queue 'q'", te.entity());
    assertEquals("x-max-length", te.argument().orElseThrow());
    assertEquals(406, te.replyCode());
    assertTrue(te.getMessage().contains("received '20' but current is '10'"));
  }

  @Test
  void missingExchangeIsReadFromAChannelClose() {
    AMQP.Channel.Close close = new AMQP.Channel.Close.Builder().replyCode(404)
        .replyText("NOT_FOUND - no exchange 'orders' in vhost '/'").classId(60).methodId(40).build();
    assertEquals("orders", Errors.exchangeNamedIn(new ShutdownSignalException(false, false, close, null)));
    assertNull(Errors.exchangeNamedIn(null));
  }

  @Test
  void processedIdsForgetTheLeastRecentlySeen() {
    ProcessedMessages ids = ProcessedMessages.inMemory(2, java.time.Duration.ofHours(1));
    ids.add("a");
    ids.add("b");
    assertTrue(ids.contains("a")); // touches a
    ids.add("c");
    assertTrue(ids.contains("a"));
    assertFalse(ids.contains("b"));
    assertTrue(ids.contains("c"));
  }

  @Test
  void processedIdsForgetIdsOlderThanTheWindow() throws Exception {
    ProcessedMessages ids = ProcessedMessages.inMemory(100, java.time.Duration.ofMillis(50));
    ids.add("a");
    assertTrue(ids.contains("a"));
    Thread.sleep(80);
    assertFalse(ids.contains("a"));
  }

  @Test
  void serialExecutorRunsOneTaskAtATimeInOrder() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      SerialExecutor serial = new SerialExecutor(pool);
      List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
      int[] running = {0};
      boolean[] overlap = {false};
      CountDownLatch done = new CountDownLatch(1000);
      for (int i = 0; i < 1000; i++) {
        int n = i;
        serial.execute(() -> {
          if (++running[0] > 1) {
            overlap[0] = true;
          }
          seen.add(n);
          running[0]--;
          done.countDown();
        });
      }
      assertTrue(done.await(10, TimeUnit.SECONDS));
      assertFalse(overlap[0]);
      for (int i = 0; i < 1000; i++) {
        assertEquals(i, seen.get(i));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void truncationMarksWhatWasCut() {
    String s = DeadLetterPipeline.truncate("x".repeat(100), 50);
    assertEquals(50, s.length());
    assertTrue(s.endsWith("...[truncated]"));
    assertEquals("short", DeadLetterPipeline.truncate("short", 50));
  }

  @Test
  void failuresAreWordedByWhatWasBeingDone() {
    ToolkitException e = Errors.topology("deleting", "queue 'q'", new java.io.IOException("boom"));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("deleting queue 'q' failed"), e.getMessage());
  }
}
