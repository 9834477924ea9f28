package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Stream consumers on the shared broker: start positions, offsets, names, failures and bad input. */
@RabbitTest
class StreamConsumerIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Event(String eventId, int n) {
  }

  private static String stream(RabbitToolkit rabbit, TestNames names, int events) {
    String stream = names.queue("events");
    rabbit.declare(Topology.of(Queue.stream(stream).withMaxAge(Duration.ofHours(1))));
    publish(rabbit, stream, 0, events);
    return stream;
  }

  private static void publish(RabbitToolkit rabbit, String stream, int from, int to) {
    try (Publisher<Event> p = rabbit.publisherBuilder(Event.class).routingKey(stream).messageId(Event::eventId)
        .build()) {
      List<java.util.concurrent.CompletableFuture<Confirmation>> sent = new ArrayList<>();
      for (int i = from; i < to; i++) {
        sent.add(p.publish(new Event("e-" + i, i)));
      }
      sent.forEach(java.util.concurrent.CompletableFuture::join);
    }
  }

  @Test
  void readsInOrderFromTheFirstEventAndResumesAfterTheLastOneItFinished(RabbitToolkit rabbit, TestNames names) {
    String stream = stream(rabbit, names, 100);
    OffsetStore offsets = OffsetStore.inMemory();
    List<Long> seen = new CopyOnWriteArrayList<>();
    try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("reader")
        .startAt(StreamOffset.first()).offsets(offsets)
        .handler(d -> seen.add(d.streamOffset().orElseThrow())).build()) {
      Await.until(WAIT, "100 events", () -> seen.size() == 100);
      assertEquals(99, offsets.lastDone(stream, "reader").orElseThrow());
    }
    publish(rabbit, stream, 100, 150);
    // The start position no longer applies: the name resumes after offset 99.
    try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("reader")
        .startAt(StreamOffset.first()).offsets(offsets)
        .handler(d -> seen.add(d.streamOffset().orElseThrow())).build()) {
      Await.until(WAIT, "150 events", () -> seen.size() == 150);
    }
    List<Long> expected = new ArrayList<>();
    for (long i = 0; i < 150; i++) {
      expected.add(i);
    }
    assertEquals(expected, seen, "in order, none twice, none missing");
  }

  @Test
  void twoNamesReadTheSameEventsIndependently(RabbitToolkit rabbit, TestNames names) {
    String stream = stream(rabbit, names, 20);
    List<String> billing = new CopyOnWriteArrayList<>();
    List<String> audit = new CopyOnWriteArrayList<>();
    try (MessageConsumer a = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("billing")
        .startAt(StreamOffset.first()).handler(d -> billing.add(d.body().eventId())).build();
        MessageConsumer b = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("audit")
            .startAt(StreamOffset.offset(10)).handler(d -> audit.add(d.body().eventId())).build()) {
      Await.until(WAIT, () -> billing.size() == 20 && audit.size() == 10);
    }
    assertEquals("e-0", billing.get(0));
    assertEquals("e-10", audit.get(0));
  }

  @Test
  void aPointInTimeStartsAtTheEventsPublishedFromThen(RabbitToolkit rabbit, TestNames names) throws Exception {
    String stream = stream(rabbit, names, 10);
    Thread.sleep(2_100); // the broker keeps whole seconds per chunk
    Instant from = Instant.now();
    Thread.sleep(1_100);
    publish(rabbit, stream, 10, 20);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("later")
        .startAt(StreamOffset.timestamp(from)).handler(d -> seen.add(d.body().n())).build()) {
      Await.until(WAIT, "the later events", () -> seen.size() >= 10);
      Thread.sleep(300);
    }
    assertEquals(List.of(10, 11, 12, 13, 14, 15, 16, 17, 18, 19), seen);
  }

  @Test
  void aPoisonEventIsDeadLetteredOnceAndTheEventsBehindItAreHandled(RabbitToolkit rabbit, TestNames names) {
    String stream = stream(rabbit, names, 10);
    List<Integer> handled = new CopyOnWriteArrayList<>();
    List<Integer> calls = Collections.synchronizedList(new ArrayList<>());
    OffsetStore offsets = OffsetStore.inMemory();
    try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("strict")
        .startAt(StreamOffset.first()).offsets(offsets).retry(3).handler(d -> {
          calls.add(d.body().n());
          if (d.body().n() == 3) {
            throw new IllegalStateException("event 3 is poison");
          }
          handled.add(d.body().n());
        }).build()) {
      Await.until(WAIT, "the other nine", () -> handled.size() == 9);
      Await.until(WAIT, () -> c.stats().deadLettered() == 1);
      assertEquals(9, offsets.lastDone(stream, "strict").orElseThrow(), "the offset moved past the poison");
    }
    assertEquals(List.of(0, 1, 2, 4, 5, 6, 7, 8, 9), handled, "in order, the poison left out");
    assertEquals(3, calls.stream().filter(n -> n == 3).count(), "three attempts, in process");
    List<DeadLetter> letters = rabbit.deadLetters(stream, stream + ".strict.dlq").list(10);
    assertEquals(1, letters.size());
    assertEquals("e-3", letters.get(0).messageId().orElseThrow());
    assertTrue(letters.get(0).exceptionMessage().orElseThrow().contains("event 3 is poison"));
  }

  @Test
  void aNameIsUsedByOneConnectionAtATime(RabbitToolkit rabbit, RabbitBroker broker, TestNames names) {
    String stream = stream(rabbit, names, 5);
    try (RabbitToolkit other = names.track(broker.connect())) {
      try (MessageConsumer first = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("single")
          .handler(d -> {
          }).build()) {
        StreamException e = assertThrows(StreamException.class, () -> other.streamConsumerBuilder(Event.class)
            .stream(stream).name("single").handler(d -> {
            }).build());
        assertEquals(StreamException.Reason.NAME_IN_USE, e.reason());
        assertTrue(e.getMessage().contains("another connection"), e.getMessage());
        StreamException same = assertThrows(StreamException.class, () -> rabbit.streamConsumerBuilder(Event.class)
            .stream(stream).name("single").handler(d -> {
            }).build());
        assertEquals(StreamException.Reason.NAME_IN_USE, same.reason());
      }
      // Closed: the name is free again.
      try (MessageConsumer second = other.streamConsumerBuilder(Event.class).stream(stream).name("single")
          .handler(d -> {
          }).build()) {
        assertTrue(second.isRunning());
      }
    }
  }

  @Test
  void badInputIsATypedErrorThatSaysWhatIsWrong(RabbitToolkit rabbit, RabbitBroker broker, TestNames names)
      throws Exception {
    String stream = stream(rabbit, names, 5);
    StreamException missing = assertThrows(StreamException.class, () -> rabbit.streamConsumerBuilder(Event.class)
        .stream(names.queue("no-such-stream")).name("x").handler(d -> {
        }).build());
    assertEquals(StreamException.Reason.NO_SUCH_STREAM, missing.reason());

    String classic = names.queue("classic");
    rabbit.declare(Topology.of(Queue.classic(classic)));
    StreamException declaredHere = assertThrows(StreamException.class,
        () -> rabbit.streamConsumerBuilder(Event.class).stream(classic).name("x").handler(d -> {
        }).build());
    assertEquals(StreamException.Reason.NOT_A_STREAM, declaredHere.reason());
    String foreign = names.queue("foreign-quorum");
    try (Connection raw = RawClient.connect(broker.uri()); Channel ch = raw.createChannel()) {
      ch.queueDeclare(foreign, true, false, false, java.util.Map.of("x-queue-type", "quorum"));
    }
    StreamException declaredElsewhere = assertThrows(StreamException.class,
        () -> rabbit.streamConsumerBuilder(Event.class).stream(foreign).name("x").handler(d -> {
        }).build());
    assertEquals(StreamException.Reason.NOT_A_STREAM, declaredElsewhere.reason());
    assertTrue(declaredElsewhere.getMessage().contains("quorum"), declaredElsewhere.getMessage());

    StreamException beyond = assertThrows(StreamException.class, () -> rabbit.streamConsumerBuilder(Event.class)
        .stream(stream).name("x").startAt(StreamOffset.offset(1_000)).handler(d -> {
        }).build());
    assertEquals(StreamException.Reason.OFFSET_BEYOND_END, beyond.reason());
    assertTrue(beyond.getMessage().contains("ends at offset 4"), beyond.getMessage());
    // Right at the end is fine: the next event to come.
    try (MessageConsumer atEnd = rabbit.streamConsumerBuilder(Event.class).stream(stream).name("x")
        .startAt(StreamOffset.offset(5)).handler(d -> {
        }).build()) {
      assertTrue(atEnd.isRunning());
    }
    assertThrows(IllegalArgumentException.class, () -> StreamOffset.parse("yesterday"));
    assertThrows(IllegalStateException.class, () -> rabbit.streamConsumerBuilder(Event.class).stream(stream)
        .handler(d -> {
        }).build(), "a name is required");
  }
}
