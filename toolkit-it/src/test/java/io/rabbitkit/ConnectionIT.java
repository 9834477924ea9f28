package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ConnectionException.Reason;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TcpProxy;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@RabbitTest
class ConnectionIT {

  private static final String SECRET = "s3cr3t-never-printed";

  private static URI amqp(RabbitBroker broker) {
    return URI.create(broker.uri());
  }

  @Test
  void wrongCredentialsFailFastWithATypedError(RabbitBroker broker) {
    URI uri = amqp(broker);
    long start = System.nanoTime();
    ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
        .host(uri.getHost()).port(uri.getPort()).username("nobody").password(SECRET).connect());
    assertEquals(Reason.AUTHENTICATION_FAILED, e.reason());
    assertTrue(e.getMessage().contains("nobody"), e.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(8), "took too long");
  }

  @Test
  void credentialsAreAskedAtEveryConnectionAndTheirSecretNeverPrinted(RabbitBroker broker) {
    URI uri = amqp(broker);
    String[] user = uri.getUserInfo().split(":", 2);
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    try (RabbitToolkit rabbit = RabbitToolkit.builder().host(uri.getHost()).port(uri.getPort())
        .credentials(provider(user[0], user[1], asked)).connect()) {
      assertTrue(rabbit.isConnected());
      assertEquals(2, asked.get(), "once per connection (consuming and publishing)");
    }
    ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
        .host(uri.getHost()).port(uri.getPort()).credentials(provider("nobody", SECRET, asked)).connect());
    assertEquals(Reason.AUTHENTICATION_FAILED, e.reason());
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    IllegalStateException noCertificate = assertThrows(IllegalStateException.class,
        () -> RabbitToolkit.builder().host(uri.getHost()).port(uri.getPort()).saslExternal().connect());
    assertTrue(noCertificate.getMessage().contains("keyStore"), noCertificate.getMessage());
  }

  private static Credentials provider(String username, String password,
      java.util.concurrent.atomic.AtomicInteger asked) {
    return new Credentials() {
      @Override
      public String username() {
        asked.incrementAndGet();
        return username;
      }

      @Override
      public String password() {
        return password;
      }
    };
  }

  @Test
  void wrongPortIsRefused(RabbitBroker broker) {
    ConnectionException e = assertThrows(ConnectionException.class,
        () -> RabbitToolkit.builder().host(amqp(broker).getHost()).port(1).connect());
    assertEquals(Reason.CONNECTION_REFUSED, e.reason());
    assertTrue(e.getMessage().contains(":1"), e.getMessage());
  }

  @Test
  void unknownHostIsNamed() {
    ConnectionException e = assertThrows(ConnectionException.class,
        () -> RabbitToolkit.builder().host("no-such-host.invalid").connect());
    assertEquals(Reason.UNKNOWN_HOST, e.reason());
  }

  @Test
  void missingVirtualHostIsNamed(RabbitBroker broker) {
    ConnectionException e = assertThrows(ConnectionException.class,
        () -> broker.toolkitBuilder().virtualHost("no-such-vhost").connect());
    assertEquals(Reason.VIRTUAL_HOST, e.reason());
    assertTrue(e.getMessage().contains("no-such-vhost"), e.getMessage());
  }

  @Test
  void passwordNeverAppearsInToStringLogsOrErrors(RabbitBroker broker) throws Exception {
    URI uri = amqp(broker);
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    String failure;
    String builderText;
    try {
      RabbitToolkit.Builder builder = RabbitToolkit.builder()
          .uri("amqp://nobody:" + SECRET + "@" + uri.getHost() + ":" + uri.getPort() + "/");
      builderText = builder.toString();
      failure = assertThrows(ConnectionException.class, builder::connect).toString();
      assertThrows(IllegalArgumentException.class, () -> RabbitToolkit.builder().uri("amqp://u:" + SECRET + "@h/a/b"));
    } finally {
      System.setErr(original);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertFalse(builderText.contains(SECRET), builderText);
    assertFalse(failure.contains(SECRET), failure);
    assertFalse(logs.contains(SECRET), logs);
    assertTrue(builderText.contains("****"), builderText);
  }

  @Test
  void toStringMasksThePasswordOfAConnectedToolkit(RabbitToolkit rabbit) {
    String text = rabbit.toString();
    assertTrue(text.contains(":****@"), text);
    assertFalse(text.matches(".*:guest@.*"), text);
    assertTrue(rabbit.isConnected());
  }

  @Test
  void aClusterUriFallsThroughToAnAddressThatAnswers(RabbitBroker broker, TestNames names) {
    URI uri = amqp(broker);
    String info = uri.getUserInfo() == null ? "guest:guest" : uri.getUserInfo();
    try (RabbitToolkit rabbit = RabbitToolkit.builder()
        .uri("amqp://" + info + "@127.0.0.1:1," + uri.getHost() + ":" + uri.getPort() + "/")
        .connectionName(names.prefix()).connect()) {
      String queue = names.queue("q");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      assertTrue(rabbit.queueInfo(queue).isPresent());
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void closeIsIdempotentAndLaterUseFailsWithATypedError(RabbitBroker broker) {
    RabbitToolkit rabbit = broker.connect();
    rabbit.close();
    rabbit.close();
    assertFalse(rabbit.isConnected());
    assertThrows(ResourceClosedException.class, () -> rabbit.publisherBuilder(String.class));
    assertThrows(ResourceClosedException.class, () -> rabbit.declare(Topology.of(Queue.classic("q"))));
    assertTrue(rabbit.toString().contains("closed"));
  }

  @Test
  void connectionTimeoutBoundsAHandshakeWithAPeerThatNeverAnswers() throws Exception {
    // A socket that accepts TCP connections (backlog) but never speaks AMQP.
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      long start = System.nanoTime();
      ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
          .host("127.0.0.1").port(silent.getLocalPort()).connectionTimeout(Duration.ofMillis(500)).connect());
      assertEquals(Reason.TIMEOUT, e.reason(), e.getMessage());
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
    }
  }

  @Test
  void aNetworkBlackHoleShowsInHealthWithinSecondsAndTheToolkitRecovers(RabbitBroker broker, TestNames names)
      throws Exception {
    URI uri = URI.create(broker.uri());
    String queue = names.queue("hole");
    try (TcpProxy proxy = TcpProxy.to(uri.getHost(), uri.getPort());
        RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri()).host("127.0.0.1").port(proxy.port())
            .recoveryInterval(Duration.ofMillis(500)).connect()) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        p.publish("before").get(10, TimeUnit.SECONDS);
        assertTrue(rabbit.health().healthy(), rabbit.health().problems().toString());
        proxy.blackHole();
        long start = System.nanoTime();
        p.publish("into the hole");
        Await.until(Duration.ofSeconds(20), "health notices", () -> !rabbit.health().healthy());
        double noticed = (System.nanoTime() - start) / 1e9;
        System.out.printf("FIGURES black hole noticed by health() after %.1f s: %s%n", noticed,
            rabbit.health().problems());
        assertTrue(noticed < 15, "noticed after " + noticed + " s");
        proxy.restore();
        Await.until(Duration.ofSeconds(30), "healthy again", () -> rabbit.health().healthy());
        p.publish("after").get(10, TimeUnit.SECONDS);
      }
      rabbit.deleteQueue(queue);
    }
  }

  @Test
  void portsThatDoNotSpeakAmqp091SayWhatWasSeen() throws Exception {
    // PostgreSQL's port, when the machine has one listening there.
    boolean postgres;
    try (Socket s = new Socket("127.0.0.1", 5432)) {
      postgres = true;
    } catch (java.io.IOException e) {
      postgres = false;
    }
    if (postgres) {
      ConnectionException e = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(5432).connect());
      assertEquals(Reason.NOT_AMQP, e.reason(), e.getMessage());
    }
    try (Fake http = new Fake("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Fake amqp10 = new Fake(new byte[]{'A', 'M', 'Q', 'P', 0, 1, 0, 0})) {
      ConnectionException garbage = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(http.port()).connect());
      assertEquals(Reason.NOT_AMQP, garbage.reason());
      assertTrue(garbage.getMessage().contains("not AMQP 0-9-1"), garbage.getMessage());
      ConnectionException other = assertThrows(ConnectionException.class,
          () -> RabbitToolkit.builder().host("127.0.0.1").port(amqp10.port()).connect());
      assertEquals(Reason.NOT_AMQP, other.reason());
      assertTrue(other.getMessage().contains("AMQP 1.0"), other.getMessage());
    }
  }

  @Test
  void aSilentPortFailsAfterTheConnectionTimeoutNotHalfOfIt() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      long start = System.nanoTime();
      ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
          .host("127.0.0.1").port(silent.getLocalPort()).connectionTimeout(Duration.ofSeconds(2)).connect());
      double took = (System.nanoTime() - start) / 1e9;
      assertEquals(Reason.TIMEOUT, e.reason(), e.getMessage());
      assertTrue(took >= 1.8 && took < 6, "failed after " + took + " s with a 2 s timeout");
    }
  }

  /** A server that answers every connection with fixed bytes, then closes it. */
  private static final class Fake implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());

    Fake(byte[] answer) throws java.io.IOException {
      Thread t = new Thread(() -> {
        while (!socket.isClosed()) {
          try (Socket s = socket.accept()) {
            OutputStream out = s.getOutputStream();
            out.write(answer);
            out.flush();
            Thread.sleep(100);
          } catch (Exception e) {
            // closed
          }
        }
      });
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }
}
