package io.rabbitkit.micrometer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rabbitkit.Health;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The snippets of docs/observability.md, run as written. */
@RabbitTest
class ObservabilityDocIT {

  private static final Logger log = LoggerFactory.getLogger(ObservabilityDocIT.class);

  @Test
  void metricsAndTracingAreInterceptors(RabbitBroker broker, TestNames names) {
    String uri = broker.uri();
    MeterRegistry meterRegistry = new SimpleMeterRegistry();
    ObservationRegistry observationRegistry = ObservationRegistry.create();
    // @formatter:off
    // tag::metrics[]
    RabbitkitMetrics metrics = RabbitkitMetrics.of(meterRegistry);
    RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).interceptor(metrics).connect();
    metrics.bindTo(rabbit); // gauges over rabbit.health()
    // end::metrics[]
    // @formatter:on
    try (rabbit) {
      assertFalse(meterRegistry.find("rabbitkit.connection.state").gauges().isEmpty());
    }
    // @formatter:off
    // tag::tracing[]
    RabbitToolkit traced = RabbitToolkit.builder().uri(uri)
        .interceptor(RabbitkitMetrics.of(meterRegistry))
        .interceptor(RabbitkitObservations.of(observationRegistry))
        .connect();
    // end::tracing[]
    // @formatter:on
    try (traced) {
      assertTrue(traced.isConnected());
    }
  }

  @Test
  void prometheusScrapesTheMetricsOverHttp(RabbitBroker broker, TestNames names) throws Exception {
    String uri = broker.uri();
    int port = 0; // any free port here; a fixed one (9464, say) in a service
    // @formatter:off
    // tag::prometheus[]
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RabbitkitMetrics metrics = RabbitkitMetrics.of(meters);
    RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).interceptor(metrics).connect();
    metrics.bindTo(rabbit);
    HttpServer http = HttpServer.create(new InetSocketAddress(port), 0);   // com.sun.net.httpserver
    http.createContext("/metrics", exchange -> {
      byte[] body = meters.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) { out.write(body); }
    });
    http.start();
    // end::prometheus[]
    // @formatter:on
    try (rabbit) {
      String queue = names.queue("scraped");
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        p.publish("counted").join();
      }
      String scraped = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(scraped.contains("rabbitkit_publish_seconds_count{") && scraped.contains("outcome=\"confirmed\""),
          scraped);
    } finally {
      http.stop(0);
    }
  }

  @Test
  void healthSaysWhatIsWrongInWords(RabbitToolkit rabbit) {
    // @formatter:off
    // tag::health[]
    Health health = rabbit.health();
    if (!health.healthy()) {
      log.warn("rabbitmq: {}", health.problems()); // e.g. [connection orders/consumer is RECOVERING]
    }
    // end::health[]
    // @formatter:on
    assertTrue(health.healthy(), health.problems().toString());
  }
}
