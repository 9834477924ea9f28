package io.rabbitkit.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ChildJvm;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The console's process killed (SIGKILL) in the middle of replaying a group: every letter is either
 * back in the work queue or still in the dead-letter queue. None is lost; at most the one whose
 * confirm came just before the kill is in both.
 */
@RabbitTest
class ReplayCrashIT {

  private static final int LETTERS = 200;

  @Test
  void aConsoleKilledMidReplayLosesNoLetter(RabbitToolkit rabbit, RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("orders");
    rabbit.declare(Topology.of(Queue.classic(queue), Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      for (int i = 0; i < LETTERS; i++) {
        p.publish("letter " + i).join();
      }
    }
    try (ChildJvm child = ChildJvm.main(ConsoleProcess.class, broker.uri(), queue).start()) {
      URI url = URI.create(child.awaitLine("url ", Duration.ofSeconds(30)).substring(4).trim());
      String token = url.getQuery().replaceAll(".*token=([0-9a-f]+).*", "$1");
      String base = "http://" + url.getHost() + ":" + url.getPort() + "/api/queues/" + queue + ".dlq/";
      HttpClient http = HttpClient.newHttpClient();
      String groups = http.send(HttpRequest.newBuilder(URI.create(base + "groups")).header(ConsoleServer.TOKEN_HEADER,
          token).build(), HttpResponse.BodyHandlers.ofString()).body();
      String group = groups.replaceAll("(?s).*?\"id\":\"([0-9a-f]+)\".*", "$1");
      http.sendAsync(HttpRequest.newBuilder(URI.create(base + "replay")).header(ConsoleServer.TOKEN_HEADER, token)
          .POST(HttpRequest.BodyPublishers.ofString("{\"confirmed\":true,\"group\":\"" + group + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      Await.until(Duration.ofSeconds(30), () -> rabbit.queueInfo(queue).orElseThrow().messageCount() >= 40);
      child.kill();
    }
    // The letters the dead process held return to the dead-letter queue as the broker notices the
    // closed connection: read both queues until every letter is seen, or 30 s pass. The visitor goes
    // on past a letter already seen (returning false would end the read: on RabbitMQ 4.3 the letter in
    // both queues is the dead-letter queue's first, and a read that stopped there looked like a loss).
    Set<String> seen = new HashSet<>();
    long[] replayed = {0};
    long[] left = {0};
    Await.until(Duration.ofSeconds(30), () -> {
      seen.clear();
      // The work queue read as if it were a dead-letter queue: browse leaves what it reads in place.
      Predicate<DeadLetter> note = d -> {
        seen.add(d.bodyAsString());
        return true;
      };
      replayed[0] = rabbit.deadLetters(queue, queue).browse(Integer.MAX_VALUE, note);
      left[0] = rabbit.deadLetters(queue).browse(Integer.MAX_VALUE, note);
      return seen.size() == LETTERS;
    });
    System.out.printf("console killed mid-replay: %d letters, %d back in the work queue, %d still dead, %d in"
        + " both%n", LETTERS, replayed[0], left[0], replayed[0] + left[0] - seen.size());
    assertEquals(LETTERS, seen.size(), "every letter is somewhere");
    assertTrue(replayed[0] > 0 && left[0] > 0, "killed mid-replay");
    assertTrue(replayed[0] + left[0] - LETTERS <= 1, "at most the letter confirmed just before the kill is in both");
  }

  /** The console in a process of its own: replays 50 letters a second, prints its URL. */
  public static final class ConsoleProcess {
    public static void main(String[] args) throws Exception {
      RabbitToolkit rabbit = RabbitToolkit.connect(args[0]);
      DeadLetterConsole console = DeadLetterConsole.builder(rabbit).queue(args[1]).replayRate(50).build();
      ConsoleServer server = ConsoleServer.start(console, new InetSocketAddress("127.0.0.1", 0));
      System.out.println("url " + server.url());
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
