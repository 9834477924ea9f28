package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.sql.Connection;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A batch is bounded by bytes as well as rows: 40 rows of 8 MiB (320 MiB) go out through a relay
 * whose JVM has a 256 MiB heap, instead of a claim of all of them failing for ever.
 */
@RabbitTest
class OutboxLargeRowsIT {

  @Test
  void rowsLargerTogetherThanTheHeapAreRelayedBatchByBatch(RabbitBroker broker, TestNames names) throws Exception {
    int rows = 40;
    byte[] body = new byte[8 * 1024 * 1024];
    Arrays.fill(body, (byte) 'x');
    try (TestDatabase db = new TestDatabase(); RabbitToolkit rabbit = broker.connect()) {
      String queue = names.queue("large");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      Outbox outbox = Outbox.in(db.schema);
      outbox.createSchema(db.dataSource);
      Outbox.Writer<byte[]> writer = outbox.writer(byte[].class, "", queue);
      for (int i = 0; i < rows; i++) {
        try (Connection c = db.dataSource.getConnection()) {
          c.setAutoCommit(false);
          writer.publish(c, body);
          c.commit();
        }
      }
      try (ChildJvm relay = ChildJvm.main(RelayProcess.class, TestDatabase.URL, db.schema, broker.uri(),
          Integer.toString(rows), "120").jvmOptions("-Xmx256m").start()) {
        int exit = relay.waitFor(Duration.ofSeconds(150));
        String log = relay.output();
        String last = log.lines().filter(l -> l.startsWith("relayed ")).findFirst().orElse(tail(log));
        System.out.println("256 MiB heap, " + rows + " rows of 8 MiB: " + last);
        assertEquals(0, exit, last);
      }
      Await.until(Duration.ofSeconds(30), "every message in the queue",
          () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == rows);
    }
  }

  private static String tail(String log) {
    return log.length() > 3000 ? log.substring(log.length() - 3000) : log;
  }
}
