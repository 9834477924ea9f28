package io.rabbitkit;

import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.ToolkitException.RpcTimeoutException;
import io.rabbitkit.codec.MessageCodec;
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

  /**
   * Configures and builds an {@link RpcClient}. Obtain one from {@link RabbitToolkit#rpcClientBuilder}.
   * Not thread-safe.
   *
   * @param <Q> the request type
   * @param <R> the response type
   */
  interface Builder<Q, R> {

    /** Default time to wait for a reply. */
    Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Sets the exchange requests go to; default {@code ""}, the default exchange. */
    Builder<Q, R> exchange(String exchange);

    /** Sets the routing key of requests: with the default exchange, the server's queue (required). */
    Builder<Q, R> routingKey(String routingKey);

    /** Sets the request codec (default JSON; String and byte[] have their own). */
    Builder<Q, R> requestCodec(MessageCodec<Q> codec);

    /** Sets the response codec (default JSON; String and byte[] have their own). */
    Builder<Q, R> responseCodec(MessageCodec<R> codec);

    /** Sets the default reply timeout. */
    Builder<Q, R> timeout(Duration timeout);

    /**
     * Opens the client's channel and subscribes to direct reply-to.
     *
     * @throws IllegalStateException if no routing key is set
     */
    RpcClient<Q, R> build();
  }
}
