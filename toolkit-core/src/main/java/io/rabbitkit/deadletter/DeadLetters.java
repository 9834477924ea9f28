package io.rabbitkit.deadletter;

import java.util.List;
import java.util.function.Predicate;

/**
 * The dead letters of one work queue: list them with their reasons, replay them to the work queue,
 * or purge them. Obtain from {@code RabbitToolkit.deadLetters(queue)}. Thread-safe; operations on
 * the same dead-letter queue should not run concurrently.
 *
 * <pre>{@code
 * DeadLetters dead = rabbit.deadLetters("orders.placed");
 * dead.list(20).forEach(System.out::println);
 * long replayed = dead.replay(d -> d.failedWith(TimeoutException.class), 50);   // 50 per second
 * }</pre>
 *
 * <p>Replay publishes each chosen message to {@link #queue()} (or the queue given to {@link
 * #replayTo}), through the default exchange, so other queues bound to the original exchange do not
 * receive it again, and never to a queue named by a header: whoever published the message could
 * have set it. Its failure headers are removed, so it gets a fresh set of attempts; {@code
 * toolkit-replay-count} is incremented. A message is removed from the dead-letter queue only after
 * its replay is confirmed by the broker; one that cannot be delivered (the target queue is gone,
 * the broker refuses it) is logged, left in place and counted in {@link #skipped()}, and the replay
 * goes on with the next.
 */
public interface DeadLetters {

  /** Default replay rate, in messages per second. */
  int DEFAULT_REPLAY_RATE = 500;

  /** Returns the work queue these dead letters came from. */
  String queue();

  /** Returns the dead-letter queue. */
  String deadLetterQueue();

  /** Returns how many messages the dead-letter queue holds (0 if it does not exist). */
  long count();

  /** Returns up to {@code max} dead letters, oldest first, leaving them in place. */
  List<DeadLetter> list(int max);

  /**
   * Hands up to {@code max} dead letters, oldest first, to {@code visitor} one at a time, leaving
   * them in place: a summary of a large dead-letter queue (counts per failure, say) without holding
   * its letters in memory. The letters read stay unacknowledged until the read ends, then return to
   * the queue in their order; a read stops when {@code visitor} returns false, or when no letter
   * comes for two seconds.
   *
   * @return how many letters were visited
   */
  long browse(int max, Predicate<? super DeadLetter> visitor);

  /**
   * Replays the dead letters that match {@code filter}, at most {@code maxPerSecond} per second.
   * Those that do not match stay in the dead-letter queue.
   *
   * @return how many were replayed
   */
  long replay(Predicate<DeadLetter> filter, int maxPerSecond);

  /**
   * Like {@link #replay(Predicate, int)}, but to {@code targetQueue} instead of {@link #queue()}.
   *
   * @return how many were replayed
   */
  long replayTo(String targetQueue, Predicate<DeadLetter> filter, int maxPerSecond);

  /** Replays every dead letter at the default rate. */
  default long replayAll() {
    return replay(d -> true, DEFAULT_REPLAY_RATE);
  }

  /** Replays the dead letter with this message id, if there is one. */
  default long replay(String messageId) {
    return replay(d -> d.messageId().filter(messageId::equals).isPresent(), DEFAULT_REPLAY_RATE);
  }

  /**
   * Deletes every dead letter.
   *
   * @return how many were deleted
   */
  long purge();

  /**
   * Deletes the dead letters that match {@code filter}; the others stay, in their order.
   *
   * @return how many were deleted
   */
  long purge(Predicate<DeadLetter> filter);

  /** Returns how many messages this object has replayed since it was created. */
  long replayed();

  /** Returns how many dead letters a replay of this object could not deliver (and left in place) since it was created. */
  long skipped();
}
