package io.rabbitkit;

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
  ConsumerStats stats();

  /** Completes when the server stops taking requests (see {@link Consumer#stopped()}). */
  java.util.concurrent.CompletionStage<Void> stopped();

  /** Stops taking requests, lets those in progress reply, then closes. Idempotent. */
  @Override
  void close();
}
