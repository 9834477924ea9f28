package io.rabbitkit.bench;

/** One way of talking to RabbitMQ: hand-written amqp-client, or the toolkit. Runs each workload once. */
interface Side extends AutoCloseable {

  /** Publishes {@code n} persistent messages to {@code queue}, at most 1,000 unconfirmed; returns when all are confirmed. */
  Measurement.Timed publishConfirm(String queue, int n) throws Exception;

  /** Consumes and acks {@code n} messages already in {@code queue}, decoding each; prefetch 250. */
  Measurement.Timed consumeAck(String queue, int n) throws Exception;

  /** Publishes and consumes {@code n} messages at once; records each message's latency. */
  Measurement.Timed endToEnd(String queue, int n, Latencies latencies) throws Exception;

  /** Runs an RPC server on {@code queue} and {@code callers} threads making {@code calls} calls in all. */
  Measurement.Timed rpc(String queue, int calls, int callers, Latencies latencies) throws Exception;

  @Override
  void close() throws Exception;
}
