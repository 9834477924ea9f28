package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.rabbitkit.Delivery;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.deadletter.FailureHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every decision of the delivery processor, without a broker: hand-made deliveries, a recording policy. */
class DeliveryProcessorTest {

  record Order(String id) {
  }

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final Recorder policy = new Recorder();

  @AfterEach
  void stop() {
    timer.shutdownNow();
    pool.shutdownNow();
  }

  /** A failure policy that records what it was asked and answers as told. */
  static final class Recorder implements FailurePolicy {
    final List<String> calls = new ArrayList<>();
    CompletionStage<Settlement> answer;

    @Override
    public CompletionStage<Settlement> failed(Inbound in, Throwable cause) {
      calls.add("failed:" + cause.getClass().getSimpleName());
      return answer != null ? answer : CompletableFuture.completedFuture(new Settlement.Requeued(cause));
    }

    @Override
    public CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason) {
      calls.add("poison:" + reason);
      return CompletableFuture
          .completedFuture(new Settlement.DeadLettered(reason, "dlq", in.failedRounds() + 1, cause));
    }
  }

  private static Inbound json(String body, Map<String, Object> headers, boolean roundsInQueue) {
    AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json").messageId("m-1")
        .headers(headers).build();
    return new Inbound(null, null, "orders", roundsInQueue, new Envelope(1, false, "", "orders"), props,
        body.getBytes(StandardCharsets.UTF_8));
  }

  private static Inbound order() {
    return json("{\"id\":\"o-1\"}", null, false);
  }

  private DeliveryProcessor<Order> processor(MessageConsumer.Handler<Order> handler,
      MessageConsumer.AsyncHandler<Order> async, Retry retry, ProcessedMessages processed, int deliveryLimit,
      FailurePolicy guardMover, Executor lane) {
    MessageWarnings warnings = new MessageWarnings("orders");
    return new DeliveryProcessor<>(new DeliveryProcessor.Parts<>("orders", MessageCodec.forType(Order.class), 1024,
        handler, async, retry, processed, policy, new DeliveryLimitGuard(deliveryLimit, () -> guardMover, warnings),
        Interceptors.NONE, timer, pool, in -> lane, warnings));
  }

  private DeliveryProcessor<Order> sync(MessageConsumer.Handler<Order> handler) {
    return processor(handler, null, null, null, DeliveryLimitGuard.NO_LIMIT, null, Runnable::run);
  }

  private static Settlement now(CompletionStage<Settlement> decision) {
    CompletableFuture<Settlement> f = decision.toCompletableFuture();
    assertTrue(f.isDone(), "a synchronous handler's decision is made on the caller's thread, at once");
    return f.join();
  }

  private static Settlement await(CompletionStage<Settlement> decision) throws Exception {
    return decision.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aHandlerThatReturnsIsAcked() {
    List<Delivery<Order>> seen = new ArrayList<>();
    assertSame(Settlement.ACKED, now(sync(seen::add).process(order())));
    assertEquals("o-1", seen.get(0).body().id());
    assertEquals(1, seen.get(0).attempt());
    assertEquals(List.of(), policy.calls);
  }

  @Test
  void aHandlerThatThrowsGetsThePolicysDecision() {
    Settlement s = now(sync(d -> {
      throw new IllegalStateException("down");
    }).process(order()));
    assertInstanceOf(Settlement.Requeued.class, s);
    assertEquals(List.of("failed:IllegalStateException"), policy.calls);
  }

  @Test
  void aRejectionIsPoisonAndNeverRetried() {
    AtomicInteger calls = new AtomicInteger();
    Retry retry = Retry.of("t", RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(1)).build());
    Inbound in = order();
    Settlement s = now(processor(d -> {
      calls.incrementAndGet();
      throw new RejectMessageException("negative amount");
    }, null, retry, null, DeliveryLimitGuard.NO_LIMIT, null, Runnable::run).process(in));
    assertEquals(FailureHeaders.REASON_REJECTED, assertInstanceOf(Settlement.DeadLettered.class, s).reason());
    assertEquals(1, calls.get());
    assertFalse(in.undecodable, "a rejection is not an undecodable message");
  }

  @Test
  void inProcessRetryRepeatsTheHandlerUntilItSucceeds() {
    AtomicInteger calls = new AtomicInteger();
    Retry retry = Retry.of("t", RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(1)).build());
    Settlement s = now(processor(d -> {
      if (calls.incrementAndGet() < 3) {
        throw new IllegalStateException("not yet");
      }
    }, null, retry, null, DeliveryLimitGuard.NO_LIMIT, null, Runnable::run).process(order()));
    assertSame(Settlement.ACKED, s);
    assertEquals(3, calls.get());
  }

  @Test
  void bodiesThatCannotBeDecodedArePoisonWithoutCallingTheHandler() {
    AtomicInteger calls = new AtomicInteger();
    DeliveryProcessor<Order> p = sync(d -> calls.incrementAndGet());
    Inbound malformed = json("{not json", null, false);
    Settlement s = now(p.process(malformed));
    assertEquals(FailureHeaders.REASON_UNDECODABLE, assertInstanceOf(Settlement.DeadLettered.class, s).reason());
    assertInstanceOf(MessageDecodingException.class, ((Settlement.DeadLettered) s).cause());
    assertTrue(malformed.undecodable);
    Inbound tooLarge = json("{\"id\":\"" + "x".repeat(2000) + "\"}", null, false);
    assertEquals(FailureHeaders.REASON_TOO_LARGE, ((Settlement.DeadLettered) now(p.process(tooLarge))).reason());
    AMQP.BasicProperties gzip = new AMQP.BasicProperties.Builder().contentType("application/json")
        .contentEncoding("gzip").build();
    Inbound compressed = new Inbound(null, null, "orders", false, new Envelope(2, false, "", "orders"), gzip,
        "{\"id\":\"o\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(FailureHeaders.REASON_UNDECODABLE, ((Settlement.DeadLettered) now(p.process(compressed))).reason());
    assertEquals(0, calls.get());
  }

  @Test
  void aDuplicateIsAckedWithoutTheHandlerAndAFailingStoreFailsTheMessage() {
    AtomicInteger calls = new AtomicInteger();
    ProcessedMessages store = ProcessedMessages.inMemory(10, Duration.ofMinutes(1));
    DeliveryProcessor<Order> p = processor(d -> calls.incrementAndGet(), null, null, store, DeliveryLimitGuard.NO_LIMIT,
        null, Runnable::run);
    assertSame(Settlement.ACKED, now(p.process(order())));
    assertSame(Settlement.DUPLICATE, now(p.process(order())));
    assertEquals(1, calls.get());
    ProcessedMessages broken = new ProcessedMessages() {
      @Override
      public boolean contains(String id) {
        throw new IllegalStateException("store down");
      }

      @Override
      public void add(String id) {
      }
    };
    now(processor(d -> calls.incrementAndGet(), null, null, broken, DeliveryLimitGuard.NO_LIMIT, null, Runnable::run)
        .process(order()));
    assertEquals(List.of("failed:IllegalStateException"), policy.calls);
    assertEquals(1, calls.get());
  }

  @Test
  void theAttemptComesFromTheToolkitsHeaderOrFromTheBrokersCountForRoundsInTheQueue() {
    List<Integer> attempts = new ArrayList<>();
    DeliveryProcessor<Order> p = sync(d -> attempts.add(d.attempt()));
    Map<String, Object> headers = new HashMap<>();
    headers.put(FailureHeaders.ATTEMPTS, 2);
    headers.put("x-delivery-count", 4L);
    now(p.process(json("{\"id\":\"o\"}", headers, false)));
    now(p.process(json("{\"id\":\"o\"}", headers, true)));
    headers.put(FailureHeaders.ATTEMPTS, Integer.MAX_VALUE); // hostile: no overflow
    now(p.process(json("{\"id\":\"o\"}", headers, false)));
    assertEquals(List.of(3, 5, 1_000_001), attempts);
  }

  @Test
  void anAsyncHandlersDecisionIsMadeOnTheDeliverysLaneNotOnTheThreadThatCompletedIt() throws Exception {
    ExecutorService laneThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "the-lane"));
    try {
      AtomicReference<String> decidedOn = new AtomicReference<>();
      CompletableFuture<Void> work = new CompletableFuture<>();
      policy.answer = CompletableFuture.completedFuture(new Settlement.Requeued(null));
      DeliveryProcessor<Order> p = processor(null, d -> work, null, null, DeliveryLimitGuard.NO_LIMIT, null,
          laneThread);
      CompletionStage<Settlement> decision = p.process(order())
          .whenComplete((s, e) -> decidedOn.set(Thread.currentThread().getName()));
      assertFalse(decision.toCompletableFuture().isDone(), "waits for the handler's stage");
      Thread completer = new Thread(() -> work.completeExceptionally(new IllegalStateException("late")), "completer");
      completer.start();
      assertInstanceOf(Settlement.Requeued.class, await(decision));
      assertEquals("the-lane", decidedOn.get());
      assertEquals(List.of("failed:IllegalStateException"), policy.calls);
      // A rejection completing the stage is a value: poison, not a failure to retry.
      CompletionStage<Settlement> rejected = processor(null,
          d -> CompletableFuture.failedFuture(new RejectMessageException("no")), null, null,
          DeliveryLimitGuard.NO_LIMIT, null, laneThread).process(order());
      assertEquals(FailureHeaders.REASON_REJECTED, ((Settlement.DeadLettered) await(rejected)).reason());
      // An async handler that returns null instead of a stage has failed.
      CompletionStage<Settlement> nothing = processor(null, d -> null, null, null, DeliveryLimitGuard.NO_LIMIT, null,
          laneThread).process(order());
      await(nothing);
      assertEquals("failed:NullPointerException", policy.calls.get(policy.calls.size() - 1));
    } finally {
      laneThread.shutdownNow();
    }
  }

  @Test
  void aRequeueThatWouldPassTheDeliveryLimitBecomesAMoveToTheDeadLetterQueue() {
    Recorder mover = new Recorder();
    Map<String, Object> headers = Map.of("x-delivery-count", 3L);
    DeliveryProcessor<Order> p = processor(d -> {
      throw new IllegalStateException("always");
    }, null, null, null, 3, mover, Runnable::run);
    Settlement s = now(p.process(json("{\"id\":\"o\"}", headers, false)));
    assertEquals(FailureHeaders.REASON_DELIVERY_LIMIT, assertInstanceOf(Settlement.DeadLettered.class, s).reason());
    assertEquals(List.of("poison:" + FailureHeaders.REASON_DELIVERY_LIMIT), mover.calls);
    // Below the limit the requeue stands; on a queue of unknown limit a count means RabbitMQ 4's default of 20.
    assertInstanceOf(Settlement.Requeued.class,
        now(p.process(json("{\"id\":\"o\"}", Map.of("x-delivery-count", 2L), false))));
    DeliveryProcessor<Order> unknown = processor(d -> {
      throw new IllegalStateException("always");
    }, null, null, null, DeliveryLimitGuard.UNKNOWN_LIMIT, mover, Runnable::run);
    assertInstanceOf(Settlement.Requeued.class,
        now(unknown.process(json("{\"id\":\"o\"}", Map.of("x-delivery-count", 19L), false))));
    assertInstanceOf(Settlement.DeadLettered.class,
        now(unknown.process(json("{\"id\":\"o\"}", Map.of("x-delivery-count", 20L), false))));
  }

  @Test
  void aPolicyThatFailsLeavesTheMessageRequeuedNotLost() {
    policy.answer = CompletableFuture.failedFuture(new IllegalStateException("dead-letter publish failed"));
    Settlement s = now(sync(d -> {
      throw new IllegalStateException("handler");
    }).process(order()));
    assertEquals("dead-letter publish failed", assertInstanceOf(Settlement.Requeued.class, s).cause().getMessage());
  }

  @Test
  void interceptorsHearEachRetriedCallAndTheHandlerRunsInTheirScope() {
    List<String> heard = new ArrayList<>();
    Interceptor listening = new Interceptor() {
      @Override
      public ConsumeObserver beforeConsume(ConsumeContext context) {
        heard.add("before " + context.queue() + " attempt " + context.attempt());
        return new ConsumeObserver() {
          @Override
          public Scope handlerScope() {
            heard.add("scope");
            return () -> heard.add("scope closed");
          }

          @Override
          public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
            heard.add(outcome.name());
          }
        };
      }
    };
    MessageWarnings warnings = new MessageWarnings("orders");
    AtomicInteger calls = new AtomicInteger();
    Retry retry = Retry.of("t", RetryConfig.custom().maxAttempts(2).waitDuration(Duration.ofMillis(1)).build());
    DeliveryProcessor<Order> p = new DeliveryProcessor<>(new DeliveryProcessor.Parts<>("orders",
        MessageCodec.forType(Order.class), 1024, d -> {
          if (calls.incrementAndGet() == 1) {
            throw new IllegalStateException("first");
          }
        }, null, retry, null, policy, new DeliveryLimitGuard(DeliveryLimitGuard.NO_LIMIT, () -> null, warnings),
        new Interceptors(List.of(listening)), timer, pool, in -> Runnable::run, warnings));
    assertSame(Settlement.ACKED, now(p.process(order())));
    // The processor reports a retried call; the final outcome is the consumer's to report when it records it.
    assertEquals(List.of("before orders attempt 1", "scope", "scope closed", "RETRIED", "scope", "scope closed"),
        heard);
  }
}
