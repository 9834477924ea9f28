package io.rabbitkit.test.docs;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TcpProxy;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** docs/testing.md's fault tools, run as written on a node of the class's own. */
// @formatter:off
// tag::throwaway[]
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class ConnectionLossIT {

  @Test
  void publishingGoesOnAcrossAForcedClose(RabbitToolkit rabbit, ThrowawayBroker node) {
    rabbit.declare(Topology.of(Queue.quorum("payments")));  // fixed names are fine: the node is the class's own
    AtomicInteger handled = new AtomicInteger();
    try (MessageConsumer consumer = rabbit.consumerBuilder(String.class).queue("payments")
            .handler(d -> handled.incrementAndGet()).build();
        Publisher<String> payments = rabbit.publisherBuilder(String.class).routingKey("payments").build()) {
      payments.publish("before").join();
      node.closeAllConnections();                            // every client sees CONNECTION_FORCED
      payments.publish("after").join();                      // parked, then sent once recovered
      Await.until(Duration.ofSeconds(30), "both handled", () -> handled.get() == 2);
    }
  }
  // end::throwaway[]
  // @formatter:on

  @Test
  void aBlackHoleShowsInHealthAndPassesAway(RabbitBroker broker) {
    URI uri = URI.create(broker.uri());
    // @formatter:off
    // tag::tcp-proxy[]
    try (TcpProxy proxy = TcpProxy.to(uri.getHost(), uri.getPort());
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).port(proxy.port())
            .heartbeat(Duration.ofSeconds(1)).connect()) {  // a short heartbeat notices sooner
      proxy.blackHole();                                     // bytes vanish, nothing is closed
      Await.until(Duration.ofSeconds(20), "noticed", () -> !rabbit.health().healthy());
      proxy.restore();
      Await.until(Duration.ofSeconds(30), "recovered", () -> rabbit.health().healthy());
    }
    // end::tcp-proxy[]
    // @formatter:on
  }

  /** Prints "ready", then waits to be killed. */
  public static final class Worker {
    public static void main(String[] args) throws Exception {
      System.out.println("ready");
      Thread.sleep(60_000);
    }
  }

  @Test
  void aChildProcessIsKilledAtTheMomentThatMatters() throws Exception {
    // @formatter:off
    // tag::child-jvm[]
    try (ChildJvm worker = ChildJvm.main(Worker.class).jvmOptions("-Xmx64m").start()) {
      worker.awaitLine("ready", Duration.ofSeconds(30));     // fails with the child's output if it never comes
      worker.kill();                                         // SIGKILL: no shutdown hook, no clean close
    }
    // end::child-jvm[]
    // @formatter:on
  }
// @formatter:off
// tag::throwaway[]
}
// end::throwaway[]
// @formatter:on
