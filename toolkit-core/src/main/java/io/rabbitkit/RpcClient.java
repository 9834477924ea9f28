package io.rabbitkit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Sends requests and completes a future with each reply, over RabbitMQ's direct reply-to (no reply
 * queue to declare or clean up). Thread-safe; share one per server queue.
 *
 * <pre>{@code
 * RpcClient<Quote, Price> prices = rabbit.rpcClientBuilder(Quote.class, Price.class).routingKey("prices").build();
 * prices.call(new Quote("ABC")).thenAccept(price -> ...);
 * }</pre>
 *
 * <p>The future never hangs: it completes with the reply; or fails with {@link RpcTimeoutException}
 * after the timeout (the request is published with the same expiration, so a server does not
 * process it after the caller gave up), {@link RpcRemoteException} when the server handler failed,
 * {@link MessageReturnedException} when no queue received the request, {@link ConnectionException}
 * when the connection was lost before the reply (a reply cannot follow a lost channel), or {@link
 * ResourceClosedException} on {@link #close()}. Futures complete on the toolkit's callback
 * executor.
 *
 * @param <Q> the request type
 * @param <R> the response type
 * @see <a href="https://www.rabbitmq.com/docs/direct-reply-to">Direct reply-to</a>
 */
public interface RpcClient<Q, R> extends AutoCloseable {

  /** Sends {@code request} with the client's default timeout. */
  CompletableFuture<R> call(Q request);

  /** Sends {@code request}; the future fails with {@link RpcTimeoutException} after {@code timeout}. */
  CompletableFuture<R> call(Q request, Duration timeout);

  /** Returns how many calls await a reply. */
  int outstanding();

  /** Fails every outstanding call with {@link ResourceClosedException} and releases the channel. Idempotent. */
  @Override
  void close();
}
