package io.rabbitkit.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With the real OpenTelemetry Java agent (copied to target/agent by the build): each message is
 * traced once, by the agent while its RabbitMQ instrumentation is on, by the toolkit when it is
 * turned off. Spans are read from the agent's logging exporter, one line per span naming its tracer.
 */
@RabbitTest
class AgentIT {

  private static final Path AGENT = Path.of("target", "agent", "opentelemetry-javaagent.jar");
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void withTheAgentsRabbitmqInstrumentationOnTheToolkitStepsAside(RabbitBroker broker, TestNames names)
      throws Exception {
    String output = run(broker, names.queue("agent-on"));
    assertTrue(output.contains("active=false"), output);
    assertTrue(output.contains("[tracer: io.opentelemetry.rabbitmq"), "the agent traces: " + output);
    assertEquals(0, count(output, "[tracer: io.rabbitkit"), "and the toolkit does not: " + output);
  }

  @Test
  void withItOffTheToolkitTracesEachMessageOnce(RabbitBroker broker, TestNames names) throws Exception {
    String output = run(broker, names.queue("agent-off"), "-Dotel.instrumentation.rabbitmq.enabled=false");
    assertTrue(output.contains("active=true"), output);
    assertEquals(0, count(output, "[tracer: io.opentelemetry.rabbitmq"), output);
    assertEquals(1, count(output, "'publish' : "), "one publish span: " + output);
    assertEquals(1, count(output, "'process' : "), "one process span: " + output);
  }

  private static String run(RabbitBroker broker, String queue, String... options) throws Exception {
    assumeTrue(Files.isRegularFile(AGENT), "the build copies the agent to " + AGENT + " (mvn verify)");
    String[] jvm = new String[options.length + 5];
    jvm[0] = "-javaagent:" + AGENT.toAbsolutePath();
    jvm[1] = "-Dotel.traces.exporter=logging";
    jvm[2] = "-Dotel.metrics.exporter=none";
    jvm[3] = "-Dotel.logs.exporter=none";
    jvm[4] = "-Dotel.bsp.schedule.delay=50";
    System.arraycopy(options, 0, jvm, 5, options.length);
    try (ChildJvm child = ChildJvm.main(Traced.class, broker.uri(), queue).jvmOptions(jvm).start()) {
      assertEquals(0, child.waitFor(WAIT), child.output());
      return child.output();
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  /** Publishes and consumes one message, traced by whoever traces, then waits for the exporter. */
  public static final class Traced {
    public static void main(String[] args) throws Exception {
      String uri = args[0];
      // tag::opentelemetry[]
      RabbitkitTracing tracing = RabbitkitTracing.create(GlobalOpenTelemetry.get()); // or your OpenTelemetrySdk
      RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).interceptor(tracing).connect();
      // end::opentelemetry[]
      System.out.println("active=" + tracing.active());
      CountDownLatch handled = new CountDownLatch(1);
      try (rabbit) {
        rabbit.declare(Topology.of(Queue.classic(args[1])));
        try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(args[1]).build();
            MessageConsumer c = rabbit.consumerBuilder(String.class).queue(args[1]).handler(d -> handled.countDown())
                .build()) {
          p.publish("traced").get(10, TimeUnit.SECONDS);
          if (!handled.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not handled");
          }
        }
        rabbit.deleteQueue(args[1]);
      }
      Thread.sleep(1_000); // the batch span processor exports every 50 ms here
    }
  }
}
