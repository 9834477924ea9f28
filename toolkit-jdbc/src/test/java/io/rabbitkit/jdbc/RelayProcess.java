package io.rabbitkit.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rabbitkit.RabbitToolkit;
import java.time.Duration;

/**
 * A relay in a JVM of its own, which a test starts with the heap it wants: relays the outbox of
 * schema {@code args[1]} until {@code args[3]} rows went out (exit 0) or {@code args[4]} seconds
 * passed (exit 1), and prints one line with its counters.
 */
public final class RelayProcess {

  private RelayProcess() {
  }

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setMaximumPoolSize(4);
    long expected = Long.parseLong(args[3]);
    long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[4])).toNanos();
    try (HikariDataSource dataSource = new HikariDataSource(config);
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(args[2]).connect();
        OutboxRelay relay = Outbox.in(args[1]).relayBuilder(dataSource, rabbit).start()) {
      while (relay.relayed() < expected && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      System.out.println("relayed " + relay.relayed() + " of " + expected + "; " + relay.status());
      System.out.flush();
      Runtime.getRuntime().halt(relay.relayed() == expected ? 0 : 1);
    }
  }
}
