package io.rabbitkit.bench;

/**
 * One timed run: throughput, latency percentiles in milliseconds (NaN where not measured) and the
 * bytes the client's threads allocated per message.
 */
record Result(double perSecond, double p50, double p99, double allocPerMessage) {
}
