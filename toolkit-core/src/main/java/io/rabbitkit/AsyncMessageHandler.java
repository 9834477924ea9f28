package io.rabbitkit;

import java.util.concurrent.CompletionStage;

/**
 * Handles one delivered message without holding a thread: the message is acknowledged when the
 * returned stage completes normally, and goes through the consumer's failure handling (retry,
 * redelivery, dead-letter queue) when it completes exceptionally or when this method throws.
 *
 * <pre>{@code
 * consumerBuilder(Order.class).queue("orders").asyncHandler(d -> inventory.reserve(d.body()))
 * }</pre>
 *
 * <p>Up to {@code prefetch} messages per channel may be in progress at once. The method itself
 * runs on a worker thread and should return quickly.
 *
 * @param <T> the message type
 */
@FunctionalInterface
public interface AsyncMessageHandler<T> {

  /**
   * Starts handling {@code delivery}.
   *
   * @return a stage whose completion decides the message's fate
   * @throws Exception to fail the delivery at once
   */
  CompletionStage<?> handle(Delivery<T> delivery) throws Exception;
}
