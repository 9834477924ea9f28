package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@RabbitTest
class RetryDeadLetterIT {

  record Order(String orderId, double amount) {
  }

  private static RetryConfig inProcess(int attempts) {
    return RetryConfig.custom().maxAttempts(attempts).waitDuration(Duration.ofMillis(10)).build();
  }

  private static Publisher<Order> orders(RabbitToolkit rabbit, String queue) {
    return rabbit.publisherBuilder(Order.class).routingKey(queue).messageId(Order::orderId).build();
  }

  @Test
  void aHandlerFailingTwiceThenSucceedingProcessesTheMessageOnceWithNothingDeadLettered(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger successes = new AtomicInteger();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(inProcess(3))
            .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(d -> {
              if (calls.incrementAndGet() <= 2) {
                throw new IllegalStateException("transient " + calls.get());
              }
              successes.incrementAndGet();
            }).build()) {
      p.publish(new Order("o-1", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      assertEquals(2, c.stats().retriedInProcess());
      assertEquals(0, c.stats().delayed());
    }
    assertEquals(3, calls.get());
    assertEquals(1, successes.get());
    assertEquals(0, rabbit.deadLetters(queue).count());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void brokerSideRoundsCountAttemptsInTheToolkitsOwnHeader(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<Integer> rounds = Collections.synchronizedList(new ArrayList<>());
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue)
            .redelivery(Redelivery.after(Duration.ofMillis(100), Duration.ofMillis(200))).handler(d -> {
              rounds.add(d.attempt());
              // Only the broker's own dead-lettering headers start with x-: the toolkit never sets one.
              assertTrue(d.headers().keySet().stream().filter(h -> h.startsWith("x-"))
                  .allMatch(h -> h.equals("x-death") || h.startsWith("x-first-death") || h.startsWith("x-last-death")));
              if (d.attempt() < 3) {
                throw new IllegalStateException("round " + d.attempt());
              }
            }).build()) {
      p.publish(new Order("o-1", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      assertEquals(2, c.stats().delayed());
    }
    assertEquals(List.of(1, 2, 3), rounds);
    assertEquals(0, rabbit.deadLetters(queue).count());
  }

  @Test
  void anAlwaysFailingHandlerLeavesExactlyOneDeadLetterCarryingEveryHeaderAfterTheTiers(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger calls = new AtomicInteger();
    List<Integer> retryEvents = Collections.synchronizedList(new ArrayList<>());
    List<String> deadEvents = Collections.synchronizedList(new ArrayList<>());
    Instant published;
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(inProcess(2))
            .redelivery(Redelivery.after(Duration.ofMillis(300), Duration.ofMillis(600)))
            .listener(new MessageConsumer.Listener() {
              @Override
              public void retryScheduled(String q, String id, int attempt, Duration delay, Throwable cause) {
                retryEvents.add(attempt);
              }

              @Override
              public void deadLettered(String q, String id, String reason, Throwable cause) {
                deadEvents.add(id + "/" + reason);
              }
            })
            .handler(d -> {
              throw new IllegalStateException("boom " + calls.incrementAndGet());
            }).build()) {
      published = Instant.now();
      p.publish(new Order("o-9", 9.5)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(15), () -> c.stats().deadLettered() == 1);
      assertEquals(2, c.stats().delayed());
      assertEquals(3, c.stats().retriedInProcess());
      assertEquals(0, c.stats().processed());
    }
    Duration elapsed = Duration.between(published, Instant.now());
    assertEquals(6, calls.get()); // 3 rounds x 2 in-process attempts
    assertEquals(List.of(1, 2), retryEvents);
    Await.until(Duration.ofSeconds(5), () -> deadEvents.size() == 1);
    assertEquals(List.of("o-9/" + FailureHeaders.REASON_HANDLER_FAILED), deadEvents);

    DeadLetters dead = rabbit.deadLetters(queue);
    assertEquals(1, dead.count());
    DeadLetter letter = dead.list(10).get(0);
    assertEquals("o-9", letter.messageId().orElseThrow());
    assertEquals(queue, letter.originalQueue());
    assertEquals("", letter.originalExchange());
    assertEquals(queue, letter.originalRoutingKey());
    assertEquals(FailureHeaders.REASON_HANDLER_FAILED, letter.reason());
    assertEquals(3, letter.attempts());
    assertTrue(letter.failedWith(IllegalStateException.class));
    assertEquals("boom 6", letter.exceptionMessage().orElseThrow());
    String trace = letter.stackTrace().orElseThrow();
    assertTrue(
        trace.contains("IllegalStateException: boom 6") && trace.length() <= FailureHeaders.MAX_STACK_TRACE_LENGTH);
    Duration between = Duration.between(letter.firstFailedAt().orElseThrow(), letter.lastFailedAt().orElseThrow());
    assertTrue(between.toMillis() >= 850, "tiers took only " + between);
    assertTrue(elapsed.toMillis() >= 900, "dead-lettered after only " + elapsed);
    assertTrue(letter.headers().keySet().containsAll(List.of(FailureHeaders.ATTEMPTS, FailureHeaders.EXCEPTION,
        FailureHeaders.EXCEPTION_MESSAGE, FailureHeaders.STACK_TRACE, FailureHeaders.ORIGINAL_EXCHANGE,
        FailureHeaders.ORIGINAL_ROUTING_KEY, FailureHeaders.FIRST_FAILED_AT, FailureHeaders.FAILED_AT)));
    assertEquals("{\"orderId\":\"o-9\",\"amount\":9.5}", letter.bodyAsString());
    assertEquals(1, dead.count(), "listing must leave the dead letter in place");
    for (Duration delay : List.of(Duration.ofMillis(300), Duration.ofMillis(600))) {
      assertEquals(0, rabbit.queueInfo(Redelivery.delayQueueName(queue, delay)).orElseThrow().messageCount());
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void malformedJsonIsDeadLetteredOnceAndTheNextGoodMessageIsProcessed(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    List<Order> handled = Collections.synchronizedList(new ArrayList<>());
    try (Publisher<Order> p = orders(rabbit, queue);
        Publisher<byte[]> raw = rabbit.publisherBuilder(byte[].class).routingKey(queue)
            .codec(io.rabbitkit.codec.MessageCodec.bytes("application/json")).build();
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(inProcess(3))
            .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(d -> handled.add(d.body())).build()) {
      raw.publish(Message.of("{\"orderId\": \"o-1\", ".getBytes(StandardCharsets.UTF_8)).withMessageId("bad-1"))
          .get(10, TimeUnit.SECONDS);
      p.publish(new Order("o-2", 2)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1 && c.stats().deadLettered() == 1);
      assertEquals(0, c.stats().delayed());
      assertEquals(0, c.stats().retriedInProcess());
    }
    assertEquals(List.of(new Order("o-2", 2)), handled);
    List<DeadLetter> letters = rabbit.deadLetters(queue).list(10);
    assertEquals(1, letters.size());
    assertEquals("bad-1", letters.get(0).messageId().orElseThrow());
    assertEquals(FailureHeaders.REASON_UNDECODABLE, letters.get(0).reason());
    assertTrue(letters.get(0).exceptionMessage().orElseThrow().contains("malformed JSON"));
    assertEquals(1, letters.get(0).attempts());
  }

  @Test
  void unknownContentTypesOversizedBodiesAndRejectionsSkipEveryRetry(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<String> text = rabbit.publisherBuilder(String.class).routingKey(queue).build();
        Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).maxBodySize(200).retry(inProcess(3))
            .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(d -> {
              calls.incrementAndGet();
              if (d.body().amount() < 0) {
                throw new RejectMessageException("negative amount");
              }
            }).build()) {
      text.publish(Message.of("plain text").withMessageId("text-1")).get(10, TimeUnit.SECONDS);
      p.publish(Message.of(new Order("x".repeat(300), 1)).withMessageId("big-1")).get(10, TimeUnit.SECONDS);
      p.publish(new Order("neg-1", -1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().deadLettered() == 3);
      assertEquals(0, c.stats().delayed());
      assertEquals(0, c.stats().retriedInProcess());
    }
    assertEquals(1, calls.get());
    Map<String, String> reasons = new java.util.HashMap<>();
    for (DeadLetter d : rabbit.deadLetters(queue).list(10)) {
      reasons.put(d.messageId().orElseThrow().substring(0, 4), d.reason() + ": " + d.exceptionMessage().orElse(""));
    }
    assertTrue(reasons.get("text").startsWith(FailureHeaders.REASON_UNDECODABLE), reasons.toString());
    assertTrue(reasons.get("text").contains("text/plain"), reasons.toString());
    assertTrue(reasons.get("big-").contains("exceeds"), reasons.toString());
    assertEquals(FailureHeaders.REASON_REJECTED + ": negative amount", reasons.get("neg-"));
  }

  @Test
  void replayReturnsDeadLettersToTheWorkQueueWhereTheyAreProcessed(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicBoolean broken = new AtomicBoolean(true);
    List<Delivery<Order>> processed = Collections.synchronizedList(new ArrayList<>());
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c =
            rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq").handler(d -> {
              if (broken.get()) {
                throw new IllegalStateException("dependency down");
              }
              processed.add(d);
            }).build()) {
      for (int i = 0; i < 3; i++) {
        p.publish(new Order("o-" + i, i)).get(10, TimeUnit.SECONDS);
      }
      DeadLetters dead = rabbit.deadLetters(queue);
      Await.until(Duration.ofSeconds(10), () -> dead.count() == 3);
      broken.set(false);
      assertEquals(3, dead.replayAll());
      Await.until(Duration.ofSeconds(10), () -> processed.size() == 3);
      assertEquals(0, dead.count());
      assertEquals(3, dead.replayed());
    }
    for (Delivery<Order> d : processed) {
      assertEquals(1, d.attempt(), "replay resets the attempt count");
      assertEquals(1, d.header(FailureHeaders.REPLAY_COUNT).orElseThrow());
      assertTrue(d.header(FailureHeaders.EXCEPTION).isEmpty());
    }
    Set<String> ids = new HashSet<>();
    processed.forEach(d -> ids.add(d.body().orderId()));
    assertEquals(Set.of("o-0", "o-1", "o-2"), ids);
  }

  @Test
  void replayCanPickByExceptionAndPurgeClearsTheRest(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicBoolean broken = new AtomicBoolean(true);
    AtomicInteger processed = new AtomicInteger();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c =
            rabbit.consumerBuilder(Order.class).queue(queue).redelivery(Redelivery.none()).handler(d -> {
              if (broken.get()) {
                throw d.body().amount() > 0 ? new IllegalStateException("retryable")
                    : new IllegalArgumentException("bad");
              }
              processed.incrementAndGet();
            }).build()) {
      for (int i = 0; i < 6; i++) {
        p.publish(new Order("o-" + i, i % 2)).get(10, TimeUnit.SECONDS);
      }
      DeadLetters dead = rabbit.deadLetters(queue);
      Await.until(Duration.ofSeconds(10), () -> dead.count() == 6);
      broken.set(false);
      assertEquals(3, dead.replay(d -> d.failedWith(IllegalStateException.class), 100));
      Await.until(Duration.ofSeconds(10), () -> processed.get() == 3);
      assertEquals(3, dead.count());
      assertTrue(dead.list(10).stream().allMatch(d -> d.failedWith(IllegalArgumentException.class)));
      assertEquals(3, dead.purge());
      assertEquals(0, dead.count());
      assertEquals(0, dead.replay("o-1"));
    }
  }

  @Test
  void aMessageWaitingInALongTierDoesNotHoldBackOneInAShorterTier(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    Map<String, List<Integer>> rounds = new ConcurrentHashMap<>();
    AtomicBoolean bDone = new AtomicBoolean();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).drainTimeout(Duration.ZERO)
            .redelivery(Redelivery.after(Duration.ofMillis(200), Duration.ofSeconds(20))).handler(d -> {
              rounds.computeIfAbsent(d.body().orderId(), k -> Collections.synchronizedList(new ArrayList<>()))
                  .add(d.attempt());
              if (d.body().orderId().equals("A") || d.attempt() == 1) {
                throw new IllegalStateException("fail " + d.body().orderId());
              }
              bDone.set(true);
            }).build()) {
      p.publish(new Order("A", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), "A in the 20 s tier",
          () -> rabbit.queueInfo(Redelivery.delayQueueName(queue, Duration.ofSeconds(20))).orElseThrow()
              .messageCount() == 1);
      long start = System.nanoTime();
      p.publish(new Order("B", 2)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), "B processed", bDone::get);
      assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 5);
      assertEquals(List.of(1, 2), rounds.get("A"), "A is still waiting in the long tier");
      assertEquals(List.of(1, 2), rounds.get("B"));
    }
  }

  @Test
  void quorumWorkQueuesUseThePipelineToo(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.quorum(queue).withDeliveryLimit(5).withDeadLetterQueue(queue + ".dlq"),
        Queue.classic(queue + ".dlq")));
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue)
            .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(d -> {
              calls.incrementAndGet();
              if (d.body().amount() < 0) {
                throw new IllegalStateException("always");
              }
              if (d.attempt() == 1) {
                throw new IllegalStateException("once");
              }
            }).build()) {
      p.publish(new Order("ok", 1)).get(10, TimeUnit.SECONDS);
      p.publish(new Order("bad", -1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1 && c.stats().deadLettered() == 1);
    }
    assertEquals(4, calls.get());
    assertEquals("bad", rabbit.deadLetters(queue).list(1).get(0).messageId().orElseThrow());
  }

  @Test
  void classicTiersOfAQuorumWorkQueueLeftByAnEarlierVersionAreKeptAndStillWork(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    String tier = Redelivery.delayQueueName(queue, Duration.ofMillis(100));
    names.queue(tier.substring(names.prefix().length() + 1)); // deleted after the test
    rabbit.declare(Topology.of(Queue.quorum(queue), Queue.classic(tier).withMessageTtl(Duration.ofMillis(100))
        .withDeadLetterExchange("").withDeadLetterRoutingKey(queue)));
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue)
            .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(d -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("once");
              }
            }).build()) {
      p.publish(new Order("ok", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      assertEquals(1, c.stats().delayed());
    }
  }

  @Test
  void aSecondProcessThatFindsItsQuorumQueueDeclaredAlreadyConsumesThroughTheSameTiers(RabbitToolkit rabbit,
      io.rabbitkit.test.RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("work");
    Topology topology = Topology.of(Queue.classic(queue + ".dlq"), Queue.quorum(queue).withDeliveryLimit(5));
    MessageConsumer.Handler<Order> failsOnce = d -> {
      if (d.attempt() == 1) {
        throw new IllegalStateException("once");
      }
    };
    rabbit.declareMissing(topology);
    try (MessageConsumer first = rabbit.consumerBuilder(Order.class).queue(queue)
        .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(failsOnce).build();
        RabbitToolkit second = names.track(broker.connect())) {
      second.declareMissing(topology); // finds it: declares nothing, but knows what it is
      try (MessageConsumer c = second.consumerBuilder(Order.class).queue(queue)
          .redelivery(Redelivery.after(Duration.ofMillis(100))).handler(failsOnce).build();
          Publisher<Order> p = orders(second, queue)) {
        for (int i = 0; i < 10; i++) {
          p.publish(new Order("o-" + i, 1)).get(10, TimeUnit.SECONDS);
        }
        Await.until(Duration.ofSeconds(20), () -> first.stats().processed() + c.stats().processed() == 10);
        assertEquals(10, first.stats().delayed() + c.stats().delayed());
      }
    }
  }

  @Test
  void whenTheMoveToTheDeadLetterQueueFailsTheOriginalIsRequeuedNotLost(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
            .requeueDelay(Duration.ofMillis(100)).handler(d -> {
              throw new RejectMessageException("poison");
            }).build()) {
      rabbit.deleteQueue(queue + ".dlq"); // the re-publish is now unroutable: it fails
      p.publish(new Order("o-1", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), "requeued at least twice", () -> c.stats().requeued() >= 2);
      assertEquals(0, c.stats().deadLettered());
      assertTrue(rabbit.queueInfo(queue + ".dlq").isEmpty());

      rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
      Await.until(Duration.ofSeconds(10), "dead-lettered once the queue is back", () -> c.stats().deadLettered() == 1);
    }
    assertEquals(1, rabbit.deadLetters(queue).count());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void asyncHandlersRetryInProcessAndThroughTheTiersToo(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicInteger calls = new AtomicInteger();
    List<String> threads = Collections.synchronizedList(new ArrayList<>());
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(inProcess(2))
            .redelivery(Redelivery.after(Duration.ofMillis(100))).asyncHandler(d -> {
              threads.add(Thread.currentThread().getName());
              int n = calls.incrementAndGet();
              return n <= 3 ? CompletableFuture.failedFuture(new IllegalStateException("async " + n))
                  : CompletableFuture.completedFuture(null);
            }).build()) {
      p.publish(new Order("o-1", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      assertEquals(1, c.stats().delayed()); // round 1: two failed attempts, then the tier
      assertEquals(2, c.stats().retriedInProcess());
    }
    assertEquals(4, calls.get());
    assertTrue(threads.stream().allMatch(t -> t.startsWith("rabbitkit-consumer-")), threads.toString());
    assertEquals(0, rabbit.deadLetters(queue).count());
  }

  @Test
  void replayIsRateLimited(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue), Queue.classic(queue + ".dlq")));
    try (Publisher<Order> dlq = rabbit.publisherBuilder(Order.class).routingKey(queue + ".dlq").build()) {
      for (int i = 0; i < 12; i++) {
        dlq.publish(new Order("o-" + i, i)).get(10, TimeUnit.SECONDS);
      }
    }
    long start = System.nanoTime();
    assertEquals(12, rabbit.deadLetters(queue).replay(d -> true, 20));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(took >= 500, "12 replays at 20/s took only " + took + " ms");
    assertEquals(12, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void brokerDeadLetteredMessagesAreListedWithTheBrokersReason(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("work");
    String dlq = names.queue("dead");
    rabbit.declare(Topology.of(Queue.classic(dlq), Queue.quorum(queue).withDeliveryLimit(1).withDeadLetterQueue(dlq)));
    AtomicInteger calls = new AtomicInteger();
    try (Publisher<Order> p = orders(rabbit, queue);
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).requeueDelay(Duration.ofMillis(50))
            .deadLetterExchangeOnQueue().handler(d -> {
              calls.incrementAndGet();
              throw new RejectMessageException("never");
            }).build()) {
      p.publish(new Order("o-1", 1)).get(10, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(10), () -> rabbit.queueInfo(dlq).orElseThrow().messageCount() == 1);
    }
    DeadLetter letter = rabbit.deadLetters(queue, dlq).list(1).get(0);
    assertEquals("rejected", letter.reason());
    assertEquals(queue, letter.originalQueue());
    assertEquals(1, calls.get());
  }

  @Test
  void tenThousandMessagesWithTenPercentFailuresAreEachProcessedOnceOrDeadLetteredNeverBoth(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    int total = 10_000;
    Map<String, Integer> processed = new ConcurrentHashMap<>();
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).messageId(Order::orderId)
        .maxInFlight(2000).build();
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).prefetch(100).concurrency(4)
            .redelivery(Redelivery.after(Duration.ofMillis(50))).handler(d -> {
              if (ThreadLocalRandom.current().nextInt(10) == 0) {
                throw new IllegalStateException("random failure");
              }
              processed.merge(d.body().orderId(), 1, Integer::sum);
            }).build()) {
      List<CompletableFuture<Confirmation>> sent = new ArrayList<>(total);
      for (int i = 0; i < total; i++) {
        sent.add(p.publish(new Order("o-" + i, i)));
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      Await.until(Duration.ofSeconds(120), "every message settled",
          () -> c.stats().processed() + c.stats().deadLettered() == total);
    }
    List<DeadLetter> dead = rabbit.deadLetters(queue).list(Integer.MAX_VALUE);
    Set<String> deadIds = new HashSet<>();
    dead.forEach(d -> deadIds.add(d.messageId().orElseThrow()));
    assertEquals(dead.size(), deadIds.size(), "a message was dead-lettered twice");
    assertTrue(processed.values().stream().allMatch(n -> n == 1), "a message was processed twice");
    assertTrue(Collections.disjoint(processed.keySet(), deadIds), "a message is both processed and dead");
    Set<String> all = new HashSet<>(processed.keySet());
    all.addAll(deadIds);
    assertEquals(total, all.size(), "messages lost");
    assertTrue(deadIds.size() > 10 && deadIds.size() < 400, "about 1% expected, got " + deadIds.size());
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }
}
