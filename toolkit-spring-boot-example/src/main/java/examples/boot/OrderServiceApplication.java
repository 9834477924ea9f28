package examples.boot;

import io.rabbitkit.Publisher;
import io.rabbitkit.spring.RabbitkitConsumer;
import io.rabbitkit.spring.RabbitkitDefaults;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A small order service on the rabbitkit starter: {@code POST /orders} publishes an order to the
 * {@code orders} exchange and answers 202 once the broker confirmed it; a consumer bean handles
 * {@code boot.orders}, retrying failures and dead-lettering to {@code boot.orders.dlq}.
 *
 * <pre>java -jar toolkit-spring-boot-example/target/toolkit-spring-boot-example.jar [--server.port=P] [--rabbitkit.uri=U]</pre>
 */
@SpringBootApplication
public class OrderServiceApplication {

  static final String EXCHANGE = "orders";
  static final String QUEUE = "boot.orders";
  static final String DEAD_LETTERS = "boot.orders.dlq";
  static final String ROUTING_KEY = "order.placed";

  public static void main(String[] args) {
    SpringApplication.run(OrderServiceApplication.class, args);
  }

  // tag::boot-beans[]
  @Bean
  Topology orderTopology() {
    return Topology.builder()
        .exchange(Exchange.topic(EXCHANGE))
        .queue(Queue.classic(DEAD_LETTERS))
        .queue(Queue.quorum(QUEUE).withDeadLetterQueue(DEAD_LETTERS))
        .binding(Binding.of(EXCHANGE, QUEUE, ROUTING_KEY))
        .build();
  }

  @Bean
  Publisher<Order> orderPublisher(RabbitkitDefaults rabbit) {
    return rabbit.publisherBuilder(Order.class).exchange(EXCHANGE).routingKey(ROUTING_KEY)
        .messageId(Order::orderId).build();
  }

  @Bean
  RabbitkitConsumer<Order> orderConsumer(OrderHandler handler) {
    return RabbitkitConsumer.of(QUEUE, Order.class, handler::handle)
        .configure(c -> c.retry(3).deadLetterQueue(DEAD_LETTERS).deduplicate(100_000));
  }
  // end::boot-beans[]
}
