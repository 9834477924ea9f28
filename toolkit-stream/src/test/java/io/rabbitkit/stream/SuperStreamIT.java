package io.rabbitkit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.Confirmation;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Super streams on a node of the class's own with the stream plugin (RabbitMQ 3.13+; skipped on older). */
class SuperStreamIT {

  record Event(String key, int seq, String eventId) {
  }

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static ThrowawayBroker node;
  private static RabbitStreams streams;
  private static RabbitToolkit rabbit;

  private static String unavailable;

  @BeforeAll
  static void start() {
    try {
      node = ThrowawayBroker.startWithStreams();
    } catch (org.opentest4j.TestAbortedException e) {
      unavailable = e.getMessage(); // each test reports as skipped, with the reason
      return;
    }
    streams = RabbitStreams.connect(node.streamUri());
    rabbit = RabbitToolkit.connect(node.uri());
  }

  @BeforeEach
  void needsTheNode() {
    assumeTrue(unavailable == null, unavailable);
  }

  @AfterAll
  static void stop() {
    if (rabbit != null) {
      rabbit.close();
    }
    if (streams != null) {
      streams.close();
    }
    if (node != null) {
      node.close();
    }
  }

  private static String unique(String base) {
    return base + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16, 1 << 20));
  }

  private static List<CompletableFuture<Confirmation>> publish(PartitionedPublisher<Event> p, int events, int keys,
      int from) {
    List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
    int[] seq = new int[keys];
    for (int i = 0; i < events; i++) {
      int k = i % keys;
      seq[k]++;
      sent.add(p.publish(new Event("k-" + k, from + seq[k], "e-" + (from + i))));
    }
    return sent;
  }

  @Test
  void eventsOfAKeyLandInOnePartitionAndAreReadInOrderByTheGroup() {
    SuperStream s = SuperStream.of(unique("ordered"), 3).withMaxAge(Duration.ofHours(1));
    streams.declare(s);
    streams.declare(s); // idempotent
    assertTrue(streams.exists(s));
    try (PartitionedPublisher<Event> p = streams.publisherBuilder(Event.class).superStream(s.name())
        .key(Event::key).messageId(Event::eventId).build()) {
      publish(p, 1_000, 20, 0).forEach(CompletableFuture::join);
    }
    Map<String, List<Integer>> seqs = new ConcurrentHashMap<>();
    Map<String, String> partitionOf = new ConcurrentHashMap<>();
    List<String> wrongPartition = new CopyOnWriteArrayList<>();
    try (ConsumerGroup member = streams.consumerGroupBuilder(Event.class).superStream(s.name()).group("readers")
        .deadLetters(rabbit).handler(d -> {
          seqs.computeIfAbsent(d.body().key(), k -> new CopyOnWriteArrayList<>()).add(d.body().seq());
          String first = partitionOf.putIfAbsent(d.body().key(), d.queue());
          if (first != null && !first.equals(d.queue())) {
            wrongPartition.add(d.body().key());
          }
        }).build()) {
      Await.until(WAIT, "every event", () -> seqs.values().stream().mapToInt(List::size).sum() == 1_000);
      assertEquals(java.util.Set.copyOf(s.partitionNames()), member.activePartitions(), "one member: all partitions");
    }
    assertTrue(wrongPartition.isEmpty(), "a key in two partitions: " + wrongPartition);
    for (Map.Entry<String, List<Integer>> e : seqs.entrySet()) {
      List<Integer> expected = new ArrayList<>();
      for (int i = 1; i <= 50; i++) {
        expected.add(i);
      }
      assertEquals(expected, e.getValue(), "order of key " + e.getKey());
    }
    assertEquals(3, partitionOf.values().stream().distinct().count(), "20 keys spread over 3 partitions");
    streams.delete(s.name());
  }

  @Test
  void aNamedProducerThatSendsAgainAfterARestartStoresNothingTwice() throws Exception {
    SuperStream s = SuperStream.of(unique("dedup"), 2);
    streams.declare(s);
    for (int run = 0; run < 2; run++) { // the second run stands for a restart that sends everything again
      try (RabbitStreams process = RabbitStreams.connect(node.streamUri());
          PartitionedPublisher<Event> p = process.publisherBuilder(Event.class).superStream(s.name())
              .key(Event::key).name("orders-producer").publishingId(e -> Long.parseLong(e.eventId().substring(2)))
              .build()) {
        publish(p, run == 0 ? 100 : 150, 10, 0).forEach(CompletableFuture::join);
      }
    }
    List<String> read = new CopyOnWriteArrayList<>();
    try (ConsumerGroup member = streams.consumerGroupBuilder(Event.class).superStream(s.name()).group("counter")
        .deadLetters(rabbit).handler(d -> read.add(d.body().eventId())).build()) {
      Await.until(WAIT, "150 events", () -> read.size() >= 150);
      Thread.sleep(500); // a duplicate would arrive meanwhile
    }
    assertEquals(150, read.size(), "100 sent twice, 50 new: stored once each");
    assertEquals(150, read.stream().distinct().count());
    streams.delete(s.name());
  }

  @Test
  void partitionsMoveToTheMemberLeftWhenAnotherLeavesAndNothingIsLost() throws Exception {
    SuperStream s = SuperStream.of(unique("group"), 3);
    streams.declare(s);
    List<String> handled = new CopyOnWriteArrayList<>();
    List<String> events = new CopyOnWriteArrayList<>();
    try (RabbitStreams first = RabbitStreams.connect(node.streamUri());
        RabbitStreams second = RabbitStreams.connect(node.streamUri());
        PartitionedPublisher<Event> p = streams.publisherBuilder(Event.class).superStream(s.name())
            .key(Event::key).build()) {
      ConsumerGroup a = first.consumerGroupBuilder(Event.class).superStream(s.name()).group("g").deadLetters(rabbit)
          .listener(new ConsumerGroup.Listener() {
            @Override
            public void activated(String partition) {
              events.add("a+" + partition);
            }
          }).handler(d -> handled.add(d.body().eventId())).build();
      ConsumerGroup b = second.consumerGroupBuilder(Event.class).superStream(s.name()).group("g").deadLetters(rabbit)
          .listener(new ConsumerGroup.Listener() {
            @Override
            public void activated(String partition) {
              events.add("b+" + partition);
            }
          }).handler(d -> handled.add(d.body().eventId())).build();
      Await.until(WAIT, "partitions spread",
          () -> a.activePartitions().size() + b.activePartitions().size() == 3 && !a.activePartitions().isEmpty()
              && !b.activePartitions().isEmpty());
      publish(p, 300, 30, 0).forEach(CompletableFuture::join);
      Await.until(WAIT, () -> handled.size() >= 300);
      b.close();
      Await.until(WAIT, "a takes every partition", () -> a.activePartitions().size() == 3);
      publish(p, 300, 30, 1_000).forEach(CompletableFuture::join);
      Await.until(WAIT, () -> handled.stream().distinct().count() >= 600);
      Thread.sleep(500);
      a.close();
    }
    assertEquals(600, handled.stream().distinct().count(), "nothing lost");
    assertTrue(handled.size() - 600 <= 100 * 3, "read again after the hand-over: " + (handled.size() - 600));
    assertTrue(events.stream().anyMatch(e -> e.startsWith("b+")), events.toString());
    streams.delete(s.name());
  }

  @Test
  void aPoisonEventIsDeadLetteredOnceAndItsPartitionGoesOn() {
    SuperStream s = SuperStream.of(unique("poison"), 1);
    streams.declare(s);
    List<Integer> handled = new CopyOnWriteArrayList<>();
    try (PartitionedPublisher<Event> p = streams.publisherBuilder(Event.class).superStream(s.name())
        .key(Event::key).messageId(Event::eventId).build();
        ConsumerGroup member = streams.consumerGroupBuilder(Event.class).superStream(s.name()).group("strict")
            .deadLetters(rabbit).retry(3).handler(d -> {
              if (d.body().seq() == 3) {
                throw new IllegalStateException("seq 3 is poison");
              }
              handled.add(d.body().seq());
            }).build()) {
      publish(p, 10, 1, 0).forEach(CompletableFuture::join);
      Await.until(WAIT, () -> handled.size() == 9 && member.stats().deadLettered() == 1);
      assertEquals(2, member.stats().retriedInProcess());
    }
    assertEquals(List.of(1, 2, 4, 5, 6, 7, 8, 9, 10), handled);
    List<DeadLetter> letters = rabbit.deadLetters(s.name(), s.name() + ".strict.dlq").list(10);
    assertEquals(1, letters.size());
    assertEquals("e-2", letters.get(0).messageId().orElseThrow());
    assertEquals(s.name() + "-0", letters.get(0).originalQueue());
    rabbit.deleteQueue(s.name() + ".strict.dlq");
    streams.delete(s.name());
  }

  @Test
  void badInputIsATypedErrorAndNothingIsSent() {
    StreamException missing = assertThrows(StreamException.class, () -> streams.publisherBuilder(Event.class)
        .superStream(unique("missing")).key(Event::key).build());
    assertEquals(StreamException.Reason.NO_SUCH_STREAM, missing.reason());
    StreamException missingGroup = assertThrows(StreamException.class, () -> streams.consumerGroupBuilder(
        Event.class).superStream(unique("missing")).group("g").deadLetters(rabbit).handler(d -> {
        }).build());
    assertEquals(StreamException.Reason.NO_SUCH_STREAM, missingGroup.reason());

    SuperStream s = SuperStream.of(unique("bad"), 1);
    streams.declare(s);
    try (PartitionedPublisher<Event> p = streams.publisherBuilder(Event.class).superStream(s.name())
        .key(e -> null).build()) {
      Throwable nullKey = Await.outcome(p.publish(new Event(null, 1, "e-1")), WAIT);
      assertInstanceOf(PublishException.class, nullKey);
      assertEquals(PublishException.Reason.INVALID, ((PublishException) nullKey).reason());
      List<Object> told = new CopyOnWriteArrayList<>();
      p.publish(new Event(null, 2, "e-2"),
          (confirmation, failure) -> told.add(failure != null ? failure : confirmation));
      assertEquals(1, told.size(), "told once, at once");
      assertEquals(PublishException.Reason.INVALID, ((PublishException) told.get(0)).reason());
    }
    try (PartitionedPublisher<Event> p = streams.publisherBuilder(Event.class).superStream(s.name())
        .key(Event::key).build()) {
      List<Confirmation> confirmed = new CopyOnWriteArrayList<>();
      List<PublishException> failed = new CopyOnWriteArrayList<>();
      for (int i = 1; i <= 10; i++) {
        p.publish(new Event("k-" + i, i, "e-" + i), (confirmation, failure) -> {
          if (failure == null) {
            confirmed.add(confirmation);
          } else {
            failed.add(failure);
          }
        });
      }
      Await.until(WAIT, "ten outcomes", () -> confirmed.size() + failed.size() == 10);
      assertEquals(List.of(), failed);
      assertEquals("k-10", confirmed.stream().filter(c -> "k-10".equals(c.routingKey())).findFirst().orElseThrow()
          .routingKey());
    }
    try (PartitionedPublisher<String> p = streams.publisherBuilder(String.class).superStream(s.name())
        .key(e -> "k").build()) {
      Throwable tooLarge = Await.outcome(p.publish("x".repeat(2_000_000)), WAIT);
      assertInstanceOf(MessageTooLargeException.class, tooLarge);
    }
    // The AMQP port does not speak the stream protocol: the error says how to get one that does.
    ConnectionException wrongPort = assertThrows(ConnectionException.class,
        () -> RabbitStreams.connect("rabbitmq-stream://guest:guest@localhost:1/%2f"));
    assertTrue(wrongPort.getMessage().contains("rabbitmq-plugins enable rabbitmq_stream"), wrongPort.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RabbitStreams.connect(node.uri()), "an amqp:// URI");
    assertThrows(IllegalArgumentException.class, () -> SuperStream.of("s", 0));
    streams.delete(s.name());
  }
}
