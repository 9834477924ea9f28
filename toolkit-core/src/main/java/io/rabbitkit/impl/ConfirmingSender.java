package io.rabbitkit.impl;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.Confirmation;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageRefusedException;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.PublishException.Reason;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.impl.InFlight.Pending;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes raw messages on one channel in confirm mode and turns each outcome into a future.
 *
 * <p>The sender is split in two: {@link InFlight} holds the window of messages accepted and not yet
 * settled and settles each exactly once; this class decides where and when each goes on the wire.
 * Confirms and returns are tracked per channel incarnation ({@link ChannelConfirms}). When an
 * incarnation is lost before its confirms arrive, its pending messages are parked and re-sent on the
 * next incarnation (or failed, when re-sending is off). Messages published while there is no
 * channel, or while the broker blocks the connection, are parked too. Every pending message keeps
 * the deadline of its first publish, so none waits forever.
 *
 * <p>When the broker closes the channel because of one message (a property or header it refuses),
 * the unconfirmed messages are re-sent one at a time on the next channels (<em>isolation</em>):
 * the one that closes a channel again fails alone with {@link MessageRefusedException}; the others
 * are confirmed once each. Messages published meanwhile wait behind them.
 */
final class ConfirmingSender implements ManagedChannel.Handler, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConfirmingSender.class);
  private static final Comparator<Pending> BY_ORDER = Comparator.comparingLong(p -> p.order);

  private final String name;
  private final SenderOptions options;
  private final RoleConnection connection;
  private final Executor callbacks;
  private final ScheduledExecutorService timer;
  private final InFlight inFlight;
  private final ManagedChannel channel;
  private final ScheduledFuture<?> sweeper;
  private final ReentrantLock sendLock = new ReentrantLock();
  private final List<Pending> parked = new ArrayList<>(); // guarded by sendLock, in publish order
  /** While isolating, messages up to this order are sent one at a time; guarded by sendLock. */
  private long isolateUpTo = -1;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong incarnations = new AtomicLong();
  private final AtomicLong resent = new AtomicLong();
  private volatile ChannelConfirms current;
  private volatile boolean closed;

  ConfirmingSender(RoleConnection connection, String name, SenderOptions options) throws IOException {
    this.name = name;
    this.options = options;
    this.connection = connection;
    this.callbacks = connection.context().executor;
    this.timer = connection.context().timer;
    this.inFlight = new InFlight(name, options, callbacks, this::afterSettled);
    this.channel = new ManagedChannel(connection, name, this);
    long period = Math.max(10, Math.min(100, options.confirmTimeout().toMillis() / 4));
    this.sweeper = timer.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.MILLISECONDS);
    try {
      channel.start();
    } catch (IOException | RuntimeException e) {
      sweeper.cancel(false);
      throw e;
    }
  }

  /** Sends a message; the future completes on the callback executor. Blocks while the window is full. */
  CompletableFuture<Confirmation> send(Outbound message) {
    if (closed) {
      return CompletableFuture.failedFuture(new ResourceClosedException(name, "is closed"));
    }
    if (message.body().length > options.maxBodySize()) {
      return CompletableFuture.failedFuture(new MessageTooLargeException(message.messageId(), message.exchange(),
          message.routingKey(), message.body().length, options.maxBodySize(), "the publisher's maxBodySize"));
    }
    long start = System.nanoTime();
    Pending p;
    try {
      p = inFlight.admit(message, start);
    } catch (PublishException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      long left = options.windowTimeout().toNanos() - (System.nanoTime() - start);
      if (!sendLock.tryLock(Math.max(0, left), TimeUnit.NANOSECONDS)) {
        inFlight.fail(p, InFlight.failure(message, Reason.NOT_SENT, "the channel stayed busy for "
            + options.windowTimeout().toMillis() + " ms (is the connection blocked by a resource alarm?)", null));
        return p;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      inFlight.fail(p, InFlight.failure(message, Reason.NOT_SENT, "interrupted while waiting for the channel", e));
      return p;
    }
    try {
      ChannelConfirms inc = current;
      if (closed) {
        inFlight.fail(p, new ResourceClosedException(name, "is closed"));
      } else if (options.failWhileDisconnected() && (inc == null || !inc.channel.isOpen())) {
        inFlight.fail(p, InFlight.failure(message, Reason.NOT_SENT, "not sent: the connection is down and recovering",
            new ConnectionException(ConnectionException.Reason.CLOSED, "no open channel while the connection recovers",
                null)));
      } else {
        sendLocked(p);
      }
    } finally {
      sendLock.unlock();
    }
    return p;
  }

  private void sendLocked(Pending p) {
    ChannelConfirms inc = current;
    // Blocked: the broker reads nothing, and a write could hang this thread (and every caller
    // queued behind sendLock) for as long as the alarm lasts. Held back until unblocked().
    if (inc == null || !inc.channel.isOpen() || connection.isBlocked()) {
      parked.add(p);
    } else if (isolating()) {
      parked.add(p);
      parked.sort(BY_ORDER);
      sendNextIsolatedLocked();
    } else {
      publishLocked(inc, p);
    }
  }

  private void publishLocked(ChannelConfirms inc, Pending p) {
    Outbound m = p.message;
    long seq = inc.channel.getNextPublishSeqNo();
    inc.unconfirmed.put(seq, p);
    try {
      p.sentAt = System.nanoTime();
      inc.channel.basicPublish(m.exchange(), m.routingKey(), m.mandatory(), m.props(), m.body());
    } catch (IOException | ShutdownSignalException e) {
      // The channel is going away; lost() re-sends everything parked on the next channel.
      inc.unconfirmed.remove(seq);
      parked.add(p);
      if (inc.channel.isOpen()) {
        ManagedChannel.abortQuietly(inc.channel); // its sequence numbers can no longer be trusted
      }
    } catch (RuntimeException e) {
      inc.unconfirmed.remove(seq);
      inFlight.fail(p, InFlight.failure(m, Reason.INVALID, "amqp-client refused the message: " + e.getMessage(), e));
      ManagedChannel.abortQuietly(inc.channel); // the sequence number was consumed without a publish
    }
  }

  /**
   * A nack means the broker could not take the message now (a quorum queue electing a new leader,
   * a full queue that rejects publishes). Re-sends each one with back-off while its confirm deadline
   * allows; returns those out of time, whose futures fail with the nack.
   */
  private List<Pending> retryLater(List<Pending> nacked) {
    if (!options.resend()) {
      return nacked;
    }
    List<Pending> outOfTime = new ArrayList<>();
    long now = System.nanoTime();
    for (Pending p : nacked) {
      long delayMs = Math.min(5_000, 100L << Math.min(p.nacks++, 6));
      if (closed || p.deadline - now - TimeUnit.MILLISECONDS.toNanos(delayMs) <= 0) {
        outOfTime.add(p);
        continue;
      }
      LOG.debug("{}: broker nacked message {}; re-sending it in {} ms", name, p.message.messageId(), delayMs);
      resent.incrementAndGet();
      // Off the timer thread: a publish can block (a blocked connection), and the timer serves everyone.
      timer.schedule(() -> callbacks.execute(() -> resend(p)), delayMs, TimeUnit.MILLISECONDS);
    }
    return outOfTime;
  }

  private void resend(Pending p) {
    sendLock.lock();
    try {
      if (closed) {
        inFlight.failClosed(p); // no-op if already settled
      } else if (!p.isSettled()) {
        sendLocked(p);
      }
    } finally {
      sendLock.unlock();
    }
  }

  @Override
  public void opened(Channel ch) throws IOException {
    ch.confirmSelect();
    ChannelConfirms inc = new ChannelConfirms(ch, name, inFlight, this::retryLater);
    incarnations.incrementAndGet();
    ch.addConfirmListener(inc);
    ch.addReturnListener(inc);
    sendLock.lock();
    try {
      current = inc;
      sendParkedLocked("on a new channel");
    } finally {
      sendLock.unlock();
    }
  }

  @Override
  public void unblocked() {
    sendLock.lock();
    try {
      sendParkedLocked("now that the broker unblocked the connection");
    } finally {
      sendLock.unlock();
    }
  }

  /** Sends what waits in {@link #parked} (for a channel, or for the block to lift), in publish order. */
  private void sendParkedLocked(String when) {
    if (isolating()) {
      sendNextIsolatedLocked();
    } else if (!parked.isEmpty() && current != null && !connection.isBlocked()) {
      List<Pending> resend = new ArrayList<>(parked);
      parked.clear();
      LOG.info("{}: sending {} held-back message(s) {}", name, resend.size(), when);
      resent.addAndGet(resend.stream().filter(p -> p.sentAt != 0).count());
      for (Pending p : resend) {
        if (!p.isSettled()) {
          sendLocked(p);
        }
      }
    }
  }

  private boolean isolating() {
    return isolateUpTo >= 0;
  }

  /**
   * While isolating: once nothing is in flight, sends the next suspect alone; when every suspect
   * is settled, sends whatever was published meanwhile at the normal pace.
   */
  private void sendNextIsolatedLocked() {
    ChannelConfirms inc = current;
    if (inc == null || !inc.channel.isOpen() || !inc.unconfirmed.isEmpty() || connection.isBlocked()) {
      return;
    }
    parked.removeIf(Pending::isSettled);
    if (!parked.isEmpty() && parked.get(0).order <= isolateUpTo) {
      Pending next = parked.remove(0);
      resent.incrementAndGet();
      publishLocked(inc, next);
      return;
    }
    LOG.info("{}: isolation done; {} message(s) the broker refused failed alone", name, refused.get());
    isolateUpTo = -1;
    List<Pending> rest = new ArrayList<>(parked);
    parked.clear();
    rest.forEach(this::sendLocked);
  }

  /** After a settlement: while isolating, the next suspect may go (off the reader thread: a publish can block). */
  private void afterSettled() {
    if (isolating() && !closed) {
      callbacks.execute(() -> {
        sendLock.lock();
        try {
          if (isolating()) {
            sendNextIsolatedLocked();
          }
        } finally {
          sendLock.unlock();
        }
      });
    }
  }

  @Override
  public void lost(Channel ch, ShutdownSignalException cause) {
    sendLock.lock();
    try {
      ChannelConfirms inc = current;
      if (inc == null || inc.channel != ch) {
        return;
      }
      current = null;
      List<Pending> sent = new ArrayList<>(inc.unconfirmed.values());
      sent.removeIf(Pending::isSettled);
      inc.unconfirmed.clear();
      List<Pending> orphans = new ArrayList<>(sent);
      orphans.addAll(parked);
      parked.clear();
      orphans.sort(BY_ORDER);
      String badExchange = Errors.exchangeNamedIn(cause);
      // The broker closed just this channel, not over an exchange: one of the messages in flight is at fault.
      boolean refusal = cause != null && !cause.isHardError() && !cause.isInitiatedByApplication()
          && badExchange == null && !sent.isEmpty();
      Pending culprit = refusal && isolating() && sent.size() == 1 ? sent.get(0) : null;
      for (Pending p : orphans) {
        if (p.isSettled()) {
          continue;
        }
        Outbound m = p.message;
        if (p == culprit) {
          refused.incrementAndGet();
          LOG.warn("{}: the broker refused message {} ({})", name, SafeText.of(m.messageId()), Errors.describe(cause));
          inFlight.fail(p, new MessageRefusedException(m.messageId(), m.exchange(), m.routingKey(),
              Errors.replyCode(cause), Errors.replyText(cause), cause));
        } else if (badExchange != null && badExchange.equals(m.exchange())) {
          inFlight.fail(p, InFlight.failure(m, Reason.EXCHANGE_REFUSED,
              "the broker refused the exchange: " + Errors.replyText(cause), cause));
        } else if (!options.resend()) {
          inFlight.fail(p, p.sentAt == 0
              ? InFlight.failure(m, Reason.NOT_SENT, "the channel was lost before the message was sent", cause)
              : InFlight.failure(m, Reason.LOST,
                  "the channel was lost before the broker confirmed; the outcome is unknown", cause));
        } else {
          parked.add(p);
        }
      }
      if (refusal && options.resend() && !isolating()) {
        isolateUpTo = sent.get(sent.size() - 1).order;
        LOG.warn("{}: the broker closed the channel over a message ({}); re-sending the {} unconfirmed message(s) "
            + "one at a time to find it", name, Errors.describe(cause), sent.size());
      }
    } finally {
      sendLock.unlock();
    }
  }

  /** Fails every message whose confirm deadline passed, sent or still parked. */
  private void sweep() {
    long now = System.nanoTime();
    ChannelConfirms inc = current;
    if (inc != null) {
      inc.expire(now, inFlight::timedOut);
    }
    if (sendLock.tryLock()) {
      try {
        parked.removeIf(p -> {
          if (p.deadline - now <= 0) {
            inFlight.timedOut(p);
            return true;
          }
          return p.isSettled();
        });
      } finally {
        sendLock.unlock();
      }
    }
  }

  /** How long the oldest message sent and not yet confirmed has waited, zero if none. */
  Duration oldestUnconfirmedAge() {
    ChannelConfirms inc = current;
    return inc == null ? Duration.ZERO : inc.oldestAge();
  }

  /** How many times the channel was replaced after the first. */
  long channelReplacements() {
    return Math.max(0, incarnations.get() - 1);
  }

  /** Messages the broker refused (closing the channel over them) and that failed alone. */
  long refused() {
    return refused.get();
  }

  /** Number of messages sent or parked but not yet settled. */
  int inFlight() {
    return inFlight.size();
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  /** Messages re-sent: on a new channel after theirs was lost, or after the broker nacked them. */
  long resent() {
    return resent.get();
  }

  /**
   * Stops accepting messages, waits up to {@code grace} for outstanding confirms, fails the rest with
   * {@link ResourceClosedException} and closes the channel. Idempotent.
   */
  void close(Duration grace) {
    if (closed) {
      return;
    }
    closed = true;
    inFlight.awaitEmpty(grace);
    // A thread may still be inside a write the broker does not read (a block that began during
    // it): close without its lock rather than wait with it, so close() keeps to its grace.
    boolean locked = false;
    try {
      locked = sendLock.tryLock(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!locked) {
      LOG.warn("{}: a publish is stuck writing to a connection the broker does not read; closing without it", name);
    }
    try {
      List<Pending> rest = new ArrayList<>(parked);
      parked.clear();
      ChannelConfirms inc = current;
      if (inc != null) {
        rest.addAll(inc.unconfirmed.values());
        inc.unconfirmed.clear();
      }
      if (!rest.isEmpty()) {
        LOG.warn("{}: closed with {} unconfirmed message(s); their futures fail", name, rest.size());
      }
      rest.forEach(inFlight::failClosed);
    } finally {
      if (locked) {
        sendLock.unlock();
      }
    }
    sweeper.cancel(false);
    channel.close();
  }

  @Override
  public void close() {
    close(options.confirmTimeout());
  }

  @Override
  public String toString() {
    return name;
  }
}
