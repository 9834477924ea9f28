package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** docs/streams.md's snippets, run as written (fixed names: on a broker of the class's own). */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class StreamsDocIT {

  record Event(String eventId, String kind, String at) {
  }

  private final List<String> billed = new CopyOnWriteArrayList<>();

  private void bill(Event event) {
    billed.add(event.eventId());
  }

  @Test
  void declarePublishAndReadAStream(RabbitToolkit rabbit) {
    // @formatter:off
    // tag::stream-declare[]
    rabbit.declare(Topology.of(Queue.stream("events")
        .withMaxAge(Duration.ofDays(7))                  // drop segments whose events are all older
        .withMaxLengthBytes(20L * 1024 * 1024 * 1024)    // and keep at most 20 GiB
        .withMaxSegmentSize(100 * 1024 * 1024)));        // in 100 MiB segments

    Publisher<Event> events = rabbit.publisherBuilder(Event.class).routingKey("events")
        .messageId(Event::eventId).build();              // a stream is published to like a queue, with confirms
    events.publish(new Event("e-1", "order.placed", Instant.now().toString())).join();
    // end::stream-declare[]
    // @formatter:on
    OffsetStore offsets = OffsetStore.inMemory();
    // @formatter:off
    // tag::stream-consumer[]
    MessageConsumer billing = rabbit.streamConsumerBuilder(Event.class)
        .stream("events")
        .name("billing")                                 // its position is kept under this name
        .startAt(StreamOffset.first())                   // only while the name has no position yet
        .offsets(offsets)                                // default: in memory, kept across recoveries
        .retry(3)                                        // then copied to events.billing.dlq; the stream goes on
        .handler(delivery -> bill(delivery.body()))
        .build();
    // end::stream-consumer[]
    // @formatter:on
    try (billing; events) {
      Await.until(Duration.ofSeconds(30), () -> billed.size() == 1);
      assertEquals(0, offsets.lastDone("events", "billing").getAsLong());
    }
  }
}
