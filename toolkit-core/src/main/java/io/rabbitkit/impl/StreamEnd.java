package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Finds the offset of a stream's last event. AMQP 0-9-1 has no call for it, and a consumer given an
 * offset beyond the end waits for it in silence (RabbitMQ 3.10 and 4.3, measured), so a start
 * offset is checked first: a short subscription at {@code last} reads the stream's last chunk.
 */
final class StreamEnd {

  /** How long an empty stream is given to send something; and the quiet that ends the last chunk. */
  private static final long FIRST_WAIT_MILLIS = 1_000;
  private static final long QUIET_MILLIS = 150;

  private StreamEnd() {
  }

  /** The offset of the last event {@code stream} holds, or -1 when it holds none. */
  static long lastOffset(RoleConnection connection, String stream) throws IOException, InterruptedException {
    Channel ch = connection.createChannel();
    try {
      ch.basicQos(1_000);
      AtomicLong last = new AtomicLong(-1);
      AtomicLong seenAt = new AtomicLong();
      Object signal = new Object();
      String tag = ch.basicConsume(stream, false, "", false, false, Map.of("x-stream-offset", "last"),
          new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties,
                byte[] body) throws IOException {
              Object offset = properties.getHeaders() == null ? null : properties.getHeaders().get("x-stream-offset");
              if (offset instanceof Number n) {
                last.accumulateAndGet(n.longValue(), Math::max);
              }
              seenAt.set(System.nanoTime());
              getChannel().basicAck(envelope.getDeliveryTag(), false);
              synchronized (signal) {
                signal.notifyAll();
              }
            }
          });
      long start = System.nanoTime();
      synchronized (signal) {
        while (true) {
          long now = System.nanoTime();
          long waited = seenAt.get() == 0 ? now - start : now - seenAt.get();
          long limit = TimeUnit.MILLISECONDS.toNanos(seenAt.get() == 0 ? FIRST_WAIT_MILLIS : QUIET_MILLIS);
          if (waited >= limit) {
            break;
          }
          signal.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(limit - waited)));
        }
      }
      ch.basicCancel(tag);
      return last.get();
    } finally {
      ManagedChannel.abortQuietly(ch);
    }
  }
}
