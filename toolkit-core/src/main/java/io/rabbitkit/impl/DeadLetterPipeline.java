package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import io.rabbitkit.Redelivery;
import io.rabbitkit.SafeText;
import io.rabbitkit.deadletter.FailureHeaders;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
  /** The rounds wait in the work queue itself (RabbitMQ 4.3+), not in delay queues. */
  private final boolean inQueue;
  private final String deadLetterQueue;
  private final int stackTraceLimit;
  /** Largest header table that fits a frame beside the other properties; 0 when frames are unbounded. */
  private final long headerBudget;
  private final AtomicBoolean truncationLogged = new AtomicBoolean();

  DeadLetterPipeline(String queue, ConfirmingSender sender, Redelivery redelivery, String deadLetterQueue,
      int frameMax) {
    this.queue = queue;
    this.sender = sender;
    this.delays = redelivery.delays();
    this.inQueue = redelivery.backend() == Redelivery.Backend.IN_QUEUE;
    this.deadLetterQueue = deadLetterQueue;
    // Headers travel in one frame: keep the stack trace to a small share of it.
    this.stackTraceLimit = frameMax <= 0 ? FailureHeaders.MAX_STACK_TRACE_LENGTH
        : Math.min(FailureHeaders.MAX_STACK_TRACE_LENGTH, frameMax / 8);
    this.headerBudget = frameMax <= 0 ? 0 : frameMax - 4096;
  }

  /** Whether a failed message gets delayed rounds before the dead-letter queue. */
  boolean hasRounds() {
    return !delays.isEmpty();
  }

  @Override
  public CompletionStage<Settlement> failed(Inbound in, Throwable cause) {
    int round = in.failedRounds() + 1;
    if (round > delays.size()) {
      return deadLetter(in, cause, round, FailureHeaders.REASON_HANDLER_FAILED);
    }
    Duration delay = delays.get(round - 1);
    if (inQueue) {
      // Rejected with requeue, the queue itself holds it for the delay: nothing to re-publish.
      return CompletableFuture.completedFuture(new Settlement.Delayed(round, delay, null, cause));
    }
    String target = Redelivery.delayQueueName(queue, delay);
    return move(in, target, headers(in, cause, round, FailureHeaders.REASON_HANDLER_FAILED, false),
        new Settlement.Delayed(round, delay, target, cause));
  }

  @Override
  public CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason) {
    return deadLetter(in, cause, in.failedRounds() + 1, reason);
  }

  private CompletionStage<Settlement> deadLetter(Inbound in, Throwable cause, int attempts, String reason) {
    return move(in, deadLetterQueue, headers(in, cause, attempts, reason, true),
        new Settlement.DeadLettered(reason, deadLetterQueue, attempts, cause));
  }

  /** Re-publishes to {@code targetQueue}; {@code moved} once confirmed, else a requeue (nothing is lost between queues). */
  private CompletionStage<Settlement> move(Inbound in, String targetQueue, Map<String, Object> headers,
      Settlement moved) {
    AMQP.BasicProperties props = Headers.republished(in.props(), headers);
    return sender.send(new Outbound("", targetQueue, true, props, in.body())).handle((ok, error) -> {
      if (error == null) {
        return moved;
      }
      LOG.warn("{}: could not move it to '{}' ({}); requeueing it", in.describe(), targetQueue,
          SafeText.of(error.getMessage(), 300));
      return new Settlement.Requeued(error);
    });
  }

  /**
   * The failure headers, written from what this consumer observed. Where the message came from
   * (exchange, routing key, first failure) is kept from an earlier round only when the message came
   * back from this queue's own delay queue; anything else a message carries under those names was
   * set by whoever published it, and is replaced. The work queue is always this consumer's.
   */
  private Map<String, Object> headers(Inbound in, Throwable cause, int attempts, String reason,
      boolean withStackTrace) {
    Map<String, Object> original = Headers.withoutBrokerHeaders(in.headers());
    Map<String, Object> h = new LinkedHashMap<>(original);
    Envelope env = in.envelope();
    String now = Instant.now().toString();
    boolean earlierRound = cameBackFromDelayQueue(in);
    h.put(FailureHeaders.ATTEMPTS, attempts);
    h.put(FailureHeaders.REASON, reason);
    if (!earlierRound || !h.containsKey(FailureHeaders.ORIGINAL_EXCHANGE)) {
      h.put(FailureHeaders.ORIGINAL_EXCHANGE, env.getExchange());
      h.put(FailureHeaders.ORIGINAL_ROUTING_KEY, env.getRoutingKey());
    }
    if (!earlierRound || !h.containsKey(FailureHeaders.FIRST_FAILED_AT)) {
      h.put(FailureHeaders.FIRST_FAILED_AT, now);
    }
    h.put(FailureHeaders.ORIGINAL_QUEUE, queue);
    h.put(FailureHeaders.FAILED_AT, now);
    h.put(FailureHeaders.EXCEPTION, cause.getClass().getName());
    h.put(FailureHeaders.EXCEPTION_MESSAGE,
        truncate(String.valueOf(cause.getMessage()), FailureHeaders.MAX_MESSAGE_LENGTH));
    h.remove(FailureHeaders.STACK_TRACE);
    if (withStackTrace) {
      String trace = stackTrace(cause);
      if (trace.length() > stackTraceLimit && truncationLogged.compareAndSet(false, true)) {
        LOG.warn(
            "stack traces of dead letters from queue '{}' are truncated to {} characters to stay under the frame size",
            queue, stackTraceLimit);
      }
      h.put(FailureHeaders.STACK_TRACE, truncate(trace, stackTraceLimit));
    }
    return fitFrame(in, h, original);
  }

  /** Whether the delivery is this queue's own message coming back from one of its delay queues. */
  private boolean cameBackFromDelayQueue(Inbound in) {
    Envelope env = in.envelope();
    if (!env.getExchange().isEmpty() || !queue.equals(env.getRoutingKey())) {
      return false;
    }
    Object deaths = in.headers().get("x-death");
    if (deaths instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> death) {
      Object from = death.get("queue");
      return from != null && from.toString().startsWith(queue + ".retry.");
    }
    return false;
  }

  /**
   * Keeps the headers inside the negotiated frame (amqp-client refuses a larger one, and the move
   * would fail for ever): cuts the stack trace first, then the exception message; if the message's
   * own headers alone are too large, moves it with the toolkit's facts only and says how many of
   * its headers were dropped.
   */
  private Map<String, Object> fitFrame(Inbound in, Map<String, Object> h, Map<String, Object> original) {
    if (headerBudget <= 0 || Headers.encodedSize(h) <= headerBudget) {
      return h;
    }
    Object trace = h.remove(FailureHeaders.STACK_TRACE);
    if (trace != null) {
      long room = headerBudget - Headers.encodedSize(h) - 64;
      if (room > 200) {
        h.put(FailureHeaders.STACK_TRACE, truncate(trace.toString(), (int) Math.min(stackTraceLimit, room / 3)));
      }
    }
    if (Headers.encodedSize(h) <= headerBudget) {
      return h;
    }
    h.remove(FailureHeaders.STACK_TRACE);
    h.put(FailureHeaders.EXCEPTION_MESSAGE, truncate(String.valueOf(h.get(FailureHeaders.EXCEPTION_MESSAGE)), 200));
    if (Headers.encodedSize(h) <= headerBudget) {
      return h;
    }
    Map<String, Object> minimal = new LinkedHashMap<>();
    h.forEach((k, v) -> {
      if (!original.containsKey(k) || TOOLKIT_FACTS.contains(k)) {
        minimal.put(k, v);
      }
    });
    minimal.put(FailureHeaders.DROPPED_HEADERS, original.size());
    LOG.warn(
        "{}: its own headers ({} bytes) leave no room in a {}-byte frame; moving it with the toolkit's headers only",
        in.describe(), Headers.encodedSize(original), headerBudget);
    return minimal;
  }

  private static final java.util.Set<String> TOOLKIT_FACTS = java.util.Set.of(FailureHeaders.ATTEMPTS,
      FailureHeaders.REASON, FailureHeaders.ORIGINAL_EXCHANGE, FailureHeaders.ORIGINAL_ROUTING_KEY,
      FailureHeaders.ORIGINAL_QUEUE, FailureHeaders.FIRST_FAILED_AT, FailureHeaders.FAILED_AT, FailureHeaders.EXCEPTION,
      FailureHeaders.EXCEPTION_MESSAGE);

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
