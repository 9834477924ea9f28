package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.OffsetStore;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopologyValuesTest {

  @Test
  void quorumQueueWithDeadLetterWiringCarriesBrokerArguments() {
    Queue q = Queue.quorum("orders").withDeadLetterQueue("orders.dlq").withDeliveryLimit(5)
        .withMaxLength(100).withOverflow(Queue.Overflow.REJECT_PUBLISH).withSingleActiveConsumer();
    assertEquals(Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", "orders.dlq", "x-delivery-limit", 5,
        "x-max-length", 100L, "x-overflow", "reject-publish", "x-single-active-consumer", true), q.arguments());
    assertTrue(q.durable());
    assertEquals("", q.deadLetterExchange().orElseThrow());
  }

  @Test
  void ttlAndExpiresAreMilliseconds() {
    Queue q = Queue.classic("q").withMessageTtl(Duration.ofSeconds(2)).withExpires(Duration.ofMinutes(1));
    assertEquals(2000L, q.arguments().get("x-message-ttl"));
    assertEquals(60000L, q.arguments().get("x-expires"));
  }

  @Test
  void combinationsTheBrokerWouldRefuseAreRefusedEarly() {
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("q").withDeliveryLimit(3));
    assertThrows(IllegalArgumentException.class, () -> Queue.quorum("q").withExclusive(true));
    assertThrows(IllegalArgumentException.class, () -> Queue.quorum("q").withDurable(false));
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("q").withDeadLetterExchange("dlx"));
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("q").withMessageTtl(Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class,
        () -> Queue.quorum("q").withOverflow(Queue.Overflow.REJECT_PUBLISH_DLX));
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("q").withMaxLength(-1));
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("q").withMessageTtl(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("q").withArgument("x-queue-type", "quorum"));
  }

  @Test
  void reservedAndEmptyNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Queue.classic(""));
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("amq.gen-1"));
    assertThrows(IllegalArgumentException.class, () -> Exchange.topic(""));
    assertThrows(IllegalArgumentException.class, () -> Exchange.direct("amq.direct"));
    assertThrows(IllegalArgumentException.class, () -> Binding.of("", "q", "k"));
    assertThrows(NullPointerException.class, () -> Binding.of("x", "q", null));
  }

  @Test
  void valuesAreImmutableAndComparable() {
    Queue a = Queue.classic("q").withMaxLength(10);
    Queue b = Queue.classic("q").withMaxLength(10);
    assertEquals(a, b);
    assertThrows(UnsupportedOperationException.class, () -> a.arguments().put("x", 1));
    Exchange x = Exchange.headers("h").withAlternateExchange("alt");
    assertEquals(Map.of("alternate-exchange", "alt"), x.arguments());
    assertEquals("headers", x.type().brokerName());
  }

  @Test
  void topologyKeepsDeclarationOrderPerKind() {
    Topology t = Topology.builder()
        .binding(Binding.of("x", "q1", "k"))
        .queue(Queue.classic("q1"))
        .exchange(Exchange.topic("x"))
        .queue(Queue.quorum("q2"))
        .build();
    assertEquals(List.of("q1", "q2"), t.queues().stream().map(Queue::name).toList());
    assertEquals(4, TopologyRegistry.entities(t).size());
    assertEquals("x", TopologyRegistry.entities(t).get(0).exchanges().get(0).name());
  }

  @Test
  void queueTypeIsAlwaysDeclaredExplicitly() {
    assertEquals("quorum", TopologyRegistry.arguments(Queue.quorum("q")).get("x-queue-type"));
    assertEquals("classic", TopologyRegistry.arguments(Queue.classic("q")).get("x-queue-type"));
  }

  @Test
  void streamRetentionIsWrittenInTheLargestWholeUnitAndOnlyOnStreams() {
    assertEquals("7D", Queue.stream("s").withMaxAge(Duration.ofDays(7)).arguments().get("x-max-age"));
    assertEquals("36h", Queue.stream("s").withMaxAge(Duration.ofHours(36)).arguments().get("x-max-age"));
    assertEquals("90m", Queue.stream("s").withMaxAge(Duration.ofMinutes(90)).arguments().get("x-max-age"));
    assertEquals("45s", Queue.stream("s").withMaxAge(Duration.ofSeconds(45)).arguments().get("x-max-age"));
    assertEquals(1_000_000L,
        Queue.stream("s").withMaxSegmentSize(1_000_000).arguments().get("x-stream-max-segment-size-bytes"));
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("s").withMaxAge(Duration.ofMillis(1500)));
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("s").withMaxAge(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> Queue.quorum("q").withMaxAge(Duration.ofDays(1)));
    assertThrows(IllegalArgumentException.class, () -> Queue.classic("q").withMaxSegmentSize(1000));
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("s").withMaxLength(10), "streams keep bytes");
    assertThrows(IllegalArgumentException.class, () -> Queue.stream("s").withMaxSegmentSize(0));
  }

  @Test
  void streamStartsAreReadAsCommandLinesWriteThem() {
    assertEquals(StreamOffset.first(), StreamOffset.parse("first"));
    assertEquals(StreamOffset.next(), StreamOffset.parse("next"));
    assertEquals(StreamOffset.offset(4200), StreamOffset.parse("4200"));
    assertEquals(StreamOffset.timestamp(Instant.parse("2026-12-05T14:00:00Z")),
        StreamOffset.parse("2026-12-05T14:00:00Z"));
    assertEquals(java.util.Date.from(Instant.parse("2026-12-05T14:00:00Z")),
        StreamOffset.parse("2026-12-05T14:00:00Z").argument(), "an AMQP timestamp");
    assertEquals(4200L, StreamOffset.offset(4200).argument());
    assertThrows(IllegalArgumentException.class, () -> StreamOffset.parse("-1"));
    assertThrows(IllegalArgumentException.class, () -> StreamOffset.parse("99999999999999999999999"));
    assertThrows(IllegalArgumentException.class, () -> StreamOffset.offset(-1));
  }

  @Test
  void theInMemoryOffsetStoreKeepsTheHighestOffsetPerStreamAndName() {
    OffsetStore store = OffsetStore.inMemory();
    assertTrue(store.lastDone("s", "a").isEmpty());
    store.done("s", "a", 5);
    store.done("s", "a", 3);
    store.done("s", "b", 1);
    assertEquals(5, store.lastDone("s", "a").getAsLong());
    assertEquals(1, store.lastDone("s", "b").getAsLong());
    assertTrue(store.lastDone("t", "a").isEmpty());
  }
}
