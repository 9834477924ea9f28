package examples.boot;

import io.rabbitkit.Delivery;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Handles each order once: the consumer drops redeliveries of an id it has already handled
 * (deduplicate), so {@link #processed()} counts distinct orders. An order the handler cannot take
 * (here: a customer named "poison") fails, is retried, then lands in boot.orders.dlq. {@code
 * --order-service.handling-time=50ms} makes each order take that long, to watch a graceful drain.
 */
@Component
public class OrderHandler {

  private static final Logger log = LoggerFactory.getLogger(OrderHandler.class);

  private final AtomicLong processed = new AtomicLong();
  private final Duration handlingTime;

  public OrderHandler(@Value("${order-service.handling-time:0ms}") Duration handlingTime) {
    this.handlingTime = handlingTime;
  }

  void handle(Delivery<Order> delivery) throws InterruptedException {
    Order order = delivery.body();
    if (!handlingTime.isZero()) {
      Thread.sleep(handlingTime.toMillis());
    }
    if ("poison".equals(order.customer())) {
      throw new IllegalArgumentException("customer 'poison' cannot order");
    }
    long n = processed.incrementAndGet();
    if (log.isDebugEnabled()) {
      log.debug("processed order {} ({} so far)", order.orderId(), n);
    }
  }

  public long processed() {
    return processed.get();
  }
}
