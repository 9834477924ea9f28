package io.rabbitkit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** docs/super-streams.md's snippets, run as written on a node of the test's own with the stream plugin. */
class SuperStreamsDocIT {

  record OrderEvent(String orderId, String status) {
  }

  private final List<String> shipped = new CopyOnWriteArrayList<>();

  private void ship(OrderEvent event) {
    shipped.add(event.orderId());
  }

  @Test
  void declarePublishAndReadInAGroup() {
    try (ThrowawayBroker node = ThrowawayBroker.startWithStreams()) {
      String streamUri = node.streamUri();
      try (RabbitToolkit rabbit = RabbitToolkit.connect(node.uri())) {
        // @formatter:off
        // tag::super-stream[]
        RabbitStreams streams = RabbitStreams.connect(streamUri);   // rabbitmq-stream://user:pass@host:5552/%2f
        streams.declare(SuperStream.of("orders-events", 3).withMaxAge(Duration.ofDays(7)));

        PartitionedPublisher<OrderEvent> events = streams.publisherBuilder(OrderEvent.class)
            .superStream("orders-events")
            .key(OrderEvent::orderId)                     // one order's events: one partition, in order
            .name("order-service")                        // de-duplicated under this name
            .build();
        events.publish(new OrderEvent("o-1", "placed")).join();

        ConsumerGroup shipping = streams.consumerGroupBuilder(OrderEvent.class)
            .superStream("orders-events")
            .group("shipping")                            // members of a group share the partitions
            .retry(3).deadLetters(rabbit)                 // then a copy to orders-events.shipping.dlq
            .handler(delivery -> ship(delivery.body()))
            .build();
        // end::super-stream[]
        // @formatter:on
        try (streams; events; shipping) {
          Await.until(Duration.ofSeconds(30), () -> shipped.size() == 1);
          assertEquals(3, shipping.activePartitions().size());
        }
      }
    }
  }
}
