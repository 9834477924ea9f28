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
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

  @Test
  void aPythonServiceReadsTheEventsStreamWithXStreamOffset(RabbitBroker broker, TestNames names) throws Exception {
    String stream = names.queue("events");
    ExamplesIT.Run run = ExamplesIT.example(broker, "events-producer", "--stream", stream, "--count", "3");
    assertEquals(0, run.code(), run.err());
    String read = python("""
        import json, pika, sys
        connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
        channel = connection.channel()
        channel.basic_qos(prefetch_count=10)
        seen = []
        def callback(ch, method, properties, body):
            event = json.loads(body)
            assert properties.message_id == event['eventId'], (properties.message_id, event)
            assert properties.content_type == 'application/json', properties.content_type
            seen.append(event)
            print("%d %s %s %s" % (properties.headers['x-stream-offset'], event['eventId'], event['kind'], event['at']))
            ch.basic_ack(delivery_tag=method.delivery_tag)
            if len(seen) == 3:
                ch.stop_consuming()
        channel.basic_consume(queue=sys.argv[2], on_message_callback=callback, arguments={'x-stream-offset': 'first'})
        channel.start_consuming()
        connection.close()
        """, broker.uri(), stream);
    java.util.List<String> lines = read.lines().toList();
    assertEquals(3, lines.size(), read);
    for (int i = 0; i < 3; i++) {
      String[] parts = lines.get(i).split(" ");
      assertEquals(Integer.toString(i), parts[0], "offsets from 0");
      assertTrue(parts[1].matches("e-[0-9a-f]+-" + (i + 1)), parts[1]);
      assertTrue(java.time.Instant.parse(parts[3]).isBefore(java.time.Instant.now().plusSeconds(1)), parts[3]);
    }
  }

  /** The tutorial's own declaration line for each entity, as pika runs it. */
  private static final String DECLARE = """
      import pika, sys
      connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
      channel = connection.channel()
      kind, name = sys.argv[2], sys.argv[3]
      if kind == 'queue':
          channel.queue_declare(queue=name)                # send.py, receive.py, rpc_server.py
      elif kind == 'task_queue':
          channel.queue_declare(queue=name, durable=True)  # new_task.py, worker.py
      else:
          channel.exchange_declare(exchange=name, exchange_type=kind)  # emit_log*.py, receive_logs*.py
      connection.close()
      print('declared')
      """;

  /**
   * Each tutorial entity in both start orders: the Java example first and then the tutorial's
   * declaration, and the tutorial's declaration first and then the Java example. Neither may fail
   * (the Java examples used to declare durable entities, and the tutorials then got
   * PRECONDITION_FAILED).
   */
  @Test
  void everyTutorialEntityWorksWhicheverSideDeclaresItFirst(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    record Case(String kind, String option, String[] example) {
    }
    List<Case> cases = List.of(
        new Case("queue", "--queue", new String[]{"hello-producer"}),
        new Case("task_queue", "--queue", new String[]{"work-queue", "producer", "--count", "1"}),
        new Case("fanout", "--exchange", new String[]{"pub-sub", "producer"}),
        new Case("direct", "--exchange", new String[]{"routing", "producer", "--severity", "error"}),
        new Case("topic", "--exchange", new String[]{"topics", "producer", "--routing-key", "kern.critical"}));
    for (Case c : cases) {
      for (boolean javaFirst : new boolean[]{true, false}) {
        String name = c.option().equals("--queue") ? names.queue(c.kind() + (javaFirst ? "-java" : "-pika"))
            : names.exchange(c.kind() + (javaFirst ? "-java" : "-pika"));
        String[] argv = java.util.stream.Stream.concat(java.util.Arrays.stream(c.example()),
            java.util.stream.Stream.of(c.option(), name)).toArray(String[]::new);
        if (!javaFirst) {
          assertEquals("declared", python(DECLARE, broker.uri(), c.kind(), name).strip());
        }
        ExamplesIT.Run run = ExamplesIT.example(broker, argv);
        assertEquals(0, run.code(), c.kind() + " javaFirst=" + javaFirst + ": " + run.err());
        if (javaFirst) {
          assertEquals("declared", python(DECLARE, broker.uri(), c.kind(), name).strip(), c.kind());
        }
      }
    }
  }

  /** rpc_server.py's queue and rpc_client.py's call against the Java server, in both start orders. */
  @Test
  void thePikaRpcClientCallsTheJavaServerWhicheverSideDeclaredRpcQueue(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    for (boolean javaFirst : new boolean[]{true, false}) {
      String queue = names.queue(javaFirst ? "rpc-java" : "rpc-pika");
      if (!javaFirst) {
        python(DECLARE, broker.uri(), "queue", queue);
      }
      CompletableFuture<ExamplesIT.Run> server = ExamplesIT.inBackground(broker, "rpc-server", "--queue", queue,
          "--count", "1");
      ExamplesIT.awaitConsumer(rabbit, queue);
      if (javaFirst) {
        python(DECLARE, broker.uri(), "queue", queue);
      }
      String reply = python("""
          import pika, sys, uuid
          connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
          channel = connection.channel()
          result = channel.queue_declare(queue='', exclusive=True)
          callback_queue = result.method.queue
          response = None
          corr_id = str(uuid.uuid4())
          def on_response(ch, method, props, body):
              global response
              if corr_id == props.correlation_id:
                  response = body
          channel.basic_consume(queue=callback_queue, on_message_callback=on_response, auto_ack=True)
          channel.basic_publish(exchange='', routing_key=sys.argv[2],
              properties=pika.BasicProperties(reply_to=callback_queue, correlation_id=corr_id), body=str(30))
          connection.process_data_events(time_limit=None)
          while response is None:
              connection.process_data_events(time_limit=1)
          print(" [.] Got %r" % response)
          connection.close()
          """, broker.uri(), queue);
      assertEquals("[.] Got b'832040'", reply.strip(), "javaFirst=" + javaFirst);
      ExamplesIT.Run run = server.get(30, TimeUnit.SECONDS);
      assertEquals(0, run.code(), run.err());
    }
  }
}
