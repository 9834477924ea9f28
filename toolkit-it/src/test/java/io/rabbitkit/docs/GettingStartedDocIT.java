package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.Delivery;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The snippets of docs/getting-started.md, run as written (fixed names: on a broker of the class's own). */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class GettingStartedDocIT {

  record OrderPlaced(String orderId, double amount) {
  }

  @Test
  void aHandlerIsTestedWithoutABroker() throws Exception {
    List<String> handled = new ArrayList<>();
    // @formatter:off
    // tag::handler-unit-test[]
    MessageConsumer.Handler<OrderPlaced> handler = delivery -> handled.add(delivery.body().orderId());
    handler.handle(Delivery.of(new OrderPlaced("o-1", 10.5)));
    assertEquals(List.of("o-1"), handled);
    // end::handler-unit-test[]
    // @formatter:on
  }

  @Test
  void typeAndAppIdReachTheConsumer(RabbitToolkit rabbit) throws Exception {
    rabbit.declare(Topology.of(Queue.classic("shop.typed")));
    LinkedBlockingQueue<Delivery<OrderPlaced>> received = new LinkedBlockingQueue<>();
    try (MessageConsumer c = rabbit.consumerBuilder(OrderPlaced.class).queue("shop.typed").handler(received::add)
        .build();
        Publisher<OrderPlaced> orders = rabbit.publisherBuilder(OrderPlaced.class).routingKey("shop.typed").build()) {
      // @formatter:off
      // tag::type-and-app-id[]
      orders.publish(Message.of(new OrderPlaced("o-2", 20.0)).withType("order.placed").withAppId("shop")).join();
      // end::type-and-app-id[]
      // @formatter:on
      Delivery<OrderPlaced> d = received.poll(10, TimeUnit.SECONDS);
      assertEquals("order.placed", d.type().orElseThrow());
      assertEquals("shop", d.appId().orElseThrow());
    }
  }

  @Test
  void requestReply(RabbitToolkit rabbit) throws Exception {
    // @formatter:off
    // tag::request-reply[]
    record Quote(String sku) {}
    record Price(String sku, double amount) {}

    // Server: declares 'prices' (durable, classic) unless it exists; a request is acked after its reply is sent.
    RpcServer server = rabbit.rpcServerBuilder(Quote.class, Price.class).queue("prices")
        .handler(q -> new Price(q.sku(), 9.99)).build();

    // Client: direct reply-to, no reply queue to declare; the future fails with RpcTimeoutException
    // after the timeout, RpcRemoteException when the handler threw.
    RpcClient<Quote, Price> prices = rabbit.rpcClientBuilder(Quote.class, Price.class).routingKey("prices")
        .timeout(Duration.ofSeconds(5)).build();
    Price price = prices.call(new Quote("sku-1")).join();
    // end::request-reply[]
    // @formatter:on
    assertEquals(new Price("sku-1", 9.99), price);
    prices.close();
    server.close();
  }
}
