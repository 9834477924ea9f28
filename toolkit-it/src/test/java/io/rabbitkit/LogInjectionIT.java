package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Messages whose content type, id, headers and body carry line breaks and terminal escapes reach a
 * consumer whose every log line is captured (a JVM of its own at debug level): none of it can
 * forge a line or drive the terminal.
 */
@RabbitTest
class LogInjectionIT {

  static final String FORGED = "12:00:00.000 [main] WARN FAKE - everything is fine";

  @Test
  void nothingAMessageCarriesCanForgeALogLineOrReachTheTerminalRaw(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("logs");
    String out;
    byte[] output;
    try (ChildJvm child = ChildJvm.main(Scenario.class, broker.uri(), queue)
        .jvmOptions("-Dorg.slf4j.simpleLogger.defaultLogLevel=debug").start()) {
      assertEquals(0, child.waitFor(Duration.ofSeconds(60)), child.output());
      out = child.output();
      output = child.outputBytes();
    }
    assertTrue(out.contains("DONE 3"), out);
    assertTrue(out.contains("FAKE"), "the hostile text was logged, escaped: " + out);
    for (String line : out.lines().toList()) {
      assertFalse(line.startsWith(FORGED.substring(0, 20)), "forged line: " + line);
    }
    for (byte b : output) {
      assertTrue(b != 0x1b && b != 0x07, "a terminal escape reached the output");
    }
  }

  /** The child: publishes three hostile messages and consumes them with a dead-letter queue. */
  public static final class Scenario {
    public static void main(String[] args) throws Exception {
      String queue = args[1];
      try (RabbitToolkit rabbit = RabbitToolkit.connect(args[0])) {
        rabbit.declare(Topology.of(Queue.classic(queue)));
        try (Connection raw = RawClient.connect(args[0]); Channel ch = raw.createChannel()) {
          ch.confirmSelect();
          ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("text/x\n" + FORGED)
              .messageId("m-1\n" + FORGED).build(), "x".getBytes(StandardCharsets.UTF_8));
          ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentType("application/json")
              .messageId("\u001b[2J\u001b]0;pwned\u0007").headers(Map.of("h", "\r\n" + FORGED)).build(),
              ("{\"bad\n" + FORGED + "\u001b[31m").getBytes(StandardCharsets.UTF_8));
          ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().contentEncoding("gzip\n" + FORGED)
              .messageId("m-3").build(), new byte[]{(byte) 0xff, (byte) 0xfe, 0x1b});
          ch.waitForConfirmsOrDie(10_000);
        }
        try (MessageConsumer c =
            rabbit.consumerBuilder(DeadLetterMovesIT.Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
                .handler(d -> {
                }).build()) {
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          while (c.stats().deadLettered() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          System.out.println("DONE " + c.stats().deadLettered());
        }
        rabbit.deleteQueue(queue + ".dlq");
        rabbit.deleteQueue(queue);
      }
    }
  }
}
