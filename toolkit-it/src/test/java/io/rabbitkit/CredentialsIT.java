package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.ThrowawayBroker;
import java.time.Duration;
import java.util.List;
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
      String out;

      try (ChildJvm child = ChildJvm.main(CredentialsScenario.class, good, wrong, unreachable, noPassword,
          slashInPassword, portLikePassword)
          .jvmOptions("-Dorg.slf4j.simpleLogger.defaultLogLevel=debug",
              "-Dorg.slf4j.simpleLogger.log.io.rabbitkit=debug")
          .start()) {
        child.awaitLine("READY", Duration.ofSeconds(60));
        broker.closeAllConnections();
        child.send("go");
        assertEquals(0, child.waitFor(Duration.ofSeconds(120)), child.output());
        out = child.output();
      }

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
}
