package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults injected into a broker of the tests' own (never the shared one): connections killed, the
 * broker application restarted, a memory alarm.
 */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class FaultIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private static ThrowawayBroker broker;

  @BeforeAll
  static void ownBroker(ThrowawayBroker node) {
    broker = node;
  }

  private static RabbitToolkit connect(ConnectionListener listener) {
    return RabbitToolkit.builder().uri(broker.uri()).recoveryInterval(Duration.ofMillis(300))
        .connectionName("fault-test").listener(listener).connect();
  }

  private static String unique(String base) {
    return "fault." + base + "." + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void publishingAndConsumingSurviveKilledConnectionsWithoutLosingAMessage() throws Exception {
    String queue = unique("q");
    Set<String> recovered = ConcurrentHashMap.newKeySet();
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (RabbitToolkit rabbit = connect(new ConnectionListener() {
      @Override
      public void recovered(String connection) {
        recovered.add(connection);
      }
    })) {
      rabbit.declare(Topology.of(Queue.quorum(queue)));
      MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue(queue).prefetch(50)
          .handler(d -> consumed.add(d.body())).build();
      Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
      int total = 3000;
      List<CompletableFuture<Confirmation>> futures = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        futures.add(p.publish("m" + i));
        if (i == total / 3 || i == 2 * total / 3) {
          broker.closeAllConnections();
        }
      }
      for (CompletableFuture<Confirmation> f : futures) {
        f.get(60, TimeUnit.SECONDS); // every publish is confirmed: re-sent after recovery if need be
      }
      Await.until(Duration.ofSeconds(60), "every message consumed", () -> consumed.size() == total);
      assertEquals(Set.of("fault-test/publisher", "fault-test/consumer"), recovered);
      Await.until(Duration.ofSeconds(10), consumer::isRunning);
      assertTrue(rabbit.isConnected());
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void afterABrokerRestartTopologyIsReDeclaredAndPersistentMessagesAreConsumed() throws Exception {
    String exchange = unique("x");
    String queue = unique("q");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (RabbitToolkit rabbit = connect(new ConnectionListener() {
    })) {
      // A transient exchange does not survive a restart; the toolkit must declare it again.
      rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange).withDurable(false))
          .queue(Queue.classic(queue)).binding(Binding.of(exchange, queue, "k")).build());
      Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey("k").build();
      for (int i = 0; i < 100; i++) {
        p.publish("before-" + i).get(10, TimeUnit.SECONDS);
      }
      broker.stopApp();
      broker.startApp();
      Await.until(Duration.ofSeconds(60), "reconnected", rabbit::isConnected);
      MessageConsumer consumer = null;
      for (int i = 0; i < 100; i++) {
        p.publish("after-" + i).get(30, TimeUnit.SECONDS);
      }
      consumer = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> consumed.add(d.body())).build();
      Await.until(Duration.ofSeconds(30), "all consumed", () -> consumed.size() == 200);
      consumer.close();
      rabbit.deleteQueue(queue);
      rabbit.deleteExchange(exchange);
    }
  }

  @Test
  void aBlockedPublisherTimesOutAndFillsItsWindowWhileConsumersKeepAcking() throws Exception {
    String queue = unique("q");
    AtomicInteger consumed = new AtomicInteger();
    try (RabbitToolkit rabbit = connect(new ConnectionListener() {
    })) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).maxInFlight(5)
          .confirmTimeout(Duration.ofSeconds(1)).windowTimeout(Duration.ofMillis(300)).build();
      for (int i = 0; i < 50; i++) {
        p.publish("ready-" + i).get(10, TimeUnit.SECONDS);
      }
      broker.ctl("set_vm_memory_high_watermark", "0.000001");
      try {
        List<CompletableFuture<Confirmation>> blocked = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          blocked.add(p.publish("blocked-" + i));
        }
        CompletableFuture<Confirmation> overflow = p.publish("no room");
        Throwable full = assertInstanceOf(PublishException.class, Await.failure(overflow, WAIT));
        assertTrue(full.getMessage().contains("window"), full.getMessage());
        for (CompletableFuture<Confirmation> f : blocked) {
          assertInstanceOf(ConfirmTimeoutException.class, Await.failure(f, WAIT));
        }
        Await.until(Duration.ofSeconds(10), "blocked reported", rabbit::isBlocked);
        // The consuming connection is a different one: it still receives and acks.
        try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue)
            .handler(d -> consumed.incrementAndGet()).build()) {
          Await.until(Duration.ofSeconds(20), "consumed while publishing is blocked", () -> consumed.get() >= 50);
        }
      } finally {
        broker.ctl("set_vm_memory_high_watermark", "0.4");
      }
      Await.until(Duration.ofSeconds(20), "unblocked", () -> !rabbit.isBlocked());
      p.publish("after the alarm").get(20, TimeUnit.SECONDS);
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void messagesUnconfirmedWhenTheConnectionDiesAreResentAfterRecovery() throws Exception {
    String queue = unique("q");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (RabbitToolkit rabbit = connect(new ConnectionListener() {
    })) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Publisher<String> p =
          rabbit.publisherBuilder(String.class).routingKey(queue).confirmTimeout(Duration.ofSeconds(60))
              .build();
      List<CompletableFuture<Confirmation>> futures = new ArrayList<>();
      broker.ctl("set_vm_memory_high_watermark", "0.000001");
      try {
        for (int i = 0; i < 20; i++) {
          futures.add(p.publish("m" + i));
        }
        Await.until(Duration.ofSeconds(10), "blocked", rabbit::isBlocked);
        assertTrue(futures.stream().noneMatch(CompletableFuture::isDone));
        broker.closeAllConnections(); // the broker never read those publishes: they die with the connection
      } finally {
        broker.ctl("set_vm_memory_high_watermark", "0.4");
      }
      for (CompletableFuture<Confirmation> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
      try (MessageConsumer c =
          rabbit.consumerBuilder(String.class).queue(queue).handler(d -> consumed.add(d.body())).build()) {
        Await.until(Duration.ofSeconds(20), "all 20 arrived", () -> consumed.size() == 20);
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void withResendingOffTheFuturesOfLostMessagesFailAsUnknownInsteadOfHanging() throws Exception {
    String queue = unique("q");
    try (RabbitToolkit rabbit = connect(new ConnectionListener() {
    })) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).resendAfterRecovery(false)
          .confirmTimeout(Duration.ofSeconds(60)).build();
      List<CompletableFuture<Confirmation>> futures = new ArrayList<>();
      broker.ctl("set_vm_memory_high_watermark", "0.000001");
      try {
        for (int i = 0; i < 5; i++) {
          futures.add(p.publish("m" + i));
        }
        Await.until(Duration.ofSeconds(10), "blocked", rabbit::isBlocked);
        broker.closeAllConnections();
      } finally {
        broker.ctl("set_vm_memory_high_watermark", "0.4");
      }
      // Sent before the block was known: the outcome is unknown. Held back while blocked: never sent.
      java.util.Set<PublishException.Reason> reasons = java.util.EnumSet.noneOf(PublishException.Reason.class);
      for (CompletableFuture<Confirmation> f : futures) {
        PublishException e = assertInstanceOf(PublishException.class, Await.failure(f, WAIT));
        reasons.add(e.reason());
        assertTrue(e.getMessage().contains(e.reason() == PublishException.Reason.LOST ? "outcome is unknown"
            : "before the message was sent"), e.getMessage());
      }
      assertTrue(java.util.EnumSet.of(PublishException.Reason.LOST, PublishException.Reason.NOT_SENT)
          .containsAll(reasons), reasons.toString());
      Await.until(Duration.ofSeconds(30), "recovered", rabbit::isConnected);
      Await.until(Duration.ofSeconds(30), "publisher usable again", () -> {
        try {
          p.publish("after").get(5, TimeUnit.SECONDS);
          return true;
        } catch (Exception e) {
          return false;
        }
      });
      rabbit.deleteQueue(queue);
    }
  }

}
