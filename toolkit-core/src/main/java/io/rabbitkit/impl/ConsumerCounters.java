package io.rabbitkit.impl;

import io.rabbitkit.MessageConsumer;
import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link MessageConsumer.Stats}. */
final class ConsumerCounters {
  final LongAdder received = new LongAdder();
  final LongAdder processed = new LongAdder();
  final LongAdder retriedInProcess = new LongAdder();
  final LongAdder delayed = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder requeued = new LongAdder();
  final LongAdder duplicates = new LongAdder();

  MessageConsumer.Stats snapshot() {
    return new MessageConsumer.Stats(received.sum(), processed.sum(), retriedInProcess.sum(), delayed.sum(),
        deadLettered.sum(), requeued.sum(), duplicates.sum());
  }
}
