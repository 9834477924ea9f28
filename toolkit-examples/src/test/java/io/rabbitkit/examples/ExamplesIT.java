package io.rabbitkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Each example run against the broker, its output checked. Names are unique per test via --queue/--exchange. */
@RabbitTest
class ExamplesIT {

  /** Captured output of one example run. */
  record Run(int code, String out, String err) {
  }

  static Run example(RabbitBroker broker, String... argv) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] withUri = new String[argv.length + 1];
    System.arraycopy(argv, 0, withUri, 0, argv.length);
    withUri[argv.length] = "--uri=" + broker.uri();
    int code = Examples.run(withUri, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static CompletableFuture<Run> inBackground(RabbitBroker broker, String... argv) {
    return CompletableFuture.supplyAsync(() -> example(broker, argv));
  }

  static void awaitConsumer(RabbitToolkit rabbit, String queue) {
    Await.until(Duration.ofSeconds(20), queue + " has a consumer",
        () -> rabbit.queueInfo(queue).map(q -> q.consumerCount() > 0).orElse(false));
  }

  /** A raw amqp-client connection: publishes and reads the way other clients (pika) do. */
  static Connection raw(RabbitBroker broker) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(broker.uri().endsWith("/") ? broker.uri() + "%2F" : broker.uri());
    return f.newConnection();
  }

  /**
   * The orders work queue for this test, with the queues its consumer derives from it (dead-letter
   * queue, delay tiers) registered for deletion too: the example's own toolkit declares those.
   */
  static String ordersQueue(TestNames names, String... tiers) {
    String queue = names.queue("orders.placed");
    names.queue("orders.placed.dlq");
    for (String tier : tiers) {
      names.queue("orders.placed.retry." + tier);
    }
    return queue;
  }

  static long lines(String out, String text) {
    return out.lines().filter(l -> l.contains(text)).count();
  }

  @Test
  void helloProducerSendsHelloWorldAsPlainTextThroughTheDefaultExchange(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("hello");
    Run run = example(broker, "hello-producer", "--queue", queue);
    assertEquals(0, run.code(), run.err());
    assertEquals(" [x] Sent 'Hello World!'", run.out().stripTrailing());
    try (Connection c = raw(broker); Channel ch = c.createChannel()) {
      GetResponse r = ch.basicGet(queue, true);
      assertEquals("Hello World!", new String(r.getBody(), StandardCharsets.UTF_8));
      assertEquals("", r.getEnvelope().getExchange());
      assertEquals(queue, r.getEnvelope().getRoutingKey());
      assertEquals("text/plain", r.getProps().getContentType());
      assertEquals(2, r.getProps().getDeliveryMode());
    }
  }

  @Test
  void helloConsumerPrintsAPlainStringFromAnotherClientAndStopsAfterCount(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) throws Exception {
    String queue = names.queue("hello");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (Connection c = raw(broker); Channel ch = c.createChannel()) {
      // What pika's basic_publish(exchange='', routing_key=queue, body='Hello World!') puts on the wire.
      ch.basicPublish("", queue, null, "Hello World!".getBytes(StandardCharsets.UTF_8));
      ch.basicPublish("", queue, null, "second".getBytes(StandardCharsets.UTF_8));
    }
    Await.until(Duration.ofSeconds(5), () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 2);
    Run run = example(broker, "hello-consumer", "--queue", queue, "--count", "1");
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains(" [*] Waiting for messages. To exit press CTRL+C"), run.out());
    assertEquals(1, lines(run.out(), " [x] Received 'Hello World!'"), run.out());
    assertEquals(0, lines(run.out(), "second"), "--count 1 handles exactly one message");
    assertEquals(1, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void asyncCallbackConfirmsAndFinishesEveryMessageThroughCallbacks(RabbitBroker broker, TestNames names) {
    Run run = example(broker, "async-callback", "--queue", names.queue("async"), "--count", "3");
    assertEquals(0, run.code(), run.err());
    for (int i = 1; i <= 3; i++) {
      assertEquals(1, lines(run.out(), " [x] Confirmed 'message " + i + "'"), run.out());
      assertEquals(1, lines(run.out(), " [x] Received 'message " + i + "', finishing it later"), run.out());
      assertEquals(1, lines(run.out(), " [x] Done with 'message " + i + "'"), run.out());
    }
  }

  @Test
  void rpcClientGetsItsAnswerFromRpcServer(RabbitBroker broker, RabbitToolkit rabbit, TestNames names) {
    String queue = names.queue("rpc_queue");
    CompletableFuture<Run> server = inBackground(broker, "rpc-server", "--queue", queue, "--count", "2");
    awaitConsumer(rabbit, queue);
    Run client = example(broker, "rpc-client", "--queue", queue, "--n", "30");
    assertEquals(0, client.code(), client.err());
    assertEquals(" [x] Requesting fib(30)\n [.] Got 832040", client.out().stripTrailing());
    Run failing = example(broker, "rpc-client", "--queue", queue, "--n", "100");
    assertEquals(1, failing.code());
    assertTrue(failing.out().contains(" [!] Failed: java.lang.IllegalArgumentException: fib is defined here for"),
        failing.out());
    Run done = server.join();
    assertEquals(0, done.code(), done.err());
    assertTrue(done.out().contains(" [x] Awaiting RPC requests") && done.out().contains(" [.] fib(30)"), done.out());
  }

  @Test
  void rpcClientFailsFastWhenNoServerQueueExists(RabbitBroker broker, TestNames names) {
    Run run = example(broker, "rpc-client", "--queue", names.queue("nobody"), "--timeout", "5s");
    assertEquals(1, run.code());
    assertTrue(run.out().contains("returned as unroutable"), run.out());
  }

  @Test
  void workQueueTasksAreDoneByAWorker(RabbitBroker broker, TestNames names) {
    String queue = names.queue("task_queue");
    Run producer = example(broker, "work-queue", "producer", "--queue", queue, "--count", "3");
    assertEquals(3, lines(producer.out(), " [x] Sent 'Hello World... #"), producer.out());
    Run worker = example(broker, "work-queue", "consumer", "--queue", queue, "--count", "3", "--work-ms", "1");
    assertEquals(0, worker.code(), worker.err());
    assertEquals(3, lines(worker.out(), " [x] Received 'Hello World... #"), worker.out());
    assertEquals(3, lines(worker.out(), " [x] Done"), worker.out());
  }

  @Test
  void pubSubDeliversToEverySubscriber(RabbitBroker broker, RabbitToolkit rabbit, TestNames names) throws Exception {
    String exchange = names.exchange("logs");
    LineLatch first = new LineLatch("Waiting for logs");
    LineLatch second = new LineLatch("Waiting for logs");
    CompletableFuture<Integer> a = subscribe(broker, first, "pub-sub", "consumer", "--exchange", exchange);
    CompletableFuture<Integer> b = subscribe(broker, second, "pub-sub", "consumer", "--exchange", exchange);
    first.await();
    second.await();
    Run producer = example(broker, "pub-sub", "producer", "--exchange", exchange, "--message", "info: hi");
    assertEquals(" [x] Sent 'info: hi'", producer.out().stripTrailing());
    assertEquals(0, a.get(20, TimeUnit.SECONDS));
    assertEquals(0, b.get(20, TimeUnit.SECONDS));
    assertEquals(1, lines(first.text(), " [x] '':'info: hi'"), first.text());
    assertEquals(1, lines(second.text(), " [x] '':'info: hi'"), second.text());
    rabbit.deleteExchange(exchange);
  }

  /** Runs a subscriber that stops after one message, its output going to {@code latch}. */
  static CompletableFuture<Integer> subscribe(RabbitBroker broker, LineLatch latch, String... argv) {
    String[] all = java.util.Arrays.copyOf(argv, argv.length + 3);
    all[argv.length] = "--count";
    all[argv.length + 1] = "1";
    all[argv.length + 2] = "--uri=" + broker.uri();
    return CompletableFuture.supplyAsync(() -> Examples.run(all, latch.stream(), System.err));
  }

  @Test
  void routingDeliversOnlyTheBoundSeverities(RabbitBroker broker, TestNames names) throws Exception {
    String exchange = names.exchange("direct_logs");
    LineLatch ready = new LineLatch("Waiting for logs");
    CompletableFuture<Integer> consumer = subscribe(broker, ready, "routing", "consumer", "--exchange", exchange,
        "--severities", "error");
    ready.await();
    assertEquals(0, example(broker, "routing", "producer", "--exchange", exchange, "--severity", "info").code());
    Run error = example(broker, "routing", "producer", "--exchange", exchange, "--severity", "error",
        "--message", "disk full");
    assertEquals(" [x] Sent 'error':'disk full'", error.out().stripTrailing());
    assertEquals(0, consumer.get(20, TimeUnit.SECONDS));
    assertEquals(1, lines(ready.text(), " [x] 'error':'disk full'"), ready.text());
    assertEquals(0, lines(ready.text(), "'info'"), ready.text());
  }

  @Test
  void topicsMatchPatterns(RabbitBroker broker, TestNames names) throws Exception {
    String exchange = names.exchange("topic_logs");
    LineLatch ready = new LineLatch("Waiting for logs");
    CompletableFuture<Integer> consumer = subscribe(broker, ready, "topics", "consumer", "--exchange", exchange,
        "--binding-keys", "kern.*");
    ready.await();
    example(broker, "topics", "producer", "--exchange", exchange, "--routing-key", "user.info");
    example(broker, "topics", "producer", "--exchange", exchange, "--routing-key", "kern.critical", "--message",
        "oops");
    assertEquals(0, consumer.get(20, TimeUnit.SECONDS));
    assertEquals(1, lines(ready.text(), " [x] 'kern.critical':'oops'"), ready.text());
    assertEquals(0, lines(ready.text(), "user.info"), ready.text());
  }

  @Test
  void ordersFlowFromProducerToConsumerAsTypedJson(RabbitBroker broker, TestNames names) throws Exception {
    String exchange = names.exchange("orders");
    String queue = ordersQueue(names, "1s", "5s");
    Run producer = example(broker, "orders-producer", "--exchange", exchange, "--queue", queue, "--count", "3");
    assertEquals(0, producer.code(), producer.err());
    assertEquals(3, lines(producer.out(), " [x] Sent order o-"), producer.out());
    // Any client that sends JSON works, unknown fields included.
    try (Connection c = raw(broker); Channel ch = c.createChannel()) {
      ch.basicPublish(exchange, "order.placed", new AMQP.BasicProperties.Builder().contentType("application/json")
          .build(),
          ("{\"orderId\":\"o-1\",\"customer\":\"c-1\",\"amount\":10.5,\"items\":[\"a\"],"
              + "\"coupon\":\"SPRING\"}").getBytes(StandardCharsets.UTF_8));
    }
    Run consumer = example(broker, "orders-consumer", "--exchange", exchange, "--queue", queue, "--count", "4");
    assertEquals(0, consumer.code(), consumer.err());
    assertEquals(4, lines(consumer.out(), " [x] Processed order o-"), consumer.out());
    assertEquals(1, lines(consumer.out(), " [x] Processed order o-1 for c-1: 10.5 (1 item(s))"), consumer.out());
  }

  @Test
  void ordersExamplesKeepAnExchangeAnotherClientDeclaredItsOwnWay(RabbitBroker broker, TestNames names)
      throws Exception {
    String exchange = names.exchange("orders");
    String queue = ordersQueue(names, "1s", "5s");
    try (Connection c = raw(broker); Channel ch = c.createChannel()) {
      ch.exchangeDeclare(exchange, "topic"); // what pika's exchange_declare does by default: not durable
    }
    Run producer = example(broker, "orders-producer", "--exchange", exchange, "--queue", queue, "--count", "2");
    assertEquals(0, producer.code(), producer.err());
    Run consumer = example(broker, "orders-consumer", "--exchange", exchange, "--queue", queue, "--count", "2");
    assertEquals(0, consumer.code(), consumer.err());
    assertEquals(2, lines(consumer.out(), " [x] Processed order"), consumer.out());
  }

  @Test
  void failingOrdersAreDeadLetteredThenListedReplayedAndPurged(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) {
    String exchange = names.exchange("orders");
    String queue = ordersQueue(names, "100ms", "1s", "5s");
    example(broker, "orders-producer", "--exchange", exchange, "--queue", queue, "--count", "4");
    Run consumer = example(broker, "orders-consumer", "--exchange", exchange, "--queue", queue, "--count", "4",
        "--fail-every", "2", "--retry-delays", "100ms");
    assertEquals(0, consumer.code(), consumer.err());
    assertEquals(2, lines(consumer.out(), " [x] Processed order"), consumer.out());
    assertEquals(2, lines(consumer.out(), " [!] Dead-lettered order"), consumer.out());

    Run list = example(broker, "dead-letters", "list", "--queue", queue);
    assertEquals(2, lines(list.out(), " [dlq] o-"), list.out());
    assertTrue(list.out().contains("reason=handler-failed attempts=2 java.lang.IllegalStateException: simulated"),
        list.out());
    assertTrue(list.out().contains(" [x] 2 dead letter(s) in '" + queue + ".dlq'"), list.out());

    String oneId = list.out().lines().filter(l -> l.startsWith(" [dlq] ")).findFirst().orElseThrow().split(" ")[2];
    Run replay = example(broker, "dead-letters", "replay", "--queue", queue, "--message-id", oneId);
    assertEquals(" [x] Replayed 1 dead letter(s) to '" + queue + "'", replay.out().stripTrailing());
    Run again = example(broker, "orders-consumer", "--exchange", exchange, "--queue", queue, "--count", "1");
    assertEquals(1, lines(again.out(), " [x] Processed order " + oneId), again.out());

    Run purge = example(broker, "dead-letters", "purge", "--queue", queue);
    assertEquals(" [x] Purged 1 dead letter(s) from '" + queue + ".dlq'", purge.out().stripTrailing());
    assertEquals(0, rabbit.deadLetters(queue).count());
  }

  @Test
  void deadLettersShowsBinaryHugeAndHostileBodiesReadablyTakesTheDlqNameAndSpeaksJson(RabbitBroker broker,
      RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("shown");
    String dlq = names.queue("shown.dlq");
    rabbit.declare(Topology.of(Queue.classic(dlq)));
    byte[] binary = new byte[20_000];
    binary[0] = (byte) 0x89;
    binary[1] = 'P';
    try (Connection c = raw(broker); Channel ch = c.createChannel()) {
      ch.confirmSelect();
      ch.basicPublish("", dlq, new AMQP.BasicProperties.Builder().messageId("bin-1").build(), binary);
      ch.basicPublish("", dlq, new AMQP.BasicProperties.Builder().messageId("big-1").build(),
          "x".repeat(20_000).getBytes(StandardCharsets.UTF_8));
      ch.basicPublish("", dlq, new AMQP.BasicProperties.Builder().messageId("evil\u001b[2J").build(),
          "line1\nline2\u001b]0;pwned\u0007".getBytes(StandardCharsets.UTF_8));
      ch.waitForConfirmsOrDie(10_000);
    }
    Run list = example(broker, "dead-letters", "list", "--queue", dlq); // the dead-letter queue's own name
    assertEquals(0, list.code(), list.err());
    assertEquals(3, lines(list.out(), " [dlq] "), list.out());
    assertTrue(list.out().contains("body=<binary, 20000 bytes: 8950"), list.out());
    assertTrue(list.out().contains("(20000 bytes)"), list.out());
    assertTrue(list.out().contains("evil\\x1b[2J"), list.out());
    assertTrue(list.out().chars().noneMatch(ch -> ch == 0x1b || ch == 0x07), "escape sequences reached the terminal");
    assertTrue(list.out().lines().allMatch(l -> l.length() < 400), list.out());
    assertEquals(1, lines(example(broker, "dead-letters", "list", "--queue", queue, "--limit", "1").out(), " [dlq] "));

    Run json = example(broker, "dead-letters", "list", "--queue", queue, "--json");
    assertEquals(0, json.code(), json.err());
    com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    java.util.List<com.fasterxml.jackson.databind.JsonNode> letters = new java.util.ArrayList<>();
    for (String line : json.out().lines().toList()) {
      letters.add(mapper.readTree(line));
    }
    assertEquals(3, letters.size(), json.out());
    for (String key : java.util.List.of("id", "reason", "attempts", "exception", "original_exchange",
        "original_routing_key", "original_queue", "first_failure", "last_failure", "body_size", "body_preview")) {
      assertTrue(letters.get(0).has(key), key + " missing: " + letters.get(0));
    }
    assertEquals("bin-1", letters.get(0).get("id").asText());
    assertEquals(20_000, letters.get(0).get("body_size").asInt());

    Run missing = example(broker, "dead-letters", "list", "--queue", names.queue("nothing"));
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("there is no dead-letter queue"), missing.err());
  }

  @Test
  void badOptionsAndUnknownExamplesFailWithAClearMessageAndTouchNothing(RabbitBroker broker, RabbitToolkit rabbit,
      TestNames names) {
    Run unknown = example(broker, "no-such-example");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("unknown example 'no-such-example'"));
    String queue = names.queue("untouched");
    Run badCount = example(broker, "hello-consumer", "--queue", queue, "--count", "many");
    assertEquals(2, badCount.code());
    assertTrue(badCount.err().contains("--count must be a whole number"), badCount.err());
    Run noRole = example(broker, "work-queue", "--queue", queue);
    assertEquals(2, noRole.code());
    assertTrue(noRole.err().contains("producer or consumer"), noRole.err());
    assertEquals(2, example(broker, "dead-letters", "shred", "--queue", queue).code());
    assertTrue(rabbit.queueInfo(queue).isEmpty(), "bad options must fail before declaring anything");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(1, Examples.run(new String[]{"hello-producer", "--uri", "amqp://nobody:pw@localhost:1/"},
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8)));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("connection refused"), err.toString());
  }

  @Test
  void helpListsEveryExampleOnOneLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertEquals(0, Examples.run(new String[]{"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        System.err));
    String help = out.toString(StandardCharsets.UTF_8);
    for (Examples.Entry e : Examples.ALL) {
      assertEquals(1, lines(help, "  " + e.name() + " "), help);
    }
    for (String required : new String[]{"hello-producer", "hello-consumer", "async-callback", "rpc-server",
        "rpc-client", "work-queue", "pub-sub", "routing", "topics", "orders-producer", "orders-consumer",
        "dead-letters"}) {
      assertTrue(Examples.find(required).isPresent(), required);
    }
    assertFalse(help.contains("Exception"));
  }
}
