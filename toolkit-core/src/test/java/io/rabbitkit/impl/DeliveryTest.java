package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeliveryTest {

  @Test
  void aHandlerCanBeUnitTestedWithADeliveryBuiltWithoutABroker() throws Exception {
    Delivery<String> d = Delivery.of("hello");
    assertEquals("hello", d.body());
    assertEquals(1, d.attempt());
    assertTrue(d.messageId().isEmpty());
    assertTrue(d.headers().isEmpty());
    List<String> seen = new java.util.ArrayList<>();
    MessageConsumer.Handler<String> handler = delivery -> seen.add(delivery.body() + "@" + delivery.queue());
    handler.handle(d);
    assertEquals(List.of("hello@test"), seen);
  }
}
