package io.rabbitkit.examples;

import io.rabbitkit.test.ThrowawayBroker;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;

/**
 * A first run that needs no broker: when no {@code --uri} and no {@code RABBITMQ_URI} is given and
 * nothing answers at the default address, the examples start a throw-away broker (a node of their
 * own from the installed rabbitmq-server, else a {@code rabbitmq:4-management} container with
 * Docker), say so in one line, and stop it when the example ends, Ctrl-C included. {@code
 * --dev-broker false} turns this off. The default address can be moved with the system property
 * {@value #DEFAULT_URI_PROPERTY} (tests point it where nothing listens).
 */
final class DevBroker {

  static final String DEFAULT_URI_PROPERTY = "rabbitkit.examples.default-uri";
  static final String HOW_TO_GET_ONE = "no broker: run 'docker compose up -d', install rabbitmq-server, or pass --uri";

  private DevBroker() {
  }

  /** The URI used when neither {@code --uri} nor {@code RABBITMQ_URI} is given. */
  static String defaultUri() {
    return System.getProperty(DEFAULT_URI_PROPERTY, Args.DEFAULT_URI);
  }

  /** Whether a dev broker would be started for {@code args}: no broker named and none answering. */
  static boolean wanted(Args args) {
    String env = System.getenv("RABBITMQ_URI");
    return !args.options().containsKey("uri") && (env == null || env.isBlank())
        && !"false".equals(args.options().get("dev-broker")) && !answers(defaultUri());
  }

  /** Starts one, says so, and stops it at JVM exit if the caller has not closed it by then. */
  static ThrowawayBroker start(PrintStream out) {
    ThrowawayBroker broker = ThrowawayBroker.start();
    Thread stop = new Thread(broker::close, "dev-broker-stop");
    Runtime.getRuntime().addShutdownHook(stop);
    out.println(" [*] No broker answers at " + hostPort(defaultUri()) + ": started a throw-away RabbitMQ for this run ("
        + broker.uri().replaceAll("//[^@]*@", "//")
        + "); it stops when the example ends (--dev-broker false turns this off)");
    return broker;
  }

  static boolean answers(String uri) {
    try (Socket s = new Socket()) {
      s.connect(address(uri), 1000);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static String hostPort(String uri) {
    InetSocketAddress a = address(uri);
    return a.getHostString() + ":" + a.getPort();
  }

  private static InetSocketAddress address(String uri) {
    URI u = URI.create(uri);
    return new InetSocketAddress(u.getHost(), u.getPort() < 0 ? 5672 : u.getPort());
  }
}
