/**
 * Exactly-once effects across PostgreSQL and RabbitMQ: the transactional {@link
 * io.rabbitkit.jdbc.Outbox} (messages written in the business transaction, published by an {@link
 * io.rabbitkit.jdbc.OutboxRelay} and deleted only after the broker's confirm) and the
 * transactional {@link io.rabbitkit.jdbc.Inbox} (a delivery's id recorded in the handler's
 * transaction, so a duplicate has no second effect). Built on toolkit-core's public API only; the
 * DDL is {@code io/rabbitkit/jdbc/schema.sql}.
 */
package io.rabbitkit.jdbc;
