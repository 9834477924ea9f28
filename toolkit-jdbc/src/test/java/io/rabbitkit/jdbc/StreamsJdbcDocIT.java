package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.StreamOffset;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** docs/streams.md's exactly-once snippet, run as written (fixed names: on a broker of the class's own). */
@RabbitTest(broker = RabbitTest.Broker.THROWAWAY)
class StreamsJdbcDocIT {

  record Event(String eventId, String kind, String at) {
  }

  private String schema;

  private void project(Connection connection, Event event) throws SQLException {
    try (PreparedStatement st = connection
        .prepareStatement("INSERT INTO " + schema + ".projection (event_id) VALUES (?)")) {
      st.setString(1, event.eventId());
      st.executeUpdate();
    }
  }

  @Test
  void effectsAndOffsetsCommitTogether(RabbitToolkit rabbit) throws Exception {
    try (TestDatabase db = new TestDatabase()) {
      DataSource dataSource = db.dataSource;
      schema = db.schema;
      rabbit.declare(Topology.of(Queue.stream("events")));
      db.execute("CREATE SCHEMA " + schema);
      db.execute("CREATE TABLE " + schema + ".projection (event_id text)");
      try (Publisher<Event> p = rabbit.publisherBuilder(Event.class).routingKey("events").build()) {
        p.publish(new Event("e-1", "order.placed", "2026-12-05T14:00:00Z")).join();
      }
      // @formatter:off
      // tag::stream-exactly-once[]
      JdbcOffsetStore offsets = JdbcOffsetStore.in(dataSource, schema);   // table <schema>.stream_offsets
      offsets.createSchema();
      MessageConsumer projector = rabbit.streamConsumerBuilder(Event.class)
          .stream("events").name("projector").startAt(StreamOffset.first())
          .offsets(offsets)
          .handler(offsets.transactional("projector", (delivery, connection) ->
              project(connection, delivery.body())))     // commits with the event's offset, or not at all
          .build();
      // end::stream-exactly-once[]
      // @formatter:on
      try (projector) {
        Await.until(Duration.ofSeconds(30), () -> count(db) == 1);
        assertEquals(0, offsets.lastDone("events", "projector").getAsLong());
      }
    }
  }

  private static long count(TestDatabase db) {
    try {
      return db.count("SELECT count(*) FROM " + db.schema + ".projection");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
