package io.rabbitkit.examples.orders;

import java.util.List;

/**
 * An order as JSON: {@code {"orderId":"o-1","customer":"c-1","amount":10.5,"items":["a"]}}. Unknown
 * fields are ignored when reading, so producers may add fields without breaking this consumer. An
 * order without an id or with a negative amount cannot be read: the consumer dead-letters it.
 *
 * @param orderId the order's id, also used as the message id
 * @param customer who placed it
 * @param amount its total
 * @param items what was ordered
 */
public record Order(String orderId, String customer, double amount, List<String> items) {

  public Order {
    if (orderId == null || orderId.isBlank()) {
      throw new IllegalArgumentException("orderId is required");
    }
    if (amount < 0) {
      throw new IllegalArgumentException("amount must not be negative: " + amount);
    }
    items = items == null ? List.of() : List.copyOf(items);
  }
}
