package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@RabbitTest
class TopologyIT {

  @Test
  void everyExchangeTypeRoutesAsTheBrokerDefines(RabbitToolkit rabbit, TestNames names) throws Exception {
    String topic = names.exchange("topic");
    String fanout = names.exchange("fanout");
    String direct = names.exchange("direct");
    String headers = names.exchange("headers");
    String q1 = names.queue("q1");
    String q2 = names.queue("q2");
    rabbit.declare(Topology.builder()
        .exchange(Exchange.topic(topic)).exchange(Exchange.fanout(fanout))
        .exchange(Exchange.direct(direct)).exchange(Exchange.headers(headers))
        .queue(Queue.classic(q1)).queue(Queue.classic(q2))
        .binding(Binding.of(topic, q1, "order.*"))
        .binding(Binding.of(fanout, q1, "")).binding(Binding.of(fanout, q2, ""))
        .binding(Binding.of(direct, q2, "only"))
        .binding(Binding.of(headers, q2, "").withArgument("x-match", "all").withArgument("kind", "audit"))
        .build());

    publish(rabbit, topic, "order.placed");
    publish(rabbit, fanout, "anything");
    publish(rabbit, direct, "only");
    publish(rabbit, headers, "", "kind", "audit");
    assertThrows(Exception.class, () -> publish(rabbit, topic, "invoice.sent")); // unroutable: returned

    assertEquals(2, rabbit.queueInfo(q1).orElseThrow().messageCount());
    assertEquals(3, rabbit.queueInfo(q2).orElseThrow().messageCount());
  }

  private static void publish(RabbitToolkit rabbit, String exchange, String key, String... header) throws Exception {
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey(key).build()) {
      Message<String> m = Message.of("m");
      if (header.length == 2) {
        m = m.withHeader(header[0], header[1]);
      }
      p.publish(m).get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aTransientSharedQueueIsDeclaredWithAWarningThatRabbitmq4MayRefuseIt(RabbitToolkit rabbit, TestNames names) {
    String transientQueue = names.queue("transient");
    String exclusive = names.queue("exclusive");
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    System.setErr(new java.io.PrintStream(captured, true));
    try {
      rabbit.declare(Topology.of(Queue.classic(transientQueue).withDurable(false),
          Queue.classic(exclusive).withDurable(false).withExclusive(true)));
      rabbit.declare(Topology.of(Queue.classic(transientQueue).withDurable(false))); // warned once
    } finally {
      System.setErr(err);
    }
    String log = captured.toString();
    assertTrue(log.contains("queue '" + transientQueue + "' is non-durable and not exclusive")
        && log.contains("deprecated_features.permit.transient_nonexcl_queues = false refuses them"), log);
    assertEquals(1, log.split(java.util.regex.Pattern.quote(transientQueue), -1).length - 1, log);
    assertTrue(!log.contains(exclusive), "an exclusive transient queue is fine: " + log);
    assertTrue(rabbit.queueInfo(transientQueue).isPresent());
  }

  @Test
  void declaringTwiceIsHarmless(RabbitToolkit rabbit, TestNames names) {
    Topology topology = Topology.builder()
        .exchange(Exchange.topic(names.exchange("x")))
        .queue(Queue.quorum(names.queue("q")).withDeliveryLimit(3).withDeadLetterQueue(names.queue("dlq")))
        .queue(Queue.classic(names.queue("dlq")))
        .binding(Binding.of(names.exchange("x"), names.queue("q"), "#"))
        .build();
    rabbit.declare(topology);
    rabbit.declare(topology);
    assertEquals(topology.queues().size(), rabbit.declared().queues().size());
    assertTrue(rabbit.queueInfo(names.queue("q")).isPresent());
  }

  @Test
  void aRefusedDeclarationNamesTheArgumentAndTheToolkitStaysUsable(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("q");
    rabbit.declare(Topology.of(Queue.classic(queue).withMaxLength(10)));

    TopologyException e = assertThrows(TopologyException.class,
        () -> rabbit.declare(Topology.of(Queue.classic(queue).withMaxLength(20))));
    assertEquals("x-max-length", e.argument().orElseThrow());
    assertTrue(e.entity().contains(queue));
    assertEquals(406, e.replyCode());

    // The admin channel the broker closed has been replaced: declaring and publishing both work.
    String other = names.queue("other");
    rabbit.declare(Topology.of(Queue.classic(other)));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      assertEquals(queue, p.publish("still fine").get(10, TimeUnit.SECONDS).routingKey());
    }
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void declareMissingKeepsWhatExistsAndAddsTheRest(RabbitToolkit rabbit, TestNames names) throws Exception {
    String exchange = names.exchange("shared");
    String existing = names.queue("existing");
    String added = names.queue("added");
    // Declared elsewhere with other settings than ours (transient exchange, a max-length).
    rabbit.declare(Topology.builder().exchange(Exchange.topic(exchange).withDurable(false))
        .queue(Queue.classic(existing).withMaxLength(5)).build());
    Topology ours = Topology.builder().exchange(Exchange.topic(exchange)).queue(Queue.classic(existing))
        .queue(Queue.classic(added)).binding(Binding.of(exchange, existing, "k"))
        .binding(Binding.of(exchange, added, "k"))
        .build();
    assertThrows(TopologyException.class, () -> rabbit.declare(ours));

    rabbit.declareMissing(ours);
    assertTrue(rabbit.exchangeExists(exchange));
    assertTrue(rabbit.queueInfo(added).isPresent());
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).exchange(exchange).routingKey("k").build()) {
      p.publish("to both").get(10, TimeUnit.SECONDS);
    }
    assertEquals(1, rabbit.queueInfo(existing).orElseThrow().messageCount());
    assertEquals(1, rabbit.queueInfo(added).orElseThrow().messageCount());
    assertTrue(!rabbit.exchangeExists(names.exchange("missing")));
  }

  @Test
  void queueTypesAndArgumentsReachTheBroker(RabbitToolkit rabbit, TestNames names) throws Exception {
    String stream = names.queue("stream");
    String ttl = names.queue("ttl");
    String expired = names.queue("expired");
    rabbit.declare(Topology.builder()
        .queue(Queue.stream(stream))
        .queue(Queue.classic(expired))
        .queue(Queue.classic(ttl).withMessageTtl(Duration.ofMillis(50)).withDeadLetterQueue(expired))
        .queue(Queue.classic(names.queue("exclusive")).withDurable(false).withExclusive(true).withAutoDelete(true))
        .queue(Queue.quorum(names.queue("sac")).withSingleActiveConsumer())
        .build());
    // A different queue type under the same name is refused: the broker kept what we declared.
    assertThrows(TopologyException.class, () -> rabbit.declare(Topology.of(Queue.classic(stream))));

    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(ttl).build()) {
      p.publish("expires").get(10, TimeUnit.SECONDS);
    }
    io.rabbitkit.test.Await.until(Duration.ofSeconds(10), "TTL dead-lettering",
        () -> rabbit.queueInfo(expired).orElseThrow().messageCount() == 1);
  }

  @Test
  void deletedEntitiesAreForgottenAndMissingQueuesReportEmpty(RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("q");
    String exchange = names.exchange("x");
    rabbit.declare(Topology.builder().exchange(Exchange.direct(exchange)).queue(Queue.classic(queue))
        .binding(Binding.of(exchange, queue, "k")).build());
    rabbit.unbind(Binding.of(exchange, queue, "k"));
    rabbit.deleteQueue(queue);
    rabbit.deleteExchange(exchange);
    assertTrue(rabbit.queueInfo(queue).isEmpty());
    assertTrue(rabbit.declared().queues().isEmpty());
    assertTrue(rabbit.declared().bindings().isEmpty());
    assertThrows(TopologyException.class, () -> rabbit.purgeQueue(queue));
  }

  @Test
  void consumingAMissingQueueFailsWithATypedError(RabbitToolkit rabbit, TestNames names) {
    TopologyException e = assertThrows(TopologyException.class,
        () -> rabbit.consumerBuilder(String.class).queue(names.queue("missing")).handler(d -> {
        }).build());
    assertEquals(404, e.replyCode());
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
  void failedDeletesAndInvalidArgumentsAreWordedAsWhatTheyAre(RabbitToolkit rabbit, RabbitBroker broker,
      TestNames names) throws Exception {
    TopologyException invalid = assertThrows(TopologyException.class, () -> rabbit.declare(
        Topology.of(Queue.classic(names.queue("neg")).withArgument("x-max-length", -1))));
    assertEquals("x-max-length", invalid.argument().orElseThrow());
    assertTrue(invalid.getMessage().contains("invalid 'x-max-length'"), invalid.getMessage());
    assertFalse(invalid.getMessage().contains("conflict"), invalid.getMessage());
    String locked = names.queue("locked");
    try (Connection raw = RawClient.connect(broker.uri()); Channel ch = raw.createChannel()) {
      ch.queueDeclare(locked, false, true, true, null); // exclusive to another connection
      TopologyException delete = assertThrows(TopologyException.class, () -> rabbit.deleteQueue(locked));
      assertEquals(405, delete.replyCode());
      assertFalse(delete.getMessage().contains("declaring"), delete.getMessage());
      assertTrue(delete.getMessage().contains("exclusive to another connection"), delete.getMessage());
    }
  }
}
