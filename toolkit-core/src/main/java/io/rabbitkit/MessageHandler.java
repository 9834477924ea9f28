package io.rabbitkit;

/**
 * Handles one delivered message. A normal return acknowledges it; an exception sends it through the
 * consumer's failure handling (in-process retry, delayed redelivery, dead-letter queue);
 * {@link RejectMessageException} dead-letters it at once. Handlers get no {@code ack()}: the
 * outcome decides.
 *
 * <p>Handlers run at most {@code concurrency} at once, never on a connection's reader thread:
 * on amqp-client's dispatch thread for the channel when the consumer is idle (no hand-off), else on
 * the consumer's own pool (see the package documentation for every thread).
 *
 * @param <T> the message type
 */
@FunctionalInterface
public interface MessageHandler<T> {

  /**
   * Handles {@code delivery}.
   *
   * @throws Exception to fail the delivery
   */
  void handle(Delivery<T> delivery) throws Exception;
}
