package io.rabbitkit.bench;

/** One way of talking to RabbitMQ: hand-written amqp-client, or the toolkit. Runs each workload once. */
interface Side extends AutoCloseable {

  /**
   * Publishes {@code n} persistent messages to {@code queue} at {@code pace}, at most 1,000
   * unconfirmed; returns when all are confirmed. Records publish-to-confirm times in {@code
   * latencies} unless it is null.
   */
  Measurement.Timed publishConfirm(String queue, int n, Pace pace, Latencies latencies) throws Exception;

  /**
   * Consumes and acks {@code n} messages, decoding each; prefetch 250. With {@code feed} null they
   * are already in {@code queue}; otherwise {@code feed} is run once subscribed and publishes them
   * (from threads the measurement does not count). Records each message's latency in {@code
   * latencies} unless it is null.
   */
  Measurement.Timed consumeAck(String queue, int n, Runnable feed, Latencies latencies) throws Exception;

  /**
   * Reads the first {@code n} events of {@code stream} from its first offset, decoding each; credit
   * (prefetch) 250. Each run reads the same events again: a stream is not consumed away.
   */
  Measurement.Timed streamConsume(String stream, int n) throws Exception;

  /** Publishes at {@code pace} and consumes {@code n} messages at once; records each message's latency. */
  Measurement.Timed endToEnd(String queue, int n, Pace pace, Latencies latencies) throws Exception;

  /**
   * Runs an RPC server on {@code queue} and {@code callers} threads making {@code calls} calls in
   * all, together at {@code pace}.
   */
  Measurement.Timed rpc(String queue, int calls, int callers, Pace pace, Latencies latencies) throws Exception;

  @Override
  void close() throws Exception;
}
