package io.rabbitkit.examples.partitioned;

import io.rabbitkit.Confirmation;
import io.rabbitkit.examples.Args;
import io.rabbitkit.stream.PartitionedPublisher;
import io.rabbitkit.stream.RabbitStreams;
import io.rabbitkit.stream.SuperStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes {@code --count} events over {@code --keys} keys (default 20) to super stream
 * 'orders-events' ({@code --partitions}, default 3; declared if missing with one day of retention),
 * each routed by its key, and exits once all are confirmed. With {@code --name} the producer is
 * de-duplicated: event i has publishing id i and id e-i, so running it again after a crash stores
 * nothing twice.
 *
 * <pre>java -jar toolkit-examples.jar partitioned-producer --count N [--keys K] [--partitions P] [--name NAME] [--stream-uri URI]</pre>
 */
public final class PartitionedProducer {

  static final String SUPER_STREAM = "orders-events";

  private PartitionedProducer() {
  }

  static SuperStream superStream(Args args) {
    return SuperStream.of(args.option("super-stream", SUPER_STREAM), (int) args.number("partitions", 3))
        .withMaxAge(Duration.ofDays(1));
  }

  public static int run(Args args, PrintStream out) {
    long count = args.count().orElse(1);
    int keys = (int) args.number("keys", 20);
    String name = args.option("name", null);
    String run = name != null ? "" : Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)) + "-";
    try (RabbitStreams streams = RabbitStreams.connect(args.streamUri())) {
      SuperStream superStream = superStream(args);
      streams.declare(superStream);
      PartitionedPublisher.Builder<PartitionedEvent> builder = streams.publisherBuilder(PartitionedEvent.class)
          .superStream(superStream).key(PartitionedEvent::key).messageId(PartitionedEvent::eventId);
      if (name != null) {
        builder.name(name).publishingId(e -> Long.parseLong(e.eventId().substring(2)));
      }
      int[] seq = new int[keys];
      try (PartitionedPublisher<PartitionedEvent> events = builder.build()) {
        List<CompletableFuture<Confirmation>> confirms = new ArrayList<>();
        for (long i = 1; i <= count; i++) {
          int k = (int) ((i - 1) % keys);
          seq[k]++;
          confirms.add(events.publish(new PartitionedEvent("k-" + k, seq[k], "e-" + run + i)));
        }
        CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new)).join();
      }
      out.println(" [x] Published " + count + " event(s) over " + keys + " key(s) to super stream '"
          + superStream.name() + "' (" + superStream.partitions() + " partitions)");
    }
    return 0;
  }
}
