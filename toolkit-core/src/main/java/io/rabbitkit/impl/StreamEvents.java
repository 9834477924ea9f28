package io.rabbitkit.impl;

import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.ToolkitException.StreamException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream consumer's events, one at a time and in order: the next starts when the previous is
 * finished (handled, or its dead-letter copy confirmed) and its offset stored, so a stored offset
 * means every event before it is finished too. An event that is not finished (its dead-letter copy
 * failed) is tried again after the requeue delay: a stream cannot requeue, and the events behind
 * it wait. Everything here runs on the channel's lane.
 */
final class StreamEvents {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);

  private final QueueConsumer<?> consumer;
  private final QueueConsumer.StreamMode mode;
  private final String stream;
  /** The last event in progress. */
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
  /** The offset of the last event this consumer finished, in this process. */
  private long lastFinished = -1;

  StreamEvents(QueueConsumer<?> consumer) {
    this.consumer = consumer;
    this.mode = consumer.settings().stream();
    this.stream = consumer.settings().queue();
  }

  void process(Inbound in) {
    CompletableFuture<Void> previous = tail;
    tail = previous.isDone() ? safely(in) : previous.thenComposeAsync(ignored -> safely(in), in.worker().serial);
  }

  /** A failure here is a bug; it must not stop the stream (every later event waits on this one). */
  private CompletableFuture<Void> safely(Inbound in) {
    try {
      return event(in, true).exceptionally(e -> {
        LOG.error("{}: processing failed unexpectedly", in.describe(), e);
        return null;
      });
    } catch (RuntimeException e) {
      LOG.error("{}: processing failed unexpectedly", in.describe(), e);
      return CompletableFuture.completedFuture(null);
    }
  }

  private CompletableFuture<Void> event(Inbound in, boolean first) {
    if (consumer.limitReached() || consumer.stopping()) {
      // Not started: the offset stays before it, so it is read again at the next start.
      in.worker().settleAlone(in, ch -> ch.basicAck(in.tag(), false));
      return CompletableFuture.completedFuture(null);
    }
    if (in.streamOffset() <= lastFinished) {
      // Read again after a recovery re-subscribed behind events this consumer still had in progress.
      consumer.record(in, Settlement.DUPLICATE);
      return CompletableFuture.completedFuture(null);
    }
    if (first) {
      consumer.counters().received.increment();
    }
    CompletableFuture<Settlement> decided = consumer.processor().process(in)
        .handle((s, error) -> s != null ? s : (Settlement) new Settlement.Requeued(DeliveryProcessor.unwrap(error)))
        .toCompletableFuture();
    SerialExecutor lane = in.worker().serial;
    return decided.isDone() && lane.isCurrentThread() ? finish(in, decided.join())
        : decided.thenComposeAsync(s -> finish(in, s), lane);
  }

  private CompletableFuture<Void> finish(Inbound in, Settlement s) {
    if (s instanceof Settlement.Requeued r) {
      long delay = consumer.settings().requeueDelay().toMillis();
      consumer.warnings().warn("{} failed ({}); trying it again in {} ms", in.describe(), Errors.brief(r.cause()),
          delay);
      CompletableFuture<Void> again = new CompletableFuture<>();
      consumer.shared().timer.schedule(() -> in.worker().serial.execute(() -> event(in, false)
          .whenComplete((ok, e) -> again.complete(null))), delay, TimeUnit.MILLISECONDS);
      return again;
    }
    lastFinished = in.streamOffset();
    try {
      mode.offsets().done(stream, mode.name(), in.streamOffset());
    } catch (RuntimeException e) {
      LOG.warn("{}: storing the offset of consumer '{}' failed; after a restart the event is read again: {}",
          in.describe(), mode.name(), Errors.rootMessage(e));
    }
    consumer.record(in, s);
    return CompletableFuture.completedFuture(null);
  }

  /** Why the broker would not let a stream consumer start, as a typed error. */
  static RuntimeException refused(QueueConsumer.Settings<?> settings, Exception e) {
    ShutdownSignalException sse = Errors.shutdownSignal(e);
    int code = sse == null ? 0 : Errors.replyCode(sse);
    String text = Errors.replyText(e);
    String who = "consumer '" + settings.stream().name() + "' of stream '" + settings.queue() + "'";
    if (code == 405) {
      return new StreamException(StreamException.Reason.NAME_IN_USE, who + " cannot start: another connection reads "
          + "the stream under this name (it holds queue '" + settings.stream().lockQueue() + "'); one process at "
          + "a time may use a consumer name", e);
    }
    if (code == 406 && text.contains("x-stream-offset")) {
      return new StreamException(StreamException.Reason.NOT_A_STREAM, who + " cannot start: '" + settings.queue()
          + "' is not a stream (" + text + ")", e);
    }
    if (code == 404) {
      return new StreamException(StreamException.Reason.NO_SUCH_STREAM, who + " cannot start: no stream '"
          + settings.queue() + "'", e);
    }
    return Errors.topology("consuming from", "stream '" + settings.queue() + "'", e);
  }
}
