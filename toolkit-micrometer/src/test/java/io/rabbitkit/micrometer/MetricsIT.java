package io.rabbitkit.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every meter's count against what happened, on the real broker. */
@RabbitTest
class MetricsIT {

  private static long count(SimpleMeterRegistry registry, String name, String... tags) {
    return registry.find(name).tags(tags).timers().stream().mapToLong(Timer::count).sum();
  }

  @Test
  void countsAreExactForConfirmedRetriedRedeliveredAndDeadLetteredMessages(RabbitBroker broker, TestNames names)
      throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RabbitkitMetrics metrics = RabbitkitMetrics.of(registry);
    String queue = names.queue("metered");
    int messages = 200;
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(metrics).connect()) {
      metrics.bindTo(rabbit);
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue(queue)
          .retry(2).redelivery(Redelivery.after(Duration.ofMillis(100))).deadLetterQueue(queue + ".dlq")
          .handler(d -> {
            if (d.body().endsWith("0")) { // one in ten always fails
              throw new IllegalStateException("failing " + d.body());
            }
          }).build();
          Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
          Publisher<String> nowhere = rabbit.publisherBuilder(String.class).routingKey(names.queue("none")).build()) {
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 1; i <= messages; i++) {
          // Distinct ids and bodies: they must not create meters.
          sent.add(p.publish(Message.of("m-" + i).withMessageId("id-" + i)));
        }
        for (CompletableFuture<?> f : sent) {
          f.get(10, TimeUnit.SECONDS);
        }
        Await.failure(nowhere.publish("lost"), Duration.ofSeconds(10));

        Await.until(Duration.ofSeconds(30), "all settled",
            () -> consumer.stats().processed() + consumer.stats().deadLettered() == messages);
        MessageConsumer.Stats stats = consumer.stats();
        assertEquals(180, stats.processed());
        assertEquals(20, stats.deadLettered());

        assertEquals(messages, count(registry, "rabbitkit.publish", "outcome", "confirmed", "exchange", "amq.default"));
        assertEquals(1, count(registry, "rabbitkit.publish", "outcome", "returned"));
        assertEquals(stats.processed(), count(registry, "rabbitkit.consume", "queue", queue, "outcome", "acked"));
        assertEquals(stats.retriedInProcess(),
            count(registry, "rabbitkit.consume", "queue", queue, "outcome", "retried"));
        assertEquals(stats.delayed(),
            count(registry, "rabbitkit.consume", "queue", queue, "outcome", "delayed"));
        assertEquals(stats.deadLettered(),
            count(registry, "rabbitkit.consume", "queue", queue, "outcome", "dead_lettered"));
        assertEquals(40, stats.retriedInProcess(), "20 failing messages, 2 rounds, one retry each");
        assertEquals(20, stats.delayed());
        assertEquals(20, rabbit.queueInfo(queue + ".dlq").orElseThrow().messageCount());
        assertEquals("IllegalStateException", registry.find("rabbitkit.consume").tags("outcome", "dead_lettered")
            .timer().getId().getTag("error.type"));

        assertEquals(0.0, registry.get("rabbitkit.publish.in.flight").gauge().value());
        assertEquals(1.0, registry.get("rabbitkit.consumer.running").gauge().value());
        assertEquals(1.0, registry.get("rabbitkit.connection.state").tag("role", "publisher").gauge().value());
        assertEquals(1.0, registry.get("rabbitkit.connection.state").tag("role", "consumer").gauge().value());

        List<Meter> meters = registry.getMeters();
        System.out.println("meters after " + messages + " distinct message ids: " + meters.size());
        assertTrue(meters.size() < 20, "bounded cardinality: " + meters.size() + " meters");
      }
      rabbit.deleteQueue(queue + ".dlq");
      rabbit.deleteQueue(Redelivery.delayQueueName(queue, Duration.ofMillis(100)));
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void tenThousandRoutingKeysAndIdsCreateABoundedNumberOfMeters(RabbitBroker broker, TestNames names) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RabbitkitMetrics metrics = RabbitkitMetrics.of(registry);
    String exchange = names.exchange("keys");
    String queue = names.queue("keys");
    int messages = 10_000;
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(metrics).connect()) {
      rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(queue))
          .binding(Binding.of(exchange, queue, "#")).build());
      try (MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
      }).build();
          Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).build()) {
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
          sent.add(p.publish(Message.of("m").withMessageId("id-" + i).withRoutingKey("order." + i + ".placed")));
        }
        for (CompletableFuture<?> f : sent) {
          f.get(30, TimeUnit.SECONDS);
        }
        Await.until(Duration.ofSeconds(30), "all consumed", () -> consumer.stats().processed() == messages);
        assertEquals(messages, count(registry, "rabbitkit.publish", "exchange", exchange, "outcome", "confirmed"));
        assertEquals(messages, count(registry, "rabbitkit.consume", "queue", queue, "outcome", "acked"));
        int meters = registry.getMeters().size();
        System.out.println("meters after " + messages + " distinct routing keys and ids: " + meters);
        assertEquals(2, meters, "one publish and one consume timer: " + registry.getMetersAsString());
      }
      rabbit.deleteQueue(queue);
      rabbit.deleteExchange(exchange);
    }
  }

  @Test
  void rpcCallsAreTimedByOutcome(RabbitBroker broker, TestNames names) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String queue = names.queue("rpc");
    try (RabbitToolkit rabbit = broker.toolkitBuilder().interceptor(RabbitkitMetrics.of(registry)).connect()) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue).handler(req -> {
        if (req.equals("boom")) {
          throw new IllegalArgumentException("boom");
        }
        return req;
      }).build();
          RpcClient<String, String> client =
              rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue).build()) {
        client.call("a").get(10, TimeUnit.SECONDS);
        client.call("b").get(10, TimeUnit.SECONDS);
        Await.failure(client.call("boom"), Duration.ofSeconds(10));
        Await.until(Duration.ofSeconds(5), () -> count(registry, "rabbitkit.rpc") == 3);
        assertEquals(2, count(registry, "rabbitkit.rpc", "exchange", "amq.default", "outcome", "ok"));
        assertEquals(1, count(registry, "rabbitkit.rpc", "outcome", "remote_error"));
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void amqpClientsOwnMetricsCollectorIsPassedThroughAndCountsTheSameTraffic(RabbitBroker broker, TestNames names)
      throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String queue = names.queue("collector");
    try (RabbitToolkit rabbit = broker.toolkitBuilder()
        .metricsCollector(new com.rabbitmq.client.impl.MicrometerMetricsCollector(registry, "rabbitmq"))
        .interceptor(RabbitkitMetrics.of(registry)).connect()) {
      rabbit.declare(Topology.builder().queue(Queue.classic(queue)).build());
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build();
          MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue).handler(d -> {
          }).build()) {
        for (int i = 0; i < 25; i++) {
          p.publish("m-" + i).get(10, TimeUnit.SECONDS);
        }
        Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 25);
      }
    }
    assertEquals(25, (long) registry.get("rabbitmq.published").counter().count(), "amqp-client's own count");
    assertEquals(25, (long) registry.get("rabbitmq.consumed").counter().count());
    assertEquals(25, count(registry, "rabbitkit.publish", "outcome", "confirmed"), "the toolkit's, side by side");
    assertEquals(25, count(registry, "rabbitkit.consume", "outcome", "acked"));
  }
}
