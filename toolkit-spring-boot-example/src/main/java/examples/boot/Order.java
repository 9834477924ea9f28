package examples.boot;

import java.util.List;

/** An order as posted: {@code {"orderId":"o-1","customer":"c-1","amount":10.5,"items":["a"]}}. */
public record Order(String orderId, String customer, double amount, List<String> items) {

  /** What makes an order invalid, or null when it is valid. */
  String problem() {
    if (orderId == null || orderId.isBlank()) {
      return "orderId is missing";
    }
    if (customer == null || customer.isBlank()) {
      return "customer is missing";
    }
    if (!(amount > 0) || Double.isInfinite(amount)) {
      return "amount must be a positive number";
    }
    if (items == null || items.isEmpty()) {
      return "items must not be empty";
    }
    return null;
  }
}
