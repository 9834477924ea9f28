package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.ThrowawayBroker;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * No password in any log line (at debug level, amqp-client's included), toString, exception message
 * or stack trace, for URIs with and without a password. Runs on a throw-away node with a user of
 * its own, so the shared broker's users stay untouched.
 */
class CredentialsIT {

  private static final String SECRET = "Pa55/word@s3cret";
  private static final String ENCODED = "Pa55%2Fword%40s3cret";

  @Test
  void passwordsAppearNowhereInTheToolkitsOutput() throws Exception {
    try (ThrowawayBroker broker = ThrowawayBroker.start()) {
      broker.ctl("add_user", "alice", SECRET);
      broker.ctl("set_permissions", "alice", ".*", ".*", ".*");
      String hostPort = broker.uri().substring(broker.uri().indexOf('@') + 1);
      String good = "amqp://alice:" + ENCODED + "@" + hostPort;
      String wrong = "amqp://alice:" + ENCODED + "x@" + hostPort;
      String unreachable = "amqp://alice:" + ENCODED + "@127.0.0.1:1/";
      String noPassword = "amqp://alice@127.0.0.1:1/";
      // Unencoded '/' in the password: read naively, they become a host, a port and a vhost.
      String slashInPassword = "amqp://alice:Tr0ub4dor/x9@" + hostPort;
      String portLikePassword = "amqp://alice:7781/Summer2024@" + hostPort;

      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug", "-Dorg.slf4j.simpleLogger.log.io.rabbitkit=debug",
          "-cp", System.getProperty("java.class.path"), CredentialsScenario.class.getName(),
          good, wrong, unreachable, noPassword, slashInPassword, portLikePassword).redirectErrorStream(true).start();
      ByteArrayOutputStream output = new ByteArrayOutputStream();
      Thread pump = new Thread(() -> copy(child.getInputStream(), output));
      pump.start();
      awaitLine(output, "READY", child);
      broker.closeAllConnections();
      try (OutputStream stdin = child.getOutputStream()) {
        stdin.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      assertTrue(child.waitFor(120, TimeUnit.SECONDS), "scenario did not finish:\n" + output);
      pump.join();
      String out = output.toString(StandardCharsets.UTF_8);
      assertEquals(0, child.exitValue(), out);

      // The scenario really went through every path that could leak.
      for (String expected : List.of("DEBUG", "received: hello", "after recovery: connected true", "confirmed again",
          "failure AUTHENTICATION_FAILED", "failure CONNECTION_REFUSED", "malformed: ", "bad parameter: ",
          "percent-encode / ? # @ : in the password", "DONE")) {
        assertTrue(out.contains(expected), "missing '" + expected + "' in:\n" + out);
      }
      assertTrue(out.contains("alice"), "the user name is shown, only the password is hidden");
      assertEquals(2, out.split("refused uri: ", -1).length - 1, "both unencoded URIs refused:\n" + out);
      for (String leak : List.of(SECRET, ENCODED, "Pa55", "s3cret", "Tr0ub4dor", "x9@", "Summer2024", "7781")) {
        assertFalse(out.contains(leak), "'" + leak + "' leaked:\n" + out);
      }
    }
  }

  private static void awaitLine(ByteArrayOutputStream output, String line, Process child) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!output.toString(StandardCharsets.UTF_8).contains(line + "\n")) {
      if (!child.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("no " + line + " from the scenario:\n" + output);
      }
      Thread.sleep(50);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(new OutputStream() {
        @Override
        public void write(int b) {
          synchronized (out) {
            out.write(b);
          }
        }

        @Override
        public void write(byte[] b, int off, int len) {
          synchronized (out) {
            out.write(b, off, len);
          }
        }
      });
    } catch (java.io.IOException e) {
      // the child ended
    }
  }
}
