package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Interceptor.ConsumeOutcome;
import io.rabbitkit.Interceptor.PublishOutcome;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The extension point against a real broker: a header added by a publish interceptor is read by a
 * consume interceptor on the other side, and every outcome is reported exactly once.
 */
@RabbitTest
class InterceptorIT {

  /** Records what it sees, keyed by the trace header it adds on publish. */
  static final class Recording implements Interceptor {
    final Map<String, PublishOutcome> published = new ConcurrentHashMap<>();
    final List<String> consumeOutcomes = new CopyOnWriteArrayList<>();
    final Map<String, Throwable> finalFailures = new ConcurrentHashMap<>();
    final List<String> tracesSeen = new CopyOnWriteArrayList<>();
    final List<String> scopeThreads = new CopyOnWriteArrayList<>();
    final List<String> rpc = new CopyOnWriteArrayList<>();
    final AtomicInteger openScopes = new AtomicInteger();
    private final AtomicInteger traces = new AtomicInteger();

    @Override
    public PublishObserver beforePublish(PublishContext context) {
      String trace = "t-" + traces.incrementAndGet();
      context.headers().put("trace-id", trace);
      return (outcome, elapsed, failure) -> published.put(context.messageId(), outcome);
    }

    @Override
    public ConsumeObserver beforeConsume(ConsumeContext context) {
      Object trace = context.headers().get("trace-id");
      if (trace != null && context.attempt() == 1) {
        tracesSeen.add(trace.toString());
      }
      String id = context.messageId().orElse("?");
      return new ConsumeObserver() {
        @Override
        public Scope handlerScope() {
          openScopes.incrementAndGet();
          scopeThreads.add(Thread.currentThread().getName());
          return openScopes::decrementAndGet;
        }

        @Override
        public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
          // The failure first: a test that sees the outcome listed reads the failure next.
          if (failure != null && outcome != ConsumeOutcome.RETRIED) {
            finalFailures.put(id, failure);
          }
          consumeOutcomes.add(id + ":" + outcome);
        }
      };
    }

    @Override
    public RpcObserver beforeCall(RpcContext context) {
      context.headers().put("trace-id", "rpc");
      return (outcome, elapsed, failure) -> rpc.add(outcome.name());
    }
  }

  /** Throws from every method: must change nothing. */
  static final class Broken implements Interceptor {
    @Override
    public PublishObserver beforePublish(PublishContext context) {
      throw new IllegalStateException("broken interceptor");
    }

    @Override
    public ConsumeObserver beforeConsume(ConsumeContext context) {
      return new ConsumeObserver() {
        @Override
        public Scope handlerScope() {
          throw new IllegalStateException("broken scope");
        }

        @Override
        public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
          throw new IllegalStateException("broken outcome");
        }
      };
    }
  }

  @Test
  void headersTravelFromPublishToConsumeAndEveryOutcomeIsReportedOnce(RabbitBroker broker, TestNames names)
      throws Exception {
    Recording rec = new Recording();
    String queue = names.queue("intercepted");
    try (RabbitToolkit rabbit =
        names.track(broker.toolkitBuilder().interceptor(new Broken()).interceptor(rec).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      List<String> handled = new CopyOnWriteArrayList<>();
      try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue)
          .retry(2)
          .redelivery(Redelivery.after(Duration.ofMillis(100)))
          .deadLetterQueue(queue + ".dlq")
          .handler(d -> {
            if (d.body().startsWith("fail")) {
              throw new IllegalStateException("always fails");
            }
            handled.add(d.body());
          }).build();
          Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
          Publisher<String> nowhere =
              rabbit.publisherBuilder(String.class).routingKey(names.queue("missing")).build()) {
        p.publish(Message.of("ok").withMessageId("ok-1")).get(10, TimeUnit.SECONDS);
        p.publish(Message.of("fail").withMessageId("fail-1")).get(10, TimeUnit.SECONDS);
        Throwable returned =
            Await.failure(nowhere.publish(Message.of("lost").withMessageId("ret-1")), Duration.ofSeconds(10));
        assertInstanceOf(MessageReturnedException.class, returned);

        Await.until(Duration.ofSeconds(15), "fail-1 dead-lettered",
            () -> rec.consumeOutcomes.contains("fail-1:DEAD_LETTERED"));
        Await.until(Duration.ofSeconds(5), () -> rec.published.size() == 3);
        assertEquals(PublishOutcome.CONFIRMED, rec.published.get("ok-1"));
        assertEquals(PublishOutcome.CONFIRMED, rec.published.get("fail-1"));
        assertEquals(PublishOutcome.RETURNED, rec.published.get("ret-1"));

        assertEquals(List.of("t-1", "t-2"), List.copyOf(rec.tracesSeen), "the consumer saw the publisher's headers");
        assertEquals(List.of("ok"), handled);
        // fail-1: round 1 (call, retried in process, call) -> delay queue; round 2 the same -> dead-letter queue.
        List<String> failOutcomes = new ArrayList<>();
        rec.consumeOutcomes.stream().filter(o -> o.startsWith("fail-1")).forEach(failOutcomes::add);
        assertEquals(List.of("fail-1:RETRIED", "fail-1:DELAYED", "fail-1:RETRIED", "fail-1:DEAD_LETTERED"),
            failOutcomes);
        assertTrue(rec.consumeOutcomes.contains("ok-1:ACKED"));
        assertEquals(5, rec.consumeOutcomes.size(), rec.consumeOutcomes.toString());
        MessageConsumer.Stats stats = c.stats();
        assertEquals(1, stats.processed());
        assertEquals(2, stats.retriedInProcess());
        assertEquals(1, stats.delayed());
        assertEquals(1, stats.deadLettered());
        assertEquals(0, rec.openScopes.get(), "every handler scope was closed");
        assertEquals(5, rec.scopeThreads.size(), "one scope per handler call");
        List<io.rabbitkit.deadletter.DeadLetter> dead = rabbit.deadLetters(queue).list(10);
        assertEquals(1, dead.size());
        assertEquals("fail", dead.get(0).decode(io.rabbitkit.codec.MessageCodec.string()),
            "typed decode of a dead letter");
      }
    }
  }

  @Test
  void undecodableAndDuplicateDeliveriesAreReportedAsSuch(RabbitBroker broker, TestNames names) throws Exception {
    Recording rec = new Recording();
    String queue = names.queue("odd");
    record Order(String id) {
    }
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder().interceptor(rec).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      AtomicInteger handled = new AtomicInteger();
      try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue)
          .deadLetterQueue(queue + ".dlq").deduplicate(100).handler(d -> handled.incrementAndGet()).build();
          Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          Publisher<String> text = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        orders.publish(Message.of(new Order("a")).withMessageId("dup")).get(10, TimeUnit.SECONDS);
        orders.publish(Message.of(new Order("a")).withMessageId("dup")).get(10, TimeUnit.SECONDS);
        text.publish(Message.of("not json").withMessageId("garbage")).get(10, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(10), () -> rec.consumeOutcomes.size() == 3);
        assertEquals(List.of("dup:ACKED", "dup:DUPLICATE", "garbage:UNDECODABLE"), List.copyOf(rec.consumeOutcomes));
        assertEquals(1, handled.get());
        assertEquals(1, c.stats().duplicates());
        MessageDecodingException e = assertInstanceOf(MessageDecodingException.class, rec.finalFailures.get("garbage"));
        assertEquals(queue, e.queue().orElseThrow());
        assertEquals("garbage", e.messageId().orElseThrow());
        assertTrue(e.contentType().orElseThrow().startsWith("text/plain"), e.toString());
        assertTrue(e.reason().contains("unsupported content type"), e.reason());
      }
    }
  }

  @Test
  void rpcCallsReportTheirOutcome(RabbitBroker broker, TestNames names) throws Exception {
    Recording rec = new Recording();
    String queue = names.queue("rpc");
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder().interceptor(rec).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue)
          .handler(req -> {
            if (req.equals("boom")) {
              throw new IllegalArgumentException("boom");
            }
            return req.toUpperCase();
          }).build();
          RpcClient<String, String> client =
              rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue).build()) {
        assertEquals("HI", client.call("hi").get(10, TimeUnit.SECONDS));
        assertInstanceOf(RpcRemoteException.class, Await.failure(client.call("boom"), Duration.ofSeconds(10)));
        Await.until(Duration.ofSeconds(5), () -> rec.rpc.size() == 2);
        assertEquals(List.of("OK", "REMOTE_ERROR"), List.copyOf(rec.rpc));
      }
    }
  }
}
