package io.rabbitkit.impl;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A channel that is never left dead. Each open channel is one <em>incarnation</em>; when it is
 * lost, the owner hears {@link Handler#lost} (then it can re-send or forget per-incarnation state)
 * and a fresh channel is opened and handed to {@link Handler#opened}:
 * <ul>
 *   <li>after a channel-level error (the broker closed just this channel), at once, then with
 *       backoff while opening keeps failing;
 *   <li>after a connection loss, when amqp-client has recovered the connection and the toolkit has
 *       re-declared its topology.
 * </ul>
 * A lost channel is aborted, which also unregisters it from amqp-client's recovery, so amqp-client
 * never resurrects a channel (and its consumers) that the toolkit has replaced. When the broker
 * keeps closing new channels within a second of opening them, the next one waits (50 ms, doubling
 * to 5 s), so nothing the broker refuses can make the toolkit open channels at a hot rate.
 */
final class ManagedChannel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ManagedChannel.class);
  private static final long MAX_BACKOFF_MS = 10_000;

  /**
   * Callbacks for one channel's life. Both run under the channel's lifecycle lock, never on a reader
   * thread. Every {@code opened} that returns normally is followed, once, by {@code lost} for that
   * channel (unless the channel is closed by {@link #close()}).
   */
  interface Handler {
    /** A new channel is open: configure it (confirm mode, listeners, qos, consume). If it throws, it must leave no state behind. */
    void opened(Channel channel) throws IOException;

    /** {@code channel} was lost; it is already unusable. */
    void lost(Channel channel, ShutdownSignalException cause);

    /**
     * The broker lifted its block of the connection (a resource alarm ended): what was held back
     * may be written now. Runs on the callback executor, not under the lifecycle lock.
     */
    default void unblocked() {
    }
  }

  /** A handler for a channel used for request/response calls, whose errors reach the caller as exceptions. */
  interface RequestReply extends Handler {
    @Override
    default void opened(Channel channel) {
    }

    @Override
    default void lost(Channel channel, ShutdownSignalException cause) {
    }
  }

  private final RoleConnection connection;
  private final String name;
  private final Handler handler;
  private final ReentrantLock lifecycle = new ReentrantLock();
  private volatile Channel current;
  private volatile boolean closed;
  private int failedOpens;
  /** Broker-side closes in a row that came less than a second after the channel opened. */
  private int quickCloses;
  private long openedAt;

  ManagedChannel(RoleConnection connection, String name, Handler handler) {
    this.connection = connection;
    this.name = name;
    this.handler = handler;
  }

  /** Opens the first incarnation on the caller's thread, so its errors reach the caller. */
  void start() throws IOException {
    lifecycle.lock();
    try {
      openLocked();
    } finally {
      lifecycle.unlock();
    }
    connection.register(this);
  }

  /** Tells the handler that the connection's block is lifted. */
  void unblocked() {
    if (!closed) {
      handler.unblocked();
    }
  }

  /** Returns the open channel, or {@code null} while there is none. */
  Channel current() {
    return current;
  }

  /**
   * Returns an open channel, opening one now if the last one was lost (for request/response use such
   * as declarations). The caller must hold no other channel lock.
   *
   * @throws ToolkitException if the connection is down or the channel cannot be opened
   */
  Channel obtain() {
    lifecycle.lock();
    try {
      Channel ch = current;
      if (ch != null && ch.isOpen()) {
        return ch;
      }
      if (ch != null) {
        loseLocked(ch, ch.getCloseReason());
      }
      if (closed) {
        throw new ResourceClosedException(name, "is closed");
      }
      openLocked();
      return current;
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel for " + name, e);
    } finally {
      lifecycle.unlock();
    }
  }

  boolean isOpen() {
    Channel ch = current;
    return ch != null && ch.isOpen();
  }

  /** Called by the connection once it has recovered and re-declared topology. */
  void connectionRecovered() {
    lifecycle.lock();
    try {
      Channel ch = current;
      if (ch != null && !ch.isOpen()) {
        loseLocked(ch, ch.getCloseReason());
      }
      if (current == null && !closed) {
        tryOpenLocked();
      }
    } finally {
      lifecycle.unlock();
    }
  }

  private void openLocked() throws IOException {
    Channel ch = connection.createChannel();
    ch.addShutdownListener(cause -> onShutdown(ch, cause));
    try {
      handler.opened(ch);
    } catch (IOException | RuntimeException e) {
      abortQuietly(ch); // opened() leaves no state behind when it throws
      throw e;
    }
    if (!ch.isOpen()) {
      // Lost during set-up: opened() completed, so lost() must follow, like for any incarnation.
      ShutdownSignalException cause = ch.getCloseReason();
      loseLocked(ch, cause);
      throw new IOException("the channel closed while it was being set up", cause);
    }
    current = ch;
    failedOpens = 0;
    openedAt = System.nanoTime();
    LOG.debug("{}: channel {} open", name, ch.getChannelNumber());
  }

  private void tryOpenLocked() {
    if (!connection.isOpen()) {
      return; // the connection's recovery will call connectionRecovered()
    }
    try {
      openLocked();
    } catch (IOException | RuntimeException e) {
      long delay = backoff(++failedOpens).toMillis();
      LOG.warn("{}: cannot open a channel ({}); retrying in {} ms", name, SafeText.of(Errors.rootMessage(e), 300),
          delay);
      reopenLater(delay);
    }
  }

  private void reopenLater(long delayMillis) {
    connection.context().timer.schedule(
        () -> connection.context().executor.execute(this::connectionRecovered), delayMillis, TimeUnit.MILLISECONDS);
  }

  /** Runs on the connection's reader thread: hand off at once; the lifecycle lock decides what it means. */
  private void onShutdown(Channel ch, ShutdownSignalException cause) {
    if (closed) {
      return;
    }
    connection.context().executor.execute(() -> {
      lifecycle.lock();
      try {
        if (ch != current) {
          return; // a set-up that failed, or an incarnation already replaced
        }
        boolean quick = cause != null && !cause.isHardError() && !cause.isInitiatedByApplication()
            && System.nanoTime() - openedAt < TimeUnit.SECONDS.toNanos(1);
        quickCloses = quick ? quickCloses + 1 : 0;
        loseLocked(ch, cause);
        if (closed) {
          return;
        }
        if (quickCloses > 2) {
          long delay = Math.min(5_000, 50L << Math.min(quickCloses - 3, 7));
          LOG.warn("{}: the broker closed {} new channels in a row at once; waiting {} ms before the next", name,
              quickCloses, delay);
          reopenLater(delay);
        } else {
          tryOpenLocked();
        }
      } finally {
        lifecycle.unlock();
      }
    });
  }

  private void loseLocked(Channel ch, ShutdownSignalException cause) {
    current = null;
    if (cause != null && !cause.isInitiatedByApplication()) {
      if (cause.isHardError()) {
        LOG.info("{}: channel lost with its connection ({})", name, Errors.describe(cause));
      } else if (handler instanceof RequestReply) {
        LOG.debug("{}: broker closed the channel ({})", name, Errors.describe(cause)); // the caller got the error
      } else {
        LOG.warn("{}: broker closed the channel ({}); opening a new one", name, Errors.describe(cause));
      }
    }
    try {
      handler.lost(ch, cause);
    } catch (RuntimeException e) {
      LOG.error("{}: error while handling a lost channel", name, e);
    }
    abortQuietly(ch);
  }

  /** Closes the channel gracefully (waits for the broker's close-ok); idempotent. */
  @Override
  public void close() {
    closed = true;
    lifecycle.lock();
    try {
      Channel ch = current;
      current = null;
      if (ch != null && connection.isBlocked()) {
        // A blocked broker reads nothing: a close (even an abort) would wait for a close-ok that does
        // not come. The channel is closed once the block lifts, or goes with the connection.
        connection.closeWhenUnblocked(ch);
      } else if (ch != null) {
        try {
          ch.close();
        } catch (IOException | RuntimeException | java.util.concurrent.TimeoutException e) {
          abortQuietly(ch);
        }
      }
    } finally {
      lifecycle.unlock();
      connection.unregister(this);
    }
  }

  static void abortQuietly(Channel ch) {
    try {
      ch.abort();
    } catch (IOException | RuntimeException e) {
      // already closed: abort() is only called to release the channel and unregister it
    }
  }

  static Duration backoff(int failures) {
    return Duration.ofMillis(Math.min(MAX_BACKOFF_MS, 100L << Math.min(failures, 10)));
  }

  @Override
  public String toString() {
    return name;
  }
}
