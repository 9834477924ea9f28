package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.test.ThrowawayCluster;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What differs between RabbitMQ versions, each handled, on the suite's broker: CI runs the suite on
 * the machine's 3.10 and again on a 4.3 node of its own (tools/rabbitmq4), where the throw-away
 * nodes come from the same installation. A behaviour only 4.3 has is asserted where it exists.
 */
@RabbitTest
class BrokerVersionsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Order(String id) {
  }

  @Test
  void healthSaysWhichBrokerItIsAndWhatItCanDo(RabbitToolkit rabbit) {
    Health.Broker broker = rabbit.health().broker();
    System.out.println("FIGURES broker: " + broker);
    assertEquals("RabbitMQ", broker.product());
    assertTrue(broker.version().matches("\\d+\\.\\d+.*"), broker.version());
    assertEquals(broker.atLeast(4, 3), broker.delayedRetry());
    assertEquals(broker.atLeast(4, 3) ? "khepri" : broker.atLeast(4, 0) ? "mnesia or khepri" : "mnesia",
        broker.metadataStore());
  }

  @Test
  void aConsumerThatOverrunsTheConsumerTimeoutSubscribesAgainAndLosesNothing(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("timeout");
    String dlq = names.queue("timeout.dlq");
    rabbit.declare(Topology.of(Queue.classic(dlq),
        Queue.quorum(queue).withConsumerTimeout(Duration.ofSeconds(2)).withDeadLetterQueue(dlq)));
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger cancelled = new AtomicInteger();
    AtomicInteger resumed = new AtomicInteger();
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).prefetch(10)
            .listener(new MessageConsumer.Listener() {
              @Override
              public void cancelledByBroker(String q) {
                cancelled.incrementAndGet();
              }

              @Override
              public void resumed(String q) {
                resumed.incrementAndGet();
              }
            })
            .handler(d -> {
              int n = handled.computeIfAbsent(d.body().id(), k -> new AtomicInteger()).incrementAndGet();
              if (d.body().id().equals("o-3") && n == 1) {
                Thread.sleep(4_000); // past the queue's 2 s consumer timeout
              }
            }).build()) {
      for (int i = 0; i < 10; i++) {
        p.publish(new Order("o-" + i)).get(10, TimeUnit.SECONDS);
      }
      Await.until(WAIT, "all 10 handled", () -> handled.size() == 10);
      Await.until(WAIT, "consuming", c::isRunning);
      assertEquals(0, c.stats().deadLettered());
      assertEquals(0, rabbit.queueInfo(dlq).orElseThrow().messageCount(), "nothing dead-lettered");
      Health.Broker broker = rabbit.health().broker();
      if (broker.atLeast(4, 3)) {
        // 4.3 cancels the consumer instead of closing its channel; it subscribes again, and the late
        // ack of the slow message (given back by the broker) harms neither the channel nor the rest.
        assertTrue(cancelled.get() >= 1, "cancelled by the broker: " + cancelled);
        Await.until(WAIT, "resumed", () -> resumed.get() >= 1);
        Await.until(WAIT, "every message settled", () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 0);
        // 4.3.6 goes on delivering some returned messages to the cancelled consumer; amqp-client
        // would close the connection over them, the toolkit gives them back.
        assertEquals(0, rabbit.health().connections().stream().mapToLong(Health.ConnectionStatus::recoveries).sum(),
            "no connection was lost over it");
      }
      System.out.println("FIGURES consumer timeout on " + broker.version() + ": handled " + handled
          + ", cancelled " + cancelled + ", resumed " + resumed);
    }
  }

  @Test
  void rejectsCountTowardsADeliveryLimitOfThreeOnEveryVersion(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("limited");
    names.queue("limited.dlq");
    rabbit.declare(Topology.of(Queue.quorum(queue).withDeliveryLimit(3)));
    AtomicInteger calls = new AtomicInteger();
    List<Object> counts = new CopyOnWriteArrayList<>();
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
        MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).requeueDelay(Duration.ofMillis(50))
            .handler(d -> {
              calls.incrementAndGet();
              counts.add(d.headers().getOrDefault("x-delivery-count", 0));
              throw new IllegalStateException("always fails");
            }).build()) {
      p.publish(new Order("poison")).get(10, TimeUnit.SECONDS);
      Await.until(WAIT, "moved aside before the broker's drop", () -> c.stats().deadLettered() == 1);
    }
    // basic.reject requeues (counted by 3.x and 4.3 alike): deliveries 0, 1, 2 requeued, the one at
    // the limit moved to the dead-letter queue instead of being dropped by the broker.
    assertEquals(4, calls.get(), "deliveries: " + counts);
    DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
    assertEquals(FailureHeaders.REASON_DELIVERY_LIMIT, letter.reason());
  }

  @Test
  void inQueueRedeliveryDelaysWithinTwentyPercentAndDeadLettersAfterTheLastRound(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("delayed");
    names.queue("delayed.dlq");
    rabbit.declare(Topology.of(Queue.quorum(queue).withDelayedRetry(Duration.ofSeconds(1), Duration.ofSeconds(4))));
    MessageConsumer.Builder<Order> builder = rabbit.consumerBuilder(Order.class).queue(queue)
        .redelivery(Redelivery.inQueue(Duration.ofSeconds(1), Duration.ofSeconds(4), 2));
    List<Long> at = new CopyOnWriteArrayList<>();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    builder.handler(d -> {
      at.add(System.nanoTime());
      attempts.add(d.attempt());
      throw new IllegalStateException("fails every round");
    });
    Health.Broker broker = rabbit.health().broker();
    if (!broker.delayedRetry()) {
      IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);
      assertTrue(e.getMessage().contains("4.3") && e.getMessage().contains(broker.version()), e.getMessage());
      return;
    }
    try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
        MessageConsumer c = builder.build()) {
      assertEquals(List.of("in-queue"), rabbit.health().broker().redeliveryBackends());
      p.publish(new Order("late")).get(10, TimeUnit.SECONDS);
      Await.until(WAIT, "dead-lettered after the last round", () -> c.stats().deadLettered() == 1);
      assertEquals(2, c.stats().delayed());
    }
    assertEquals(List.of(1, 2, 3), attempts);
    double first = (at.get(1) - at.get(0)) / 1e9;
    double second = (at.get(2) - at.get(1)) / 1e9;
    System.out.printf("FIGURES in-queue redelivery: asked 1.0 s and 2.0 s, waited %.2f s and %.2f s%n", first, second);
    assertTrue(Math.abs(first - 1.0) <= 0.2, "first round waited " + first + " s, asked 1 s");
    assertTrue(Math.abs(second - 2.0) <= 0.4, "second round waited " + second + " s, asked 2 s");
    DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
    assertEquals(FailureHeaders.REASON_HANDLER_FAILED, letter.reason());
    assertEquals(3, letter.attempts());
    assertEquals(IllegalStateException.class.getName(), letter.exceptionClass().orElseThrow());
  }

  @Test
  void aTransientSharedQueueTheBrokerDoesNotPermitIsRefusedNamingTheSetting(RabbitToolkit suite) throws Exception {
    // The throw-away node comes from the same installation as the suite's broker: 4.x knows the setting.
    assumeTrue(suite.health().broker().atLeast(4, 0), "deprecated features are RabbitMQ 4.x's");
    try (ThrowawayBroker broker = ThrowawayBroker.startWithConfig(
        "deprecated_features.permit.transient_nonexcl_queues = false");
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).recoveryInterval(Duration.ofMillis(200))
            .connect()) {
      TopologyException e = assertThrows(TopologyException.class,
          () -> rabbit.declare(Topology.of(Queue.classic("transient.shared").withDurable(false))));
      assertTrue(e.getMessage().contains("deprecated_features.permit.transient_nonexcl_queues = true")
          && e.getMessage().contains("durable"), e.getMessage());
      Await.until(WAIT, "the connection the broker closed is back", rabbit::isConnected);
      rabbit.declare(Topology.of(Queue.classic("transient.exclusive").withExclusive(true).withDurable(false)));
    }
  }

  @Test
  void aDeclarationKhepriCannotCommitIsTriedAgainThenFailsSayingTheClusterHasNoQuorum(RabbitToolkit suite)
      throws Exception {
    // The throw-away cluster comes from the same installation as the suite's broker.
    assumeTrue(suite.health().broker().atLeast(4, 3), "Khepri is RabbitMQ 4.3's only metadata store");
    try (ThrowawayCluster cluster = ThrowawayCluster.start(3);
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(cluster.uri()).recoveryInterval(Duration.ofMillis(500))
            .connect()) {
      int on = cluster.nodeOf("rabbitkit/consumer");
      for (int i = 0; i < 3; i++) {
        if (i != on) {
          cluster.ctl(i, "stop_app"); // a majority gone: the node left cannot commit metadata
        }
      }
      long started = System.nanoTime();
      TopologyException e = assertThrows(TopologyException.class,
          () -> rabbit.declare(Topology.of(Queue.quorum("khepri.minority"))));
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
      System.out.println("FIGURES khepri without quorum: failed after " + seconds + " s: " + e.getMessage());
      assertTrue(e.getMessage().contains("metadata store (Khepri)") && e.getMessage().contains("quorum")
          && e.getMessage().contains("tried 2 times"), e.getMessage());
      for (int i = 0; i < 3; i++) {
        if (i != on) {
          cluster.ctl(i, "start_app");
        }
      }
      Await.until(Duration.ofSeconds(60), "connected again", rabbit::isConnected);
      Await.until(Duration.ofSeconds(60), "declared once a majority is back", () -> {
        try {
          rabbit.declare(Topology.of(Queue.quorum("khepri.minority")));
          return true;
        } catch (RuntimeException retry) {
          return false;
        }
      });
    }
  }

  @Test
  void aBodyOverTheLimitFailsBeforeItIsSentNamingBothSizes(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("sized");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Publisher<byte[]> p = rabbit.publisherBuilder(byte[].class).routingKey(queue).build()) {
      MessageTooLargeException e = assertInstanceOf(MessageTooLargeException.class,
          Await.failure(p.publish(new byte[16 * 1024 * 1024 + 1]), WAIT));
      assertEquals(16 * 1024 * 1024 + 1, e.size());
      assertEquals(16 * 1024 * 1024, e.limit(), "RabbitMQ 4's max_message_size, the publishers' default");
      assertTrue(e.getMessage().contains("16777217") && e.getMessage().contains("16777216"), e.getMessage());
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }
}
