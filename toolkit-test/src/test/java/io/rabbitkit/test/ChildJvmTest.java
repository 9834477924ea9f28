package io.rabbitkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChildJvmTest {

  /** Prints its arguments one per line, then echoes one line of input, then exits with 3. */
  public static final class Echo {
    public static void main(String[] args) throws Exception {
      for (String arg : args) {
        System.out.println(arg);
      }
      System.out.println("echo " + new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
          .readLine() + " " + System.getenv("CHILD_JVM_TEST"));
      System.exit(3);
    }
  }

  @Test
  void awaitsLinesInTurnTalksToTheChildAndReadsItsExitCode() throws Exception {
    try (
        ChildJvm child = ChildJvm.main(Echo.class, "step 1", "step 2", "\u202e").env("CHILD_JVM_TEST", "set").start()) {
      assertEquals("step 1", child.awaitLine("step", Duration.ofSeconds(30)));
      assertEquals("step 2", child.awaitLine("step", Duration.ofSeconds(30)), "the next line, not the same one");
      child.send("hello");
      assertEquals("echo hello set", child.awaitLine("echo", Duration.ofSeconds(30)));
      assertEquals(3, child.waitFor(Duration.ofSeconds(30)));
      assertTrue(new String(child.outputBytes(), StandardCharsets.UTF_8).contains("\u202e"), "bytes kept whole");
    }
  }

  @Test
  void aLineThatNeverComesFailsWithTheOutputOnceTheChildEnded() throws Exception {
    try (ChildJvm child = ChildJvm.main(Echo.class, "only this").start()) {
      child.send("x");
      AssertionError e = assertThrows(AssertionError.class, () -> child.awaitLine("READY", Duration.ofSeconds(30)));
      assertTrue(e.getMessage().contains("ended (exit 3)") && e.getMessage().contains("only this"), e.getMessage());
    }
  }
}
