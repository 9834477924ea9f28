package io.rabbitkit;

import java.time.Duration;

/** No reply arrived for an RPC call within its timeout. The server may still process the request. */
public final class RpcTimeoutException extends ToolkitException {

  public RpcTimeoutException(String correlationId, String routingKey, Duration timeout) {
    super("no reply to request " + correlationId + " sent to '" + routingKey + "' within " + timeout.toMillis() + " ms");
  }
}
