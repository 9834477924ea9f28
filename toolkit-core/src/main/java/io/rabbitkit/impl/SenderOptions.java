package io.rabbitkit.impl;

import java.time.Duration;

/**
 * Settings of one {@link ConfirmingSender}. {@code inlineCompletion} completes futures on the
 * connection thread: for the toolkit's own senders whose callbacks merely hand work on (RPC
 * replies), and for users' publishers that asked for it ({@code completeOnConnectionThread}).
 */
record SenderOptions(int maxInFlight, Duration windowTimeout, Duration confirmTimeout, boolean resend,
    int maxBodySize, boolean inlineCompletion, boolean failWhileDisconnected) {

  /** How the toolkit's own senders wait: 30 s for room in the window and for a confirm. */
  private static final Duration INTERNAL_WAIT = Duration.ofSeconds(30);

  /** A user's publisher, as its builder set it. */
  static SenderOptions forPublisher(PublisherBuilder<?> b) {
    return new SenderOptions(b.maxInFlight, b.windowTimeout, b.confirmTimeout, b.resendAfterRecovery,
        b.maxBodySize, b.completeOnConnectionThread, b.failWhileDisconnected);
  }

  /** A consumer's moves to delay and dead-letter queues: as many in flight as it holds deliveries. */
  static SenderOptions forDeadLetters(int window) {
    return new SenderOptions(Math.max(16, window), INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, false,
        false);
  }

  /** Dead-letter replay: one message at a time, each confirmed before its original is removed. */
  static SenderOptions forReplay() {
    return new SenderOptions(1, INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, false, false);
  }

  /**
   * An RPC server's replies, completed on the connection thread: a reply's confirm only queues the
   * request's ack, so it needs no hand-off to the callback pool.
   */
  static SenderOptions forRpcReplies(int window) {
    return new SenderOptions(Math.max(16, window), INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, true,
        false);
  }
}
