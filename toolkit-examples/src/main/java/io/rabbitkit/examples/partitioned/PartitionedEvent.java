package io.rabbitkit.examples.partitioned;

/** One event of super stream 'orders-events': {@code {"key":"k-<j>","seq":<per-key sequence from 1>,"eventId":...}}. */
public record PartitionedEvent(String key, int seq, String eventId) {
}
