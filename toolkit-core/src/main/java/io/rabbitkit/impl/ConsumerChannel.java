package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.Redelivery;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel of a {@link QueueConsumer}: its subscription (and re-subscription after a broker
 * cancel), its serial lane and its ack batching. Every settlement of a delivery on this channel
 * runs on the lane.
 */
final class ConsumerChannel implements ManagedChannel.Handler {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);
  /**
   * How long an ack may wait to be joined by others into one multiple ack. Only dense streams wait
   * (sparse deliveries are acked at once), so this is the tail of a burst.
   */
  private static final long ACK_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  /**
   * Deliveries further apart than this are acked at once: waiting would rarely join a second ack
   * to the first, and would cost two thread wake-ups (timer, then lane) per ack.
   */
  private static final long SPARSE_NANOS = 500_000;

  private final QueueConsumer<?> owner;
  final SerialExecutor serial;
  final ManagedChannel channel;
  private volatile String consumerTag;
  private volatile boolean cancelledByBroker;
  private final CountDownLatch cancelOk = new CountDownLatch(1);
  // Ack batching; touched only on the serial executor.
  /** Deliveries of the current channel, in delivery-tag order, not yet covered by an ack. */
  private final ArrayDeque<Inbound> unsettled = new ArrayDeque<>();
  /** Handled deliveries whose ack waits for the next multiple ack. */
  private final List<Inbound> toAck = new ArrayList<>();
  /**
   * When the oldest ack in {@link #toAck} was added (System.nanoTime()), 0 when it is empty: the
   * flush timer reads it on its own thread.
   */
  private volatile long batchStart;
  /**
   * Whether a flush timer is pending. One timer follows the batches, rescheduling itself for the
   * oldest waiting ack, instead of one per batch: a busy channel fills a batch long before its
   * timer is due, and each timer due would wake the timer thread for nothing.
   */
  private final AtomicBoolean timerArmed = new AtomicBoolean();
  /** When the last delivery was registered, and whether it came after a gap of over {@link #SPARSE_NANOS}. */
  private long lastDelivery;
  private boolean sparse = true;
  /** Settlements held back until the subscription is cancelled (see finishedOneMustWait). */
  private final List<Runnable> waiting = new ArrayList<>();

  /** Whether failed rounds wait in the queue itself (and are counted by the broker). */
  private final boolean roundsInQueue;

  ConsumerChannel(QueueConsumer<?> owner, int index) {
    this.owner = owner;
    this.roundsInQueue = owner.settings().backend() == Redelivery.Backend.IN_QUEUE;
    this.serial = new SerialExecutor(owner.pool());
    this.channel =
        new ManagedChannel(owner.connection(), "consumer of queue '" + owner.settings().queue() + "' #" + index,
            this);
  }

  String queue() {
    return owner.settings().queue();
  }

  boolean subscribed() {
    return consumerTag != null && channel.isOpen() && !cancelledByBroker;
  }

  @Override
  public void opened(Channel ch) throws IOException {
    QueueConsumer.StreamMode stream = owner.settings().stream();
    if (stream != null) {
      // Held while this connection lives: another connection's declaration is refused (405 RESOURCE_LOCKED).
      ch.queueDeclare(stream.lockQueue(), false, true, true, null);
    }
    ch.basicQos(owner.settings().prefetch());
    // RabbitMQ 4.3 (4.3.6, measured) cancels a consumer that overran its queue's consumer timeout,
    // returns its messages, and then still delivers some of them to the cancelled consumer's tag.
    // amqp-client would close the whole connection over such an unsolicited delivery: give each
    // back instead (basic.nack, which 4.3 does not count as a delivery attempt), so it reaches the
    // subscription that replaced the cancelled one.
    ch.setDefaultConsumer(new com.rabbitmq.client.DefaultConsumer(ch) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        long deliveryTag = envelope.getDeliveryTag();
        onLane(() -> {
          try {
            ch.basicNack(deliveryTag, false, true);
          } catch (IOException | RuntimeException e) {
            LOG.debug("queue '{}': giving back a delivery to cancelled consumer {} failed: {}",
                owner.settings().queue(), tag, e.getMessage());
          }
        });
      }
    });
    subscribe(ch);
  }

  /**
   * Subscribes on {@code ch}. Throws when the queue is missing (the broker then closes the channel,
   * and {@link ManagedChannel} opens a new one with back-off, which subscribes again).
   */
  private synchronized void subscribe(Channel ch) throws IOException {
    if (owner.stopping() || owner.limitReached() || consumerTag != null) {
      return;
    }
    QueueConsumer.StreamMode stream = owner.settings().stream();
    java.util.Map<String, Object> arguments =
        stream == null ? java.util.Map.of() : java.util.Map.of("x-stream-offset", stream.startArgument(queue()));
    consumerTag =
        ch.basicConsume(queue(), false, "", false, false, arguments, new com.rabbitmq.client.DefaultConsumer(ch) {
          @Override
          public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            owner.deliveryStarted();
            Inbound in = new Inbound(ConsumerChannel.this, ch, owner.settings().queue(), roundsInQueue, envelope,
                properties, body);
            // Handled right here on amqp-client's dispatch thread for this channel when the worker is idle:
            // no hand-off; a busy handler holds back only this channel's deliveries.
            serial.executeHere(() -> {
              track(in);
              owner.process(in);
            });
          }

          @Override
          public void handleCancelOk(String tag) {
            // Dispatched after every delivery that preceded the cancel: from here on the in-flight count is complete.
            cancelOk.countDown();
          }

          @Override
          public void handleCancel(String tag) {
            cancelledByBroker = true;
            consumerTag = null;
            LOG.warn(
                "the broker cancelled the consumer of queue '{}' (queue deleted, or a consumer timeout on RabbitMQ 4.3+); "
                    + "subscribing again with back-off",
                owner.settings().queue());
            owner.listenerLane().execute(() -> owner.settings().listener().cancelledByBroker(owner.settings().queue()));
            resubscribeSoon(ch);
          }
        });
    if (cancelledByBroker) {
      cancelledByBroker = false;
      LOG.info("consumer of queue '{}' subscribed again", owner.settings().queue());
      owner.listenerLane().execute(() -> owner.settings().listener().resumed(owner.settings().queue()));
    }
  }

  /** After a broker-side cancel: subscribe again on the same channel, so acks for deliveries in progress stay valid. */
  private void resubscribeSoon(Channel ch) {
    owner.shared().timer.schedule(() -> owner.shared().executor.execute(() -> {
      if (channel.current() != ch || !ch.isOpen()) {
        return; // a new incarnation subscribes in opened()
      }
      try {
        subscribe(ch);
      } catch (IOException | RuntimeException e) {
        // The queue is missing: the broker closed the channel; the replacement retries with back-off.
        LOG.debug("queue '{}': subscribing again failed: {}", owner.settings().queue(), Errors.rootMessage(e));
      }
    }), ManagedChannel.backoff(0).toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A stream consumer gives its name up: deletes the lock queue its connection holds, so another process may take it. */
  void releaseName() {
    Channel ch = channel.current();
    if (ch != null && ch.isOpen()) {
      try {
        ch.queueDelete(owner.settings().stream().lockQueue());
      } catch (IOException | RuntimeException e) {
        LOG.debug("releasing the name of the consumer of stream '{}' failed: {}", queue(), Errors.rootMessage(e));
      }
    }
  }

  @Override
  public void lost(Channel ch, ShutdownSignalException cause) {
    consumerTag = null;
  }

  /**
   * Cancels the subscription and waits until amqp-client has dispatched every delivery sent before
   * the cancel (the broker's cancel-ok can overtake deliveries still queued for dispatch).
   */
  void cancel(long deadlineNanos) {
    Channel ch = channel.current();
    String tag = consumerTag;
    consumerTag = null;
    if (ch != null && tag != null) {
      try {
        ch.basicCancel(tag);
        // On this worker's own thread, waiting would block the very dispatch that delivers cancel-ok.
        if (!serial.isCurrentThread()
            && !cancelOk.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          LOG.warn("queue '{}': no cancel-ok before the drain deadline; deliveries may still arrive",
              owner.settings().queue());
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("cancelling consumer {} failed: {}", tag, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Carries out {@code s} on this channel: acks (batched), or a reject to the dead-letter exchange.
   * Acks in delivery order are batched into one {@code multiple} ack, sent when a quarter of the
   * prefetch is waiting or 5 ms after the first (at once while deliveries arrive more than
   * half a millisecond apart, and for an async handler when nothing else is in progress on the
   * channel); an ack that overtakes an earlier,
   * unsettled delivery is sent on its own at once, so a slow message never holds back the others'
   * acks.
   */
  void settle(Inbound in, Settlement s) {
    Runnable op;
    if (s instanceof Settlement.DeadLettered d && d.to() == null) {
      op = () -> settleNow(in, ch -> ch.basicReject(in.tag(), false));
    } else if (s instanceof Settlement.Delayed r && r.via() == null) {
      // The queue delays it itself: basic.reject, which RabbitMQ counts in x-delivery-count and delays.
      op = () -> settleNow(in, ch -> ch.basicReject(in.tag(), true));
    } else {
      op = () -> ackNow(in);
    }
    // A message moved to a delay queue comes back; every other settlement is its final outcome,
    // counted before it settles: stopAfter cancels while this message still holds its prefetch slot.
    boolean last = !(s instanceof Settlement.Delayed);
    onLane(() -> {
      if (last && owner.finishedOneMustWait()) {
        waiting.add(op);
      } else {
        op.run();
      }
    });
  }

  /** Runs {@code r} on this channel's lane: now if already there (not behind queued deliveries), else queued. */
  void onLane(Runnable r) {
    if (serial.isCurrentThread()) {
      r.run(); // already on this channel's thread: settle now, not behind queued deliveries
    } else {
      serial.execute(r);
    }
  }

  /** Settles what waited for the end of the subscription; on the serial executor. */
  void releaseWaiting() {
    List<Runnable> now = new ArrayList<>(waiting);
    waiting.clear();
    now.forEach(Runnable::run);
  }

  private void ackNow(Inbound in) {
    {
      if (unsettled.peekFirst() != in) {
        settleNow(in, ch -> ch.basicAck(in.tag(), false));
        return;
      }
      unsettled.pollFirst();
      if (toAck.isEmpty()) {
        batchStart = System.nanoTime();
      }
      toAck.add(in);
      dropSettledHead();
      // An async handler's ack with nothing else in progress has nothing to wait for (an RPC server's lone request).
      boolean lastInProgress = owner.settings().asyncHandler() != null && unsettled.isEmpty();
      if (sparse || lastInProgress || toAck.size() >= Math.max(1, owner.settings().prefetch() / 4)) {
        flushAcks();
      } else if (!timerArmed.get() && timerArmed.compareAndSet(false, true)) {
        armTimer(ACK_DELAY_NANOS);
      }
    }
  }

  private void armTimer(long delayNanos) {
    try {
      owner.shared().timer.schedule(this::timerDue, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      timerArmed.set(false); // the toolkit is closing: the close flushes or the broker redelivers
    }
  }

  /**
   * On the timer thread: flushes the waiting acks if the oldest is due, else waits for it. Usually
   * a busy channel flushed the batch the timer was armed for, and the timer only moves on to the
   * next one, without a hand-off to the lane.
   */
  private void timerDue() {
    long start = batchStart;
    if (start != 0) {
      long wait = start + ACK_DELAY_NANOS - System.nanoTime();
      if (wait > 0) {
        armTimer(wait);
        return;
      }
    }
    timerArmed.set(false);
    if (start != 0) {
      serial.execute(this::flushAcks);
    } else if (batchStart != 0 && timerArmed.compareAndSet(false, true)) {
      armTimer(ACK_DELAY_NANOS); // a batch began while this timer stood down, and saw it armed
    }
  }

  /** Registers a new delivery, in delivery order; forgets those of an earlier channel, which can no longer be acked. */
  private void track(Inbound in) {
    if (!unsettled.isEmpty() && unsettled.peekFirst().channel() != in.channel()) {
      unsettled.clear();
    }
    if (!toAck.isEmpty() && toAck.get(0).channel() != in.channel()) {
      flushAcks();
    }
    unsettled.addLast(in);
    long now = System.nanoTime();
    sparse = now - lastDelivery > SPARSE_NANOS;
    lastDelivery = now;
  }

  /** Forgets deliveries at the head that were settled on their own: a later multiple ack may cover them. */
  private void dropSettledHead() {
    while (!unsettled.isEmpty() && unsettled.peekFirst().settledAlone) {
      unsettled.pollFirst();
    }
  }

  private void flushAcks() {
    batchStart = 0;
    if (toAck.isEmpty()) {
      return;
    }
    Inbound last = toAck.get(toAck.size() - 1);
    try {
      // Safe: every earlier delivery on this channel is either in this batch or already settled on its own.
      last.channel().basicAck(last.tag(), toAck.size() > 1);
    } catch (IOException | ShutdownSignalException e) {
      LOG.debug("{}: channel lost before {} message(s) were acked; the broker redelivers them", last.describe(),
          toAck.size());
    } catch (RuntimeException e) {
      LOG.warn("{}: acking failed", last.describe(), e);
    } finally {
      int n = toAck.size();
      toAck.clear();
      for (int i = 0; i < n; i++) {
        owner.settled();
      }
    }
  }

  /** Puts the message back after the requeue delay (it keeps its prefetch slot meanwhile). */
  void requeueLater(Inbound in) {
    // basic.reject, not nack: RabbitMQ 4.3+ counts only rejects towards a quorum queue's delivery limit.
    Runnable requeue = () -> settleAlone(in, ch -> ch.basicReject(in.tag(), true));
    if (owner.stopping()) {
      requeue.run();
    } else {
      owner.shared().timer.schedule(() -> serial.execute(requeue), owner.settings().requeueDelay().toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  void settleAlone(Inbound in, ChannelOp op) {
    onLane(() -> settleNow(in, op));
  }

  /** Settles one delivery on its own, on the serial executor. */
  private void settleNow(Inbound in, ChannelOp op) {
    try {
      op.run(in.channel());
    } catch (IOException | ShutdownSignalException e) {
      LOG.debug("{}: channel lost before it was settled; the broker redelivers it", in.describe());
    } catch (RuntimeException e) {
      LOG.warn("{}: settling failed", in.describe(), e);
    } finally {
      in.settledAlone = true;
      dropSettledHead();
      owner.settled();
    }
  }

  interface ChannelOp {
    void run(Channel channel) throws IOException;
  }
}
