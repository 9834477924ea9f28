package io.rabbitkit;

import java.util.concurrent.CompletableFuture;

/**
 * Publishes typed messages with publisher confirms. Thread-safe: share one per destination; many
 * threads may publish through it at once.
 *
 * <pre>{@code
 * Publisher<OrderPlaced> orders = rabbit.publisherBuilder(OrderPlaced.class)
 *     .exchange("orders").routingKey("order.placed").build();
 * orders.publish(new OrderPlaced("o-1", 10.5))
 *     .whenComplete((confirmation, error) -> ...);
 * }</pre>
 *
 * <p>The returned future completes <em>only</em> when the broker has confirmed a routed message. A
 * message the broker nacks (a quorum queue electing a leader, a full queue rejecting publishes) is
 * re-sent with back-off until its confirm timeout. The future fails with {@link
 * MessageNackedException} (nacked until then), {@link MessageReturnedException} (unroutable, with
 * mandatory on), {@link ConfirmTimeoutException} (outcome unknown), {@link PublishException} (not
 * sent: window full, too large, exchange missing) or {@link ResourceClosedException}. Futures
 * complete on the toolkit's callback executor, never on a connection thread, so callbacks may
 * publish again. Cancelling a future does not un-publish the message.
 *
 * <p>At most {@code maxInFlight} messages are unconfirmed at a time: {@code publish} blocks while
 * the window is full, up to the publisher's window timeout, then returns a failed future. Messages
 * sent but unconfirmed when a connection is lost are re-sent after recovery (same message id), so
 * consumers may see a duplicate but never a silent loss.
 *
 * @param <T> the message type
 * @see <a href="https://www.rabbitmq.com/docs/confirms">Publisher confirms</a>
 */
public interface Publisher<T> extends AutoCloseable {

  /**
   * Publishes {@code message} with the publisher's routing and a fresh message id.
   *
   * @return a future that completes when the broker confirms the message
   */
  CompletableFuture<Confirmation> publish(T message);

  /**
   * Publishes {@code message} with its own properties (message id, routing key, headers...).
   *
   * @return a future that completes when the broker confirms the message
   */
  CompletableFuture<Confirmation> publish(Message<T> message);

  /** Returns how many messages are sent or waiting to be re-sent but not yet confirmed. */
  int inFlight();

  /**
   * Stops accepting messages, waits up to the confirm timeout for outstanding confirms, fails what
   * is left with {@link ResourceClosedException} and releases the channel. Idempotent.
   */
  @Override
  void close();
}
