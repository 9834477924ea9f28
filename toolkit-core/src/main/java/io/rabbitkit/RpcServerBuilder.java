package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;

/**
 * Configures and starts an {@link RpcServer}. Obtain one from {@link RabbitToolkit#rpcServerBuilder}.
 * Not thread-safe.
 *
 * @param <Q> the request type
 * @param <R> the response type
 */
public final class RpcServerBuilder<Q, R> {

  private final RabbitToolkit toolkit;
  private MessageCodec<Q> requestCodec;
  private MessageCodec<R> responseCodec;
  private String queue;
  private RpcHandler<Q, R> handler;
  private int concurrency = 1;
  private int prefetch = ConsumerBuilder.DEFAULT_PREFETCH;
  private long stopAfter;

  RpcServerBuilder(RabbitToolkit toolkit, Class<Q> requestType, Class<R> responseType) {
    this.toolkit = toolkit;
    this.requestCodec = MessageCodec.forType(requireNonNull(requestType, "requestType"));
    this.responseCodec = MessageCodec.forType(requireNonNull(responseType, "responseType"));
  }

  /** Sets the request queue (required; declare it first). */
  public RpcServerBuilder<Q, R> queue(String queue) {
    requireNonNull(queue, "queue");
    if (queue.isEmpty()) {
      throw new IllegalArgumentException("queue must not be empty");
    }
    Headers.shortString("queue name", queue);
    this.queue = queue;
    return this;
  }

  /** Sets the handler (required). */
  public RpcServerBuilder<Q, R> handler(RpcHandler<Q, R> handler) {
    this.handler = requireNonNull(handler, "handler");
    return this;
  }

  /** Number of requests handled at once. */
  public RpcServerBuilder<Q, R> concurrency(int concurrency) {
    if (concurrency < 1 || concurrency > 1000) {
      throw new IllegalArgumentException("concurrency must be 1-1000: " + concurrency);
    }
    this.concurrency = concurrency;
    return this;
  }

  /** Unacknowledged requests per channel. */
  public RpcServerBuilder<Q, R> prefetch(int prefetch) {
    if (prefetch < 1 || prefetch > 65535) {
      throw new IllegalArgumentException("prefetch must be 1-65535: " + prefetch);
    }
    this.prefetch = prefetch;
    return this;
  }

  /** Stops taking requests after answering this many (see {@link ConsumerBuilder#stopAfter}). */
  public RpcServerBuilder<Q, R> stopAfter(long requests) {
    if (requests < 1) {
      throw new IllegalArgumentException("stopAfter must be >= 1: " + requests);
    }
    this.stopAfter = requests;
    return this;
  }

  /** Sets the request codec. */
  public RpcServerBuilder<Q, R> requestCodec(MessageCodec<Q> codec) {
    this.requestCodec = requireNonNull(codec, "codec");
    return this;
  }

  /** Sets the response codec. */
  public RpcServerBuilder<Q, R> responseCodec(MessageCodec<R> codec) {
    this.responseCodec = requireNonNull(codec, "codec");
    return this;
  }

  /**
   * Starts serving.
   *
   * @throws IllegalStateException if the queue or handler is missing
   * @throws TopologyException if the queue does not exist
   */
  public RpcServer build() {
    if (queue == null || handler == null) {
      throw new IllegalStateException("queue(...) and handler(...) are required");
    }
    ConfirmingSender replies = toolkit.sender("replies of rpc server '" + queue + "'", new ConfirmingSender.Options(
        Math.max(16, prefetch * concurrency), Duration.ofSeconds(30), Duration.ofSeconds(30), true, Integer.MAX_VALUE,
        true, false)); // the reply's confirm only queues the request's ack: no need for a thread hand-off
    DefaultRpcServer<Q, R> server = new DefaultRpcServer<>(queue, requestCodec, responseCodec, handler, replies);
    try {
      ConsumerBuilder<byte[]> requests = toolkit.consumerBuilder(byte[].class)
          .queue(queue)
          .prefetch(prefetch)
          .concurrency(concurrency)
          .asyncHandler(server::serve);
      if (stopAfter > 0) {
        requests.stopAfter(stopAfter);
      }
      server.attach(requests.build());
    } catch (RuntimeException e) {
      replies.close(Duration.ZERO);
      throw e;
    }
    server.onClose(toolkit.track(server));
    return server;
  }
}
