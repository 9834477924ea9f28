package io.rabbitkit.examples.events;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.OffsetStore;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Database;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.jdbc.JdbcOffsetStore;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Reads stream {@code --stream} (default 'events') as consumer {@code --name} (default
 * 'events-reader'), printing {@code  [x] Event <eventId> at offset <offset>} per event. The
 * consumer resumes after the last event it finished; {@code --from} (first, last, next, an offset or
 * an ISO-8601 time; default next) applies only while the name has no stored offset.
 *
 * <p>Without {@code --jdbc-url} offsets are kept in memory (for this run). With it they are kept in
 * PostgreSQL (table rabbitkit.stream_offsets), and each event inserts a row (event_id,
 * stream_offset, consumer) into table event_effects in the transaction that stores its offset: after
 * a crash no event is lost and none has a second row.
 *
 * <pre>java -jar toolkit-examples.jar events-consumer [--stream NAME] [--name CONSUMER] [--from POSITION] [--count N] [--jdbc-url URL]</pre>
 */
public final class EventsConsumer {

  private EventsConsumer() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    String name = args.option("name", "events-reader");
    StreamOffset from = StreamOffset.parse(args.option("from", "next"));
    String jdbcUrl = args.option("jdbc-url", null);
    try (HikariDataSource db = jdbcUrl == null ? null : Database.pool(jdbcUrl, 4);
        RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      String stream = EventsProducer.declare(rabbit, args);
      MessageConsumer.StreamBuilder<Event> builder = rabbit.streamConsumerBuilder(Event.class).stream(stream)
          .name(name).startAt(from).retry(3);
      if (db == null) {
        builder.offsets(OffsetStore.inMemory()).handler(delivery -> print(out, delivery.body(),
            delivery.streamOffset().orElseThrow()));
      } else {
        JdbcOffsetStore offsets = JdbcOffsetStore.in(db, args.option("schema", "rabbitkit"));
        offsets.createSchema();
        createTable(db);
        builder.offsets(offsets).handler(offsets.transactional(name, (delivery, connection) -> {
          long offset = delivery.streamOffset().orElseThrow();
          insertEffect(connection, delivery.body(), offset, name);
          print(out, delivery.body(), offset);
        }));
      }
      args.count().ifPresent(builder::stopAfter);
      try (MessageConsumer consumer = builder.build()) {
        out.println(" [*] Reading stream '" + stream + "' as '" + SafeText.of(name) + "'. To exit press CTRL+C");
        Examples.awaitStop(consumer.stopped());
      }
    }
    return 0;
  }

  private static void print(PrintStream out, Event event, long offset) {
    out.println(" [x] Event " + SafeText.of(event.eventId()) + " at offset " + offset);
  }

  private static void createTable(javax.sql.DataSource db) throws SQLException {
    try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SELECT pg_advisory_xact_lock(hashtext('rabbitkit.examples.events'))");
      // No unique constraint on event_id on purpose: a duplicate effect would show as a second row.
      st.execute("CREATE TABLE IF NOT EXISTS event_effects (event_id text, stream_offset bigint, consumer text)");
      c.commit();
    }
  }

  private static void insertEffect(Connection connection, Event event, long offset, String consumer)
      throws SQLException {
    try (PreparedStatement st = connection
        .prepareStatement("INSERT INTO event_effects (event_id, stream_offset, consumer) VALUES (?, ?, ?)")) {
      st.setString(1, event.eventId());
      st.setLong(2, offset);
      st.setString(3, consumer);
      st.executeUpdate();
    }
  }
}
