package io.rabbitkit.bench;

import java.util.List;

/**
 * The benchmark's message: about 200 bytes of JSON. {@code sentAt} is {@link System#nanoTime()} at
 * publish, so a consumer in the same process can compute the latency.
 */
public record Sample(String id, long sentAt, String customer, String sku, int quantity, long priceCents,
    String currency, List<String> tags, String note) {

  static Sample of(long n) {
    return new Sample("order-" + n, System.nanoTime(), "customer-" + (n % 997), "SKU-" + (n % 50_000),
        (int) (n % 9) + 1,
        1999 + n % 1000, "EUR", List.of("express", "gift"), "Leave at the front door, ring twice please.");
  }
}
