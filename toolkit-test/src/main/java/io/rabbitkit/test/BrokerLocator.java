package io.rabbitkit.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Finds the broker tests use, once per JVM: {@code RABBITMQ_URI} (system property or environment
 * variable), else a broker on {@code localhost:5672}, else a Testcontainers container (started
 * once, stopped when the JVM exits), else a failure that explains what to do.
 */
public final class BrokerLocator {

  /** The image started when no broker is reachable and Docker is available. */
  public static final String IMAGE = "rabbitmq:4-management";

  private static RabbitBroker broker;
  private static RabbitMQContainer container;

  private BrokerLocator() {
  }

  /**
   * Returns the broker for tests.
   *
   * @throws IllegalStateException if there is none, with instructions
   */
  public static synchronized RabbitBroker locate() {
    if (broker == null) {
      broker = find();
    }
    return broker;
  }

  /**
   * The system property that makes every broker test use a container of this image instead of
   * RABBITMQ_URI or localhost ({@code mvn -B verify -Pbroker4} sets {@code rabbitmq:4-management});
   * without Docker those tests are skipped.
   */
  public static final String IMAGE_PROPERTY = "rabbitkit.test.image";

  /** The image forced by {@link #IMAGE_PROPERTY}, or null. */
  static String forcedImage() {
    String image = System.getProperty(IMAGE_PROPERTY, "");
    return image.isBlank() ? null : image.trim();
  }

  /** Why broker tests cannot run (an image is forced but there is no Docker), or null when they can. */
  static String forcedImageUnavailable() {
    String image = forcedImage();
    return image != null && !dockerAvailable() ? IMAGE_PROPERTY + "=" + image + " needs Docker" : null;
  }

  private static RabbitBroker find() {
    String forced = forcedImage();
    if (forced != null) {
      String unavailable = forcedImageUnavailable();
      if (unavailable != null) {
        throw Skip.test(unavailable);
      }
      return startContainer(forced);
    }
    return find(System.getProperty("RABBITMQ_URI", System.getenv("RABBITMQ_URI")),
        () -> answers("localhost", 5672), BrokerLocator::dockerAvailable, () -> startContainer(IMAGE));
  }

  /** The search order, with its inputs passed in so it can be tested without a broker or Docker. */
  static RabbitBroker find(String configured, BooleanSupplier localAnswers, BooleanSupplier docker,
      Supplier<RabbitBroker> container) {
    if (configured != null && !configured.isBlank()) {
      return new RabbitBroker(configured.trim(), "RABBITMQ_URI");
    }
    if (localAnswers.getAsBoolean()) {
      return new RabbitBroker("amqp://guest:guest@localhost:5672/", "localhost:5672");
    }
    if (docker.getAsBoolean()) {
      return container.get();
    }
    throw new IllegalStateException("No RabbitMQ broker for the tests. Either set RABBITMQ_URI "
        + "(e.g. RABBITMQ_URI=amqp://guest:guest@host:5672/), or start a broker on localhost:5672 "
        + "(`docker compose up -d` in the project root, or `rabbitmq-server -detached`), "
        + "or make a Docker engine available so Testcontainers can start " + IMAGE + ".");
  }

  private static RabbitBroker startContainer(String image) {
    container = new RabbitMQContainer(image);
    container.start();
    Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "rabbitkit-testcontainer-stop"));
    return new RabbitBroker("amqp://guest:guest@" + container.getHost() + ":" + container.getAmqpPort() + "/",
        "Testcontainers " + image);
  }

  static boolean answers(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
