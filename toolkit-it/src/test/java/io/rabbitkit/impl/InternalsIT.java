package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Confirmation;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Broker tests that look inside the implementation: its resource registry, a consumer's channels, a publisher's close. */
@RabbitTest
class InternalsIT {

  @Test
  void resourcesClosedByTheApplicationAreForgottenByTheToolkit(RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    rabbit.publisherBuilder(String.class).routingKey(queue).build().close();
    rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
    }).build().close();
    rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue).build().close();
    rabbit.rpcServerBuilder(String.class, String.class).queue(queue).handler(r -> r).build().close();
    assertEquals(0, ((Toolkit) rabbit).openResources());
  }

  @Test
  void aConsumerChannelClosedByTheBrokerIsReplacedAndConsumingGoesOn(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
        MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> got.add(d.body())).build()) {
      com.rabbitmq.client.Channel first = ((QueueConsumer<?>) c).channels().get(0).current();
      first.basicAck(999_999, false); // an unknown delivery tag: the broker closes the channel (406)
      Await.until(Duration.ofSeconds(10), "old channel closed", () -> !first.isOpen());
      Await.until(Duration.ofSeconds(10), "consumer re-subscribed on a new channel", c::isRunning);
      assertTrue(((QueueConsumer<?>) c).channels().get(0).current() != first);
      p.publish("after the error").get(10, TimeUnit.SECONDS);
      assertEquals("after the error", got.poll(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void closingFailsWhatIsStillUnconfirmedAndRefusesNewMessages(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
    List<CompletableFuture<Confirmation>> futures = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      futures.add(p.publish("m" + i));
    }
    ((DefaultPublisher<String>) p).close(Duration.ZERO);
    p.close();
    int confirmed = 0;
    int closed = 0;
    for (CompletableFuture<Confirmation> f : futures) {
      try {
        f.get(10, TimeUnit.SECONDS);
        confirmed++;
      } catch (ExecutionException e) {
        assertInstanceOf(ResourceClosedException.class, e.getCause());
        closed++;
      }
    }
    assertEquals(2000, confirmed + closed);
    assertInstanceOf(ResourceClosedException.class, Await.failure(p.publish("after close"), Duration.ofSeconds(10)));
    // Every confirmed message is in the queue; failed ones may or may not be (their outcome is unknown).
    long inQueue = rabbit.queueInfo(queue).orElseThrow().messageCount();
    assertTrue(inQueue >= confirmed, inQueue + " < " + confirmed);
  }
}
