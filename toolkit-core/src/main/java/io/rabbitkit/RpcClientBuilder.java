package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;

/**
 * Configures and builds an {@link RpcClient}. Obtain one from {@link RabbitToolkit#rpcClientBuilder}.
 * Not thread-safe.
 *
 * @param <Q> the request type
 * @param <R> the response type
 */
public final class RpcClientBuilder<Q, R> {

  /** Default time to wait for a reply. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final RabbitToolkit toolkit;
  private MessageCodec<Q> requestCodec;
  private MessageCodec<R> responseCodec;
  private String exchange = "";
  private String routingKey;
  private Duration timeout = DEFAULT_TIMEOUT;

  RpcClientBuilder(RabbitToolkit toolkit, Class<Q> requestType, Class<R> responseType) {
    this.toolkit = toolkit;
    this.requestCodec = MessageCodec.forType(requireNonNull(requestType, "requestType"));
    this.responseCodec = MessageCodec.forType(requireNonNull(responseType, "responseType"));
  }

  /** Sets the exchange requests go to; default {@code ""}, the default exchange. */
  public RpcClientBuilder<Q, R> exchange(String exchange) {
    this.exchange = Headers.shortString("exchange", requireNonNull(exchange, "exchange"));
    return this;
  }

  /** Sets the routing key of requests: with the default exchange, the server's queue (required). */
  public RpcClientBuilder<Q, R> routingKey(String routingKey) {
    this.routingKey = Headers.shortString("routingKey", requireNonNull(routingKey, "routingKey"));
    return this;
  }

  /** Sets the request codec (default JSON; String and byte[] have their own). */
  public RpcClientBuilder<Q, R> requestCodec(MessageCodec<Q> codec) {
    this.requestCodec = requireNonNull(codec, "codec");
    return this;
  }

  /** Sets the response codec (default JSON; String and byte[] have their own). */
  public RpcClientBuilder<Q, R> responseCodec(MessageCodec<R> codec) {
    this.responseCodec = requireNonNull(codec, "codec");
    return this;
  }

  /** Sets the default reply timeout. */
  public RpcClientBuilder<Q, R> timeout(Duration timeout) {
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Opens the client's channel and subscribes to direct reply-to.
   *
   * @throws IllegalStateException if no routing key is set
   */
  public RpcClient<Q, R> build() {
    if (routingKey == null) {
      throw new IllegalStateException("routingKey(...) is required (the server's queue, with the default exchange)");
    }
    DefaultRpcClient<Q, R> client = new DefaultRpcClient<>(toolkit.publishing(), exchange, routingKey, requestCodec,
        responseCodec, timeout);
    client.onClose(toolkit.track(client));
    return client;
  }
}
