package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.RpcServer;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;

/** Collects an RPC server's options and hands them to the toolkit. */
final class RpcServerBuilder<Q, R> implements RpcServer.Builder<Q, R> {

  private final Toolkit toolkit;
  MessageCodec<Q> requestCodec;
  MessageCodec<R> responseCodec;
  String queue;
  RpcServer.Handler<Q, R> handler;
  int concurrency = 1;
  int prefetch = ConsumerBuilder.DEFAULT_PREFETCH;
  long stopAfter;

  RpcServerBuilder(Toolkit toolkit, Class<Q> requestType, Class<R> responseType) {
    this.toolkit = toolkit;
    this.requestCodec = MessageCodec.forType(requireNonNull(requestType, "requestType"));
    this.responseCodec = MessageCodec.forType(requireNonNull(responseType, "responseType"));
  }

  @Override
  public RpcServerBuilder<Q, R> queue(String queue) {
    requireNonNull(queue, "queue");
    if (queue.isEmpty()) {
      throw new IllegalArgumentException("queue must not be empty");
    }
    ShortStrings.check("queue name", queue);
    this.queue = queue;
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> handler(RpcServer.Handler<Q, R> handler) {
    this.handler = requireNonNull(handler, "handler");
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> concurrency(int concurrency) {
    if (concurrency < 1 || concurrency > 1000) {
      throw new IllegalArgumentException("concurrency must be 1-1000: " + concurrency);
    }
    this.concurrency = concurrency;
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> prefetch(int prefetch) {
    if (prefetch < 1 || prefetch > 65535) {
      throw new IllegalArgumentException("prefetch must be 1-65535: " + prefetch);
    }
    this.prefetch = prefetch;
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> stopAfter(long requests) {
    this.stopAfter = Checks.atLeastOne("stopAfter", requests);
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> requestCodec(MessageCodec<Q> codec) {
    this.requestCodec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public RpcServerBuilder<Q, R> responseCodec(MessageCodec<R> codec) {
    this.responseCodec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public RpcServer build() {
    if (queue == null || handler == null) {
      throw new IllegalStateException("queue(...) and handler(...) are required");
    }
    return toolkit.createRpcServer(this);
  }

}
