package io.rabbitkit.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console in headless Chromium (Debian's chromium and chromium-driver, which .ci/run installs):
 * 50 orders dead-lettered by three kinds of failure show as three groups; replaying one moves its
 * letters back, where the mended consumer processes them, and leaves the others; a body holding
 * markup and script stays text; nothing acts without the token. Leaves a screenshot in target/.
 */
@RabbitTest
class DeadLetterConsoleBrowserIT {

  private static final Path CHROMIUM = Path.of(System.getProperty("rabbitkit.chromium", "/usr/bin/chromium"));
  private static final Path DRIVER = Path.of(System.getProperty("rabbitkit.chromedriver", "/usr/bin/chromedriver"));
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PAYLOAD = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";

  record Order(String orderId, String sku) {
  }

  @Test
  void threeGroupsOneReplayedTheOthersStayMarkupStaysTextAndNothingActsWithoutTheToken(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)");
    String queue = names.queue("orders");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    AtomicBoolean inventoryDown = new AtomicBoolean(true);
    AtomicInteger processed = new AtomicInteger();
    try (MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(queue).retry(1).handler(d -> {
      if (d.body().sku().equals("unknown")) {
        throw new RejectMessageException("unknown sku " + d.body().sku());
      }
      if (inventoryDown.get()) {
        throw new IllegalStateException("inventory service down");
      }
      processed.incrementAndGet();
    }).deadLetterQueue(queue + ".dlq").build()) {
      publish(rabbit, queue);
      Await.until(WAIT, () -> rabbit.deadLetters(queue).count() == 50);

      // Not named: the console knows the queue from the consumer.
      DeadLetterConsole console = DeadLetterConsole.builder(rabbit).build();
      try (ConsoleServer server = ConsoleServer.start(console, new InetSocketAddress("127.0.0.1", 0),
          ConsoleServer.newToken(), queue + ".dlq")) {
        refusedWithoutTheToken(server, queue);
        ChromeDriver browser = browser();
        try {
          browser.get(server.url().toString());
          until(() -> groups(browser).size() == 3);
          assertEquals(Map.of("io.rabbitkit.ToolkitException$RejectMessageException", 20,
              "io.rabbitkit.ToolkitException$MessageDecodingException",
              10, "java.lang.IllegalStateException", 20), groups(browser));
          until(() -> browser.findElements(By.cssSelector("#letters tr.letter")).size() == 20);
          Path shot = Path.of("target", "dead-letter-console.png");
          Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
          System.out.println("dead-letter console screenshot: " + shot.toAbsolutePath());

          group(browser, "MessageDecodingException").findElement(By.cssSelector("button.show")).click();
          until(() -> browser.findElements(By.cssSelector("#letters tr.letter")).size() == 10);
          List<String> bodies = browser.findElements(By.cssSelector("#letters pre.body")).stream()
              .map(WebElement::getText).toList();
          assertTrue(bodies.contains(PAYLOAD), "the payload shows as text: " + bodies);
          assertTrue(browser.findElements(By.cssSelector("#letters img, #letters script")).isEmpty(),
              "no element made from a body");
          assertEquals(true, ((JavascriptExecutor) browser).executeScript("return window.pwned === undefined"),
              "the payload's script ran");

          inventoryDown.set(false);
          group(browser, "IllegalStateException").findElement(By.cssSelector("button.replay")).click();
          until(() -> {
            browser.switchTo().alert().accept(); // the console asks before it acts
            return true;
          });
          until(() -> browser.findElement(By.id("status")).getText().startsWith("Replayed 20 letter(s)"));
          Await.until(WAIT, () -> processed.get() == 20);
          until(() -> groups(browser).size() == 2);
          assertEquals(Map.of("io.rabbitkit.ToolkitException$RejectMessageException", 20,
              "io.rabbitkit.ToolkitException$MessageDecodingException", 10), groups(browser));
          assertEquals(30, rabbit.deadLetters(queue).count(), "the other groups stay");
          assertEquals(20, processed.get(), "each replayed letter processed once");
        } finally {
          browser.quit();
        }
      }
    }
  }

  @Test
  void aReadOnlyConsoleRefusesActionsEvenWithTheToken(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("orders");
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      p.publish("dead").join();
    }
    // tag::console-server[]
    DeadLetterConsole console = DeadLetterConsole.builder(rabbit).queue(queue).readOnly(true).build();
    ConsoleServer server = ConsoleServer.start(console, new InetSocketAddress("127.0.0.1", 0));
    System.out.println(server.url()); // http://127.0.0.1:<port>/?token=...
    // end::console-server[]
    try (server) {
      String token = server.url().getQuery().replaceAll(".*token=([0-9a-f]+).*", "$1");
      HttpResponse<String> r = post(server, queue + ".dlq", "replay", Map.of(ConsoleServer.TOKEN_HEADER, token));
      assertEquals(403, r.statusCode(), r.body());
      HttpResponse<String> other = get(server, "/api/queues/" + names.queue("elsewhere") + "/letters", token);
      assertEquals(404, other.statusCode(), "only queues it knows: " + other.body());
      assertTrue(raw(server, "GET /api/queues?limit=%zz HTTP/1.1\r\n" + ConsoleServer.TOKEN_HEADER + ": " + token)
          .startsWith("HTTP/1.1 400"), "a malformed escape");
      assertEquals(1, rabbit.deadLetters(queue).count());
    }
  }

  private static void publish(RabbitToolkit rabbit, String queue) {
    try (Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
        Publisher<String> text = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
      for (int i = 0; i < 20; i++) {
        orders.publish(new Order("o-" + i, "book")).join();
        orders.publish(new Order("u-" + i, "unknown")).join();
      }
      for (int i = 0; i < 9; i++) {
        text.publish("not json " + i).join();
      }
      text.publish(PAYLOAD).join();
    }
  }

  private static void refusedWithoutTheToken(ConsoleServer server, String queue) throws Exception {
    assertEquals(401, get(server, "/api/queues", null).statusCode());
    assertEquals(401, get(server, "/", null).statusCode());
    assertEquals(401, post(server, queue + ".dlq", "replay", Map.of()).statusCode());
    // The cookie the page sets lets a page read, never act: an action needs the header.
    String token = server.url().getQuery().replaceAll(".*token=([0-9a-f]+).*", "$1");
    assertEquals(401, post(server, queue + ".dlq", "purge", Map.of("Cookie", "rabbitkit-console-token=" + token))
        .statusCode());
  }

  private static HttpResponse<String> get(ConsoleServer server, String path, String token) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    if (token != null) {
      r.header(ConsoleServer.TOKEN_HEADER, token);
    }
    return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A request no well-behaved client would send, and the status line of the answer. */
  private static String raw(ConsoleServer server, String head) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      socket.getOutputStream().write((head + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  private static HttpResponse<String> post(ConsoleServer server, String dlq, String action,
      Map<String, String> headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/queues/"
        + dlq + "/" + action)).POST(HttpRequest.BodyPublishers.ofString("{\"confirmed\":true,\"ids\":[\"x\"]}"));
    headers.forEach(r::header);
    return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits for the page: {@code condition} true, a missing alert or a stale element meaning "not yet". */
  private static void until(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (WebDriverException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the page did not get there within " + WAIT.toSeconds() + " s");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static ChromeDriver browser() throws Exception {
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless",
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
        "--user-data-dir=" + Files.createTempDirectory(Path.of("target"), "chromium-profile").toAbsolutePath());
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  /** Exception type to count, as the page shows the groups. */
  private static Map<String, Integer> groups(ChromeDriver browser) {
    Map<String, Integer> out = new TreeMap<>();
    for (WebElement row : browser.findElements(By.cssSelector("#groups tr.group"))) {
      List<WebElement> cells = row.findElements(By.tagName("td"));
      out.put(cells.get(1).getText(), Integer.parseInt(row.findElement(By.cssSelector("td.count")).getText()));
    }
    return out;
  }

  private static WebElement group(ChromeDriver browser, String exception) {
    return browser.findElements(By.cssSelector("#groups tr.group")).stream()
        .filter(r -> r.findElements(By.tagName("td")).get(1).getText().endsWith(exception)).findFirst()
        .orElseThrow();
  }
}
