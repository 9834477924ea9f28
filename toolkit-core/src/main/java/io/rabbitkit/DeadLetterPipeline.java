package io.rabbitkit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import io.rabbitkit.deadletter.FailureHeaders;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The toolkit's failure pipeline: a failed message is re-published to the next delay queue (or,
 * after the last round or when it is poison, to the dead-letter queue) with the failure headers,
 * and the original is acknowledged only once that re-publish is confirmed. If the re-publish fails,
 * the original is requeued, so a message is never lost between queues.
 */
final class DeadLetterPipeline implements FailurePolicy {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPipeline.class);

  private final String queue;
  private final ConfirmingSender sender;
  private final List<Duration> delays;
  private final String deadLetterQueue;
  private final ConsumerCounters counters;
  private final ConsumerListener listener;
  private final Executor callbacks;
  private final int stackTraceLimit;
  private final AtomicBoolean truncationLogged = new AtomicBoolean();

  DeadLetterPipeline(String queue, ConfirmingSender sender, List<Duration> delays, String deadLetterQueue,
      ConsumerCounters counters, ConsumerListener listener, Executor callbacks, int frameMax) {
    this.queue = queue;
    this.sender = sender;
    this.delays = delays;
    this.deadLetterQueue = deadLetterQueue;
    this.counters = counters;
    this.listener = listener;
    this.callbacks = callbacks;
    // Headers travel in one frame: keep the stack trace to a small share of it.
    this.stackTraceLimit = frameMax <= 0 ? FailureHeaders.MAX_STACK_TRACE_LENGTH
        : Math.min(FailureHeaders.MAX_STACK_TRACE_LENGTH, frameMax / 8);
  }

  @Override
  public void failed(Inbound in, Throwable cause) {
    int round = in.failedRounds() + 1;
    if (round > delays.size()) {
      deadLetter(in, cause, round, FailureHeaders.REASON_HANDLER_FAILED);
      return;
    }
    Duration delay = delays.get(round - 1);
    String target = Redelivery.delayQueueName(queue, delay);
    move(in, target, headers(in, cause, round, FailureHeaders.REASON_HANDLER_FAILED, false), false, () -> {
      counters.redelivered.increment();
      LOG.info("{} failed (round {}: {}); retrying in {} via '{}'", in.describe(), round, Errors.brief(cause),
          Redelivery.format(delay), target);
      callbacks.execute(() -> listener.retryScheduled(queue, Names.orNone(in.messageId()), round, delay, cause));
    });
  }

  @Override
  public void poison(Inbound in, Throwable cause, String reason) {
    deadLetter(in, cause, in.failedRounds() + 1, reason);
  }

  private void deadLetter(Inbound in, Throwable cause, int attempts, String reason) {
    move(in, deadLetterQueue, headers(in, cause, attempts, reason, true), true, () -> {
      counters.deadLettered.increment();
      LOG.warn("{} dead-lettered to '{}' after {} attempt(s) ({}: {})", in.describe(), deadLetterQueue, attempts, reason,
          Errors.brief(cause));
      callbacks.execute(() -> listener.deadLettered(queue, Names.orNone(in.messageId()), reason, cause));
    });
  }

  private void move(Inbound in, String targetQueue, Map<String, Object> headers, boolean finalOutcome,
      Runnable onMoved) {
    AMQP.BasicProperties props = in.props().builder()
        .headers(headers)
        .deliveryMode(2)
        .expiration(null) // a per-message TTL would silently drop it from the dead-letter queue
        .build();
    sender.send(new ConfirmingSender.Outbound("", targetQueue, true, props, in.body())).whenComplete((ok, error) -> {
      if (error == null) {
        in.worker().ack(in, finalOutcome);
        onMoved.run();
      } else {
        LOG.warn("{}: could not move it to '{}' ({}); requeueing it", in.describe(), targetQueue, error.getMessage());
        in.worker().requeueLater(in, error);
      }
    });
  }

  private Map<String, Object> headers(Inbound in, Throwable cause, int attempts, String reason, boolean withStackTrace) {
    Map<String, Object> h = Headers.withoutBrokerHeaders(in.headers());
    Envelope env = in.envelope();
    String now = Instant.now().toString();
    h.put(FailureHeaders.ATTEMPTS, attempts);
    h.put(FailureHeaders.REASON, reason);
    h.putIfAbsent(FailureHeaders.ORIGINAL_EXCHANGE, env.getExchange());
    h.putIfAbsent(FailureHeaders.ORIGINAL_ROUTING_KEY, env.getRoutingKey());
    h.putIfAbsent(FailureHeaders.ORIGINAL_QUEUE, queue);
    h.putIfAbsent(FailureHeaders.FIRST_FAILED_AT, now);
    h.put(FailureHeaders.FAILED_AT, now);
    h.put(FailureHeaders.EXCEPTION, cause.getClass().getName());
    h.put(FailureHeaders.EXCEPTION_MESSAGE, truncate(String.valueOf(cause.getMessage()), FailureHeaders.MAX_MESSAGE_LENGTH));
    if (withStackTrace) {
      String trace = stackTrace(cause);
      if (trace.length() > stackTraceLimit && truncationLogged.compareAndSet(false, true)) {
        LOG.warn("stack traces of dead letters from queue '{}' are truncated to {} characters to stay under the frame size",
            queue, stackTraceLimit);
      }
      h.put(FailureHeaders.STACK_TRACE, truncate(trace, stackTraceLimit));
    } else {
      h.remove(FailureHeaders.STACK_TRACE);
    }
    return h;
  }

  private static final String TRUNCATED = "...[truncated]";

  static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, Math.max(0, max - TRUNCATED.length())) + TRUNCATED;
  }

  private static String stackTrace(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    return out.toString();
  }

  @Override
  public void close() {
    sender.close(Duration.ofSeconds(5));
  }
}
