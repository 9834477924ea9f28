package io.rabbitkit;

import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Run by {@link CredentialsIT} in a JVM of its own with debug logging: uses the toolkit with a
 * password through a whole life cycle (connect, publish, consume, recovery, failures) and prints
 * every string the toolkit makes, so that the test can search them all for the password.
 *
 * <p>Arguments: a good URI with a password, the same user with a wrong password, the same with an
 * unreachable port. Waits for a line on stdin after "READY" (the test closes connections then).
 */
public final class CredentialsScenario {

  public static void main(String[] args) throws Exception {
    String good = args[0];
    RabbitToolkit.Builder builder = RabbitToolkit.builder().uri(good).recoveryInterval(Duration.ofMillis(200));
    System.out.println("builder: " + builder);
    try (RabbitToolkit rabbit = builder.connect()) {
      System.out.println("toolkit: " + rabbit);
      rabbit.declare(Topology.of(Queue.classic("credentials-q")));
      CompletableFuture<String> received = new CompletableFuture<>();
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey("credentials-q").build();
          MessageConsumer c = rabbit.consumerBuilder(String.class).queue("credentials-q")
              .handler(d -> received.complete(d.body())).build()) {
        System.out.println("publisher: " + p + " consumer: " + c);
        System.out.println("confirmed: " + p.publish("hello").get(10, TimeUnit.SECONDS));
        System.out.println("received: " + received.get(10, TimeUnit.SECONDS));
        System.out.println("READY");
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(rabbit.isConnected() && c.isRunning()) && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        System.out.println("after recovery: connected " + rabbit.isConnected() + ", stats " + c.stats());
        System.out.println("confirmed again: " + p.publish("again").get(10, TimeUnit.SECONDS));
      }
    }
    for (int i = 1; i < args.length; i++) {
      try {
        RabbitToolkit.builder().uri(args[i]).connectionTimeout(Duration.ofSeconds(5)).connect().close();
        System.out.println("unexpectedly connected");
      } catch (ConnectionException e) {
        System.out.println("failure " + e.reason() + ": " + e);
        e.printStackTrace(System.out);
      } catch (IllegalArgumentException e) {
        System.out.println("refused uri: " + e);
        e.printStackTrace(System.out);
      }
    }
    try {
      RabbitToolkit.builder().uri(good.replace("amqp://", "amqp:/"));
    } catch (IllegalArgumentException e) {
      System.out.println("malformed: " + e);
    }
    try {
      RabbitToolkit.builder().uri(good + "?nonsense=1");
    } catch (IllegalArgumentException e) {
      System.out.println("bad parameter: " + e);
    }
    System.out.println("DONE");
  }
}
