package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.PublishException;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** docs/guarantees.md's failure handling, run as written: an unroutable order is parked, a closed publisher's retried. */
@RabbitTest
class GuaranteesDocIT {

  record Order(String id) {
  }

  private final List<String> parked = new CopyOnWriteArrayList<>();
  private final List<String> retried = new CopyOnWriteArrayList<>();

  private void parkForAnOperator(Order order, PublishException e) {
    parked.add(order.id() + ":" + e.reason());
  }

  private void retryLater(Order order) {
    retried.add(order.id());
  }

  private void publish(Publisher<Order> orders, Order order) {
    // @formatter:off
    // tag::publish-failures[]
    orders.publish(order).exceptionally(failure -> {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      if (cause instanceof PublishException e && e.reason().aboutMessage()) {
        parkForAnOperator(order, e);   // returned, nacked, refused, too large: it would fail again
      } else {
        retryLater(order);             // not about the message: the broker was down, blocked or silent
      }
      return null;
    }).join();
    // end::publish-failures[]
    // @formatter:on
  }

  @Test
  void aFailureAboutTheMessageIsParkedAndAnyOtherRetried(RabbitToolkit rabbit, TestNames names) {
    Publisher<Order> nowhere = rabbit.publisherBuilder(Order.class).routingKey(names.queue("no-such-queue")).build();
    publish(nowhere, new Order("o-1"));
    nowhere.close();
    publish(nowhere, new Order("o-2"));
    assertEquals(List.of("o-1:RETURNED"), parked);
    assertEquals(List.of("o-2"), retried);
  }
}
