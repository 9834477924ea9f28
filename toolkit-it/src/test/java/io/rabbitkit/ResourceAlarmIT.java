package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.ToolkitException.RpcTimeoutException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A resource alarm never hangs a caller past its timeout. While the broker blocks the publishing
 * connection it reads nothing from it, so a thread writing to it waits as long as the alarm lasts;
 * the toolkit holds messages back instead, on a node of the test's own with a memory alarm raised.
 */
class ResourceAlarmIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void whileTheBrokerBlocksPublishingCallersGetTheirAnswersWithinTheirTimeoutsAndConsumersGoOn() throws Exception {
    try (ThrowawayBroker broker = ThrowawayBroker.start()) {
      RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri());
      try {
        rabbit.declare(Topology.builder().queue(Queue.classic("alarm.big")).queue(Queue.classic("alarm.work"))
            .queue(Queue.classic("alarm.rpc")).build());
        try (Publisher<String> work = rabbit.publisherBuilder(String.class).routingKey("alarm.work").build()) {
          for (int i = 0; i < 10; i++) {
            work.publish(i % 2 == 0 ? "good-" + i : "bad-" + i).get(10, TimeUnit.SECONDS);
          }
        }
        RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue("alarm.rpc")
            .handler(String::toUpperCase).build();
        RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class)
            .routingKey("alarm.rpc").build();
        assertEquals("PING", client.call("ping").get(10, TimeUnit.SECONDS));
        Publisher<String> big = rabbit.publisherBuilder(String.class).routingKey("alarm.big")
            .confirmTimeout(Duration.ofSeconds(3)).build();
        // A consumer acks on its own connection, which the alarm does not block; its failures
        // wait to be moved, and never stop it from handling the rest. It starts now and waits for the alarm.
        java.util.concurrent.CountDownLatch blocked = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger good = new AtomicInteger();
        MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue("alarm.work")
            .deadLetterQueue("alarm.work.dlq").drainTimeout(Duration.ofSeconds(5)).handler(d -> {
              blocked.await(60, TimeUnit.SECONDS);
              if (d.body().startsWith("bad")) {
                throw new IllegalStateException("fails");
              }
              good.incrementAndGet();
            }).build();

        broker.raiseMemoryAlarm();
        try {
          CompletableFuture<Confirmation> first = big.publish("makes the broker block the connection");
          Await.until(Duration.ofSeconds(20), "publishing connection blocked", rabbit::isBlocked);
          // 20 MiB: more than the socket's buffers take, had it been written to the unread connection.
          String mib = "x".repeat(1 << 20);
          long started = System.nanoTime();
          List<CompletableFuture<Confirmation>> held = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            held.add(big.publish(mib));
          }
          long publishMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
          assertTrue(publishMs < 2_000, "publish() returned its futures at once, took " + publishMs + " ms");
          for (CompletableFuture<Confirmation> f : held) {
            ConfirmTimeoutException e = assertInstanceOf(ConfirmTimeoutException.class, Await.failure(f, WAIT));
            assertFalse(e.sent(), "held back, never written: the broker does not have it");
          }
          Await.failure(first, WAIT);
          long failedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
          assertTrue(failedMs < 6_000, "futures failed within their 3 s confirm timeout, took " + failedMs + " ms");

          long calling = System.nanoTime();
          Throwable rpc = Await.failure(client.call("blocked", Duration.ofSeconds(3)), WAIT);
          long callMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - calling);
          assertInstanceOf(RpcTimeoutException.class, rpc);
          assertTrue(callMs < 5_000, "call(3 s) answered within its timeout, took " + callMs + " ms");

          blocked.countDown();
          Await.until(Duration.ofSeconds(10), "every good message handled while blocked", () -> good.get() == 5);

          long closing = System.nanoTime();
          List<String> took = new ArrayList<>();
          for (AutoCloseable c : List.of(consumer, server, client, big, rabbit)) {
            long t = System.nanoTime();
            c.close();
            took.add(c + " " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t) + " ms");
          }
          long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
          System.out.println("FIGURES alarm close: " + took);
          System.out.printf("FIGURES alarm: 20 publishes returned in %d ms, failed within %d ms; call(3 s) answered in "
              + "%d ms; close took %d ms%n", publishMs, failedMs, callMs, closeMs);
          assertTrue(closeMs < 25_000, "close() kept to its bounded waits, took " + closeMs + " ms");
        } finally {
          broker.clearMemoryAlarm();
        }
      } finally {
        rabbit.close();
      }
    }
  }
}
