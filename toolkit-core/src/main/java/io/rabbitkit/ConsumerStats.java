package io.rabbitkit;

/**
 * Counters of one consumer since it started. A snapshot; each field is exact but fields are read
 * one after another.
 *
 * @param received messages delivered to this consumer
 * @param processed messages handled successfully and acknowledged
 * @param retriedInProcess in-process retries (each extra handler call counts once)
 * @param redelivered messages moved to a delay queue for a later round
 * @param deadLettered messages moved to the dead-letter queue (or rejected to the queue's dead-letter exchange)
 * @param requeued messages put back on their queue after a failure
 * @param duplicates messages skipped because their id was already processed (with deduplication on)
 */
public record ConsumerStats(long received, long processed, long retriedInProcess, long redelivered, long deadLettered,
    long requeued, long duplicates) {}
