package io.rabbitkit.impl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warnings about single messages of one consumer, within its {@link WarnBudget}: a flood of bad
 * messages cannot flood the log. Thread-safe.
 */
final class MessageWarnings {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);

  private final String queue;
  private final WarnBudget budget = new WarnBudget();

  MessageWarnings(String queue) {
    this.queue = queue;
  }

  /** Logs at WARN unless the budget is spent; reports how many were dropped before it, if any. */
  void warn(String format, Object... args) {
    long dropped = budget.admit();
    if (dropped < 0) {
      return;
    }
    if (dropped > 0) {
      LOG.warn("{} more warning(s) about messages from queue '{}' were not logged (at most {} per {} s)", dropped,
          queue, WarnBudget.LIMIT, WarnBudget.WINDOW_NANOS / 1_000_000_000L);
    }
    LOG.warn(format, args);
  }

  /** Reports the warnings dropped since the last one let through (when the consumer stops). */
  void reportDropped() {
    long dropped = budget.takeSuppressed();
    if (dropped > 0) {
      LOG.warn("{} more warning(s) about messages from queue '{}' were not logged", dropped, queue);
    }
  }
}
