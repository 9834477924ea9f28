package io.rabbitkit.examples.outbox;

import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.jdbc.Outbox;
import io.rabbitkit.jdbc.OutboxRelay;
import java.io.PrintStream;
import java.util.OptionalLong;

/**
 * Relays the outbox: publishes committed rows through confirming publishers and deletes each only
 * after the broker confirmed it. Several may run at once (threads or processes); rows of one
 * ordering key still go out in order. Runs until Ctrl-C (finishing the batch in progress), or exits
 * after relaying {@code --count N} rows.
 *
 * <p>{@code --progress true} prints the count relayed so far every second.
 *
 * <pre>java -jar toolkit-examples.jar outbox-relay [--count N] [--jdbc-url URL] [--listen true|false] [--progress true]</pre>
 */
public final class OutboxRelayExample {

  private OutboxRelayExample() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    OptionalLong count = args.count();
    Outbox outbox = Shop.outbox(args);
    try (HikariDataSource db = Shop.database(args, 4);
        RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      Shop.createTables(db, outbox);
      Shop.declare(rabbit, args);
      try (OutboxRelay relay = outbox.relayBuilder(db, rabbit)
          .listen(Boolean.parseBoolean(args.option("listen", "true"))).start()) {
        out.println(
            " [*] Relaying " + outbox.schema() + ".outbox (" + relay.lag().due() + " due). To exit press CTRL+C");
        boolean progress = Boolean.parseBoolean(args.option("progress", "false"));
        long reported = 0;
        long lastLine = System.nanoTime();
        while (!Examples.interrupted().isDone() && (count.isEmpty() || relay.relayed() < count.getAsLong())) {
          Thread.sleep(50);
          if (progress && relay.relayed() != reported && System.nanoTime() - lastLine > 1_000_000_000L) {
            reported = relay.relayed();
            lastLine = System.nanoTime();
            out.println(" [.] relayed=" + reported + " parked=" + relay.parkedRows());
          }
        }
        out.println(" [x] Relayed " + relay.relayed() + " message(s); " + relay.parkedRows() + " parked");
      }
    }
    return 0;
  }
}
