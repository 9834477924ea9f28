package io.rabbitkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

class RabbitExtensionIT {

  static final List<String> QUEUES = new CopyOnWriteArrayList<>();
  static final List<String> EXCHANGES = new CopyOnWriteArrayList<>();

  /** Run through the test kit only (inner classes are not picked up by the build). */
  @RabbitTest
  static class Sample {
    @Test
    void declaresThings(RabbitToolkit rabbit, TestNames names, RabbitBroker broker) {
      assertTrue(rabbit.isConnected());
      assertTrue(broker.uri().startsWith("amqp"));
      String queue = names.queue("work");
      String exchange = names.exchange("events");
      rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(queue)).build());
      // A consumer with a dead-letter pipeline declares queues the test never named itself.
      rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
      })
          .redelivery(Redelivery.after(Duration.ofSeconds(1))).build();
      QUEUES.addAll(List.of(queue, queue + ".dlq", Redelivery.delayQueueName(queue, Duration.ofSeconds(1))));
      EXCHANGES.add(exchange);
    }
  }

  static final List<ThrowawayBroker> OWN = new CopyOnWriteArrayList<>();

  /** Two tests of one class share one throw-away node; the shared broker never sees their queue. */
  @RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
  static class OwnBroker {
    @Test
    void first(RabbitToolkit rabbit, RabbitBroker broker, ThrowawayBroker node) {
      OWN.add(node);
      assertEquals(node.uri(), broker.uri());
      rabbit.declare(Topology.of(Queue.classic("fixed-name-on-its-own-node")));
      node.closeAllConnections(); // a fault, on this node only
      Await.until(Duration.ofSeconds(10), () -> rabbit.health().healthy());
    }

    @Test
    void second(ThrowawayBroker node) {
      OWN.add(node);
    }
  }

  @Test
  void aThrowawayClassGetsOneNodeOfItsOwnStoppedAfterItsLastTest() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(OwnBroker.class)).execute()
        .testEvents().assertStatistics(stats -> stats.succeeded(2).failed(0));
    assertEquals(2, OWN.size());
    assertSame(OWN.get(0), OWN.get(1));
    assertNotEquals(BrokerLocator.locate().uri(), OWN.get(0).uri());
    assertFalse(BrokerLocator.answers("127.0.0.1", OWN.get(0).port()), "the node still answers after the class");
    try (RabbitToolkit rabbit = BrokerLocator.locate().connect()) {
      assertTrue(rabbit.queueInfo("fixed-name-on-its-own-node").isEmpty());
    }
  }

  @Test
  void theExtensionInjectsAToolkitAndDeletesWhatTheTestDeclared() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(Sample.class)).execute()
        .testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
    assertEquals(3, QUEUES.size());
    try (RabbitToolkit rabbit = BrokerLocator.locate().connect()) {
      for (String queue : QUEUES) {
        assertTrue(rabbit.queueInfo(queue).isEmpty(), queue + " was left behind");
      }
      // The exchange is gone too: declaring it with another type would otherwise be refused.
      for (String exchange : EXCHANGES) {
        rabbit.declare(Topology.builder().exchange(Exchange.fanout(exchange)).build());
        rabbit.deleteExchange(exchange);
      }
    }
  }
}
