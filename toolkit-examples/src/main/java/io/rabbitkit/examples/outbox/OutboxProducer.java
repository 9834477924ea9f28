package io.rabbitkit.examples.outbox;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.Message;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Places orders the transactional way: each order is one database transaction that inserts a row
 * into shop_orders and writes an OrderPlaced message (exchange 'orders', routing key
 * 'order.placed') to the outbox. The message is published only if the transaction commits, and then
 * at least once, with the order id as its message id. With {@code --relay true} (the default) it
 * relays too and exits once every order is committed and confirmed by the broker; with {@code
 * --relay false} it only commits them, for an outbox-relay to publish.
 *
 * <pre>java -jar toolkit-examples.jar outbox-producer --count N [--relay true|false] [--threads T] [--jdbc-url URL]</pre>
 */
public final class OutboxProducer {

  private OutboxProducer() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    long count = args.count().orElse(1);
    int threads = (int) args.number("threads", 1);
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("--threads must be 1-64: " + threads);
    }
    boolean relay = Boolean.parseBoolean(args.option("relay", "true"));
    String run = "o-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0x100000)) + "-";
    Outbox outbox = Shop.outbox(args);
    try (HikariDataSource db = Shop.database(args, threads + 3)) {
      Shop.createTables(db, outbox);
      Outbox.Writer<OrderPlaced> events = outbox.writer(OrderPlaced.class, Shop.exchange(args), Shop.ROUTING_KEY);
      if (!relay) {
        place(db, events, run, count, threads);
        out.println(" [x] Committed " + count + " order(s) " + run + "1.." + count + " to shop_orders and the outbox");
        return 0;
      }
      try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
        Shop.declare(rabbit, args);
        try (OutboxRelay relayer = outbox.relayBuilder(db, rabbit).start()) {
          place(db, events, run, count, threads);
          out.println(" [x] Committed " + count + " order(s) " + run + "1.." + count);
          long started = System.nanoTime();
          while (pending(db, outbox, run) > 0) {
            if (System.nanoTime() - started > Duration.ofMinutes(2).toNanos()) {
              out.println(" [!] " + pending(db, outbox, run) + " order(s) still in the outbox after 2 minutes: "
                  + relayer.lag());
              return 1;
            }
            Thread.sleep(50);
          }
          out.println(" [x] Relayed " + count + " order(s): all confirmed by the broker");
        }
      }
    }
    return 0;
  }

  private static void place(HikariDataSource db, Outbox.Writer<OrderPlaced> events, String run, long count,
      int threads) throws Exception {
    AtomicLong next = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          for (long i = next.incrementAndGet(); i <= count; i = next.incrementAndGet()) {
            OrderPlaced order = new OrderPlaced(run + i, "c-" + (i % 7 + 1), BigDecimal.valueOf(1050 * i, 2));
            placeWithRetry(db, events, order);
          }
          return null;
        }));
      }
      for (Future<?> w : workers) {
        w.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Places an order, retrying for up to a minute while the database is unreachable (a restart, a
   * failover). A commit whose answer was lost may have landed: the retry then finds the order's
   * row (a unique violation) and stops, so an order is never placed twice.
   */
  private static void placeWithRetry(HikariDataSource db, Outbox.Writer<OrderPlaced> events, OrderPlaced order)
      throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    for (int attempt = 1;; attempt++) {
      try {
        placeOrder(db, events, order);
        return;
      } catch (SQLException e) {
        if (attempt > 1 && UNIQUE_VIOLATION.equals(e.getSQLState())) {
          return; // the previous attempt's commit landed
        }
        if (!retryable(e) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(Math.min(1000, 50L * attempt));
      }
    }
  }

  private static final String UNIQUE_VIOLATION = "23505";

  /** Connection failures (class 08), a server shutting down or starting (57P01-57P03), Hikari's timeout (null). */
  private static boolean retryable(SQLException e) {
    String state = e.getSQLState();
    return state == null || state.startsWith("08") || state.startsWith("57P");
  }

  /** One order, one transaction: the business row and its event commit together or not at all. */
  static void placeOrder(HikariDataSource db, Outbox.Writer<OrderPlaced> events, OrderPlaced order)
      throws SQLException {
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO shop_orders (order_id, customer, amount) VALUES (?, ?, ?)")) {
        st.setString(1, order.orderId());
        st.setString(2, order.customer());
        st.setBigDecimal(3, order.amount());
        st.executeUpdate();
        events.publish(c, Message.of(order).withMessageId(order.orderId()));
        c.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed); // the connection is gone: so is the transaction
        }
        throw e;
      }
    }
  }

  private static long pending(HikariDataSource db, Outbox outbox, String run) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement st = c.prepareStatement(
            "SELECT count(*) FROM " + outbox.schema() + ".outbox WHERE message_id LIKE ?")) {
      st.setString(1, run + "%");
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
