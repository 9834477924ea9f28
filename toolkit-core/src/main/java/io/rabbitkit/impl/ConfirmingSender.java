package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.Confirmation;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.ConfirmTimeoutException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.MessageNackedException;
import io.rabbitkit.ToolkitException.MessageRefusedException;
import io.rabbitkit.ToolkitException.MessageReturnedException;
import io.rabbitkit.ToolkitException.MessageTooLargeException;
import io.rabbitkit.ToolkitException.PublishException;
import io.rabbitkit.ToolkitException.PublishException.Reason;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes raw messages on one channel in confirm mode and turns each outcome into a future.
 *
 * <p>Confirms are tracked per channel <em>incarnation</em>: sequence numbers restart with every new
 * channel, so each incarnation has its own map from sequence number to pending message, and its own
 * listeners. When an incarnation is lost before its confirms arrive, its pending messages are parked
 * and re-sent on the next incarnation (or failed, when re-sending is off). Messages published while
 * there is no channel are parked too. Every pending message keeps the deadline of its first
 * publish, so none waits forever.
 *
 * <p>Returns are matched to their message by the message id only while that id is unique among
 * the unconfirmed messages; a message whose id is already in flight carries {@link
 * #RETURN_KEY_HEADER} with a number only this sender hands out, and its return is matched by that.
 *
 * <p>When the broker closes the channel because of one message (a property or header it refuses),
 * the unconfirmed messages are re-sent one at a time on the next channels (<em>isolation</em>):
 * the one that closes a channel again fails alone with {@link MessageRefusedException}; the others
 * are confirmed once each. Messages published meanwhile wait behind them.
 *
 * <p>Confirm and return listeners run on the connection's reader thread: they only move entries
 * between maps; futures are completed on the callback executor.
 */
final class ConfirmingSender implements ManagedChannel.Handler, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConfirmingSender.class);
  /** Header added to a message whose id another unconfirmed message of this sender already has. */
  static final String RETURN_KEY_HEADER = "toolkit-publish-id";

  /**
   * A message ready for the wire. {@code uniqueId}: its id comes from a {@link io.rabbitkit.MessageIds}
   * generator of this sender's publisher, so no other unconfirmed message can have it.
   */
  record Outbound(String exchange, String routingKey, boolean mandatory, AMQP.BasicProperties props, byte[] body,
      boolean uniqueId) {
    Outbound(String exchange, String routingKey, boolean mandatory, AMQP.BasicProperties props, byte[] body) {
      this(exchange, routingKey, mandatory, props, body, false);
    }

    String messageId() {
      return props.getMessageId();
    }
  }

  /**
   * Settings of one sender. {@code inlineCompletion} completes futures on the connection thread: only
   * for the toolkit's own senders whose callbacks merely hand work on (RPC replies), never for users'.
   */
  record Options(int maxInFlight, Duration windowTimeout, Duration confirmTimeout, boolean resend, int maxBodySize,
      boolean inlineCompletion, boolean failWhileDisconnected) {

    /** How the toolkit's own senders wait: 30 s for room in the window and for a confirm. */
    private static final Duration INTERNAL_WAIT = Duration.ofSeconds(30);

    /** A user's publisher, as its builder set it. */
    static Options forPublisher(PublisherBuilder<?> b) {
      return new Options(b.maxInFlight, b.windowTimeout, b.confirmTimeout, b.resendAfterRecovery, b.maxBodySize,
          false, b.failWhileDisconnected);
    }

    /** A consumer's moves to delay and dead-letter queues: as many in flight as it holds deliveries. */
    static Options forDeadLetters(int window) {
      return new Options(Math.max(16, window), INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, false, false);
    }

    /** Dead-letter replay: one message at a time, each confirmed before its original is removed. */
    static Options forReplay() {
      return new Options(1, INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, false, false);
    }

    /**
     * An RPC server's replies, completed on the connection thread: a reply's confirm only queues
     * the request's ack, so it needs no hand-off to the callback pool.
     */
    static Options forRpcReplies(int window) {
      return new Options(Math.max(16, window), INTERNAL_WAIT, INTERNAL_WAIT, true, Integer.MAX_VALUE, true, false);
    }
  }

  /** A message not yet settled; it is the future its publisher returned (one object per message, not three). */
  static final class Pending extends CompletableFuture<Confirmation> {
    private static final AtomicIntegerFieldUpdater<Pending> SETTLED =
        AtomicIntegerFieldUpdater.newUpdater(Pending.class, "settled");
    final Outbound message;
    final long order;
    /** Whether the message carries {@link #RETURN_KEY_HEADER} (= {@link #order}) for matching its return. */
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

    Pending(Outbound message, long order, boolean keyed, boolean tracked, long deadline) {
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
    boolean markSettled() {
      return SETTLED.compareAndSet(this, 0, 1);
    }
  }

  private final class Incarnation implements ConfirmListener, ReturnListener {
    final Channel channel;
    final ConcurrentSkipListMap<Long, Pending> unconfirmed = new ConcurrentSkipListMap<>();

    Incarnation(Channel channel) {
      this.channel = channel;
    }

    @Override
    public void handleAck(long tag, boolean multiple) {
      settle(take(tag, multiple), p -> p.returnCode == 0 ? null
          : new MessageReturnedException(p.message.messageId(), p.message.exchange(), p.message.routingKey(),
              p.returnCode, p.returnText));
    }

    @Override
    public void handleNack(long tag, boolean multiple) {
      List<Pending> nacked = take(tag, multiple);
      if (options.resend()) {
        nacked = retryLater(nacked);
      }
      settle(nacked,
          p -> new MessageNackedException(p.message.messageId(), p.message.exchange(), p.message.routingKey()));
    }

    private List<Pending> take(long tag, boolean multiple) {
      if (!multiple) {
        Pending p = unconfirmed.remove(tag);
        return p == null ? List.of() : List.of(p);
      }
      NavigableMap<Long, Pending> head = unconfirmed.headMap(tag, true);
      List<Pending> taken = new ArrayList<>(head.values());
      head.clear();
      return taken;
    }

    @Override
    public void handleReturn(int replyCode, String replyText, String exchange, String routingKey,
        AMQP.BasicProperties properties, byte[] body) {
      // A return always precedes the ack of the same message on the same channel.
      Map<String, Object> headers = properties.getHeaders();
      Object key = headers == null ? null : headers.get(RETURN_KEY_HEADER);
      String id = properties.getMessageId();
      for (Pending p : unconfirmed.values()) {
        boolean match = key != null ? p.keyed && key.toString().equals(Long.toString(p.order))
            : !p.keyed && id != null && id.equals(p.message.messageId());
        if (match && p.returnCode == 0) {
          p.returnText = replyText;
          p.returnCode = replyCode;
          return;
        }
      }
      LOG.warn("{}: a return ({} {}) matched no unconfirmed message", name, replyCode, SafeText.of(replyText));
    }
  }

  private final String name;
  private final Options options;
  private final RoleConnection connection;
  private final Executor callbacks;
  private final ManagedChannel channel;
  private final Semaphore window;
  private final ReentrantLock sendLock = new ReentrantLock();
  private final List<Pending> parked = new ArrayList<>(); // guarded by sendLock, in publish order
  /** Ids of unconfirmed messages that carry no return key: at most one such message per id. */
  private final Map<String, Boolean> unkeyedIds = new java.util.concurrent.ConcurrentHashMap<>();
  /** While isolating, messages up to this order are sent one at a time; guarded by sendLock. */
  private long isolateUpTo = -1;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong incarnations = new AtomicLong();
  private final AtomicLong order = new AtomicLong();
  private final AtomicLong resent = new AtomicLong();
  private final AtomicLong nackResent = new AtomicLong();
  private final java.util.concurrent.ScheduledExecutorService timer;
  private final ScheduledFuture<?> sweeper;
  private volatile Incarnation current;
  private volatile boolean closed;

  ConfirmingSender(RoleConnection connection, String name, Options options) throws IOException {
    this.name = name;
    this.options = options;
    this.connection = connection;
    this.callbacks = connection.context().executor;
    this.timer = connection.context().timer;
    this.window = new Semaphore(options.maxInFlight());
    this.channel = new ManagedChannel(connection, name, this);
    long period = Math.max(10, Math.min(100, options.confirmTimeout().toMillis() / 4));
    this.sweeper = connection.context().timer.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.MILLISECONDS);
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
    long waitNanos = options.windowTimeout().toNanos();
    try {
      if (!window.tryAcquire(waitNanos, TimeUnit.NANOSECONDS)) {
        return CompletableFuture
            .failedFuture(failure(message, Reason.NOT_SENT, "the in-flight window of " + options.maxInFlight()
                + " unconfirmed messages stayed full for " + options.windowTimeout().toMillis() + " ms", null));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture
          .failedFuture(failure(message, Reason.NOT_SENT, "interrupted while waiting for the in-flight window", e));
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
    Pending p = new Pending(withReturnKey(message, keyed, seq), seq, keyed, tracked,
        start + options.confirmTimeout().toNanos());
    try {
      if (!sendLock.tryLock(Math.max(0, waitNanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS)) {
        fail(p, failure(message, Reason.NOT_SENT, "the channel stayed busy for " + options.windowTimeout().toMillis()
            + " ms (is the connection blocked by a resource alarm?)", null));
        return p;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(p, failure(message, Reason.NOT_SENT, "interrupted while waiting for the channel", e));
      return p;
    }
    try {
      Incarnation inc = current;
      if (closed) {
        fail(p, new ResourceClosedException(name, "is closed"));
      } else if (options.failWhileDisconnected() && (inc == null || !inc.channel.isOpen())) {
        fail(p,
            failure(message, Reason.NOT_SENT, "not sent: the connection is down and recovering",
                new ConnectionException(
                    ConnectionException.Reason.CLOSED, "no open channel while the connection recovers", null)));
      } else {
        sendLocked(p);
      }
    } finally {
      sendLock.unlock();
    }
    return p;
  }

  /**
   * The message with {@link #RETURN_KEY_HEADER} set to {@code key} when {@code keyed}, and without
   * one a re-published message may carry from elsewhere otherwise (it would match the wrong return).
   */
  private static Outbound withReturnKey(Outbound m, boolean keyed, long key) {
    Map<String, Object> headers = m.props().getHeaders();
    boolean carries = headers != null && headers.containsKey(RETURN_KEY_HEADER);
    if (!keyed && !carries) {
      return m;
    }
    Map<String, Object> copy = headers == null ? new java.util.HashMap<>() : new java.util.HashMap<>(headers);
    if (keyed) {
      copy.put(RETURN_KEY_HEADER, key);
    } else {
      copy.remove(RETURN_KEY_HEADER);
    }
    return new Outbound(m.exchange(), m.routingKey(), m.mandatory(), m.props().builder().headers(copy).build(),
        m.body(),
        m.uniqueId());
  }

  private void sendLocked(Pending p) {
    Incarnation inc = current;
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

  private void publishLocked(Incarnation inc, Pending p) {
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
      fail(p, failure(m, Reason.INVALID, "amqp-client refused the message: " + e.getMessage(), e));
      ManagedChannel.abortQuietly(inc.channel); // the sequence number was consumed without a publish
    }
  }

  /**
   * A nack means the broker could not take the message now (a quorum queue electing a new leader,
   * a full queue that rejects publishes). Re-sends each one with back-off while its confirm deadline
   * allows; returns those out of time, whose futures fail with the nack.
   */
  private List<Pending> retryLater(List<Pending> nacked) {
    List<Pending> outOfTime = new ArrayList<>();
    long now = System.nanoTime();
    for (Pending p : nacked) {
      long delayMs = Math.min(5_000, 100L << Math.min(p.nacks++, 6));
      if (closed || p.deadline - now - TimeUnit.MILLISECONDS.toNanos(delayMs) <= 0) {
        outOfTime.add(p);
        continue;
      }
      LOG.debug("{}: broker nacked message {}; re-sending it in {} ms", name, p.message.messageId(), delayMs);
      nackResent.incrementAndGet();
      // Off the timer thread: a publish can block (a blocked connection), and the timer serves everyone.
      timer.schedule(() -> callbacks.execute(() -> resend(p)), delayMs, TimeUnit.MILLISECONDS);
    }
    return outOfTime;
  }

  private void resend(Pending p) {
    sendLock.lock();
    try {
      if (p.isSettled()) {
        return;
      }
      if (closed) {
        fail(p, closedBefore(p));
      } else {
        sendLocked(p);
      }
    } finally {
      sendLock.unlock();
    }
  }

  @Override
  public void opened(Channel ch) throws IOException {
    ch.confirmSelect();
    Incarnation inc = new Incarnation(ch);
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

  private static final Comparator<Pending> BY_ORDER = Comparator.comparingLong(p -> p.order);

  private boolean isolating() {
    return isolateUpTo >= 0;
  }

  /**
   * While isolating: once nothing is in flight, sends the next suspect alone; when every suspect
   * is settled, sends whatever was published meanwhile at the normal pace.
   */
  private void sendNextIsolatedLocked() {
    Incarnation inc = current;
    if (inc == null || !inc.channel.isOpen() || !inc.unconfirmed.isEmpty() || connection.isBlocked()) {
      return;
    }
    parked.removeIf(p -> p.isSettled());
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
      Incarnation inc = current;
      if (inc == null || inc.channel != ch) {
        return;
      }
      current = null;
      List<Pending> inFlight = new ArrayList<>(inc.unconfirmed.values());
      inFlight.removeIf(p -> p.isSettled());
      inc.unconfirmed.clear();
      List<Pending> orphans = new ArrayList<>(inFlight);
      orphans.addAll(parked);
      parked.clear();
      orphans.sort(BY_ORDER);
      String badExchange = Errors.exchangeNamedIn(cause);
      // The broker closed just this channel, not over an exchange: one of the messages in flight is at fault.
      boolean refusal =
          cause != null && !cause.isHardError() && !cause.isInitiatedByApplication() && badExchange == null
              && !inFlight.isEmpty();
      Pending culprit = refusal && isolating() && inFlight.size() == 1 ? inFlight.get(0) : null;
      for (Pending p : orphans) {
        if (p.isSettled()) {
          continue;
        }
        Outbound m = p.message;
        if (p == culprit) {
          refused.incrementAndGet();
          LOG.warn("{}: the broker refused message {} ({})", name, SafeText.of(m.messageId()), Errors.describe(cause));
          fail(p, new MessageRefusedException(m.messageId(), m.exchange(), m.routingKey(), Errors.replyCode(cause),
              Errors.replyText(cause), cause));
        } else if (badExchange != null && badExchange.equals(m.exchange())) {
          fail(p, failure(m, Reason.EXCHANGE_REFUSED, "the broker refused the exchange: " + Errors.replyText(cause),
              cause));
        } else if (!options.resend()) {
          fail(p,
              failure(m, p.sentAt == 0 ? Reason.NOT_SENT : Reason.LOST,
                  p.sentAt == 0 ? "the channel was lost before the message was sent"
                      : "the channel was lost before the broker confirmed; the outcome is unknown",
                  cause));
        } else {
          parked.add(p);
        }
      }
      if (refusal && options.resend() && !isolating()) {
        isolateUpTo = inFlight.get(inFlight.size() - 1).order;
        LOG.warn("{}: the broker closed the channel over a message ({}); re-sending the {} unconfirmed message(s) "
            + "one at a time to find it", name, Errors.describe(cause), inFlight.size());
      }
    } finally {
      sendLock.unlock();
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    Incarnation inc = current;
    if (inc != null) {
      for (Map.Entry<Long, Pending> e : inc.unconfirmed.entrySet()) {
        Pending p = e.getValue();
        if (p.deadline - now > 0) {
          break;
        }
        if (inc.unconfirmed.remove(e.getKey(), p)) {
          timedOut(p);
        }
      }
    }
    if (sendLock.tryLock()) {
      try {
        parked.removeIf(p -> {
          if (p.deadline - now <= 0) {
            timedOut(p);
            return true;
          }
          return p.isSettled();
        });
      } finally {
        sendLock.unlock();
      }
    }
  }

  private void timedOut(Pending p) {
    Outbound m = p.message;
    fail(p, new ConfirmTimeoutException(m.messageId(), m.exchange(), m.routingKey(), options.confirmTimeout(),
        p.sentAt != 0));
  }

  private void settle(List<Pending> confirmed, Function<Pending, Throwable> outcome) {
    List<Pending> mine = new ArrayList<>(confirmed.size());
    for (Pending p : confirmed) {
      if (p.markSettled()) {
        mine.add(p);
        if (p.tracked) {
          unkeyedIds.remove(p.message.messageId());
        }
      }
    }
    if (!mine.isEmpty()) {
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
      afterSettled();
    }
  }

  private ResourceClosedException closedBefore(Pending p) {
    return new ResourceClosedException(name, "was closed before message " + SafeText.of(p.message.messageId())
        + (p.sentAt == 0 ? " was sent; the broker does not have it" : " was confirmed; the outcome is unknown"));
  }

  /** How long the oldest message sent and not yet confirmed has waited, zero if none. */
  Duration oldestUnconfirmedAge() {
    Incarnation inc = current;
    if (inc == null) {
      return Duration.ZERO;
    }
    Map.Entry<Long, Pending> first = inc.unconfirmed.firstEntry();
    long sentAt = first == null ? 0 : first.getValue().sentAt;
    return sentAt == 0 ? Duration.ZERO : Duration.ofNanos(Math.max(0, System.nanoTime() - sentAt));
  }

  /** How many times the channel was replaced after the first. */
  long channelReplacements() {
    return Math.max(0, incarnations.get() - 1);
  }

  /** Messages the broker refused (closing the channel over them) and that failed alone. */
  long refused() {
    return refused.get();
  }

  private void fail(Pending p, Throwable failure) {
    settle(List.of(p), ignored -> failure);
  }

  private static PublishException failure(Outbound m, Reason kind, String reason, Throwable cause) {
    return new PublishException(kind, "cannot publish message " + SafeText.of(m.messageId()) + " to "
        + Names.describeTarget(m.exchange(), m.routingKey()) + ": " + reason,
        m.messageId(), m.exchange(), m.routingKey(), cause);
  }

  /** Number of messages sent or parked but not yet settled. */
  int inFlight() {
    return options.maxInFlight() - window.availablePermits();
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  /** Messages re-sent: on a new channel after theirs was lost, or after the broker nacked them. */
  long resent() {
    return resent.get() + nackResent.get();
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
    try {
      if (window.tryAcquire(options.maxInFlight(), grace.toMillis(), TimeUnit.MILLISECONDS)) {
        window.release(options.maxInFlight());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
      Incarnation inc = current;
      if (inc != null) {
        rest.addAll(inc.unconfirmed.values());
        inc.unconfirmed.clear();
      }
      if (!rest.isEmpty()) {
        LOG.warn("{}: closed with {} unconfirmed message(s); their futures fail", name, rest.size());
      }
      for (Pending p : rest) {
        fail(p, closedBefore(p));
      }
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
