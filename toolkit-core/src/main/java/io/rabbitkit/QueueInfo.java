package io.rabbitkit;

/**
 * What the broker says about a queue right now.
 *
 * @param name the queue name
 * @param messageCount ready messages (not counting unacknowledged ones)
 * @param consumerCount active consumers
 */
public record QueueInfo(String name, long messageCount, int consumerCount) {
}
