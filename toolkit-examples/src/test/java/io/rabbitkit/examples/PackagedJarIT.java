package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.test.ThrowawayBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The executable jar the build produces, run as a user would run it. */
@RabbitTest
class PackagedJarIT {

  private static final Path JAR = Path.of("target", "toolkit-examples.jar");

  record Result(int code, String output) {
  }

  static Result java(String uri, String... args) throws Exception {
    assertTrue(Files.exists(JAR), "run after `mvn package`: " + JAR.toAbsolutePath());
    ChildJvm.Builder example = ChildJvm.jar(JAR, args);
    if (uri != null) {
      example.env("RABBITMQ_URI", uri);
    }
    try (ChildJvm p = example.start()) {
      int code = p.waitFor(Duration.ofSeconds(120));
      return new Result(code, p.output());
    }
  }

  @Test
  void theJarListsItsExamplesAndRunsOneAgainstRabbitmqUri(RabbitBroker broker, TestNames names) throws Exception {
    Result help = java(null, "--help");
    assertEquals(0, help.code(), help.output());
    assertTrue(help.output().contains("hello-producer") && help.output().contains("orders-consumer"), help.output());

    String queue = names.queue("hello");
    Result sent = java(broker.uri(), "hello-producer", "--queue", queue);
    assertEquals(0, sent.code(), sent.output());
    assertEquals(" [x] Sent 'Hello World!'", sent.output().stripTrailing());
    Result received = java(broker.uri(), "hello-consumer", "--queue", queue, "--count", "1");
    assertEquals(0, received.code(), received.output());
    assertTrue(received.output().contains(" [x] Received 'Hello World!'"), received.output());
  }

  @Test
  void aConsumerWithoutCountRunsUntilCtrlCAndThenStopsGracefully(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("hello");
    try (ChildJvm consumer = ChildJvm.jar(JAR, "hello-consumer", "--queue", queue, "--uri", broker.uri()).start()) {
      consumer.awaitLine(" [*] Waiting for messages", Duration.ofSeconds(30));
      assertEquals(0, java(broker.uri(), "hello-producer", "--queue", queue).code());
      consumer.awaitLine(" [x] Received 'Hello World!'", Duration.ofSeconds(30));
      consumer.terminate(); // SIGTERM, as Ctrl-C would: the shutdown hook closes the consumer gracefully
      consumer.waitFor(Duration.ofSeconds(20));
    }
    try (io.rabbitkit.RabbitToolkit rabbit = broker.connect()) {
      io.rabbitkit.QueueInfo info = rabbit.queueInfo(queue).orElseThrow();
      assertEquals(0, info.messageCount(), "the message was acked before the process ended");
      assertEquals(0, info.consumerCount());
    }
  }

  @Test
  void theTourRunsEveryExampleEndToEndOnNamesOfItsOwnAndLeavesNothingBehind() throws Exception {
    try (ThrowawayBroker own = ThrowawayBroker.start()) {
      // Leftovers a shared broker may hold: the tour must neither consume nor replay them.
      try (io.rabbitkit.RabbitToolkit rabbit = io.rabbitkit.RabbitToolkit.connect(own.uri())) {
        rabbit.declare(io.rabbitkit.topology.Topology.of(io.rabbitkit.topology.Queue.classic("orders.placed.dlq"),
            io.rabbitkit.topology.Queue.classic("hello")));
        try (io.rabbitkit.Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey("orders.placed.dlq")
            .build()) {
          p.publish("leftover").join();
        }
      }
      Result tour = java(own.uri(), "tour");
      assertEquals(0, tour.code(), tour.output());
      for (String expected : List.of(" [x] Sent 'Hello World!'", " [x] Received 'Hello World!'", " [.] Got 832040",
          " [x] 'kern.critical':'disk full'", " [x] Replayed 1 dead letter(s) to 'tour-", " at offset 2",
          "Tour done.")) {
        assertTrue(tour.output().contains(expected), expected + " missing from:\n" + tour.output());
      }
      String queues = own.ctl("list_queues", "name", "messages");
      assertFalse(queues.contains("tour-"), "the tour left queues behind:\n" + queues);
      assertTrue(queues.contains("orders.placed.dlq\t1"), "the leftover dead letter was touched:\n" + queues);
      assertFalse(own.ctl("list_exchanges", "name").contains("tour-"), "the tour left exchanges behind");
    }
  }

  /**
   * A first run with no broker: the default address is moved where nothing listens, no URI is
   * given, and the tour starts a throw-away broker, completes on it and stops it on exit.
   */
  @Test
  void withNoBrokerReachableTheTourStartsItsOwnAndStopsItOnExit() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(ThrowawayBroker.canStart(), "neither rabbitmq-server nor Docker");
    String output;
    try (ChildJvm tour = ChildJvm.jar(JAR, "tour").withoutEnv("RABBITMQ_URI")
        .jvmOptions("-Drabbitkit.examples.default-uri=amqp://guest:guest@127.0.0.1:1/").start()) {
      int code = tour.waitFor(Duration.ofSeconds(180));
      output = tour.output();
      assertEquals(0, code, output);
    }
    java.util.regex.Matcher started = java.util.regex.Pattern
        .compile(
            " \\[\\*\\] No broker answers at 127\\.0\\.0\\.1:1: started a throw-away RabbitMQ for this run \\(amqp://([^/]+)/\\)")
        .matcher(output);
    assertTrue(started.find(), output);
    assertTrue(output.contains("Tour done."), output);
    String hostPort = started.group(1);
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress(hostPort.substring(0, hostPort.lastIndexOf(':')),
          Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1))), 1000);
      throw new AssertionError("the dev broker still answers at " + hostPort + " after the tour exited");
    } catch (java.io.IOException expected) {
      // stopped
    }
    // and with --dev-broker false the old clear error, plus no broker started
    String offOutput;
    try (ChildJvm off = ChildJvm.jar(JAR, "hello-producer", "--dev-broker", "false")
        .withoutEnv("RABBITMQ_URI") // CI's second pass points the suite at a broker
        .jvmOptions("-Drabbitkit.examples.default-uri=amqp://guest:guest@127.0.0.1:1/").start()) {
      int code = off.waitFor(Duration.ofSeconds(60));
      offOutput = off.output();
      assertEquals(1, code, offOutput);
    }
    assertTrue(offOutput.contains("connection refused") && !offOutput.contains("throw-away"), offOutput);
  }
}
