package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.PublishException.MessageRefusedException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Messages the broker refuses or cannot take (another user's {@code user_id}, a body over its
 * {@code max_message_size} or the client's inbound limit, a refused reply) and messages that outlive
 * their queue: each fails or is dead-lettered alone, once, and the rest go on. On throw-away nodes
 * started with their own limits, so the shared broker's settings stay untouched.
 */
class BrokerRefusalIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static ThrowawayBroker broker;
  /** A node that refuses messages over 1 MiB (set when it starts: 4.3 reads the limit only then). */
  private static ThrowawayBroker small;

  private static synchronized ThrowawayBroker small() {
    if (small == null) {
      small = ThrowawayBroker.startWithConfig("max_message_size = 1048576");
    }
    return small;
  }

  record Order(String orderId) {
  }

  @BeforeAll
  static void start() {
    // 128 MiB, 3.x's default: 4.x takes 16 MiB unless told otherwise (the 70 MB body below).
    broker = ThrowawayBroker.startWithConfig("max_message_size = 134217728");
    broker.ctl("add_user", "svc", "svc-password");
    broker.ctl("set_permissions", "svc", ".*", ".*", ".*");
  }

  @AfterAll
  static void stop() {
    if (small != null) {
      small.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aMessageWhoseUserIdNamesAnotherUserIsDeadLetteredOnceAndNothingMultiplies() throws Exception {
    String queue = "refusal.userid";
    String svcUri = broker.uri().replace("guest:guest", "svc:svc-password");
    try (RabbitToolkit publisherSide = RabbitToolkit.connect(broker.uri());
        RabbitToolkit consumerSide = RabbitToolkit.connect(svcUri)) {
      consumerSide.declare(Topology.of(Queue.classic(queue)));
      try (Connection raw = RawClient.connect(broker.uri()); Channel ch = raw.createChannel()) {
        ch.confirmSelect();
        ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().userId("guest").messageId("from-guest")
            .contentType("application/json").build(), "{\"orderId\":\"vouched\"}".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 3; i++) {
          ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().messageId("plain-" + i)
              .contentType("application/json").build(),
              ("{\"orderId\":\"o-" + i + "\"}").getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(10_000);
      }
      try (MessageConsumer c = consumerSide.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
          .handler(d -> {
            throw new RejectMessageException("not wanted");
          }).build()) {
        Await.until(WAIT, "all four dead-lettered", () -> consumerSide.deadLetters(queue).count() == 4);
        Thread.sleep(1000); // a loop would keep adding copies
        assertEquals(4, consumerSide.deadLetters(queue).count(), "copies in the dead-letter queue");
        assertEquals(4, c.stats().deadLettered());
        assertEquals(0, c.stats().requeued());
      }
      DeadLetter vouched = consumerSide.deadLetters(queue).list(10).stream()
          .filter(d -> d.messageId().orElse("").equals("from-guest")).findFirst().orElseThrow();
      assertEquals("guest", vouched.headers().get(FailureHeaders.ORIGINAL_USER_ID));
      try (Connection raw = RawClient.connect(svcUri); Channel ch = raw.createChannel()) {
        GetResponse first = ch.basicGet(queue + ".dlq", true);
        assertEquals(null, first.getProps().getUserId(), "the re-publisher does not claim another user's id");
      }
      // Replaying as svc works too: the user id stays out of the properties.
      assertEquals(3, consumerSide.deadLetters(queue).replayAll());
      assertEquals(0, consumerSide.deadLetters(queue).skipped());
      consumerSide.deleteQueue(queue);
      consumerSide.deleteQueue(queue + ".dlq");
    }
  }

  @Test
  void oneMessageTheBrokerRefusesFailsAloneAndEveryOtherIsConfirmedOnce() throws Exception {
    String queue = "refusal.refused";
    try (RabbitToolkit rabbit = RabbitToolkit.connect(small().uri())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).maxBodySize(4 << 20)
          .messageId(s -> s.length() > 100 ? "huge" : s).build()) {
        for (int i = 0; i < 50; i++) {
          p.publish("before-" + i).get(10, TimeUnit.SECONDS);
        }
        long started = System.nanoTime();
        CompletableFuture<Confirmation> huge = p.publish("x".repeat(2 << 20)); // over the node's 1 MiB limit
        List<CompletableFuture<Confirmation>> after = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          after.add(p.publish("after-" + i));
        }
        MessageRefusedException refused = assertInstanceOf(MessageRefusedException.class, Await.failure(huge, WAIT));
        assertEquals(406, refused.replyCode());
        assertTrue(refused.replyText().contains("max size"), refused.replyText());
        CompletableFuture.allOf(after.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - started) / 1e9;
        Health.PublisherStatus status = rabbit.health().publishers().get(0);
        System.out.printf("FIGURES refused=%d resent=%d channel-replacements=%d seconds=%.2f%n", status.refused(),
            status.resent(), status.channelReplacements(), seconds);
        assertEquals(1, status.refused());
        assertTrue(status.channelReplacements() <= 2, "channels replaced: " + status.channelReplacements());
      }
      Map<String, Integer> seen = new HashMap<>();
      try (Connection raw = RawClient.connect(small().uri()); Channel ch = raw.createChannel()) {
        GetResponse r;
        while ((r = ch.basicGet(queue, true)) != null) {
          seen.merge(new String(r.getBody(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
      }
      assertEquals(150, seen.size(), "every other message arrived");
      assertTrue(seen.values().stream().allMatch(n -> n == 1), "duplicates: " + seen);
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void aReplyTheBrokerRefusesIsAnsweredWithAnErrorOnceAndTheServerGoesOn() throws Exception {
    String queue = "refusal.rpc-refused";
    java.util.concurrent.atomic.AtomicInteger bigCalls = new java.util.concurrent.atomic.AtomicInteger();
    try (RabbitToolkit rabbit = RabbitToolkit.connect(small().uri());
        RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue).handler(r -> {
          if (r.equals("big")) {
            bigCalls.incrementAndGet();
            return "x".repeat(2 << 20); // over the node's 1 MiB limit
          }
          return r.toUpperCase();
        }).build();
        RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
            .timeout(Duration.ofSeconds(20)).build()) {
      Throwable e = Await.failure(client.call("big"), WAIT);
      assertInstanceOf(io.rabbitkit.ToolkitException.RpcRemoteException.class, e);
      assertTrue(e.getMessage().contains("could not be sent"), e.getMessage());
      Thread.sleep(2_000); // a loop would run the handler again by now
      assertEquals(1, bigCalls.get(), "the handler ran once for the one request");
      assertEquals("SMALL", client.call("small").get(10, TimeUnit.SECONDS));
      assertTrue(server.isRunning());
      assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void aMessageWaitingInATierOfAQuorumWorkQueueOutlivesTheWorkQueueBeingGone() throws Exception {
    String queue = "refusal.tiers";
    // The broker retries an at-least-once hop every 180 s by default; this node retries every second.
    // (3.x reads dead_letter_worker_publisher_confirm_timeout, later versions the same name with _ms.)
    broker.ctl("eval", "application:set_env(rabbit, dead_letter_worker_publisher_confirm_timeout, 1000), "
        + "application:set_env(rabbit, dead_letter_worker_publisher_confirm_timeout_ms, 1000).");
    try (RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri())) {
      Topology work = Topology.of(Queue.quorum(queue));
      rabbit.declare(work);
      List<String> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
      MessageConsumer.Builder<String> consumer = rabbit.consumerBuilder(String.class).queue(queue)
          .redelivery(Redelivery.after(Duration.ofSeconds(2))).handler(d -> {
            if (d.attempt() == 1) {
              throw new IllegalStateException("first attempt fails");
            }
            handled.add(d.body() + "@" + d.attempt());
          });
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        try (MessageConsumer c = consumer.build()) {
          p.publish("waits").get(10, TimeUnit.SECONDS);
          Await.until(WAIT, "moved to its tier", () -> c.stats().delayed() == 1);
        }
      }
      // While it waits, its work queue goes away: the hop back finds no queue when the wait ends.
      rabbit.deleteQueue(queue);
      Thread.sleep(4_000);
      rabbit.declare(work);
      try (MessageConsumer c = consumer.build()) {
        Await.until(WAIT, "handled once its work queue is back", () -> handled.size() == 1);
      }
      assertEquals(List.of("waits@2"), handled);
      rabbit.deleteQueue(queue);
      rabbit.deleteQueue(Redelivery.delayQueueName(queue, Duration.ofSeconds(2)));
      rabbit.deleteQueue(queue + ".dlq");
    } finally {
      broker.ctl("eval", "application:set_env(rabbit, dead_letter_worker_publisher_confirm_timeout, 180000), "
          + "application:set_env(rabbit, dead_letter_worker_publisher_confirm_timeout_ms, 180000).");
    }
  }

  @Test
  void aBodyOverTheInboundLimitIsDeadLetteredAndTheMessagesBehindItAreProcessed() throws Exception {
    String queue = "refusal.huge";
    // Over amqp-client's 64 MiB default; this node takes 128 MiB (4.x: 16 MiB by default).
    byte[] huge = new byte[70 * 1024 * 1024];
    try (RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Connection connection = RawClient.connect(broker.uri()); Channel ch = connection.createChannel()) {
        ch.confirmSelect();
        ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().messageId("huge-1").build(), huge);
        for (int i = 0; i < 10; i++) {
          ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("application/json")
              .messageId("o-" + i).build(),
              ("{\"orderId\":\"o-" + i + "\"}")
                  .getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(60_000);
      }
      huge = null;
      try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
          .handler(d -> {
          }).build()) {
        Await.until(Duration.ofSeconds(60), "the orders behind it processed", () -> c.stats().processed() == 10);
        Await.until(WAIT, () -> rabbit.deadLetters(queue).count() == 1);
        assertEquals(0, rabbit.health().connections().stream().mapToLong(Health.ConnectionStatus::recoveries).sum(),
            "the consuming connection died");
      }
      DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
      assertEquals("huge-1", letter.messageId().orElseThrow());
      assertEquals(FailureHeaders.REASON_TOO_LARGE, letter.reason());
      assertEquals(70 * 1024 * 1024, letter.body().length);
      rabbit.deleteQueue(queue);
      rabbit.deleteQueue(queue + ".dlq");
    }
  }

  @Test
  void aMessageThatTimedOutWithoutEverLeavingTheClientSaysTheBrokerDoesNotHaveIt() throws Exception {
    try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).recoveryInterval(Duration.ofMillis(300))
        .connect();
        Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey("refusal.never").mandatory(false)
            .confirmTimeout(Duration.ofSeconds(1)).build()) {
      broker.stopApp();
      try {
        Await.until(WAIT, "the connection is lost", () -> !rabbit.isConnected());
        ConfirmTimeoutException e =
            assertInstanceOf(ConfirmTimeoutException.class, Await.failure(p.publish("x"), WAIT));
        assertFalse(e.sent());
        assertTrue(e.getMessage().contains("never sent"), e.getMessage());
      } finally {
        broker.startApp();
      }
      Await.until(WAIT, "recovered", rabbit::isConnected);
    }
  }
}
