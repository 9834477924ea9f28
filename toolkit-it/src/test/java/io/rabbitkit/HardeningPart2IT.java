package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ConnectionException.Reason;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TcpProxy;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 against the shared broker: over-long names, an admin channel that must never wedge, a
 * black hole noticed in seconds, replays a stranger cannot steer, and error messages a user can act
 * on.
 */
@RabbitTest
class HardeningPart2IT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Order(String orderId) {
  }

  @Test
  void namesOverTwoHundredFiftyFiveUtf8BytesAreRefusedWhenSetIncludingTheToolkitsSuffixes(RabbitToolkit rabbit) {
    String longQueue = "é".repeat(200); // 200 characters, 400 bytes
    assertThrows(IllegalArgumentException.class, () -> Queue.classic(longQueue));
    assertThrows(IllegalArgumentException.class, () -> rabbit.consumerBuilder(String.class).queue(longQueue));
    String nearlyFull = "q".repeat(250); // fits, but q.dlq and q.retry.1s do not
    MessageConsumer.Builder<String> consumer = rabbit.consumerBuilder(String.class).queue(nearlyFull).handler(d -> {
    })
        .redelivery(Redelivery.after(Duration.ofSeconds(1)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, consumer::build);
    assertTrue(e.getMessage().contains("255"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> rabbit.publisherBuilder(String.class).routingKey("k".repeat(256)));
    assertThrows(IllegalArgumentException.class,
        () -> io.rabbitkit.topology.Binding.of("x", "q", "é".repeat(128)));
  }

  @Test
  void aCallAmqpClientCannotEncodeLeavesNoLaterAdminCallHanging(RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("after");
    // A value amqp-client cannot write fails inside the declare, after the RPC began.
    ToolkitException e = assertThrows(ToolkitException.class, () -> rabbit.declare(
        Topology.of(Queue.classic(names.queue("odd")).withArgument("x-odd", new Object()))));
    assertTrue(e.getMessage().contains("queue '"), e.getMessage());
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      assertEquals(0, rabbit.purgeQueue(queue));
      rabbit.deleteQueue(queue);
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
      })
          .redelivery(Redelivery.after(Duration.ofSeconds(1))).build()) {
        assertTrue(c.isRunning());
      }
    });
  }

  @Test
  void aNetworkBlackHoleShowsInHealthWithinSecondsAndTheToolkitRecovers(RabbitBroker broker, TestNames names)
      throws Exception {
    URI uri = URI.create(broker.uri());
    String queue = names.queue("hole");
    try (TcpProxy proxy = TcpProxy.to(uri.getHost(), uri.getPort());
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).host("127.0.0.1").port(proxy.port())
            .recoveryInterval(Duration.ofMillis(500)).connect()) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        p.publish("before").get(10, TimeUnit.SECONDS);
        assertTrue(rabbit.health().healthy(), rabbit.health().problems().toString());
        proxy.blackHole();
        long start = System.nanoTime();
        p.publish("into the hole");
        Await.until(Duration.ofSeconds(20), "health notices", () -> !rabbit.health().healthy());
        double noticed = (System.nanoTime() - start) / 1e9;
        System.out.printf("FIGURES black hole noticed by health() after %.1f s: %s%n", noticed,
            rabbit.health().problems());
        assertTrue(noticed < 15, "noticed after " + noticed + " s");
        proxy.restore();
        Await.until(Duration.ofSeconds(30), "healthy again", () -> rabbit.health().healthy());
        p.publish("after").get(10, TimeUnit.SECONDS);
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void replayGoesToTheDeadLetterQueuesOwnQueueWhateverHeadersTheMessageCarried(RabbitToolkit rabbit,
      RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("work");
    String victim = names.queue("victim");
    rabbit.declare(Topology.of(Queue.classic(queue), Queue.classic(victim)));
    try (Connection raw = HardeningIT.raw(broker.uri()); Channel ch = raw.createChannel()) {
      ch.confirmSelect();
      ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().messageId("stranger").contentType("text/plain")
          .headers(Map.of(FailureHeaders.ORIGINAL_QUEUE, victim, FailureHeaders.ORIGINAL_EXCHANGE, "forged",
              FailureHeaders.FIRST_FAILED_AT, "1999-01-01T00:00:00Z"))
          .build(), "{".getBytes(StandardCharsets.UTF_8));
      ch.waitForConfirmsOrDie(10_000);
    }
    try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
        .handler(d -> {
        }).build()) {
      Await.until(WAIT, () -> rabbit.deadLetters(queue).count() == 1);
    }
    DeadLetter letter = rabbit.deadLetters(queue).list(1).get(0);
    assertEquals(queue, letter.originalQueue());
    assertEquals("", letter.originalExchange(), "written from what the consumer saw");
    assertFalse(letter.firstFailedAt().orElseThrow().toString().startsWith("1999"));
    assertEquals(1, rabbit.deadLetters(queue).replayAll());
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
    assertEquals(0, rabbit.queueInfo(victim).orElseThrow().messageCount(), "a stranger steered the replay");
  }

  @Test
  void oneUndeliverableDeadLetterIsReportedAndSkippedAndTheReplayGoesOn(RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("work");
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      for (int i = 0; i < 3; i++) {
        p.publish("dead " + i).join();
      }
    }
    var dead = rabbit.deadLetters(queue);
    assertEquals(0, dead.replayTo(names.queue("missing"), d -> true, 100), "the target queue does not exist");
    assertEquals(3, dead.skipped());
    assertEquals(3, dead.count(), "nothing lost");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    assertEquals(3, dead.replayAll());
    assertEquals(3, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void portsThatDoNotSpeakAmqp091SayWhatWasSeen() throws Exception {
    // PostgreSQL's port, when the machine has one listening there.
    boolean postgres;
    try (Socket s = new Socket("127.0.0.1", 5432)) {
      postgres = true;
    } catch (java.io.IOException e) {
      postgres = false;
    }
    if (postgres) {
      ConnectionException e = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(5432).connect());
      assertEquals(Reason.NOT_AMQP, e.reason(), e.getMessage());
    }
    try (Fake http = new Fake("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Fake amqp10 = new Fake(new byte[]{'A', 'M', 'Q', 'P', 0, 1, 0, 0})) {
      ConnectionException garbage = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(http.port()).connect());
      assertEquals(Reason.NOT_AMQP, garbage.reason());
      assertTrue(garbage.getMessage().contains("not AMQP 0-9-1"), garbage.getMessage());
      ConnectionException other = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(amqp10.port()).connect());
      assertEquals(Reason.NOT_AMQP, other.reason());
      assertTrue(other.getMessage().contains("AMQP 1.0"), other.getMessage());
    }
  }

  @Test
  void aSilentPortFailsAfterTheConnectionTimeoutNotHalfOfIt() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      long start = System.nanoTime();
      ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
          .host("127.0.0.1").port(silent.getLocalPort()).connectionTimeout(Duration.ofSeconds(2)).connect());
      double took = (System.nanoTime() - start) / 1e9;
      assertEquals(Reason.TIMEOUT, e.reason(), e.getMessage());
      assertTrue(took >= 1.8 && took < 6, "failed after " + took + " s with a 2 s timeout");
    }
  }

  @Test
  void failedDeletesAndInvalidArgumentsAreWordedAsWhatTheyAre(RabbitToolkit rabbit, RabbitBroker broker,
      TestNames names) throws Exception {
    TopologyException invalid = assertThrows(TopologyException.class, () -> rabbit.declare(
        Topology.of(Queue.classic(names.queue("neg")).withArgument("x-max-length", -1))));
    assertEquals("x-max-length", invalid.argument().orElseThrow());
    assertTrue(invalid.getMessage().contains("invalid 'x-max-length'"), invalid.getMessage());
    assertFalse(invalid.getMessage().contains("conflict"), invalid.getMessage());
    String locked = names.queue("locked");
    try (Connection raw = HardeningIT.raw(broker.uri()); Channel ch = raw.createChannel()) {
      ch.queueDeclare(locked, false, true, true, null); // exclusive to another connection
      TopologyException delete = assertThrows(TopologyException.class, () -> rabbit.deleteQueue(locked));
      assertEquals(405, delete.replyCode());
      assertFalse(delete.getMessage().contains("declaring"), delete.getMessage());
      assertTrue(delete.getMessage().contains("exclusive to another connection"), delete.getMessage());
    }
  }

  /** A server that answers every connection with fixed bytes, then closes it. */
  private static final class Fake implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());

    Fake(byte[] answer) throws java.io.IOException {
      Thread t = new Thread(() -> {
        while (!socket.isClosed()) {
          try (Socket s = socket.accept()) {
            OutputStream out = s.getOutputStream();
            out.write(answer);
            out.flush();
            Thread.sleep(100);
          } catch (Exception e) {
            // closed
          }
        }
      });
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }
}
