package io.rabbitkit.impl;

import io.github.resilience4j.retry.Retry;
import io.rabbitkit.Health;
import io.rabbitkit.Redelivery;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a consumer is built from, decided once when it is built: what becomes of a failed message
 * (the dead-letter pipeline with its delay queues or in-queue rounds, the queue's own dead-letter
 * exchange, or a delayed requeue), the queue's delivery limit and its guard, and the auxiliary
 * queues the pipeline needs, declared before the consumer subscribes.
 */
final class ConsumerWiring {

  private static final Logger LOG = LoggerFactory.getLogger(io.rabbitkit.RabbitToolkit.class);

  private final Toolkit toolkit;
  private final Admin admin;

  ConsumerWiring(Toolkit toolkit, Admin admin) {
    this.toolkit = toolkit;
    this.admin = admin;
  }

  /** A consumer as {@code b} describes it, its auxiliary queues declared; not started. */
  <T> Wired<T> wire(ConsumerBuilder<T> b) {
    String queue = b.queue;
    boolean pipeline = b.redelivery != null || b.deadLetterQueue != null;
    String dlq = b.deadLetterQueue != null ? b.deadLetterQueue : queue + ".dlq";
    // With a known count, take no more than will be handled (see QueueConsumer.finishedOneMustWait).
    int channels = b.stopAfter > 0 ? (int) Math.min(b.concurrency, b.stopAfter) : b.concurrency;
    int perChannel = b.stopAfter > 0 ? (int) Math.min(b.prefetch, Math.max(1, b.stopAfter / channels)) : b.prefetch;
    Optional<Queue> declared = admin.declaredQueue(queue);
    boolean hasDlx = b.deadLetterExchangeOnQueue || declared.flatMap(Queue::deadLetterExchange).isPresent();
    int limit = hasDlx ? DeliveryLimitGuard.NO_LIMIT : declared.map(q -> q.type() != Queue.Type.QUORUM
        ? DeliveryLimitGuard.NO_LIMIT
        : q.deliveryLimit().orElse(DeliveryLimitGuard.DEFAULT_QUORUM_DELIVERY_LIMIT))
        .orElse(DeliveryLimitGuard.UNKNOWN_LIMIT);
    if (!pipeline && !hasDlx && limit != DeliveryLimitGuard.NO_LIMIT && limit != DeliveryLimitGuard.UNKNOWN_LIMIT) {
      LOG.warn("queue '{}' is a quorum queue with a delivery limit of {} and no dead-letter exchange: a message "
          + "that keeps failing is moved to '{}' before the broker would drop it", queue, limit, dlq);
    }
    QueueConsumer.Settings<T> settings = new QueueConsumer.Settings<>(queue, b.codec, b.handler, b.asyncHandler,
        perChannel, channels, b.retry == null ? null : Retry.of("consumer-" + queue, b.retry), b.requeueDelay,
        b.maxBodySize, b.drainTimeout, b.listener, b.deduplicate, b.stopAfter, backend(queue, b.redelivery, declared),
        null);
    FailurePolicy failures;
    if (pipeline) {
      Redelivery tiers = b.redelivery != null ? b.redelivery : Redelivery.none();
      // Rounds in the queue itself need no delay queues: the dead-letter queue only.
      declareAuxiliaryQueues(queue, dlq, tiers.backend() == Redelivery.Backend.IN_QUEUE ? Redelivery.none() : tiers);
      failures = deadLetterPipeline(queue, tiers, dlq, perChannel * channels);
    } else if (hasDlx) {
      failures = FailurePolicy.rejectToDeadLetterExchange();
    } else {
      failures = FailurePolicy.requeue();
    }
    int window = perChannel * channels;
    return new Wired<>(settings, failures, warnings -> new DeliveryLimitGuard(limit, () -> {
      if (admin.declaredQueue(dlq).isEmpty()) {
        admin.declareMissing(Topology.of(Queue.classic(dlq)));
      }
      return deadLetterPipeline(queue, Redelivery.none(), dlq, window);
    }, warnings));
  }

  /**
   * A stream consumer as {@code sb} describes it: the stream checked (it exists, is a stream as far
   * as this toolkit knows, and holds the start offset), its dead-letter queue declared; not started.
   * A failed event is retried in process, then copied to the dead-letter queue: a stream cannot
   * requeue, and there are no delay rounds (the events behind it would wait).
   */
  <T> Wired<T> wireStream(StreamConsumerBuilder<T> sb, RoleConnection consuming) {
    ConsumerBuilder<T> b = sb.common;
    String stream = b.queue;
    String who = "consumer '" + sb.name + "' of stream '" + stream + "'";
    Optional<Queue> declared = admin.declaredQueue(stream);
    if (declared.isPresent() && declared.get().type() != Queue.Type.STREAM) {
      throw new StreamException(StreamException.Reason.NOT_A_STREAM, who + " cannot start: '" + stream + "' is a "
          + declared.get().type().brokerName() + " queue, not a stream", null);
    }
    if (admin.queueInfo(stream).isEmpty()) {
      throw new StreamException(StreamException.Reason.NO_SUCH_STREAM, who + " cannot start: no stream '" + stream
          + "' (declare it with Queue.stream)", null);
    }
    QueueConsumer.StreamMode mode = new QueueConsumer.StreamMode(sb.name, sb.start, sb.offsets, sb.lockQueue());
    Object start = mode.startArgument(stream);
    if (start instanceof Long offset) {
      long last;
      try {
        last = StreamEnd.lastOffset(consuming, stream);
      } catch (IOException e) {
        throw Errors.topology("reading the end of", "stream '" + stream + "'", e);
      } catch (InterruptedException e) {
        throw Errors.interrupted("reading the end of stream '" + stream + "'", e);
      }
      if (offset > last + 1) {
        boolean stored = sb.offsets.lastDone(stream, sb.name).isPresent();
        throw new StreamException(StreamException.Reason.OFFSET_BEYOND_END, who + " cannot start at offset " + offset
            + (stored ? ", after the last event it finished (as " + sb.offsets + " keeps it)" : "")
            + ": the stream ends at offset " + last + (stored ? " (was it deleted and declared again?)" : ""), null);
      }
    }
    String dlq = sb.deadLetterQueueName();
    if (admin.declaredQueue(dlq).isEmpty()) {
      admin.declareMissing(Topology.of(Queue.classic(dlq)));
    }
    QueueConsumer.Settings<T> settings = new QueueConsumer.Settings<>(stream, b.codec, b.handler, b.asyncHandler,
        b.prefetch, 1, b.retry == null ? null : Retry.of("stream-consumer-" + stream + "-" + sb.name, b.retry),
        b.requeueDelay, b.maxBodySize, b.drainTimeout, b.listener, null, b.stopAfter, Redelivery.Backend.DELAY_QUEUES,
        mode);
    FailurePolicy failures = deadLetterPipeline(stream, Redelivery.none(), dlq, b.prefetch);
    return new Wired<>(settings, failures,
        warnings -> new DeliveryLimitGuard(DeliveryLimitGuard.NO_LIMIT, () -> failures, warnings));
  }

  /** A consumer's settings and policies; the guard is made with the consumer's warnings. */
  record Wired<T>(QueueConsumer.Settings<T> settings, FailurePolicy failures,
      java.util.function.Function<MessageWarnings, DeliveryLimitGuard> guard) {
  }

  /**
   * The redelivery backend a consumer of {@code queue} uses; for rounds in the queue itself, checks
   * that the broker can delay them (RabbitMQ 4.3+) and that the queue, if declared through the
   * toolkit, is a quorum queue declared to delay them as {@code redelivery} expects.
   */
  private Redelivery.Backend backend(String queue, Redelivery redelivery, Optional<Queue> declared) {
    if (redelivery == null || redelivery.backend() != Redelivery.Backend.IN_QUEUE) {
      return Redelivery.Backend.DELAY_QUEUES;
    }
    Health.Broker broker = toolkit.broker();
    if (!broker.delayedRetry()) {
      throw new IllegalStateException("Redelivery.inQueue needs RabbitMQ 4.3 or later, which delays redeliveries in "
          + "quorum queues; this broker is " + broker.product() + " " + broker.version()
          + ": use Redelivery.after(...), whose delay queues work on every version");
    }
    declared.ifPresentOrElse(q -> {
      List<Duration> delays = redelivery.delays();
      Object min = q.arguments().get("x-delayed-retry-min");
      Object max = q.arguments().get("x-delayed-retry-max");
      boolean matches = q.type() == Queue.Type.QUORUM && "failed".equals(q.arguments().get("x-delayed-retry-type"))
          && min instanceof Number n && n.longValue() == delays.get(0).toMillis()
          && max instanceof Number x && x.longValue() >= delays.get(delays.size() - 1).toMillis();
      if (!matches) {
        throw new IllegalStateException("Redelivery.inQueue needs queue '" + queue + "' declared as a quorum queue "
            + "with withDelayedRetry(" + delays.get(0) + ", max), max at least " + delays.get(delays.size() - 1)
            + "; it was declared as " + q.type().brokerName() + " with " + q.arguments());
      }
    }, () -> LOG.warn("queue '{}' was not declared through this toolkit: Redelivery.inQueue cannot check that it is a "
        + "quorum queue that delays redeliveries (withDelayedRetry); without that, rounds come back at once", queue));
    return Redelivery.Backend.IN_QUEUE;
  }

  /**
   * Declares {@link #auxiliaryQueues}. Delay queues that exist with other arguments (classic ones
   * from an earlier version where quorum ones are wanted now, or the other way round from a process
   * that knew less about the work queue) are kept as they are, with a warning: redeclaring them is
   * refused, and deleting them could lose what waits in them.
   */
  private void declareAuxiliaryQueues(String queue, String dlq, Redelivery tiers) {
    boolean quorum = admin.declaredQueue(queue).map(q -> q.type() == Queue.Type.QUORUM).orElse(false);
    Topology aux = auxiliaryQueues(queue, dlq, tiers, quorum);
    try {
      admin.declare(aux);
    } catch (TopologyException e) {
      if (e.replyCode() != 406 || tiers.delays().isEmpty()) {
        throw e;
      }
      admin.declareMissing(aux);
      LOG.warn("the delay queues of queue '{}' exist with other arguments than {} ones; they are kept as they are. "
          + "A quorum work queue's delay queues should be quorum queues with at-least-once dead-lettering (else a "
          + "message whose wait ends while '{}' is missing or full is lost): delete them when empty to have them so",
          queue, quorum ? "quorum" : "classic", queue);
    }
  }

  /**
   * Delay queues (each dead-letters back to {@code queue} after its TTL) and the dead-letter queue if
   * not declared. The hop back is the broker's dead-lettering, which by default is at most once: a
   * message whose TTL ends while the work queue is missing or refuses it (full, reject-publish) is
   * dropped. For a work queue declared as a quorum queue the tiers are quorum queues with
   * at-least-once dead-lettering (RabbitMQ 3.10+): the broker keeps the message in its tier until
   * the work queue takes it.
   */
  private Topology auxiliaryQueues(String queue, String dlq, Redelivery tiers, boolean quorum) {
    Topology.Builder aux = Topology.builder();
    for (Duration delay : tiers.delays()) {
      String name = Redelivery.delayQueueName(queue, delay);
      Queue tier = quorum
          ? Queue.quorum(name).withOverflow(Queue.Overflow.REJECT_PUBLISH)
              .withArgument("x-dead-letter-strategy", "at-least-once")
          : Queue.classic(name);
      aux.queue(tier.withMessageTtl(delay).withDeadLetterExchange("").withDeadLetterRoutingKey(queue));
    }
    if (admin.declaredQueue(dlq).isEmpty()) {
      aux.queue(Queue.classic(dlq));
    }
    return aux.build();
  }

  private FailurePolicy deadLetterPipeline(String queue, Redelivery tiers, String dlq, int window) {
    ConfirmingSender sender = toolkit.sender("dead-letter publisher of queue '" + queue + "'",
        SenderOptions.forDeadLetters(window));
    return new DeadLetterPipeline(queue, sender, tiers, dlq, toolkit.publishing().frameMax());
  }
}
