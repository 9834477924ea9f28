package io.rabbitkit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.rabbitmq.stream.Environment;
import com.rabbitmq.stream.OffsetSpecification;
import com.rabbitmq.stream.Producer;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.stream.ConsumerGroup;
import io.rabbitkit.stream.PartitionedPublisher;
import io.rabbitkit.stream.RabbitStreams;
import io.rabbitkit.stream.SuperStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The super-stream workloads' two sides: publishing {@code n} samples keyed by customer (997) to a super
 * stream of 3 partitions until all are confirmed, and reading {@code n} published before the clock
 * starts with one consumer group member (measured apart: together, the broker's share of two cores
 * made run-to-run spread larger than the difference measured). Raw is stream-client
 * as an expert writes it (hash routing, single active consumer, at most 10,000 unconfirmed); the
 * toolkit is {@link PartitionedPublisher} and {@link ConsumerGroup} (decoding, offsets stored every
 * 1,000 events, dead-letter wiring). Each run uses a fresh super stream, declared and deleted outside
 * the measurement.
 */
final class SuperStreamSides implements AutoCloseable {

  private static final int PARTITIONS = 3;

  private final Environment raw;
  private final RabbitStreams streams;
  private final RabbitToolkit rabbit;
  private final ObjectWriter writer = new ObjectMapper().writerFor(Sample.class);
  private final ObjectReader reader = new ObjectMapper().readerFor(Sample.class);
  private final String prefix;
  private final AtomicInteger runs = new AtomicInteger();

  private SuperStreamSides(Environment raw, RabbitStreams streams, RabbitToolkit rabbit, String prefix) {
    this.raw = raw;
    this.streams = streams;
    this.rabbit = rabbit;
    this.prefix = prefix;
  }

  /** Both sides on {@code streamUri}, or null (and a line saying why) when no stream protocol answers there. */
  static SuperStreamSides open(String streamUri, String amqpUri, String prefix, PrintStream out) {
    try {
      RabbitStreams streams = RabbitStreams.connect(streamUri);
      Environment raw = Environment.builder().uri(streamUri).build();
      return new SuperStreamSides(raw, streams, RabbitToolkit.connect(amqpUri), prefix);
    } catch (RuntimeException e) {
      out.println("super-stream     skipped: no stream protocol at " + streamUri.replaceAll("//[^@]*@", "//****@")
          + " (" + e.getMessage().lines().findFirst().orElse("") + ")");
      return null;
    }
  }

  private SuperStream fresh() {
    SuperStream s = SuperStream.of(prefix + "super-stream-" + runs.incrementAndGet(), PARTITIONS);
    streams.declare(s);
    return s;
  }

  /**
   * Raw: {@code n} samples published and confirmed. The producer is built before the clock starts
   * and closed after it stops, as the toolkit's is: closed inside, its batching thread ended before
   * the CPU was read and its share went uncounted (about 1.1 us per event, the raw side's figure
   * until this was found).
   */
  Measurement.Timed rawPublish(int n) throws Exception {
    SuperStream s = fresh();
    Producer producer = rawProducer(s);
    try {
      Measurement m = Measurement.start();
      rawSend(producer, n);
      return m.stop(n);
    } finally {
      producer.close();
      streams.delete(s.name());
    }
  }

  /** The toolkit: {@code n} samples published and confirmed. */
  Measurement.Timed toolkitPublish(int n) throws Exception {
    SuperStream s = fresh();
    try (PartitionedPublisher<Sample> publisher = streams.publisherBuilder(Sample.class).superStream(s)
        .key(Sample::customer).build()) {
      CompletableFuture<Void> confirmed = new CompletableFuture<>();
      AtomicInteger confirms = new AtomicInteger();
      Measurement m = Measurement.start();
      for (int i = 0; i < n; i++) {
        // The outcome callback (no future per event), as super-streams.md advises for producers that
        // only count their confirms.
        publisher.publish(Sample.of(i), (c, e) -> {
          if (confirms.incrementAndGet() == n) {
            confirmed.complete(null);
          }
        });
      }
      confirmed.get(5, TimeUnit.MINUTES);
      return m.stop(n);
    } finally {
      streams.delete(s.name());
    }
  }

  /** Raw: {@code n} samples, published before the clock starts, read and decoded by a group member. */
  Measurement.Timed rawConsume(int n) throws Exception {
    return timedRead(n, reading -> raw.consumerBuilder().superStream(reading.superStream).name("raw")
        .singleActiveConsumer().consumerUpdateListener(context -> OffsetSpecification.first())
        .messageHandler((context, message) -> {
          try {
            reader.readValue(message.getBodyAsBinary());
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
          reading.one();
        }).build()::close);
  }

  /** The toolkit: as {@link #rawConsume}, through a {@link ConsumerGroup}. */
  Measurement.Timed toolkitConsume(int n) throws Exception {
    return timedRead(n, reading -> streams.consumerGroupBuilder(Sample.class).superStream(reading.superStream)
        .group("toolkit").deadLetters(rabbit, prefix + "super-stream.dlq").handler(d -> reading.one()).build());
  }

  /** A fresh super stream filled with {@code n} samples (not timed), read by the consumer {@code start} opens. */
  private Measurement.Timed timedRead(int n, java.util.function.Function<Reading, AutoCloseable> start)
      throws Exception {
    SuperStream s = fresh();
    try {
      rawFill(s, n);
      Reading reading = new Reading(s.name(), n);
      try (AutoCloseable consumer = start.apply(reading)) {
        reading.done.get(5, TimeUnit.MINUTES);
        return reading.clock.stop(n - 1);
      }
    } finally {
      streams.delete(s.name());
    }
  }

  /**
   * The events of one timed read. The clock starts at the first event, on both sides, so that
   * setting up a consumer (a group member also checks the partitions and declares its dead-letter
   * queue) is not charged to the messages.
   */
  private static final class Reading {
    final String superStream;
    final int n;
    final AtomicInteger received = new AtomicInteger();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile Measurement clock;

    Reading(String superStream, int n) {
      this.superStream = superStream;
      this.n = n;
    }

    void one() {
      int i = received.incrementAndGet();
      if (i == 1) {
        clock = Measurement.start();
      }
      if (i == n) {
        done.complete(null);
      }
    }
  }

  /** Publishes {@code n} samples keyed by customer with raw stream-client; returns once all are confirmed. */
  private void rawFill(SuperStream s, int n) throws Exception {
    Producer producer = rawProducer(s);
    try {
      rawSend(producer, n);
    } finally {
      producer.close();
    }
  }

  private Producer rawProducer(SuperStream s) {
    return raw.producerBuilder().superStream(s.name()).routing(m -> (String) m.getApplicationProperties().get("key"))
        .producerBuilder().build();
  }

  private void rawSend(Producer producer, int n) throws Exception {
    Semaphore window = new Semaphore(10_000);
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    AtomicInteger confirms = new AtomicInteger();
    for (int i = 0; i < n; i++) {
      window.acquire();
      Sample sample = Sample.of(i);
      producer.send(producer.messageBuilder().properties().contentType("application/json").messageBuilder()
          .applicationProperties().entry("key", sample.customer()).messageBuilder()
          .addData(writer.writeValueAsBytes(sample)).build(), status -> {
            window.release();
            if (confirms.incrementAndGet() == n) {
              confirmed.complete(null);
            }
          });
    }
    confirmed.get(5, TimeUnit.MINUTES);
  }

  @Override
  public void close() {
    rabbit.deleteQueue(prefix + "super-stream.dlq");
    rabbit.close();
    raw.close();
    streams.close();
  }
}
