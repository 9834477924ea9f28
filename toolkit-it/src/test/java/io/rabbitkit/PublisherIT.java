package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@RabbitTest
class PublisherIT {

  @Test
  void futuresCompleteOnTheCallbackPoolUnlessAskedToCompleteOnTheConnectionThread(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("inline");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    for (boolean inline : new boolean[]{false, true}) {
      Set<String> threads = ConcurrentHashMap.newKeySet();
      String caller = Thread.currentThread().getName();
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue)
          .completeOnConnectionThread(inline).build()) {
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
          all.add(p.publish("m" + i).whenComplete((c, e) -> threads.add(Thread.currentThread().getName())));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      }
      threads.remove(caller); // a future complete before whenComplete was added runs it here
      assertFalse(threads.isEmpty());
      String where = inline ? "AMQP Connection" : "rabbitkit-callback";
      assertTrue(threads.stream().allMatch(t -> t.startsWith(where)), inline + ": " + threads);
    }
  }

  @Test
  void typeAndAppIdReachTheBrokerAsAmqpProperties(RabbitToolkit rabbit, io.rabbitkit.test.RabbitBroker broker,
      TestNames names) throws Exception {
    String queue = names.queue("typed");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish(Message.of("x").withType("order.placed").withAppId("shop")).get(10, TimeUnit.SECONDS);
    }
    com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
    f.setUri(broker.uri());
    if (f.getVirtualHost().isEmpty()) {
      f.setVirtualHost("/");
    }
    try (com.rabbitmq.client.Connection c = f.newConnection("typed-reader")) {
      com.rabbitmq.client.GetResponse r = c.createChannel().basicGet(queue, true);
      assertEquals("order.placed", r.getProps().getType());
      assertEquals("shop", r.getProps().getAppId());
    }
    // And a consumer sees them on the delivery.
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish(Message.of("y").withType("order.shipped").withAppId("shop")).get(10, TimeUnit.SECONDS);
    }
    java.util.concurrent.BlockingQueue<Delivery<String>> got = new java.util.concurrent.LinkedBlockingQueue<>();
    try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(got::add).build()) {
      Delivery<String> d = got.poll(10, TimeUnit.SECONDS);
      assertEquals("order.shipped", d.type().orElseThrow());
      assertEquals("shop", d.appId().orElseThrow());
    }
  }

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Event(int thread, int seq) {
  }

  @Test
  void unroutableMessageFailsWithTheReturnedException(RabbitToolkit rabbit, TestNames names) throws Exception {
    String exchange = names.exchange("nowhere");
    rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange)).build());
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey("none").build()) {
      MessageReturnedException e =
          assertInstanceOf(MessageReturnedException.class, Await.failure(p.publish("lost?"), WAIT));
      assertEquals(312, e.replyCode());
      assertEquals(exchange, e.exchange());
      assertEquals("none", e.routingKey());
      // The same publisher goes on working for routable messages.
      rabbit.declare(Topology.builder().queue(Queue.classic(names.queue("q")))
          .binding(Binding.of(exchange, names.queue("q"), "none")).build());
      p.publish("found").get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aFullRejectPublishQueueNacksOnceRetryingRunsOutOfTime(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("full");
    rabbit.declare(Topology.of(Queue.classic(queue).withMaxLength(1).withOverflow(Queue.Overflow.REJECT_PUBLISH)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue)
        .confirmTimeout(Duration.ofSeconds(1)).build()) {
      p.publish("fits").get(10, TimeUnit.SECONDS);
      MessageNackedException e =
          assertInstanceOf(MessageNackedException.class, Await.failure(p.publish("too many"), WAIT));
      assertEquals(queue, e.routingKey());
      assertTrue(rabbit.health().publishers().get(0).resent() >= 2, "re-sent with back-off before giving up");
    }
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void aNackedMessageIsResentAndConfirmedOnceTheQueueHasRoom(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("full");
    rabbit.declare(Topology.of(Queue.classic(queue).withMaxLength(1).withOverflow(Queue.Overflow.REJECT_PUBLISH)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      p.publish("first").get(10, TimeUnit.SECONDS);
      CompletableFuture<Confirmation> waiting = p.publish("second");
      Thread.sleep(500);
      assertFalse(waiting.isDone(), "nacked, and waiting to be re-sent");
      rabbit.purgeQueue(queue);
      waiting.get(10, TimeUnit.SECONDS);
    }
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void eightThreadsPublishTenThousandAllConfirmedAllConsumedNoneLostOrDuplicated(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("bulk");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    int threads = 8;
    int perThread = 1250;
    Set<Event> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (Publisher<Event> p = rabbit.publisherBuilder(Event.class).routingKey(queue).maxInFlight(500).build();
        MessageConsumer c = rabbit.consumerBuilder(Event.class).queue(queue).prefetch(200).concurrency(2)
            .handler(d -> {
              if (!seen.add(d.body())) {
                duplicates.incrementAndGet();
              }
            }).build()) {
      List<Future<List<CompletableFuture<Confirmation>>>> work = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        work.add(pool.submit(() -> {
          List<CompletableFuture<Confirmation>> futures = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            futures.add(p.publish(new Event(thread, i)));
            assertTrue(p.inFlight() <= 500);
          }
          return futures;
        }));
      }
      for (Future<List<CompletableFuture<Confirmation>>> f : work) {
        CompletableFuture.allOf(f.get().toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      }
      Await.until(Duration.ofSeconds(60), "all consumed", () -> seen.size() == threads * perThread);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == threads * perThread);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(0, duplicates.get());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void futuresCompleteOnTheCallbackExecutorNotOnAConnectionThread(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      // A dependent attached after completion runs on the attaching thread (main): only the others tell.
      List<CompletableFuture<String>> threads = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        threads.add(p.publish("m").thenApply(c -> Thread.currentThread().getName()));
      }
      List<String> seen = new ArrayList<>();
      for (CompletableFuture<String> t : threads) {
        seen.add(t.get(10, TimeUnit.SECONDS));
      }
      assertTrue(seen.stream().allMatch(n -> n.equals("main") || n.startsWith("rabbitkit-callback")), seen.toString());
      assertTrue(seen.stream().anyMatch(n -> n.startsWith("rabbitkit-callback")), seen.toString());
      // A callback may publish again without deadlocking the connection.
      String again = p.publish("first").thenCompose(c -> p.publish("second")).get(10, TimeUnit.SECONDS).messageId();
      assertTrue(!again.isEmpty());
    }
  }

  @Test
  void slowCallbacksSlowPublishingDownInsteadOfGrowingThreads(io.rabbitkit.test.RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    int messages = 1000;
    AtomicInteger ran = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    try (RabbitToolkit rabbit = names.track(broker.connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      java.util.concurrent.ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      sampler.scheduleAtFixedRate(() -> peak.accumulateAndGet((int) Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith("rabbitkit-callback")).count(), Math::max), 0, 5, TimeUnit.MILLISECONDS);
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).maxInFlight(50)
          .windowTimeout(Duration.ofSeconds(60)).build()) {
        List<CompletableFuture<Void>> callbacks = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
          callbacks.add(p.publish("m-" + i).thenRun(() -> {
            sleep(20);
            ran.incrementAndGet();
          }));
        }
        CompletableFuture.allOf(callbacks.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      } finally {
        sampler.shutdownNow();
      }
    }
    assertEquals(messages, ran.get());
    System.out.println("FIGURES slow callbacks: at most " + peak.get() + " callback threads for " + messages);
    assertTrue(peak.get() <= 32, "the callback pool grew to " + peak.get() + " threads");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aMissingExchangeFailsTypedAndTheChannelIsReplaced(RabbitToolkit rabbit, TestNames names) throws Exception {
    String exchange = names.exchange("later");
    String queue = names.queue("q");
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey("k").build()) {
      PublishException e = assertInstanceOf(PublishException.class, Await.failure(p.publish("too early"), WAIT));
      assertTrue(e.getMessage().contains("NOT_FOUND"), e.getMessage());
      assertEquals(exchange, e.exchange());

      rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange)).queue(Queue.classic(queue))
          .binding(Binding.of(exchange, queue, "k")).build());
      Await.until(Duration.ofSeconds(10), "publisher channel replaced", () -> {
        try {
          p.publish("in time").get(10, TimeUnit.SECONDS);
          return true;
        } catch (Exception ex) {
          return false;
        }
      });
    }
    assertTrue(rabbit.queueInfo(queue).orElseThrow().messageCount() >= 1);
  }

  @Test
  void oversizedBodiesAndUnencodableValuesFailBeforeSending(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).maxBodySize(10).build();
        Publisher<Object> objects = rabbit.publisherBuilder(Object.class).routingKey(queue).build()) {
      PublishException big = assertInstanceOf(PublishException.class, Await.failure(p.publish("x".repeat(11)), WAIT));
      assertTrue(big.getMessage().contains("exceeds"), big.getMessage());
      assertInstanceOf(PublishException.class, Await.failure(objects.publish(new Object()), WAIT));
      p.publish("small").get(10, TimeUnit.SECONDS);
      assertEquals(0, p.inFlight());
    }
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void routingKeyComputedFromTheMessageRoutesThroughATopicExchange(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String exchange = names.exchange("events");
    String eu = names.queue("eu");
    rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(eu))
        .binding(Binding.of(exchange, eu, "region.eu.#")).build());
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange)
        .routingKey(region -> "region." + region + ".order").mandatory(false).build()) {
      assertEquals("region.eu.order", p.publish("eu").get(10, TimeUnit.SECONDS).routingKey());
      p.publish("us").get(10, TimeUnit.SECONDS); // unroutable, but mandatory is off: confirmed and dropped
    }
    assertEquals(1, rabbit.queueInfo(eu).orElseThrow().messageCount());
  }

  @Test
  void stringAndBytesTravelWithTheirOwnContentTypes(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<Delivery<byte[]>> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Publisher<String> text = rabbit.publisherBuilder(String.class).routingKey(queue).build();
        Publisher<byte[]> raw = rabbit.publisherBuilder(byte[].class).routingKey(queue).build();
        MessageConsumer c = rabbit.consumerBuilder(byte[].class).queue(queue).handler(got::add).build()) {
      text.publish("héllo").get(10, TimeUnit.SECONDS);
      raw.publish(new byte[]{1, 2, 3}).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> got.size() == 2);
    }
    assertEquals("text/plain", got.get(0).contentType().orElseThrow());
    assertEquals("héllo", new String(got.get(0).body(), java.nio.charset.StandardCharsets.UTF_8));
    assertEquals("application/octet-stream", got.get(1).contentType().orElseThrow());
  }

  record Order(String orderId, String status) {
  }

  @Test
  void returnsReachTheirOwnMessageWhenTwoInFlightMessagesShareAnId(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String exchange = names.exchange("orders");
    String queue = names.queue("placed");
    rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange)).queue(Queue.classic(queue))
        .binding(Binding.of(exchange, queue, "placed")).build());
    int rounds = 300;
    int wrong = 0;
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).exchange(exchange).routingKey(Order::status)
        .messageId(Order::orderId).build()) {
      for (int i = 0; i < rounds; i++) {
        CompletableFuture<Confirmation> routed = p.publish(new Order("o-" + i, "placed"));
        CompletableFuture<Confirmation> unroutable = p.publish(new Order("o-" + i, "shipped"));
        Throwable routedFailure = Await.outcome(routed, WAIT);
        Throwable unroutableFailure = Await.outcome(unroutable, WAIT);
        if (routedFailure != null || !(unroutableFailure instanceof MessageReturnedException)) {
          wrong++;
        }
      }
    }
    assertEquals(0, wrong, "rounds in which a message got the other one's outcome, of " + rounds);
    assertEquals(rounds, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void aPublisherRefusesHeadersTheBrokerWouldCloseItsChannelFor(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("cc");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> Message.of("bad").withHeader("CC", "not-a-list"));
    assertTrue(refused.getMessage().contains("'CC'"), refused.getMessage());
    assertThrows(IllegalArgumentException.class, () -> rabbit.publisherBuilder(String.class).header("BCC", 42));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      List<CompletableFuture<Confirmation>> innocents = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        innocents.add(p.publish("innocent " + i));
      }
      CompletableFuture.allOf(innocents.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      // A CC header the broker accepts routes a copy to the named queue.
      p.publish(Message.of("copied").withHeader("CC", List.of(queue))).get(10, TimeUnit.SECONDS);
    }
    Await.until(WAIT, () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 101);
  }
}
