package io.rabbitkit;

import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.codec.MessageCodec;

/**
 * Answers requests from a queue. Each request is acknowledged only after its reply has been
 * published and confirmed; a handler exception is sent back as an error reply (the caller's future
 * fails with {@link RpcRemoteException}) and the request is acknowledged. Thread-safe.
 *
 * <p>Handlers run on worker threads, at most {@code concurrency} at once.
 */
public interface RpcServer extends AutoCloseable {

  /** Returns the request queue. */
  String queue();

  /** Returns whether the server is subscribed to its queue. */
  boolean isRunning();

  /** Returns the counters of the server's consumer. */
  MessageConsumer.Stats stats();

  /** Completes when the server stops taking requests (see {@link MessageConsumer#stopped()}). */
  java.util.concurrent.CompletionStage<Void> stopped();

  /** Stops taking requests, lets those in progress reply, then closes. Idempotent. */
  @Override
  void close();

  /**
   * Configures and starts an {@link RpcServer}. Obtain one from {@link RabbitToolkit#rpcServerBuilder}.
   * Not thread-safe.
   *
   * @param <Q> the request type
   * @param <R> the response type
   */
  interface Builder<Q, R> {

    /**
     * Sets the request queue (required). The server declares it, durable and classic, unless it
     * exists (then it is used as it is: declare it yourself for other properties).
     */
    Builder<Q, R> queue(String queue);

    /** Sets the handler (required). */
    Builder<Q, R> handler(Handler<Q, R> handler);

    /** Number of requests handled at once. */
    Builder<Q, R> concurrency(int concurrency);

    /** Unacknowledged requests per channel. */
    Builder<Q, R> prefetch(int prefetch);

    /** Stops taking requests after answering this many (see {@link MessageConsumer.Builder#stopAfter}). */
    Builder<Q, R> stopAfter(long requests);

    /** Sets the request codec. */
    Builder<Q, R> requestCodec(MessageCodec<Q> codec);

    /** Sets the response codec. */
    Builder<Q, R> responseCodec(MessageCodec<R> codec);

    /**
     * Starts serving.
     *
     * @throws IllegalStateException if the queue or handler is missing
     * @throws TopologyException if the queue does not exist
     */
    RpcServer build();
  }

  /**
   * Answers one request. Return the response, or throw: the exception's class name and message are
   * sent back, and the caller's future fails at once with {@link RpcRemoteException}.
   *
   * @param <Q> the request type
   * @param <R> the response type
   */
  @FunctionalInterface
  interface Handler<Q, R> {

    /**
     * Handles {@code request}.
     *
     * @throws Exception to send an error reply
     */
    R handle(Q request) throws Exception;
  }
}
