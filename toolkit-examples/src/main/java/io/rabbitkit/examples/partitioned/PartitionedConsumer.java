package io.rabbitkit.examples.partitioned;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Database;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.jdbc.JdbcOffsetStore;
import io.rabbitkit.stream.ConsumerGroup;
import io.rabbitkit.stream.RabbitStreams;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;

/**
 * Joins consumer group {@code --group} (default 'orders-events-group') of super stream
 * 'orders-events': the broker makes it the active consumer of some partitions, printed
 * {@code  [p] active on <partition names>} whenever they change, and each event prints
 * {@code  [x] key=<key> seq=<seq> partition=<partition>}. With {@code --jdbc-url} each event inserts
 * a row into partition_effects (id, event_key, seq, partition_name) in the transaction that stores
 * the partition's offset in PostgreSQL: after a crash or a hand-over no event has a second row.
 * Start several, stop some: the partitions move between them.
 *
 * <pre>java -jar toolkit-examples.jar partitioned-consumer [--group NAME] [--jdbc-url URL] [--count N] [--stream-uri URI]</pre>
 */
public final class PartitionedConsumer {

  private PartitionedConsumer() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    String group = args.option("group", "orders-events-group");
    String jdbcUrl = args.option("jdbc-url", null);
    Set<String> active = new TreeSet<>();
    try (HikariDataSource db = jdbcUrl == null ? null : Database.pool(jdbcUrl, 4);
        RabbitToolkit rabbit = RabbitToolkit.connect(args.uri());
        RabbitStreams streams = RabbitStreams.connect(args.streamUri())) {
      String superStream = PartitionedProducer.superStream(args).name();
      streams.declare(PartitionedProducer.superStream(args));
      ConsumerGroup.Builder<PartitionedEvent> builder = streams.consumerGroupBuilder(PartitionedEvent.class)
          .superStream(superStream).group(group).deadLetters(rabbit).retry(3)
          .listener(new ConsumerGroup.Listener() {
            @Override
            public void activated(String partition) {
              changed(out, active, partition, true);
            }

            @Override
            public void deactivated(String partition) {
              changed(out, active, partition, false);
            }
          });
      if (db == null) {
        builder.handler(d -> print(out, d.body(), d.queue()));
      } else {
        JdbcOffsetStore offsets = JdbcOffsetStore.in(db, args.option("schema", "rabbitkit"));
        offsets.createSchema();
        createTable(db);
        builder.offsets(offsets).handler(offsets.transactional(group, (d, connection) -> {
          insertEffect(connection, d.body(), d.queue());
          print(out, d.body(), d.queue());
        }));
      }
      args.count().ifPresent(builder::stopAfter);
      try (MessageConsumer member = builder.build()) {
        out.println(" [*] Joined group '" + SafeText.of(group) + "' of super stream '" + superStream
            + "'. To exit press CTRL+C");
        Examples.awaitStop(member.stopped());
      }
    }
    return 0;
  }

  private static void changed(PrintStream out, Set<String> active, String partition, boolean now) {
    synchronized (active) {
      if (now) {
        active.add(partition);
      } else {
        active.remove(partition);
      }
      out.println(" [p] active on " + (active.isEmpty() ? "no partition" : String.join(", ", active)));
    }
  }

  private static void print(PrintStream out, PartitionedEvent event, String partition) {
    out.println(" [x] key=" + SafeText.of(event.key()) + " seq=" + event.seq() + " partition=" + partition);
  }

  private static void createTable(javax.sql.DataSource db) throws SQLException {
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SELECT pg_advisory_xact_lock(hashtext('rabbitkit.examples.partitioned'))");
      st.execute("CREATE TABLE IF NOT EXISTS partition_effects (id bigserial PRIMARY KEY, event_key text, seq int,"
          + " partition_name text)");
      c.commit();
    }
  }

  private static void insertEffect(Connection connection, PartitionedEvent event, String partition)
      throws SQLException {
    try (PreparedStatement st = connection
        .prepareStatement("INSERT INTO partition_effects (event_key, seq, partition_name) VALUES (?, ?, ?)")) {
      st.setString(1, event.key());
      st.setInt(2, event.seq());
      st.setString(3, partition);
      st.executeUpdate();
    }
  }
}
