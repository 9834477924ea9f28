package io.rabbitkit.impl;

import io.rabbitkit.Confirmation;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.PublishException.Reason;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.internal.Wording;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The messages one {@link ConfirmingSender} has accepted and not yet settled: a bounded window that
 * numbers each message, decides how its return will be matched, and settles it exactly once.
 *
 * <p>A return is matched by the message id while that id is unique among the unconfirmed messages;
 * a message without an id, or whose id is already in flight, carries {@link Outbound#RETURN_KEY_HEADER}
 * with its number instead.
 *
 * <p>This is one half of the sender, split off so each half reads alone: this one knows nothing of
 * channels; {@link ConfirmingSender} decides where and when a message goes on the wire.
 */
final class InFlight {

  private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);

  /** A message not yet settled; it is the future its publisher returned (one object per message, not three). */
  static final class Pending extends CompletableFuture<Confirmation> {
    private static final AtomicIntegerFieldUpdater<Pending> SETTLED =
        AtomicIntegerFieldUpdater.newUpdater(Pending.class, "settled");
    final Outbound message;
    final long order;
    /** Whether the message carries {@link Outbound#RETURN_KEY_HEADER} (= {@link #order}) for matching its return. */
    final boolean keyed;
    /** Whether its id is in {@link #unkeyedIds} (and must be removed once settled). */
    final boolean tracked;
    final long deadline;
    private volatile int settled;
    volatile int returnCode;
    volatile String returnText;
    /** When it was last written to a channel (System.nanoTime()), 0 if never. */
    volatile long sentAt;
    int nacks; // only touched by confirm listeners, which run one at a time on the reader thread

    private Pending(Outbound message, long order, boolean keyed, boolean tracked, long deadline) {
      this.message = message;
      this.order = order;
      this.keyed = keyed;
      this.tracked = tracked;
      this.deadline = deadline;
    }

    boolean isSettled() {
      return settled != 0;
    }

    /** Claims the settlement; true for exactly one caller. */
    private boolean markSettled() {
      return SETTLED.compareAndSet(this, 0, 1);
    }
  }

  private final String name;
  private final SenderOptions options;
  private final Executor callbacks;
  private final Runnable afterSettled;
  private final Semaphore window;
  private final AtomicLong order = new AtomicLong();
  /** Ids of unconfirmed messages that carry no return key: at most one such message per id. */
  private final Map<String, Boolean> unkeyedIds = new ConcurrentHashMap<>();

  /** {@code afterSettled} runs after every settlement, on the thread that settled. */
  InFlight(String name, SenderOptions options, Executor callbacks, Runnable afterSettled) {
    this.name = name;
    this.options = options;
    this.callbacks = callbacks;
    this.afterSettled = afterSettled;
    this.window = new Semaphore(options.maxInFlight());
  }

  /**
   * Waits up to the window timeout (from {@code start}, a System.nanoTime()) for room, then numbers
   * the message and returns it pending.
   *
   * @throws PublishException {@link Reason#NOT_SENT} when the window stayed full or the wait was interrupted
   */
  Pending admit(Outbound message, long start) {
    try {
      if (!window.tryAcquire(options.windowTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
        throw failure(message, Reason.NOT_SENT, "the in-flight window of " + options.maxInFlight()
            + " unconfirmed messages stayed full for " + options.windowTimeout().toMillis() + " ms", null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure(message, Reason.NOT_SENT, "interrupted while waiting for the in-flight window", e);
    }
    long seq = order.incrementAndGet();
    String id = message.messageId();
    // Only a mandatory message can come back. Its return is matched by id while the id is unique among
    // the unconfirmed (generated ids always are; others are tracked in unkeyedIds), else by a key.
    boolean keyed = false;
    boolean tracked = false;
    if (message.mandatory()) {
      if (id == null) {
        keyed = true;
      } else if (!message.uniqueId()) {
        tracked = unkeyedIds.putIfAbsent(id, Boolean.TRUE) == null;
        keyed = !tracked;
      }
    }
    return new Pending(message.withReturnKey(keyed, seq), seq, keyed, tracked,
        start + options.confirmTimeout().toNanos());
  }

  /**
   * Settles those of {@code pending} not yet settled, each with {@code outcome}'s failure or, when it
   * gives none, a confirmation; the futures complete on the callback executor (or inline, if so set).
   */
  void settle(List<Pending> pending, Function<Pending, Throwable> outcome) {
    List<Pending> mine = new ArrayList<>(pending.size());
    for (Pending p : pending) {
      if (p.markSettled()) {
        mine.add(p);
        if (p.tracked) {
          unkeyedIds.remove(p.message.messageId());
        }
      }
    }
    if (mine.isEmpty()) {
      return;
    }
    Runnable complete = () -> {
      // Released when the completions run, not when the confirms arrive: callbacks that fall behind
      // hold the window, so slow callbacks slow publishing down instead of queueing without bound.
      // One release for the batch: the publisher wakes once and sends a burst, not one message per wake-up.
      window.release(mine.size());
      for (Pending p : mine) {
        try {
          Throwable failure = outcome.apply(p);
          if (failure == null) {
            Outbound m = p.message;
            p.complete(new Confirmation(m.messageId(), m.exchange(), m.routingKey()));
          } else {
            p.completeExceptionally(failure);
          }
        } catch (RuntimeException e) {
          // Never leave a future pending: whoever waits on it would wait forever.
          LOG.error("{}: completing the outcome of message {} failed", name, p.message.messageId(), e);
          p.completeExceptionally(e);
        }
      }
    };
    if (options.inlineCompletion()) {
      complete.run();
    } else {
      callbacks.execute(complete);
    }
    afterSettled.run();
  }

  void fail(Pending p, Throwable failure) {
    settle(List.of(p), ignored -> failure);
  }

  void timedOut(Pending p) {
    Outbound m = p.message;
    fail(p, new ConfirmTimeoutException(m.messageId(), m.exchange(), m.routingKey(), options.confirmTimeout(),
        p.sentAt != 0));
  }

  /** Fails {@code p} because its sender closed, saying whether the broker may have it. */
  void failClosed(Pending p) {
    fail(p, new ResourceClosedException(name, "was closed before message " + SafeText.of(p.message.messageId())
        + (p.sentAt == 0 ? " was sent; the broker does not have it" : " was confirmed; the outcome is unknown")));
  }

  static PublishException failure(Outbound m, Reason kind, String reason, Throwable cause) {
    return new PublishException(kind, "cannot publish message " + SafeText.of(m.messageId()) + " to "
        + Wording.target(m.exchange(), m.routingKey()) + ": " + reason,
        m.messageId(), m.exchange(), m.routingKey(), cause);
  }

  /** Number of messages admitted and not yet settled. */
  int size() {
    return options.maxInFlight() - window.availablePermits();
  }

  /** Waits up to {@code grace} for every admitted message to settle; false if some did not. */
  boolean awaitEmpty(Duration grace) {
    try {
      if (window.tryAcquire(options.maxInFlight(), grace.toMillis(), TimeUnit.MILLISECONDS)) {
        window.release(options.maxInFlight());
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }
}
