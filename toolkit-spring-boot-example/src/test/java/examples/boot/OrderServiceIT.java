package examples.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.QueueInfo;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.ThrowawayBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example service in-process on a random port, against a throw-away node (its connections are
 * force-closed, which the shared broker must not see), driven over HTTP only.
 */
class OrderServiceIT {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void ordersAreConfirmedProcessedOnceSurviveAForcedCloseAndAShutdownLeavesNoneUnacked() throws Exception {
    try (ThrowawayBroker broker = ThrowawayBroker.start()) {
      ConfigurableApplicationContext app = SpringApplication.run(OrderServiceApplication.class,
          "--server.port=0", "--rabbitkit.uri=" + broker.uri(), "--order-service.handling-time=2ms");
      String base = "http://127.0.0.1:" + ((WebServerApplicationContext) app).getWebServer().getPort();
      Set<String> accepted = ConcurrentHashMap.newKeySet();
      try {
        HttpResponse<String> health = get(base + "/actuator/health");
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().matches("(?s).*\"rabbitkit\":\\{.*\"status\":\"UP\".*"), health.body());

        // 500 orders, 16 at a time: every one 202, every one processed exactly once.
        List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
          posts.add(post(base, order("o-" + i, "c-" + (i % 7))));
          if (posts.size() % 16 == 0) {
            CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).join();
          }
        }
        for (int i = 0; i < posts.size(); i++) {
          HttpResponse<String> r = posts.get(i).join();
          assertEquals(202, r.statusCode(), r.body());
          accepted.add("o-" + i);
        }
        Await.until(Duration.ofSeconds(30), "500 processed", () -> processed(base) == 500);
        String metrics = get(base + "/actuator/prometheus").body();
        assertEquals(500,
            count(metrics, "rabbitkit_consume_seconds_count", "outcome=\"acked\"", "queue=\"boot.orders\""));
        assertEquals(500,
            count(metrics, "rabbitkit_publish_seconds_count", "outcome=\"confirmed\"", "exchange=\"orders\""));

        // Bad input: 400 and nothing published.
        assertEquals(400, postNow(base, "{\"orderId\":").statusCode());
        assertEquals(400, postNow(base, order("o-bad", "c").replace("10.5", "-1")).statusCode());

        // A poison order: accepted, retried, dead-lettered; it never loops.
        assertEquals(202, postNow(base, order("o-poison", "poison")).statusCode());
        try (RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri())) {
          Await.until(Duration.ofSeconds(20), "poison order dead-lettered",
              () -> rabbit.queueInfo("boot.orders.dlq").map(QueueInfo::messageCount).orElse(0L) == 1);
        }

        // Force-close every connection while orders keep coming: health goes DOWN then UP by itself;
        // each order is 202 (then processed) or 503 (the client retries it with the same id).
        AtomicBoolean sawDown = new AtomicBoolean();
        AtomicInteger unavailable = new AtomicInteger();
        AtomicBoolean keepPosting = new AtomicBoolean(true);
        CompletableFuture<Void> poster = CompletableFuture.runAsync(() -> {
          for (int i = 0; keepPosting.get(); i++) {
            String id = "outage-" + i;
            while (true) {
              HttpResponse<String> r = postNow(base, order(id, "c-outage"));
              if (r.statusCode() == 202) {
                accepted.add(id);
                break;
              }
              assertEquals(503, r.statusCode(), r.body());
              unavailable.incrementAndGet();
            }
          }
        });
        Thread.sleep(300);
        broker.closeAllConnections();
        Await.until(Duration.ofSeconds(15), "health DOWN", () -> {
          HttpResponse<String> h = get(base + "/actuator/health");
          sawDown.compareAndSet(false, h.statusCode() == 503 && h.body().contains("\"DOWN\""));
          return sawDown.get();
        });
        Await.until(Duration.ofSeconds(30), "health UP again",
            () -> get(base + "/actuator/health").statusCode() == 200);
        Thread.sleep(500);
        keepPosting.set(false);
        poster.get(60, java.util.concurrent.TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(30), "every accepted order processed", () -> processed(base) == accepted.size());
        Thread.sleep(500); // a duplicate, if there were one, would be counted by now
        assertEquals(accepted.size(), processed(base), "each accepted order processed exactly once");
        System.out.println("FIGURES accepted=" + accepted.size() + " unavailable_503=" + unavailable.get());

        // A graceful shutdown while orders are in flight: whatever was handled was acknowledged,
        // whatever was not is back in the queue; nothing is left unacknowledged or handled twice.
        long before = processed(base);
        OrderHandler handler = app.getBean(OrderHandler.class);
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          burst.add(post(base, order("late-" + i, "c-late")));
        }
        Await.until(Duration.ofSeconds(10), "the burst being handled", () -> handler.processed() > before + 20);
        app.close(); // requests in progress finish, then the consumer drains, then the connections close
        long handledLate = handler.processed() - before;
        int late = 0;
        for (CompletableFuture<HttpResponse<String>> r : burst) {
          late += r.handle((response, e) -> e == null && response.statusCode() == 202 ? 1 : 0).join();
        }
        try (RabbitToolkit rabbit = RabbitToolkit.connect(broker.uri())) {
          QueueInfo queue = rabbit.queueInfo("boot.orders").orElseThrow();
          System.out.println("FIGURES shutdown accepted=" + late + " handled=" + handledLate + " left_in_queue="
              + queue.messageCount());
          assertEquals(late, handledLate + queue.messageCount(),
              "handled + still queued = accepted: none lost, none handled without its ack");
        }
      } finally {
        app.close();
      }
    }
  }

  private static String order(String id, String customer) {
    return "{\"orderId\":\"" + id + "\",\"customer\":\"" + customer + "\",\"amount\":10.5,\"items\":[\"a\"]}";
  }

  private CompletableFuture<HttpResponse<String>> post(String base, String body) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/orders")).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> postNow(String base, String body) {
    return post(base, body).join();
  }

  private HttpResponse<String> get(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(url + ": " + e, e);
    }
  }

  private long processed(String base) {
    Matcher m = Pattern.compile("\"processed\":(\\d+)").matcher(get(base + "/orders/processed").body());
    assertTrue(m.find());
    return Long.parseLong(m.group(1));
  }

  /** The value of the one sample of {@code name} whose labels include all of {@code labels}. */
  private static long count(String prometheus, String name, String... labels) {
    return prometheus.lines().filter(l -> l.startsWith(name + "{"))
        .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
