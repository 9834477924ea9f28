package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.internal.Checks;
import io.rabbitkit.internal.ShortStrings;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a dead-letter queue on a private channel, holding what it reads
 * unacknowledged: replayed messages are acknowledged (removed) after their re-publish is confirmed;
 * everything else returns to the queue when the channel closes. Reading at most the count seen at
 * the start means a message that fails again during a replay is not read twice.
 */
final class DefaultDeadLetters implements DeadLetters {

  private static final Logger LOG = LoggerFactory.getLogger(DefaultDeadLetters.class);
  private static final List<String> FAILURE_HEADERS = List.of(FailureHeaders.ATTEMPTS, FailureHeaders.REASON,
      FailureHeaders.EXCEPTION, FailureHeaders.EXCEPTION_MESSAGE, FailureHeaders.STACK_TRACE,
      FailureHeaders.FIRST_FAILED_AT, FailureHeaders.FAILED_AT);

  /** How long a read waits for the next letter before taking the queue as read to its end. */
  private static final Duration QUIET_FOR = Duration.ofSeconds(2);

  private final Toolkit toolkit;
  private final String queue;
  private final String deadLetterQueue;
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();

  DefaultDeadLetters(Toolkit toolkit, String queue, String deadLetterQueue) {
    this.toolkit = toolkit;
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
  }

  @Override
  public String queue() {
    return queue;
  }

  @Override
  public String deadLetterQueue() {
    return deadLetterQueue;
  }

  @Override
  public long count() {
    return toolkit.queueInfo(deadLetterQueue).map(QueueInfo::messageCount).orElse(0L);
  }

  @Override
  public List<DeadLetter> list(int max) {
    List<DeadLetter> out = new ArrayList<>();
    browse(max, out::add);
    return out;
  }

  /**
   * The letters read return to the queue when the reading channel closes, but the broker's queue
   * takes them back asynchronously: without this wait a {@code count()} right after {@code list()}
   * could miss them (a test saw 0 once). Waits at most a second.
   */
  private void awaitReturned(long before) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (count() < before && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public long browse(int max, Predicate<? super DeadLetter> visitor) {
    if (max < 0) {
      throw new IllegalArgumentException("max must be >= 0: " + max);
    }
    java.util.Objects.requireNonNull(visitor, "visitor");
    long[] seen = {0};
    long before = scan(max, false, (ch, response, letter) -> {
      seen[0]++;
      return visitor.test(letter);
    });
    if (seen[0] > 0) {
      awaitReturned(before);
    }
    return seen[0];
  }

  @Override
  public long replay(Predicate<DeadLetter> filter, int maxPerSecond) {
    return replayTo(queue, filter, maxPerSecond);
  }

  @Override
  public long replayTo(String targetQueue, Predicate<DeadLetter> filter, int maxPerSecond) {
    java.util.Objects.requireNonNull(targetQueue, "targetQueue");
    java.util.Objects.requireNonNull(filter, "filter");
    ShortStrings.check("targetQueue", targetQueue);
    Checks.atLeastOne("maxPerSecond", maxPerSecond);
    long interval = TimeUnit.SECONDS.toNanos(1) / maxPerSecond;
    long[] next = {System.nanoTime()};
    long[] count = {0};
    long[] skippedNow = {0};
    ConfirmingSender sender = toolkit.sender("replay of '" + deadLetterQueue + "'",
        SenderOptions.forReplay());
    try {
      scan(Integer.MAX_VALUE, true, (ch, response, letter) -> {
        if (!filter.test(letter)) {
          return true;
        }
        pace(next, interval);
        // To the queue these dead letters belong to (or the one the caller named), never to a queue a
        // header names: whoever published the message could have set that header.
        try {
          sender.send(new Outbound("", targetQueue, true, replayProperties(response.getProps()),
              response.getBody())).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          Throwable why = e instanceof ExecutionException ? e.getCause() : e;
          skippedNow[0]++;
          skipped.incrementAndGet();
          LOG.warn("dead letter {} in '{}' could not be replayed to '{}' and stays there: {}",
              SafeText.of(letter.messageId().orElse(null)), deadLetterQueue, targetQueue,
              SafeText.of(String.valueOf(why.getMessage()), 300));
          return true;
        }
        ch.basicAck(response.getEnvelope().getDeliveryTag(), false);
        count[0]++;
        replayed.incrementAndGet();
        return true;
      });
    } finally {
      sender.close(Duration.ofSeconds(5));
    }
    LOG.info("replayed {} dead letter(s) from '{}' to '{}'{}", count[0], deadLetterQueue, targetQueue,
        skippedNow[0] == 0 ? "" : "; " + skippedNow[0] + " could not be delivered and stay");
    return count[0];
  }

  private static void pace(long[] next, long interval) throws InterruptedException {
    long wait = next[0] - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
    next[0] = Math.max(next[0], System.nanoTime() - interval) + interval;
  }

  @Override
  public long purge() {
    if (toolkit.queueInfo(deadLetterQueue).isEmpty()) {
      return 0;
    }
    return toolkit.purgeQueue(deadLetterQueue);
  }

  @Override
  public long purge(Predicate<DeadLetter> filter) {
    java.util.Objects.requireNonNull(filter, "filter");
    long[] count = {0};
    scan(Integer.MAX_VALUE, true, (ch, response, letter) -> {
      if (filter.test(letter)) {
        ch.basicAck(response.getEnvelope().getDeliveryTag(), false);
        count[0]++;
      }
      return true;
    });
    LOG.info("purged {} dead letter(s) from '{}'", count[0], deadLetterQueue);
    return count[0];
  }

  @Override
  public long replayed() {
    return replayed.get();
  }

  @Override
  public long skipped() {
    return skipped.get();
  }

  interface Visitor {
    /** Returns whether to go on. */
    boolean visit(Channel channel, GetResponse response, DeadLetter letter) throws Exception;
  }

  /**
   * Visits up to {@code max} of the letters waiting, oldest first; returns how many were waiting when
   * it began. With {@code get}, one {@code basic.get} per letter: nothing read ahead of the visitor,
   * for visitors that acknowledge some letters and leave others (a consumer's prefetch would fill
   * with the ones left). Without, a consumer that may read every letter ahead of the visitor: about
   * ten times faster, for quick visitors that acknowledge nothing.
   */
  private long scan(int max, boolean get, Visitor visitor) {
    long available = count();
    if (available == 0 || max == 0) {
      return available;
    }
    Channel ch;
    try {
      ch = toolkit.consuming().createChannel();
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel to read '" + deadLetterQueue + "'", e);
    }
    try {
      long wanted = Math.min(available, max);
      BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
      if (!get) {
        ch.basicQos(wanted > 65_535 ? 0 : (int) wanted); // 0: no limit
        ch.basicConsume(deadLetterQueue, false, (tag, d) -> deliveries.add(d), tag -> {
        });
      }
      for (long i = 0; i < wanted; i++) {
        GetResponse response = get ? ch.basicGet(deadLetterQueue, false) : next(deliveries);
        if (response == null) {
          break; // fewer than counted: another reader took some
        }
        if (!visitor.visit(ch, response, toDeadLetter(response))) {
          break;
        }
      }
    } catch (InterruptedException e) {
      throw Errors.interrupted("reading dead letters", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof ToolkitException te ? te : Errors.io("replaying a dead letter", e.getCause());
    } catch (TimeoutException e) {
      throw new ToolkitException.TransportException("replaying a dead letter timed out", e);
    } catch (Exception e) {
      throw Errors.topology("reading", "queue '" + deadLetterQueue + "'", e);
    } finally {
      ManagedChannel.abortQuietly(ch); // unacknowledged messages return to the queue
    }
    return available;
  }

  private static GetResponse next(BlockingQueue<Delivery> deliveries) throws InterruptedException {
    Delivery d = deliveries.poll(QUIET_FOR.toMillis(), TimeUnit.MILLISECONDS);
    return d == null ? null : new GetResponse(d.getEnvelope(), d.getProperties(), d.getBody(), 0);
  }

  DeadLetter toDeadLetter(GetResponse response) {
    AMQP.BasicProperties p = response.getProps();
    Map<String, Object> headers = Headers.toJava(p.getHeaders());
    Map<String, Object> death = firstDeath(headers);
    String originalQueue = firstNonNull(Headers.string(headers, FailureHeaders.ORIGINAL_QUEUE),
        death == null ? null : Headers.string(death, "queue"), queue);
    String originalExchange = firstNonNull(Headers.string(headers, FailureHeaders.ORIGINAL_EXCHANGE),
        death == null ? null : Headers.string(death, "exchange"), "");
    String originalRoutingKey = firstNonNull(Headers.string(headers, FailureHeaders.ORIGINAL_ROUTING_KEY),
        death == null ? null : firstRoutingKey(death), originalQueue);
    String reason = firstNonNull(Headers.string(headers, FailureHeaders.REASON),
        death == null ? null : Headers.string(death, "reason"), "unknown");
    int attempts = Headers.integer(headers, FailureHeaders.ATTEMPTS,
        death == null ? 0 : Headers.integer(death, "count", 0));
    return new DeadLetter(Optional.ofNullable(p.getMessageId()), originalQueue, originalExchange, originalRoutingKey,
        reason, Optional.ofNullable(Headers.string(headers, FailureHeaders.EXCEPTION)),
        Optional.ofNullable(Headers.string(headers, FailureHeaders.EXCEPTION_MESSAGE)),
        Optional.ofNullable(Headers.string(headers, FailureHeaders.STACK_TRACE)), attempts,
        instant(headers, FailureHeaders.FIRST_FAILED_AT), instant(headers, FailureHeaders.FAILED_AT),
        Optional.ofNullable(p.getContentType()), headers, response.getBody());
  }

  private AMQP.BasicProperties replayProperties(AMQP.BasicProperties original) {
    Map<String, Object> headers = Headers.withoutBrokerHeaders(original.getHeaders());
    FAILURE_HEADERS.forEach(headers::remove);
    headers.put(FailureHeaders.REPLAY_COUNT, Headers.integer(headers, FailureHeaders.REPLAY_COUNT, 0) + 1);
    return Headers.republished(original, headers).builder().timestamp(new Date()).build();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> firstDeath(Map<String, Object> headers) {
    Object deaths = headers.get("x-death");
    if (deaths instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
      return (Map<String, Object>) first;
    }
    return null;
  }

  private static String firstRoutingKey(Map<String, Object> death) {
    Object keys = death.get("routing-keys");
    if (keys instanceof List<?> list && !list.isEmpty()) {
      return String.valueOf(list.get(0));
    }
    return null;
  }

  private static Optional<Instant> instant(Map<String, Object> headers, String name) {
    String value = Headers.string(headers, name);
    if (value == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(value));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  private static String firstNonNull(String a, String b, String c) {
    return a != null ? a : b != null ? b : c;
  }
}
