/**
 * Super streams over RabbitMQ's stream protocol: {@link io.rabbitkit.stream.RabbitStreams} declares
 * them, {@link io.rabbitkit.stream.PartitionedPublisher} publishes routed by key and de-duplicated,
 * and {@link io.rabbitkit.stream.ConsumerGroup} reads them with one active consumer per partition
 * across processes, in the toolkit's handler, retry and dead-letter model. Built on toolkit-core's
 * public API and {@code com.rabbitmq:stream-client}.
 */
package io.rabbitkit.stream;
