package io.rabbitkit.stream;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.deadletter.FailureHeaders;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer group's dead-letter queue: failed events are copied there over AMQP, confirmed, with
 * the toolkit's failure headers (and {@code toolkit-stream-offset}), so that {@code
 * rabbit.deadLetters(...)} lists and replays them like any other dead letter.
 */
final class DeadLetterCopies implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GroupMember.class);
  private static final Duration DEAD_LETTER_WAIT = Duration.ofSeconds(30);

  private final RabbitToolkit rabbit;
  private final String deadLetterQueue;
  private final String superStream;
  private final String group;
  private final BooleanSupplier stopping;
  /** One publisher per content type: a copy keeps its event's. */
  private final Map<String, Publisher<byte[]>> publishers = new ConcurrentHashMap<>();

  DeadLetterCopies(RabbitToolkit rabbit, String deadLetterQueue, String superStream, String group,
      BooleanSupplier stopping) {
    this.rabbit = rabbit;
    this.deadLetterQueue = deadLetterQueue;
    this.superStream = superStream;
    this.group = group;
    this.stopping = stopping;
  }

  /**
   * Copies a failed event to the dead-letter queue, trying again until it is confirmed; false if the
   * member stopped first (the event is then read again by the partition's next reader).
   */
  boolean copy(String partition, long offset, String key, String messageId, String contentType, byte[] body,
      Throwable failure) {
    String reason = failure instanceof MessageDecodingException ? FailureHeaders.REASON_UNDECODABLE
        : failure instanceof RejectMessageException ? FailureHeaders.REASON_REJECTED
        : FailureHeaders.REASON_HANDLER_FAILED;
    String now = Instant.now().toString();
    Map<String, Object> headers = new HashMap<>();
    headers.put(FailureHeaders.REASON, reason);
    headers.put(FailureHeaders.ATTEMPTS, 1);
    headers.put(FailureHeaders.EXCEPTION, failure.getClass().getName());
    headers.put(FailureHeaders.EXCEPTION_MESSAGE, SafeText.of(String.valueOf(failure.getMessage()), 1000));
    headers.put(FailureHeaders.STACK_TRACE, stackTrace(failure));
    headers.put(FailureHeaders.ORIGINAL_EXCHANGE, superStream);
    headers.put(FailureHeaders.ORIGINAL_ROUTING_KEY, key);
    headers.put(FailureHeaders.ORIGINAL_QUEUE, partition);
    headers.put(FailureHeaders.FIRST_FAILED_AT, now);
    headers.put(FailureHeaders.FAILED_AT, now);
    headers.put("toolkit-stream-offset", offset);
    io.rabbitkit.Message<byte[]> copy = io.rabbitkit.Message.of(body);
    if (messageId != null && !messageId.isEmpty()) {
      copy = copy.withMessageId(messageId);
    }
    for (Map.Entry<String, Object> h : headers.entrySet()) {
      copy = copy.withHeader(h.getKey(), h.getValue());
    }
    Publisher<byte[]> publisher = publishers.computeIfAbsent(
        contentType == null ? "application/octet-stream" : contentType,
        type -> rabbit.publisherBuilder(byte[].class).codec(MessageCodec.bytes(type))
            .routingKey(deadLetterQueue).build());
    while (true) {
      try {
        publisher.publish(copy).get(DEAD_LETTER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        LOG.warn("group '{}': event at offset {} of partition '{}' dead-lettered to '{}' ({}: {})", group,
            offset, partition, deadLetterQueue, reason, SafeText.of(String.valueOf(failure.getMessage()), 200));
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        if (stopping.getAsBoolean()) {
          return false;
        }
        LOG.warn("group '{}': copying the event at offset {} of partition '{}' to '{}' failed; trying again in 1 s "
            + "(the partition waits): {}", group, offset, partition, deadLetterQueue,
            StreamErrors.describe(e));
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
  }

  private static String stackTrace(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    String text = out.toString();
    return text.length() > 4000 ? text.substring(0, 4000) + "...[truncated]" : text;
  }

  @Override
  public void close() {
    publishers.values().forEach(Publisher::close);
  }
}
