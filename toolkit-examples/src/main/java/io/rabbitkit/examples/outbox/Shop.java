package io.rabbitkit.examples.outbox;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Database;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.SqlDialect;
import io.rabbitkit.topology.Binding;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What the outbox examples share: the database (--jdbc-url: PostgreSQL, or MariaDB/MySQL as
 * jdbc:mariadb://127.0.0.1:3306/test?user=root), the shop's tables, the outbox schema
 * (--outbox-schema, default rabbitkit) and the topology (exchange 'orders', queue 'orders.effects'
 * bound with 'order.placed'). Everything is created if missing, so the examples run in any order.
 */
final class Shop {

  static final String DEFAULT_JDBC_URL = "jdbc:postgresql://localhost:5432/test?user=postgres";
  static final String ROUTING_KEY = "order.placed";

  private Shop() {
  }

  static String exchange(Args args) {
    return args.option("exchange", "orders");
  }

  static String effectsQueue(Args args) {
    return args.option("queue", "orders.effects");
  }

  static Outbox outbox(Args args) {
    return Outbox.in(args.option("outbox-schema", "rabbitkit"));
  }

  /** A small pool on --jdbc-url. */
  static HikariDataSource database(Args args, int poolSize) {
    return Database.pool(args.option("jdbc-url", DEFAULT_JDBC_URL), poolSize);
  }

  /** Creates the outbox schema and the shop's tables if missing. */
  static void createTables(javax.sql.DataSource db, Outbox outbox) throws SQLException {
    outbox.createSchema(db);
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      // Two examples starting together would race CREATE TABLE IF NOT EXISTS (PostgreSQL then fails
      // one with a duplicate key): a lock serializes them.
      if (SqlDialect.of(c) == SqlDialect.MYSQL) {
        st.execute("SELECT GET_LOCK('rabbitkit.examples.shop', 60)");
        try {
          st.execute("CREATE TABLE IF NOT EXISTS shop_orders (order_id VARCHAR(255) PRIMARY KEY,"
              + " customer VARCHAR(255) NOT NULL, amount DECIMAL(12, 2) NOT NULL,"
              + " placed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))");
          st.execute("CREATE TABLE IF NOT EXISTS order_effects (order_id VARCHAR(255) NOT NULL,"
              + " effect VARCHAR(255) NOT NULL, applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))");
        } finally {
          st.execute("SELECT RELEASE_LOCK('rabbitkit.examples.shop')");
        }
        return;
      }
      c.setAutoCommit(false);
      st.execute("SELECT pg_advisory_xact_lock(hashtext('rabbitkit.examples.shop'))");
      st.execute("CREATE TABLE IF NOT EXISTS shop_orders (order_id text PRIMARY KEY, customer text NOT NULL,"
          + " amount numeric(12, 2) NOT NULL, placed_at timestamptz NOT NULL DEFAULT now())");
      // No unique constraint on order_id on purpose: a duplicate effect would show as a second row.
      st.execute("CREATE TABLE IF NOT EXISTS order_effects (order_id text NOT NULL, effect text NOT NULL,"
          + " applied_at timestamptz NOT NULL DEFAULT now())");
      c.commit();
    }
  }

  static void declare(RabbitToolkit rabbit, Args args) {
    String queue = effectsQueue(args);
    rabbit.declareMissing(Topology.builder()
        .exchange(Exchange.topic(exchange(args)))
        .queue(Queue.classic(queue + ".dlq"))
        .queue(Queue.quorum(queue).withDeadLetterQueue(queue + ".dlq").withDeliveryLimit(5))
        .binding(Binding.of(exchange(args), queue, ROUTING_KEY))
        .build());
  }
}
