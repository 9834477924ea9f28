package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@RabbitTest
class ConsumerIT {

  record Order(String orderId, double amount) {
  }

  private static Publisher<String> strings(RabbitToolkit rabbit, String queue) {
    return rabbit.publisherBuilder(String.class).routingKey(queue).build();
  }

  /** Publishes a raw body the way a foreign client would. */
  private static void publishRaw(RabbitToolkit rabbit, String queue, String body, String contentType) throws Exception {
    try (Publisher<byte[]> raw = rabbit.publisherBuilder(byte[].class).routingKey(queue)
        .codec(io.rabbitkit.codec.MessageCodec.bytes(contentType)).build()) {
      raw.publish(body.getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anEmptyMessageIdIsNoIdSoDeduplicationNeverSkipsSuchMessages(io.rabbitkit.test.RabbitBroker broker,
      RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (com.rabbitmq.client.Connection raw = RawClient.connect(broker.uri());
        com.rabbitmq.client.Channel ch = raw.createChannel()) {
      ch.confirmSelect();
      for (String body : List.of("a", "b", "c")) {
        ch.basicPublish("", queue, new com.rabbitmq.client.AMQP.BasicProperties.Builder().messageId("")
            .contentType("text/plain").build(), body.getBytes(StandardCharsets.UTF_8));
      }
      ch.waitForConfirmsOrDie(10_000);
    }
    List<Delivery<String>> handled = Collections.synchronizedList(new ArrayList<>());
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).deduplicate(100)
        .handler(handled::add).build()) {
      Await.until(Duration.ofSeconds(10), "three handled", () -> c.stats().processed() == 3);
      assertEquals(0, c.stats().duplicates());
    }
    assertEquals(Set.of("a", "b", "c"),
        handled.stream().map(Delivery::body).collect(java.util.stream.Collectors.toSet()));
    assertTrue(handled.stream().allMatch(d -> d.messageId().isEmpty()), "an empty id is reported as none");
  }

  @Test
  void theTailOfABurstIsAckedWhileTheConsumerStaysOpen(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = strings(rabbit, queue)) {
      List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        sent.add(p.publish("m" + i));
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }
    // A queue full before the subscription arrives at once: acks go out in batches of prefetch/4, and
    // the 100 % 62 left over are the flush timer's to send.
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).prefetch(250).handler(d -> {
    }).build()) {
      Await.until(Duration.ofSeconds(10), "100 handled", () -> c.stats().processed() == 100);
      Await.until(Duration.ofSeconds(2), "every ack sent", () -> rabbit.health().consumers().stream()
          .filter(s -> s.queue().equals(queue)).allMatch(s -> s.inFlight() == 0));
    }
  }

  @Test
  void withoutADeadLetterExchangeAFailedMessageIsRequeuedAfterTheDelay(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<Long> attempts = Collections.synchronizedList(new ArrayList<>());
    List<Boolean> redelivered = Collections.synchronizedList(new ArrayList<>());
    try (Publisher<String> p = strings(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).requeueDelay(Duration.ofMillis(300))
            .handler(d -> {
              attempts.add(System.nanoTime());
              redelivered.add(d.redelivered());
              if (attempts.size() < 3) {
                throw new IllegalStateException("not yet");
              }
            }).build()) {
      p.publish("retry me").get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      assertEquals(2, c.stats().requeued());
    }
    assertEquals(List.of(false, true, true), redelivered);
    for (int i = 1; i < attempts.size(); i++) {
      long gap = TimeUnit.NANOSECONDS.toMillis(attempts.get(i) - attempts.get(i - 1));
      assertTrue(gap >= 280, "requeued after only " + gap + " ms: it would spin");
    }
  }

  @Test
  void withADeadLetterExchangeAFailedMessageIsRejectedToIt(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    String dlq = names.queue("dlq");
    rabbit.declare(Topology.builder().queue(Queue.classic(dlq)).queue(Queue.classic(queue).withDeadLetterQueue(dlq))
        .build());
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<String> p = strings(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
          calls.incrementAndGet();
          throw new IllegalStateException("broken");
        }).build()) {
      p.publish("doomed").get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> rabbit.queueInfo(dlq).orElseThrow().messageCount() == 1);
      assertEquals(1, c.stats().deadLettered());
    }
    assertEquals(1, calls.get());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void anUndecodableMessageIsNeverAckedAsProcessedAndConsumingGoesOn(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    String dlq = names.queue("dlq");
    rabbit.declare(Topology.builder().queue(Queue.classic(dlq)).queue(Queue.classic(queue).withDeadLetterQueue(dlq))
        .build());
    BlockingQueue<Order> handled = new LinkedBlockingQueue<>();
    try (
        MessageConsumer c =
            rabbit.consumerBuilder(Order.class).queue(queue).handler(d -> handled.add(d.body())).build();
        Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build()) {
      publishRaw(rabbit, queue, "{\"orderId\": broken", "application/json");
      orders.publish(new Order("o-2", 2)).get(10, TimeUnit.SECONDS);
      assertEquals(new Order("o-2", 2), handled.poll(10, TimeUnit.SECONDS));
      Await.until(Duration.ofSeconds(10), () -> rabbit.queueInfo(dlq).orElseThrow().messageCount() == 1);
      assertEquals(1, c.stats().processed());
      assertTrue(c.isRunning());
    }
    assertTrue(handled.isEmpty());
  }

  @Test
  void dispatchThreadsRunsManyConsumersOnAFewThreadsEachInOrderAndAHandlerMayCallRpc(RabbitBroker broker,
      TestNames names) throws Exception {
    int consumers = 12;
    int each = 40;
    String echo = names.queue("echo");
    List<String> queues = new ArrayList<>();
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    List<MessageConsumer> running = new ArrayList<>();
    // The RPC server lives in another toolkit: a handler must not wait on a consumer of its own (see dispatchThreads).
    try (RabbitToolkit server = RabbitToolkit.connect(broker.uri());
        RabbitToolkit few = RabbitToolkit.builder().uri(broker.uri()).dispatchThreads(2).connect()) {
      for (int i = 0; i < consumers; i++) {
        queues.add(names.queue("q" + i));
        few.declare(Topology.of(Queue.classic(queues.get(i))));
      }
      server.declare(Topology.of(Queue.classic(echo)));
      try (RpcServer echoing = server.rpcServerBuilder(String.class, String.class).queue(echo).handler(s -> s)
          .build();
          RpcClient<String, String> client = few.rpcClientBuilder(String.class, String.class).routingKey(echo).build();
          // Each message names its queue; the publisher's own key is only the default.
          Publisher<Integer> p = few.publisherBuilder(Integer.class).routingKey(queues.get(0)).build()) {
        for (String q : queues) {
          List<Integer> got = Collections.synchronizedList(new ArrayList<>());
          seen.put(q, got);
          running.add(few.consumerBuilder(Integer.class).queue(q).prefetch(10).handler(d -> {
            threads.add(Thread.currentThread().getName());
            if (d.body() % 10 == 0) {
              // Blocks this thread until the reply comes: replies are dispatched off the bounded pool.
              assertEquals("n" + d.body(), client.call("n" + d.body()).get(10, TimeUnit.SECONDS));
            }
            got.add(d.body());
          }).build());
        }
        List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
        for (int n = 0; n < each; n++) {
          for (String q : queues) {
            sent.add(p.publish(Message.of(n).withRoutingKey(q)));
          }
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(30), () -> seen.values().stream().allMatch(l -> l.size() == each));
        // One consumer closed leaves the shared pool to the others.
        running.get(0).close();
        p.publish(Message.of(each).withRoutingKey(queues.get(1))).get(10, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(10), () -> seen.get(queues.get(1)).size() == each + 1);
      } finally {
        running.forEach(MessageConsumer::close);
      }
    }
    List<Integer> expected = new ArrayList<>();
    for (int n = 0; n < each; n++) {
      expected.add(n);
    }
    for (String q : queues.subList(2, consumers)) {
      assertEquals(expected, seen.get(q), q);
    }
    assertTrue(threads.size() <= 2 && threads.stream().allMatch(t -> t.startsWith("rabbitkit-consumer-")),
        "handlers ran on " + threads);
  }

  @Test
  void concurrencyBoundsHandlersInParallelAndNoneRunsOnAConnectionThread(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    try (Publisher<String> p = strings(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).concurrency(4).prefetch(5).handler(d -> {
          threads.add(Thread.currentThread().getName());
          maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
          Thread.sleep(20);
          running.decrementAndGet();
        }).build()) {
      List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        sent.add(p.publish("m" + i));
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(20), () -> c.stats().processed() == 80);
    }
    assertTrue(maxRunning.get() <= 4, "max " + maxRunning.get());
    assertTrue(maxRunning.get() >= 2, "handlers never overlapped: " + maxRunning.get());
    // The toolkit's own threads: its consumer dispatch pool or its workers, never amqp-client's connection reader.
    assertTrue(
        threads.stream().allMatch(t -> t.startsWith("rabbitkit-dispatch-") || t.startsWith("rabbitkit-consumer-")),
        threads.toString());
  }

  @Test
  void gracefulStopDuringAStreamLosesNothingAndLeavesNothingUnacked(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    int total = 1000;
    Set<String> processed = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    Publisher<String> p = strings(rabbit, queue);
    MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).prefetch(20).concurrency(2).handler(d -> {
      Thread.sleep(1);
      if (!processed.add(d.body())) {
        duplicates.incrementAndGet();
      }
    }).build();
    AtomicBoolean publishing = new AtomicBoolean(true);
    CompletableFuture<Void> stream = CompletableFuture.runAsync(() -> {
      for (int i = 0; i < total; i++) {
        p.publish("m" + i).join();
      }
      publishing.set(false);
    });
    Await.until(Duration.ofSeconds(20), "consumer midway", () -> processed.size() >= 100);
    c.close(); // while messages are still arriving
    assertFalse(c.isRunning());
    stream.get(60, TimeUnit.SECONDS);
    p.close();
    int handledBeforeStop = processed.size();

    // Nothing unacked: every remaining message is ready in the queue, and it holds exactly the rest.
    QueueInfo info = rabbit.queueInfo(queue).orElseThrow();
    assertEquals(0, info.consumerCount());
    assertEquals(total - handledBeforeStop, info.messageCount());
    Set<String> rest = ConcurrentHashMap.newKeySet();
    try (MessageConsumer drain =
        rabbit.consumerBuilder(String.class).queue(queue).handler(d -> rest.add(d.body())).build()) {
      Await.until(Duration.ofSeconds(20), () -> rest.size() == total - handledBeforeStop);
    }
    Set<String> all = new HashSet<>(processed);
    all.addAll(rest);
    assertEquals(total, all.size());
    assertTrue(Collections.disjoint(processed, rest));
    assertEquals(0, duplicates.get());
  }

  @Test
  void closeWaitsForHandlersInProgressAndAcksThem(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
      started.countDown();
      Thread.sleep(500);
      finished.set(true);
    }).build();
    try (Publisher<String> p = strings(rabbit, queue)) {
      p.publish("slow").get(10, TimeUnit.SECONDS);
    }
    assertTrue(started.await(10, TimeUnit.SECONDS));
    c.close();
    assertTrue(finished.get(), "close returned before the handler finished");
    assertEquals(1, c.stats().processed());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void aConsumerCancelledByTheBrokerIsReportedAndResumesWhenTheQueueIsBack(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> received.add(d.body()))
        .listener(new MessageConsumer.Listener() {
          @Override
          public void cancelledByBroker(String q) {
            events.add("cancelled");
          }

          @Override
          public void resumed(String q) {
            events.add("resumed");
          }
        }).build();
        Publisher<String> p = strings(rabbit, queue)) {
      assertTrue(c.isRunning());
      rabbit.deleteQueue(queue);
      assertEquals("cancelled", events.poll(10, TimeUnit.SECONDS));
      assertFalse(c.isRunning());
      Thread.sleep(1500); // a few failed attempts while the queue is gone
      assertFalse(c.isRunning());
      Health health = rabbit.health();
      assertFalse(health.healthy(), health.toString());
      assertEquals(List.of(queue), health.consumers().stream().filter(s -> !s.running())
          .map(Health.ConsumerStatus::queue).toList());

      rabbit.declare(Topology.of(Queue.classic(queue)));
      assertEquals("resumed", events.poll(20, TimeUnit.SECONDS));
      Await.until(Duration.ofSeconds(5), "running again", c::isRunning);
      assertTrue(rabbit.health().healthy(), rabbit.health().toString());
      p.publish("after the queue came back").get(10, TimeUnit.SECONDS);
      assertEquals("after the queue came back", received.poll(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void listenerCallsArriveInTheOrderTheEventsHappenedEvenWhenAListenerIsSlow(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
    })
        .listener(new MessageConsumer.Listener() {
          @Override
          public void cancelledByBroker(String q) {
            try {
              Thread.sleep(1500); // slower than the resubscription: an unordered pool would report resumed first
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            events.add("cancelled");
          }

          @Override
          public void resumed(String q) {
            events.add("resumed");
          }
        }).build()) {
      rabbit.deleteQueue(queue);
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Await.until(Duration.ofSeconds(20), "both events", () -> events.size() == 2);
      assertEquals(List.of("cancelled", "resumed"), events);
      Await.until(Duration.ofSeconds(5), "running again", c::isRunning);
    }
  }

  @Test
  void asyncHandlerAcksWhenItsStageCompletesAndFailsWhenItFails(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    String dlq = names.queue("dlq");
    rabbit.declare(Topology.builder().queue(Queue.classic(dlq)).queue(Queue.classic(queue).withDeadLetterQueue(dlq))
        .build());
    Set<String> done = ConcurrentHashMap.newKeySet();
    try (Publisher<String> p = strings(rabbit, queue);
        MessageConsumer c =
            rabbit.consumerBuilder(String.class).queue(queue).asyncHandler(d -> CompletableFuture.supplyAsync(() -> {
              if (d.body().startsWith("bad")) {
                throw new IllegalArgumentException("async failure");
              }
              done.add(d.body());
              return null;
            }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS))).build()) {
      for (int i = 0; i < 20; i++) {
        p.publish("good" + i).get(10, TimeUnit.SECONDS);
      }
      p.publish("bad").get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 20 && c.stats().deadLettered() == 1);
    }
    assertEquals(20, done.size());
    assertEquals(1, rabbit.queueInfo(dlq).orElseThrow().messageCount());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void deliveriesCarryTheirMetadata(RabbitToolkit rabbit, TestNames names) throws Exception {
    String exchange = names.exchange("x");
    String queue = names.queue("q");
    rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(queue))
        .binding(Binding.of(exchange, queue, "a.*")).build());
    BlockingQueue<Delivery<String>> got = new LinkedBlockingQueue<>();
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey("a.b").build();
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(got::add).build()) {
      p.publish(Message.of("hi").withMessageId("id-7").withCorrelationId("corr").withHeader("n", 42)
          .withReplyTo("somewhere")).get(10, TimeUnit.SECONDS);
      Delivery<String> d = got.poll(10, TimeUnit.SECONDS);
      assertEquals("hi", d.body());
      assertEquals("id-7", d.messageId().orElseThrow());
      assertEquals("corr", d.correlationId().orElseThrow());
      assertEquals("somewhere", d.replyTo().orElseThrow());
      assertEquals(42, d.header("n").orElseThrow());
      assertEquals(exchange, d.exchange());
      assertEquals("a.b", d.routingKey());
      assertEquals(queue, d.queue());
      assertTrue(d.timestamp().isPresent());
    }
  }

  @Test
  void stopAfterHandlesExactlyThatManyAndLeavesTheRestInTheQueue(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = strings(rabbit, queue)) {
      for (int i = 0; i < 10; i++) {
        p.publish("m" + i).get(10, TimeUnit.SECONDS);
      }
    }
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).prefetch(50).stopAfter(3)
        .handler(d -> handled.add(d.body())).build()) {
      c.stopped().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertEquals(List.of("m0", "m1", "m2"), handled);
    assertEquals(7, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void deduplicationSkipsAMessageIdAlreadyProcessed(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger handled = new AtomicInteger();
    try (Publisher<String> p = strings(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).deduplicate(100)
            .handler(d -> handled.incrementAndGet()).build()) {
      p.publish(Message.of("once").withMessageId("same")).get(10, TimeUnit.SECONDS);
      p.publish(Message.of("once again").withMessageId("same")).get(10, TimeUnit.SECONDS);
      p.publish(Message.of("other").withMessageId("other")).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().received() == 3);
      Await.until(Duration.ofSeconds(10), () -> c.stats().duplicates() == 1);
    }
    assertEquals(2, handled.get());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }
}
