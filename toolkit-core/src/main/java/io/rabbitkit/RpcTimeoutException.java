package io.rabbitkit;

import java.time.Duration;

/** No reply arrived for an RPC call within its timeout. The server may still process the request. */
public final class RpcTimeoutException extends ToolkitException {

  private final String correlationId;
  private final String routingKey;
  private final Duration timeout;

  public RpcTimeoutException(String correlationId, String routingKey, Duration timeout) {
    super("no reply to request " + correlationId + " sent to '" + routingKey + "' within " + timeout.toMillis() + " ms");
    this.correlationId = correlationId;
    this.routingKey = routingKey;
    this.timeout = timeout;
  }

  /** The request's correlation id. */
  public String correlationId() {
    return correlationId;
  }

  /** Where the request was sent. */
  public String routingKey() {
    return routingKey;
  }

  /** How long the caller waited. */
  public Duration timeout() {
    return timeout;
  }
}
