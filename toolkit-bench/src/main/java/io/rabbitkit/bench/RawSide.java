package io.rabbitkit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.rabbitkit.MessageIds;
import java.io.IOException;
import java.util.Date;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hand-written baseline, as an experienced amqp-client user would write it: separate publishing
 * and consuming connections, a confirm window tracked with a {@link ConfirmListener} and a sorted
 * map of outstanding sequence numbers, manual acks with {@code multiple=true} every {@value
 * #ACK_EVERY} deliveries, and the same Jackson encoding of the same record as the toolkit.
 */
final class RawSide implements Side {

  static final int WINDOW = 1000;
  static final int PREFETCH = 250;
  static final int ACK_EVERY = 50;
  /** With {@code -Dbench.traceparent=true} every message carries {@link Observability#TRACEPARENT}, on both sides. */
  private static final AMQP.BasicProperties PERSISTENT_JSON = new AMQP.BasicProperties.Builder()
      .contentType("application/json").deliveryMode(2).headers(Boolean.getBoolean("bench.traceparent")
          ? java.util.Map.of("traceparent", Observability.TRACEPARENT) : null)
      .build();
  /**
   * With {@code -Dbench.raw.ids=true} raw's messages carry what the toolkit adds to each one, a
   * message id from {@link MessageIds} and a timestamp, so that what those properties
   * cost (the client's encoding and the broker's work) falls on both sides.
   */
  private static final boolean IDS = Boolean.getBoolean("bench.raw.ids");

  private final MessageIds ids = new MessageIds();
  private final ObjectWriter writer;
  private final ObjectReader reader;
  private final Connection publishing;
  private final Connection consuming;

  RawSide(ConnectionFactory factory) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    this.writer = mapper.writerFor(Sample.class);
    this.reader = mapper.readerFor(Sample.class);
    this.publishing = factory.newConnection("bench-raw-publishing");
    this.consuming = factory.newConnection("bench-raw-consuming");
  }

  @Override
  public Measurement.Timed publishConfirm(String queue, int n, Pace pace, Latencies latencies) throws Exception {
    try (Channel ch = publishing.createChannel()) {
      Measurement m = Measurement.start();
      publishAll(ch, queue, n, pace.begin(), latencies).get(5, TimeUnit.MINUTES);
      return m.stop(n);
    }
  }

  @Override
  public Measurement.Timed consumeAck(String queue, int n, Runnable feed, Latencies latencies) throws Exception {
    try (Channel ch = consuming.createChannel()) {
      ch.basicQos(PREFETCH);
      CompletableFuture<Void> done = new CompletableFuture<>();
      Measurement m = Measurement.start();
      String tag = ch.basicConsume(queue, false, new AckingConsumer(ch, n, done, latencies));
      if (feed != null) {
        feed.run();
      }
      done.get(5, TimeUnit.MINUTES);
      Measurement.Timed timed = m.stop(n);
      ch.basicCancel(tag);
      return timed;
    }
  }

  @Override
  public Measurement.Timed streamConsume(String stream, int n) throws Exception {
    // As an expert reads a stream over AMQP 0-9-1: credit 250, x-stream-offset, a multiple ack every 50.
    try (Channel ch = consuming.createChannel()) {
      ch.basicQos(PREFETCH);
      CompletableFuture<Void> done = new CompletableFuture<>();
      Measurement m = Measurement.start();
      String tag = ch.basicConsume(stream, false, "", false, false, Map.of("x-stream-offset", "first"),
          new AckingConsumer(ch, n, done, null));
      done.get(5, TimeUnit.MINUTES);
      Measurement.Timed timed = m.stop(n);
      ch.basicCancel(tag);
      return timed;
    }
  }

  @Override
  public Measurement.Timed endToEnd(String queue, int n, Pace pace, Latencies latencies) throws Exception {
    try (Channel in = consuming.createChannel(); Channel out = publishing.createChannel()) {
      in.basicQos(PREFETCH);
      CompletableFuture<Void> consumed = new CompletableFuture<>();
      String tag = in.basicConsume(queue, false, new AckingConsumer(in, n, consumed, latencies));
      Measurement m = Measurement.start();
      CompletableFuture<Void> confirmed = publishAll(out, queue, n, pace.begin(), null);
      CompletableFuture.allOf(confirmed, consumed).get(5, TimeUnit.MINUTES);
      Measurement.Timed timed = m.stop(n);
      in.basicCancel(tag);
      return timed;
    }
  }

  /**
   * Publishes {@code n} samples in confirm mode at {@code pace}; the future completes when every one
   * is confirmed. The map of outstanding sequence numbers holds each one's publish time.
   */
  private CompletableFuture<Void> publishAll(Channel ch, String queue, int n, Pace pace, Latencies latencies)
      throws Exception {
    ch.confirmSelect();
    Semaphore window = new Semaphore(WINDOW);
    ConcurrentNavigableMap<Long, Long> outstanding = new ConcurrentSkipListMap<>();
    AtomicInteger confirmed = new AtomicInteger();
    CompletableFuture<Void> all = new CompletableFuture<>();
    ch.addConfirmListener(new ConfirmListener() {
      @Override
      public void handleAck(long tag, boolean multiple) {
        settled(tag, multiple);
      }

      @Override
      public void handleNack(long tag, boolean multiple) {
        all.completeExceptionally(new IOException("message " + tag + " nacked"));
        settled(tag, multiple);
      }

      private void settled(long tag, boolean multiple) {
        int count = settle(outstanding, tag, multiple, latencies);
        window.release(count);
        if (confirmed.addAndGet(count) == n) {
          all.complete(null);
        }
      }
    });
    for (int i = 0; i < n; i++) {
      pace.await();
      window.acquire();
      byte[] body = writer.writeValueAsBytes(Sample.of(i));
      long seq = ch.getNextPublishSeqNo();
      outstanding.put(seq, System.nanoTime());
      ch.basicPublish("", queue, IDS ? withId(ids.next()) : PERSISTENT_JSON, body);
    }
    return all;
  }

  private static AMQP.BasicProperties withId(String id) {
    return new AMQP.BasicProperties(PERSISTENT_JSON.getContentType(), null, PERSISTENT_JSON.getHeaders(), 2, null, null,
        null, null, id, new Date(), null, null, null, null);
  }

  /**
   * Removes what a confirm of {@code tag} settles from {@code outstanding} (sequence number to
   * publish time), records each one's latency unless {@code latencies} is null, and returns how many.
   */
  static int settle(ConcurrentNavigableMap<Long, Long> outstanding, long tag, boolean multiple, Latencies latencies) {
    int count = 0;
    if (multiple) {
      for (Iterator<Long> it = outstanding.headMap(tag, true).values().iterator(); it.hasNext();) {
        long sentAt = it.next();
        it.remove();
        count++;
        if (latencies != null) {
          latencies.since(sentAt);
        }
      }
    } else {
      Long sentAt = outstanding.remove(tag);
      if (sentAt != null) {
        count = 1;
        if (latencies != null) {
          latencies.since(sentAt);
        }
      }
    }
    return count;
  }

  /** Decodes each delivery and acks every {@value #ACK_EVERY}-th with multiple=true (and the last one). */
  private final class AckingConsumer extends DefaultConsumer {
    private final int expected;
    private final CompletableFuture<Void> done;
    private final Latencies latencies;
    private int received; // only touched by this channel's dispatch thread

    AckingConsumer(Channel ch, int expected, CompletableFuture<Void> done, Latencies latencies) {
      super(ch);
      this.expected = expected;
      this.done = done;
      this.latencies = latencies;
    }

    @Override
    public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
        throws IOException {
      if (received == expected) {
        // A stream read for fewer than it holds goes on delivering until the cancel. Acking those
        // raced the channel's close: the ack failed, the client's exception handler closed the channel
        // as well, and the run's own close threw (a CI failure in the warm-up, 1 run in 5 here).
        return;
      }
      Sample sample = reader.readValue(body);
      if (latencies != null) {
        latencies.since(sample.sentAt());
      }
      received++;
      if (received % ACK_EVERY == 0 || received == expected) {
        getChannel().basicAck(envelope.getDeliveryTag(), true);
      }
      if (received == expected) {
        done.complete(null);
      }
    }
  }

  @Override
  public Measurement.Timed rpc(String queue, int calls, int callers, Pace pace, Latencies latencies) throws Exception {
    try (Channel server = consuming.createChannel(); Channel client = publishing.createChannel()) {
      server.basicQos(PREFETCH);
      String serverTag = server.basicConsume(queue, false, new DefaultConsumer(server) {
        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
            throws IOException {
          Sample request = reader.readValue(body);
          AMQP.BasicProperties replyProps = new AMQP.BasicProperties.Builder()
              .contentType("application/json").correlationId(props.getCorrelationId()).build();
          server.basicPublish("", props.getReplyTo(), replyProps, writer.writeValueAsBytes(request));
          server.basicAck(envelope.getDeliveryTag(), false);
        }
      });
      Map<String, CompletableFuture<Sample>> pending = new ConcurrentHashMap<>();
      client.basicConsume("amq.rabbitmq.reply-to", true, new DefaultConsumer(client) {
        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
            throws IOException {
          CompletableFuture<Sample> call = pending.remove(props.getCorrelationId());
          if (call != null) {
            call.complete(reader.readValue(body));
          }
        }
      });
      Measurement.Timed timed = Measurement.concurrently(calls, callers, pace, id -> {
        String correlationId = Long.toString(id);
        CompletableFuture<Sample> reply = new CompletableFuture<>();
        pending.put(correlationId, reply);
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json")
            .correlationId(correlationId).replyTo("amq.rabbitmq.reply-to").build();
        byte[] body = writer.writeValueAsBytes(Sample.of(id));
        synchronized (client) { // a channel must not be used by two threads at once
          client.basicPublish("", queue, props, body);
        }
        latencies.since(reply.get(30, TimeUnit.SECONDS).sentAt());
      });
      server.basicCancel(serverTag);
      return timed;
    }
  }

  @Override
  public void close() throws Exception {
    publishing.close();
    consuming.close();
  }

  @Override
  public String toString() {
    return "raw";
  }
}
