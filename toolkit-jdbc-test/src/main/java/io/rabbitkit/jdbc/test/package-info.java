/**
 * Test support for the outbox and inbox: {@link io.rabbitkit.jdbc.test.OutboxComplianceSuite}, the
 * compliance suite to run against your own DataSource, and throw-away database servers for fault
 * tests ({@link io.rabbitkit.jdbc.test.ThrowawayDatabase}).
 */
package io.rabbitkit.jdbc.test;
