package io.rabbitkit.examples.events;

import io.rabbitkit.Confirmation;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Appends {@code --count} events to stream {@code --stream} (default 'events', declared if missing
 * with a retention of one day), then waits for every confirm: it exits 0 once all are confirmed.
 *
 * <pre>java -jar toolkit-examples.jar events-producer --count N [--stream NAME]</pre>
 */
public final class EventsProducer {

  private static final String[] KINDS = {"order.placed", "order.paid", "order.shipped"};
  /** Events waiting for their confirm at once: publishing blocks beyond that. */
  private static final int PRINT_EACH_UP_TO = 100;

  private EventsProducer() {
  }

  /** The stream's name, and its declaration when missing: one day of retention. */
  static String declare(RabbitToolkit rabbit, Args args) {
    String stream = args.option("stream", "events");
    rabbit.declareMissing(Topology.of(Queue.stream(stream).withMaxAge(Duration.ofDays(1))));
    return stream;
  }

  public static int run(Args args, PrintStream out) {
    long count = args.count().orElse(1);
    String run = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      String stream = declare(rabbit, args);
      try (Publisher<Event> events = rabbit.publisherBuilder(Event.class).routingKey(stream)
          .messageId(Event::eventId).build()) {
        List<CompletableFuture<Confirmation>> confirms = new ArrayList<>();
        for (long i = 1; i <= count; i++) {
          Event event = new Event("e-" + run + "-" + i, KINDS[(int) (i % KINDS.length)], Instant.now().toString());
          CompletableFuture<Confirmation> confirmed = events.publish(event);
          if (count <= PRINT_EACH_UP_TO) {
            confirmed = confirmed.whenComplete((ok, error) -> out.println(error == null
                ? " [x] Sent event " + event.eventId() + " (" + event.kind() + ")"
                : " [!] Event " + event.eventId() + " not confirmed: " + error.getMessage()));
          }
          confirms.add(confirmed);
        }
        CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new)).join();
      }
      out.println(" [x] Published " + count + " event(s) to stream '" + stream + "'");
    }
    return 0;
  }
}
