package io.rabbitkit.examples.outbox;

import java.math.BigDecimal;

/** The event the shop publishes through its outbox when an order is placed. */
public record OrderPlaced(String orderId, String customer, BigDecimal amount) {
}
