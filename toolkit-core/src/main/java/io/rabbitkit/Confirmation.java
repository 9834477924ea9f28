package io.rabbitkit;

import static java.util.Objects.requireNonNull;

/**
 * The broker has taken responsibility for a message: it was routed to at least one queue and
 * confirmed ({@code basic.ack}), so it is stored according to the queues' durability.
 *
 * @param messageId the message id the message was published with; null only for the toolkit's own
 *     re-publishes of messages that arrived without one (dead-lettering, replay)
 * @param exchange the exchange it was published to ({@code ""} is the default exchange)
 * @param routingKey the routing key it was published with
 */
public record Confirmation(String messageId, String exchange, String routingKey) {

  public Confirmation {
    requireNonNull(exchange, "exchange");
    requireNonNull(routingKey, "routingKey");
  }
}
