package io.rabbitkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away PKI made with the openssl command: a CA, a broker certificate for {@code localhost}
 * only, a client certificate in a PKCS#12 store, and a second, unrelated CA.
 */
record Certificates(Path dir, Path ca, Path serverCert, Path serverKey, Path clientStore, Path otherCa) {

  static final String CLIENT_STORE_PASSWORD = "client-store-secret";

  static boolean opensslAvailable() {
    try {
      return new ProcessBuilder("openssl", "version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static Certificates create(Path dir) throws Exception {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=rabbitkit-test-ca",
        "-keyout", "ca.key", "-out", "ca.pem");
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=unrelated-ca",
        "-keyout", "other-ca.key", "-out", "other-ca.pem");
    signed(dir, "server", "/CN=localhost", "subjectAltName=DNS:localhost");
    signed(dir, "client", "/CN=rabbitkit-test-client", "extendedKeyUsage=clientAuth");
    openssl(dir, "pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-certfile", "ca.pem",
        "-out", "client.p12", "-passout", "pass:" + CLIENT_STORE_PASSWORD);
    return new Certificates(dir, dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"),
        dir.resolve("client.p12"), dir.resolve("other-ca.pem"));
  }

  private static void signed(Path dir, String name, String subject, String extension) throws Exception {
    Files.writeString(dir.resolve(name + ".ext"), extension + "\n", StandardCharsets.UTF_8);
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", name + ".key", "-out",
        name + ".csr");
    openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem");
    // RabbitMQ runs as this user and must read its key.
    dir.resolve(name + ".key").toFile().setReadable(true, false);
  }

  private static void openssl(Path dir, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + output);
    }
  }
}
