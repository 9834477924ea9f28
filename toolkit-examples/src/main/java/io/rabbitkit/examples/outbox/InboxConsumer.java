package io.rabbitkit.examples.outbox;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.jdbc.Inbox;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;

/**
 * Consumes 'orders.effects' (bound to exchange 'orders' with 'order.placed') through the inbox:
 * each order's effect, a row in order_effects, is inserted in the same transaction that records the
 * message id, so a redelivered or re-sent order never has a second effect. Failures are retried and
 * then dead-lettered to 'orders.effects.dlq' like any consumer's.
 *
 * <p>{@code --progress true} prints a line of counts every second instead of a line per order.
 *
 * <pre>java -jar toolkit-examples.jar inbox-consumer [--count N] [--jdbc-url URL] [--progress true]</pre>
 */
public final class InboxConsumer {

  private InboxConsumer() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    try (HikariDataSource db = Shop.database(args, 6);
        RabbitToolkit rabbit = RabbitToolkit.connect(args.uri());
        Inbox inbox = Inbox.builder(db).schema(Shop.outbox(args).schema()).consumer("order-effects").build()) {
      Shop.createTables(db, Shop.outbox(args));
      Shop.declare(rabbit, args);
      boolean progress = Boolean.parseBoolean(args.option("progress", "false"));
      boolean quiet = progress || args.count().orElse(0) > 100;
      MessageConsumer.Builder<OrderPlaced> builder = rabbit.consumerBuilder(OrderPlaced.class)
          .queue(Shop.effectsQueue(args)).concurrency(4).retry(3)
          .redelivery(Redelivery.after(Duration.ofSeconds(1), Duration.ofSeconds(5)))
          .deadLetterQueue(Shop.effectsQueue(args) + ".dlq")
          .handler(inbox.handler((delivery, connection) -> {
            OrderPlaced order = delivery.body();
            applyEffect(connection, order);
            if (!quiet) {
              out.println(" [x] Applied order " + SafeText.of(order.orderId()) + " for " + SafeText.of(order.customer())
                  + ": " + order.amount());
            }
          }));
      args.count().ifPresent(builder::stopAfter);
      try (MessageConsumer consumer = builder.build()) {
        out.println(" [*] Waiting for orders. To exit press CTRL+C");
        if (progress) {
          String last = "";
          while (!consumer.stopped().toCompletableFuture().isDone() && !Examples.interrupted().isDone()) {
            Thread.sleep(1000);
            String now = " [.] applied=" + inbox.handled() + " duplicates=" + inbox.duplicates();
            if (!now.equals(last)) {
              out.println(now);
              last = now;
            }
          }
        }
        Examples.awaitStop(consumer.stopped());
      }
      out.println(" [x] Applied " + inbox.handled() + " order(s), skipped " + inbox.duplicates() + " duplicate(s)");
    }
    return 0;
  }

  private static void applyEffect(Connection connection, OrderPlaced order) throws Exception {
    try (PreparedStatement st = connection.prepareStatement(
        "INSERT INTO order_effects (order_id, effect) VALUES (?, 'reserved stock')")) {
      st.setString(1, order.orderId());
      st.executeUpdate();
    }
  }
}
