package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Delivery;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The inbox against the real PostgreSQL and the real broker, each test in a schema of its own. */
@RabbitTest
class InboxIT {

  record Order(String id, int amount) {
  }

  private TestDatabase db;
  private Inbox inbox;

  /** The database the tests run on: the machine's PostgreSQL here, MariaDB in a subclass. */
  TestDatabase database() {
    return new TestDatabase();
  }

  @BeforeEach
  void schema() throws SQLException {
    db = database();
    db.execute("CREATE SCHEMA " + db.schema);
    db.execute("CREATE TABLE " + db.schema + ".effects (order_id text NOT NULL)"); // no unique key on purpose
    inbox = Inbox.builder(db.dataSource).schema(db.schema).consumer("effects").build();
    inbox.createSchema();
  }

  @AfterEach
  void drop() throws SQLException {
    if (inbox != null) { // null when the database was skipped
      inbox.close();
      db.close();
    }
  }

  private void insertEffect(Connection c, String orderId) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO " + db.schema + ".effects VALUES (?)")) {
      st.setString(1, orderId);
      st.executeUpdate();
    }
  }

  private long effects(String orderId) throws SQLException {
    return db.count("SELECT count(*) FROM " + db.schema + ".effects WHERE order_id = '" + orderId + "'");
  }

  @Test
  void aDuplicateIsAckedWithoutRunningTheHandlerAgain(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("effects");
    AtomicInteger calls = new AtomicInteger();
    try (RabbitToolkit rabbit = names.track(broker.connect())) {
      rabbit.declare(Topology.builder().queue(Queue.quorum(queue)).build());
      try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).handler(inbox.handler((d, conn) -> {
            calls.incrementAndGet();
            insertEffect(conn, d.body().id());
          })).build()) {
        for (int i = 0; i < 3; i++) {
          p.publish(Message.of(new Order("o-1", 10)).withMessageId("same-id")).get(10, TimeUnit.SECONDS);
        }
        p.publish(Message.of(new Order("o-2", 10)).withMessageId("other-id")).get(10, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(10), "4 deliveries processed", () -> c.stats().processed() == 4);
      }
    }
    assertEquals(2, calls.get());
    assertEquals(1, effects("o-1"));
    assertEquals(1, effects("o-2"));
    assertEquals(2, inbox.handled());
    assertEquals(2, inbox.duplicates());
  }

  @Test
  void messagesWithAnEmptyIdAreDeadLetteredNotSkippedAsDuplicatesOfEachOther(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("effects");
    AtomicInteger calls = new AtomicInteger();
    try (RabbitToolkit rabbit = names.track(broker.connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      // As a foreign client may send them: message_id "" on three different orders.
      com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
      f.setUri(broker.uri());
      if (f.getVirtualHost().isEmpty()) {
        f.setVirtualHost("/"); // amqp-client reads a bare "/" path as the vhost ""
      }
      try (com.rabbitmq.client.Connection raw = f.newConnection();
          com.rabbitmq.client.Channel ch = raw.createChannel()) {
        ch.confirmSelect();
        for (int i = 1; i <= 3; i++) {
          ch.basicPublish("", queue, new com.rabbitmq.client.AMQP.BasicProperties.Builder().messageId("")
              .contentType("application/json").build(),
              ("{\"id\":\"o-" + i + "\",\"amount\":1}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(10_000);
      }
      try (MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).deadLetterQueue(queue + ".dlq")
          .handler(inbox.handler((d, conn) -> {
            calls.incrementAndGet();
            insertEffect(conn, d.body().id());
          })).build()) {
        Await.until(Duration.ofSeconds(10), "all three dead-lettered", () -> c.stats().deadLettered() == 3);
        assertEquals(0, c.stats().duplicates());
      }
      assertEquals(0, calls.get(), "an empty id is no id: the inbox cannot deduplicate it and refuses it");
      assertEquals(0, inbox.duplicates(), "no order may be skipped as a duplicate of another");
      assertEquals(3, rabbit.deadLetters(queue).count());
    }
  }

  @Test
  void aFailingHandlerRollsBackItsEffectAndTheIdAndIsRetriedThenDeadLettered(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("effects");
    AtomicInteger calls = new AtomicInteger();
    try (RabbitToolkit rabbit = names.track(broker.connect())) {
      rabbit.declare(Topology.builder().queue(Queue.quorum(queue)).build());
      try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(2)
              .redelivery(Redelivery.after(Duration.ofMillis(100)))
              .handler(inbox.handler((d, conn) -> {
                insertEffect(conn, d.body().id());
                int call = calls.incrementAndGet();
                if (d.body().id().equals("poison") || call == 1) {
                  throw new IllegalStateException("effect failed on call " + call);
                }
              })).build()) {
        p.publish(Message.of(new Order("flaky", 1)).withMessageId("flaky-id")).get(10, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(10), () -> inbox.handled() == 1);
        p.publish(Message.of(new Order("poison", 1)).withMessageId("poison-id")).get(10, TimeUnit.SECONDS);
        List<DeadLetter> dead = Await.until(Duration.ofSeconds(15), () -> rabbit.deadLetters(queue).list(10),
            l -> l.size() == 1);
        assertEquals("handler-failed", dead.get(0).reason());
        assertEquals(4, calls.get() - 2, "the poison message: 2 in-process attempts in each of 2 rounds");
      }
    }
    assertEquals(1, effects("flaky"), "the failed first call left nothing behind");
    assertEquals(0, effects("poison"), "four failed calls, no effect");
    assertEquals(1, db.count("SELECT count(*) FROM " + db.schema + ".inbox"), "only the committed id is recorded");
  }

  @Test
  void consumeChangeAndPublishCommitOrRollBackTogether(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("effects");
    String downstream = names.exchange("shipping");
    String shipping = names.queue("shipping");
    Outbox outbox = Outbox.in(db.schema);
    Outbox.Writer<Order> shipments = outbox.writer(Order.class, downstream, "ship");
    List<Delivery<Order>> shipped = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger calls = new AtomicInteger();
    try (RabbitToolkit rabbit = names.track(broker.connect())) {
      rabbit.declare(Topology.builder().queue(Queue.quorum(queue)).exchange(Exchange.direct(downstream))
          .queue(Queue.classic(shipping)).binding(Binding.of(downstream, shipping, "ship")).build());
      try (Publisher<Order> p = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          MessageConsumer c = rabbit.consumerBuilder(Order.class).queue(queue).retry(2)
              .redelivery(Redelivery.none())
              .handler(inbox.handler((d, conn) -> {
                calls.incrementAndGet();
                insertEffect(conn, d.body().id());
                shipments.publish(conn, d.body());
                if (d.body().amount() < 0) {
                  throw new IllegalArgumentException("negative amount"); // after the outbox write
                }
              })).build();
          MessageConsumer s = rabbit.consumerBuilder(Order.class).queue(shipping).handler(shipped::add).build();
          OutboxRelay relay = outbox.relayBuilder(db.dataSource, rabbit).pollInterval(Duration.ofMillis(20)).start()) {
        p.publish(Message.of(new Order("good", 5)).withMessageId("good-id")).get(10, TimeUnit.SECONDS);
        p.publish(Message.of(new Order("bad", -5)).withMessageId("bad-id")).get(10, TimeUnit.SECONDS);
        p.publish(Message.of(new Order("good", 5)).withMessageId("good-id")).get(10, TimeUnit.SECONDS); // again
        Await.until(Duration.ofSeconds(10), "good shipped", () -> shipped.size() == 1);
        Await.until(Duration.ofSeconds(10), "bad dead-lettered", () -> c.stats().deadLettered() == 1);
        Await.until(Duration.ofSeconds(10), "all settled", () -> c.stats().processed() == 2);
        Thread.sleep(300);
        assertEquals(1, shipped.size(), "one shipment: " + shipped);
        assertEquals("good", shipped.get(0).body().id());
      }
    }
    assertEquals(3, calls.get(), "good once, bad twice (in-process retry), the duplicate never");
    assertEquals(1, effects("good"));
    assertEquals(0, effects("bad"));
    assertEquals(0, db.count("SELECT count(*) FROM " + db.schema + ".outbox"), "the bad shipment never committed");
  }

  @Test
  void aMessageWithoutAnIdIsRejectedBeforeTouchingTheDatabase() {
    AtomicInteger calls = new AtomicInteger();
    MessageConsumer.Handler<Order> handler = inbox.handler((d, conn) -> calls.incrementAndGet());
    RejectMessageException e = assertThrows(RejectMessageException.class,
        () -> handler.handle(Delivery.of(new Order("no-id", 1))));
    assertTrue(e.getMessage().contains("message id"), e.getMessage());
    assertEquals(0, calls.get());
  }

  @Test
  void builderChecksItsOptions() {
    assertThrows(IllegalStateException.class, () -> Inbox.builder(db.dataSource).build());
    assertThrows(IllegalArgumentException.class, () -> Inbox.builder(db.dataSource).consumer(" "));
    assertThrows(IllegalArgumentException.class, () -> Inbox.builder(db.dataSource).schema("Bad-Name"));
    assertThrows(IllegalArgumentException.class, () -> Inbox.builder(db.dataSource).retention(Duration.ZERO));
  }
}
