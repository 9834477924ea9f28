package io.rabbitkit;

/**
 * Answers one request. Return the response, or throw: the exception's class name and message are
 * sent back, and the caller's future fails at once with {@link RpcRemoteException}.
 *
 * @param <Q> the request type
 * @param <R> the response type
 */
@FunctionalInterface
public interface RpcHandler<Q, R> {

  /**
   * Handles {@code request}.
   *
   * @throws Exception to send an error reply
   */
  R handle(Q request) throws Exception;
}
