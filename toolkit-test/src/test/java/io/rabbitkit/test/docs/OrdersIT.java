package io.rabbitkit.test.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

// @formatter:off
// tag::rabbit-test[]
@RabbitTest
class OrdersIT {

  record Order(String id) {}

  @Test
  void anOrderPublishedIsConsumed(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("orders");                    // unique to this test, deleted after it
    rabbit.declare(Topology.of(Queue.quorum(queue)));
    LinkedBlockingQueue<Delivery<Order>> received = new LinkedBlockingQueue<>();
    try (MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(queue).handler(received::add).build();
        Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build()) {
      orders.publish(new Order("o-1")).join();               // confirmed by the broker
      assertEquals(new Order("o-1"), received.poll(10, TimeUnit.SECONDS).body());
    }
  }
}
// end::rabbit-test[]
// @formatter:on
