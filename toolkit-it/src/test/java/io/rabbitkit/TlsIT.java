package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.test.ThrowawayBroker;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/** TLS against a throw-away node with a TLS listener and a PKI made by the test; the shared broker is not touched. */
@EnabledIf("io.rabbitkit.Certificates#opensslAvailable")
class TlsIT {

  @TempDir
  static Path dir;
  static Certificates certs;
  static ThrowawayBroker broker;

  @BeforeAll
  static void start() throws Exception {
    certs = Certificates.create(dir);
    broker = ThrowawayBroker.startWithTls(
        new ThrowawayBroker.TlsFiles(certs.ca(), certs.serverCert(), certs.serverKey()));
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  private static RabbitToolkit.Builder tls() {
    return RabbitToolkit.builder().uri(broker.tlsUri()).connectionTimeout(Duration.ofSeconds(10));
  }

  @Test
  void aTrustedCaAndMatchingHostNameGiveAWorkingEncryptedConnection() throws Exception {
    try (RabbitToolkit rabbit = tls().trustStore(certs.ca(), null).connect()) {
      rabbit.declare(Topology.of(Queue.classic("tls-q")));
      CompletableFuture<String> received = new CompletableFuture<>();
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey("tls-q").build();
          MessageConsumer c =
              rabbit.consumerBuilder(String.class).queue("tls-q").handler(d -> received.complete(d.body()))
                  .build()) {
        p.publish("over TLS").get(10, TimeUnit.SECONDS);
        assertEquals("over TLS", received.get(10, TimeUnit.SECONDS));
      }
      assertTrue(broker.ctl("list_connections", "ssl").contains("true"), "the broker sees TLS connections");
    }
  }

  /** docs/configuration.md's TLS set-up, with the test's CA and client certificate. */
  @Test
  void theDocumentedSetUpConnectsWithTheBrokersCaAndAClientCertificate() {
    String tlsUri = broker.tlsUri();
    Path caCertificate = certs.ca();
    Path clientStore = certs.clientStore();
    String storePassword = Certificates.CLIENT_STORE_PASSWORD;
    // @formatter:off
    // tag::tls[]
    RabbitToolkit rabbit = RabbitToolkit.builder()
        .uri(tlsUri)                              // amqps://app:secret@rabbit.internal:5671/
        .trustStore(caCertificate, null)          // a PEM file, or a PKCS#12/JKS store and its password
        .keyStore(clientStore, storePassword)     // only if the broker verifies clients
        .connect();
    // end::tls[]
    // @formatter:on
    try (rabbit) {
      assertTrue(rabbit.isConnected());
      assertTrue(broker.ctl("list_connections", "ssl", "peer_cert_subject").contains("rabbitkit-test-client"),
          "the broker saw the client certificate");
    }
  }

  @Test
  void anUntrustedCertificateIsATypedTlsErrorThatSaysSo() {
    for (RabbitToolkit.Builder builder : new RabbitToolkit.Builder[]{tls(), tls().trustStore(certs.otherCa(), null)}) {
      ConnectionException e = assertThrows(ConnectionException.class, builder::connect);
      assertEquals(ConnectionException.Reason.TLS, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("not trusted"), e.getMessage());
    }
  }

  @Test
  void aHostNameTheCertificateDoesNotListIsRefusedUnlessVerificationIsTurnedOff() {
    String byAddress = broker.tlsUri().replace("@localhost:", "@127.0.0.1:");
    ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder().uri(byAddress)
        .trustStore(certs.ca(), null).connectionTimeout(Duration.ofSeconds(10)).connect());
    assertEquals(ConnectionException.Reason.TLS, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("does not name the host"), e.getMessage());

    try (RabbitToolkit rabbit = RabbitToolkit.builder().uri(byAddress).trustStore(certs.ca(), null)
        .hostnameVerification(false).connect()) {
      assertTrue(rabbit.isConnected());
    }
  }

  @Test
  void aClientCertificateFromAKeyStoreIsPresentedToTheBroker() {
    try (RabbitToolkit rabbit = tls().trustStore(certs.ca(), null)
        .keyStore(certs.clientStore(), Certificates.CLIENT_STORE_PASSWORD).connect()) {
      String subjects = broker.ctl("list_connections", "peer_cert_subject");
      assertTrue(subjects.contains("CN=rabbitkit-test-client"), subjects);
    }
  }

  @Test
  void tlsToAPlainPortIsReportedAsSuch() {
    ConnectionException e = assertThrows(ConnectionException.class, () -> RabbitToolkit.builder()
        .uri(broker.uri().replace("amqp://", "amqps://")).trustStore(certs.ca(), null)
        .connectionTimeout(Duration.ofSeconds(10)).connect());
    assertEquals(ConnectionException.Reason.TLS, e.reason(), e.getMessage());
  }

  @Test
  void unreadableStoresAreRejectedWhenConfiguredNamingTheSettingButNotThePassword() {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> RabbitToolkit.builder().trustStore(dir.resolve("nope.pem"), null));
    assertTrue(missing.getMessage().startsWith("trustStore: ") && missing.getMessage().contains("nope.pem"),
        missing.getMessage());
    IllegalArgumentException wrongPassword = assertThrows(IllegalArgumentException.class,
        () -> RabbitToolkit.builder().keyStore(certs.clientStore(), "not-the-password"));
    assertTrue(wrongPassword.getMessage().startsWith("keyStore: "), wrongPassword.getMessage());
    assertFalse(wrongPassword.getMessage().contains("not-the-password"), wrongPassword.getMessage());
  }
}
