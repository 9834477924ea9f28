/** JUnit 5 support for tests against a real RabbitMQ: {@link io.rabbitkit.test.RabbitTest}, unique names, awaiting, throw-away brokers. */
package io.rabbitkit.test;
