package examples.boot;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.Publisher;
import io.rabbitkit.SafeText;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /orders}: 202 once the broker has confirmed the order (it is then safe in a durable
 * queue), 503 with the reason when it could not be confirmed (the client should retry; a retry
 * carries the same orderId, so the consumer handles it once), 400 for a body that is not a valid
 * order. The request thread is not held while the confirm is awaited.
 */
@RestController
public class OrderController {

  private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private final Publisher<Order> orders;
  private final OrderHandler handler;

  public OrderController(Publisher<Order> orders, OrderHandler handler) {
    this.orders = orders;
    this.handler = handler;
  }

  @PostMapping(path = "/orders", produces = MediaType.APPLICATION_JSON_VALUE)
  public CompletableFuture<ResponseEntity<Map<String, Object>>> place(@RequestBody(required = false) byte[] body) {
    Order order;
    try {
      order = json.readValue(body == null ? new byte[0] : body, Order.class);
    } catch (Exception e) {
      return CompletableFuture.completedFuture(error(HttpStatus.BAD_REQUEST, "not a valid order: "
          + SafeText.of(e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""))));
    }
    String problem = order == null ? "not a valid order: empty body" : order.problem();
    if (problem != null) {
      return CompletableFuture.completedFuture(error(HttpStatus.BAD_REQUEST, problem));
    }
    CompletableFuture<ResponseEntity<Map<String, Object>>> answer;
    try {
      answer = orders.publish(order).thenApply(confirmed -> ResponseEntity.status(HttpStatus.ACCEPTED)
          .body(Map.<String, Object>of("orderId", order.orderId(), "status", "accepted")));
    } catch (RuntimeException e) { // refused at once (closed, window full)
      answer = CompletableFuture.failedFuture(e);
    }
    return answer.exceptionally(failure -> error(HttpStatus.SERVICE_UNAVAILABLE, "order " + order.orderId()
        + " was not confirmed by the broker: " + SafeText.of(String.valueOf(cause(failure).getMessage()))));
  }

  @GetMapping(path = "/orders/processed", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> processed() {
    return Map.of("processed", handler.processed());
  }

  private static Throwable cause(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String reason) {
    return ResponseEntity.status(status).body(Map.of("error", reason));
  }
}
