package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.RpcClient;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;
import java.time.Duration;

/** Collects an RPC client's options and hands them to the toolkit. */
final class RpcClientBuilder<Q, R> implements RpcClient.Builder<Q, R> {

  private final Toolkit toolkit;
  MessageCodec<Q> requestCodec;
  MessageCodec<R> responseCodec;
  String exchange = "";
  String routingKey;
  Duration timeout = DEFAULT_TIMEOUT;

  RpcClientBuilder(Toolkit toolkit, Class<Q> requestType, Class<R> responseType) {
    this.toolkit = toolkit;
    this.requestCodec = MessageCodec.forType(requireNonNull(requestType, "requestType"));
    this.responseCodec = MessageCodec.forType(requireNonNull(responseType, "responseType"));
  }

  @Override
  public RpcClientBuilder<Q, R> exchange(String exchange) {
    this.exchange = ShortStrings.check("exchange", requireNonNull(exchange, "exchange"));
    return this;
  }

  @Override
  public RpcClientBuilder<Q, R> routingKey(String routingKey) {
    this.routingKey = ShortStrings.check("routingKey", requireNonNull(routingKey, "routingKey"));
    return this;
  }

  @Override
  public RpcClientBuilder<Q, R> requestCodec(MessageCodec<Q> codec) {
    this.requestCodec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public RpcClientBuilder<Q, R> responseCodec(MessageCodec<R> codec) {
    this.responseCodec = requireNonNull(codec, "codec");
    return this;
  }

  @Override
  public RpcClientBuilder<Q, R> timeout(Duration timeout) {
    this.timeout = Checks.positive("timeout", timeout);
    return this;
  }

  @Override
  public RpcClient<Q, R> build() {
    if (routingKey == null) {
      throw new IllegalStateException("routingKey(...) is required (the server's queue, with the default exchange)");
    }
    return toolkit.createRpcClient(this);
  }

}
