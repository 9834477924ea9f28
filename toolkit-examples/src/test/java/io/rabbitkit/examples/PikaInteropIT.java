package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hello-world examples against the pika guide's snippets as written, run by Python's pika. Needs
 * {@code /usr/bin/python3} with pika (Debian: {@code python3-pika}); without it these tests are
 * reported as skipped, and {@link ExamplesIT} still checks the same wire format with amqp-client.
 */
@RabbitTest
class PikaInteropIT {

  private static final String PYTHON = "/usr/bin/python3";
  private static boolean pika;

  @BeforeAll
  static void findPika() throws Exception {
    if (Files.isExecutable(Path.of(PYTHON))) {
      Process p = new ProcessBuilder(PYTHON, "-c", "import pika").redirectErrorStream(true).start();
      pika = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
  }

  private static String python(String script, String... args) throws Exception {
    assumeTrue(pika, "python3 with pika is not installed (apt-get install python3-pika)");
    String[] command = new String[args.length + 3];
    command[0] = PYTHON;
    command[1] = "-c";
    command[2] = script;
    System.arraycopy(args, 0, command, 3, args.length);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "pika script hung");
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), output);
    return output;
  }

  @Test
  void helloConsumerReceivesWhatThePikaProducerSnippetSends(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("hello");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    python("""
        import pika, sys
        connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
        channel = connection.channel()
        channel.basic_publish(exchange='', routing_key=sys.argv[2], body='Hello World!')
        connection.close()
        """, broker.uri(), queue);
    ExamplesIT.Run run = ExamplesIT.example(broker, "hello-consumer", "--queue", queue, "--count", "1");
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains(" [x] Received 'Hello World!'"), run.out());
  }

  @Test
  void aPikaConsumerReadsWhatHelloProducerSends(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("hello");
    ExamplesIT.Run run = ExamplesIT.example(broker, "hello-producer", "--queue", queue);
    assertEquals(0, run.code(), run.err());
    String received = python("""
        import pika, sys
        connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
        channel = connection.channel()
        def callback(ch, method, properties, body):
            print(" [x] Received %r" % body)
            ch.basic_ack(delivery_tag=method.delivery_tag)
            ch.stop_consuming()
        channel.basic_consume(queue=sys.argv[2], on_message_callback=callback)
        channel.start_consuming()
        connection.close()
        """, broker.uri(), queue);
    assertEquals(" [x] Received b'Hello World!'", received.stripTrailing());
  }
}
