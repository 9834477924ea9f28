package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A stream consumer whose connection the broker closes while it reads: it resumes after the last
 * event it finished, not at its start position again (other clients re-subscribe with the original
 * x-stream-offset and read everything twice).
 */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class StreamRecoveryIT {

  record Event(int n) {
  }

  @Test
  void aConsumerResumesAfterTheLastEventItFinishedWhenItsConnectionIsClosed(RabbitToolkit rabbit,
      ThrowawayBroker node) throws Exception {
    rabbit.declare(Topology.of(Queue.stream("recovering")));
    int events = 5_000;
    try (Publisher<Event> p = rabbit.publisherBuilder(Event.class).routingKey("recovering").build()) {
      List<CompletableFuture<Confirmation>> sent = new ArrayList<>();
      for (int i = 0; i < events; i++) {
        sent.add(p.publish(new Event(i)));
      }
      sent.forEach(CompletableFuture::join);
    }
    Map<Long, AtomicInteger> calls = new ConcurrentHashMap<>();
    AtomicInteger handled = new AtomicInteger();
    // The handler stops at each allowance until the test has closed the connections, so every close
    // lands mid-stream with events in flight, however long rabbitmqctl takes on a busy machine (with
    // a fixed pace, the consumer once finished the stream before the first close came).
    AtomicInteger allowance = new AtomicInteger(300);
    try (MessageConsumer c = rabbit.streamConsumerBuilder(Event.class).stream("recovering").name("survivor")
        .startAt(StreamOffset.first()).prefetch(100).handler(d -> {
          while (handled.get() >= allowance.get()) {
            Thread.sleep(1);
          }
          calls.computeIfAbsent(d.streamOffset().orElseThrow(), k -> new AtomicInteger()).incrementAndGet();
          handled.incrementAndGet();
        }).build()) {
      for (int close = 0; close < 3; close++) {
        int upTo = allowance.get();
        try {
          Await.until(Duration.ofSeconds(60), "events up to the allowance handled", () -> handled.get() >= upTo);
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + " after close " + close + ": handled " + handled.get() + ", "
              + c.stats() + ", running " + c.isRunning(), e);
        }
        node.closeAllConnections();
        allowance.addAndGet(close < 2 ? 1_000 : events);
      }
      Await.until(Duration.ofSeconds(60), "every event", () -> calls.size() == events);
      Thread.sleep(500);
      long twice = calls.values().stream().filter(n -> n.get() > 1).count();
      System.out.printf(
          "FIGURES stream recovery: %d events, 3 forced closes, %d handled twice, %d duplicates skipped%n",
          events, twice, c.stats().duplicates());
      assertEquals(0, twice, "an event was handled twice");
      // Read again at most the events in flight at each close (the prefetch), never from the start.
      assertTrue(c.stats().duplicates() <= 3 * 100, "read again: " + c.stats().duplicates());
      assertEquals(events, calls.size());
      // The last close may land after the last event was delivered: the consumer recovers after it.
      Await.until(Duration.ofSeconds(30), "subscribed again", c::isRunning);
    }
  }
}
