package io.rabbitkit.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.Redelivery;
import io.rabbitkit.RpcClient;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Traces through the real broker, recorded by OpenTelemetry's SDK behind Micrometer Tracing's
 * bridge: two toolkits stand for two services.
 */
@RabbitTest
class TracingIT {

  private InMemorySpanExporter spans;
  private SdkTracerProvider provider;
  private ObservationRegistry producerService;
  private ObservationRegistry consumerService;

  @BeforeEach
  void tracer() {
    spans = InMemorySpanExporter.create();
    provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    producerService = registry(otel, "orders-service");
    consumerService = registry(otel, "shipping-service");
  }

  private static ObservationRegistry registry(OpenTelemetrySdk otel, String service) {
    io.opentelemetry.api.trace.Tracer otelTracer = otel.getTracer(service);
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer = new OtelTracer(otelTracer, current, event -> {
    },
        new OtelBaggageManager(current, List.of(), List.of()));
    OtelPropagator propagator = new OtelPropagator(otel.getPropagators(), otelTracer);
    ObservationRegistry registry = ObservationRegistry.create();
    registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
        new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
        new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
        new DefaultTracingObservationHandler(tracer)));
    return registry;
  }

  @AfterEach
  void close() {
    provider.close();
  }

  private List<SpanData> named(String name) {
    return spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
  }

  private static String attribute(SpanData span, String key) {
    return span.getAttributes().asMap().entrySet().stream().filter(e -> e.getKey().getKey().equals(key))
        .map(e -> String.valueOf(e.getValue())).findFirst().orElse(null);
  }

  @Test
  void producerAndConsumerSpansShareATraceAcrossRetriesAndTheDeadLetterHop(RabbitBroker broker, TestNames names)
      throws Exception {
    String queue = names.queue("traced");
    names.queue("traced.dlq");
    names.queue("traced.retry.100ms");
    try (
        RabbitToolkit orders = broker.toolkitBuilder().interceptor(RabbitkitObservations.of(producerService)).connect();
        RabbitToolkit shipping = broker.toolkitBuilder().interceptor(RabbitkitObservations.of(consumerService))
            .connect()) {
      orders.declare(Topology.builder().queue(Queue.quorum(queue)).build());
      try (Publisher<String> p = orders.publisherBuilder(String.class).routingKey(queue).build();
          MessageConsumer c = shipping.consumerBuilder(String.class).queue(queue).retry(2)
              .redelivery(Redelivery.after(Duration.ofMillis(100)))
              .handler(d -> {
                if (d.body().equals("poison") || (d.body().equals("flaky") && d.attempt() == 1)) {
                  throw new IllegalStateException("cannot ship " + d.body());
                }
              }).build()) {
        p.publish(Message.of("fine").withMessageId("m-fine")).get(10, TimeUnit.SECONDS);
        p.publish(Message.of("flaky").withMessageId("m-flaky")).get(10, TimeUnit.SECONDS);
        p.publish(Message.of("poison").withMessageId("m-poison")).get(10, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(15), "all settled",
            () -> c.stats().processed() == 2 && c.stats().deadLettered() == 1);
      }
      // The dead letter, consumed by a third party, joins the trace too.
      try (MessageConsumer dlq = shipping.consumerBuilder(String.class).queue(queue + ".dlq").handler(d -> {
      })
          .build()) {
        Await.until(Duration.ofSeconds(10), () -> named("process " + queue + ".dlq").size() == 1);
      }
    }
    List<SpanData> published = named("publish amq.default");
    assertEquals(3, published.size(), "one producer span per message: " + spans.getFinishedSpanItems());
    for (SpanData producer : published) {
      assertEquals(SpanKind.PRODUCER, producer.getKind());
      assertEquals("rabbitmq", attribute(producer, "messaging.system"));
      assertEquals(queue, attribute(producer, "messaging.rabbitmq.destination.routing_key"));
      String id = attribute(producer, "messaging.message.id");
      List<SpanData> children = spans.getFinishedSpanItems().stream()
          .filter(s -> s.getKind() == SpanKind.CONSUMER && s.getTraceId().equals(producer.getTraceId())).toList();
      assertFalse(children.isEmpty(), id + " has consumer spans");
      for (SpanData child : children) {
        assertEquals(producer.getSpanId(), child.getParentSpanId(), id + ": each delivery is the producer's child");
        assertEquals(id, attribute(child, "messaging.message.id"));
      }
      switch (id) {
        case "m-fine" -> assertEquals(1, children.size());
        case "m-flaky" -> {
          assertEquals(2, children.size(), "first round failed, second round acked");
          assertTrue(children.stream().anyMatch(s -> "delayed".equals(attribute(s, "rabbitkit.outcome"))));
          assertTrue(children.stream().anyMatch(s -> "acked".equals(attribute(s, "rabbitkit.outcome"))));
        }
        case "m-poison" -> {
          assertEquals(3, children.size(), "two rounds on the work queue, one on the dead-letter queue");
          assertEquals(1, children.stream().filter(s -> "dead_lettered".equals(attribute(s, "rabbitkit.outcome")))
              .count());
          assertTrue(children.stream().anyMatch(s -> s.getName().equals("process " + queue + ".dlq")));
          assertTrue(children.stream().filter(s -> "dead_lettered".equals(attribute(s, "rabbitkit.outcome")))
              .allMatch(s -> "IllegalStateException".equals(attribute(s, "error.type"))));
        }
        default -> throw new AssertionError("unexpected producer span " + id);
      }
    }
  }

  @Test
  void aMessageWithoutTraceHeadersStartsANewTrace(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("untraced");
    try (RabbitToolkit shipping = broker.toolkitBuilder().interceptor(RabbitkitObservations.of(consumerService))
        .connect()) {
      shipping.declare(Topology.builder().queue(Queue.classic(queue)).build());
      try (MessageConsumer c = shipping.consumerBuilder(String.class).queue(queue).handler(d -> {
      }).build()) {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(broker.uri());
        if (f.getVirtualHost().isEmpty()) {
          f.setVirtualHost("/");
        }
        try (com.rabbitmq.client.Connection raw = f.newConnection(); Channel ch = raw.createChannel()) {
          // As pika sends it: no headers at all, no content type.
          ch.basicPublish("", queue, new AMQP.BasicProperties(), "from pika".getBytes(StandardCharsets.UTF_8));
        }
        Await.until(Duration.ofSeconds(10), () -> c.stats().processed() == 1);
      }
    }
    List<SpanData> processed = named("process " + queue);
    assertEquals(1, processed.size());
    SpanData span = processed.get(0);
    assertFalse(span.getParentSpanContext().isValid(), "no parent: a new trace");
    assertTrue(span.getSpanContext().isValid());
    assertEquals("acked", attribute(span, "rabbitkit.outcome"));
    assertEquals("1", attribute(span, "messaging.rabbitmq.message.delivery_attempt"));
    assertNull(attribute(span, "messaging.message.id"), "a message without an id has no id attribute, not \"null\"");
  }

  @Test
  void anRpcCallAndItsHandlingOnTheServerShareATrace(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("rpc");
    try (
        RabbitToolkit client = broker.toolkitBuilder().interceptor(RabbitkitObservations.of(producerService)).connect();
        RabbitToolkit server = broker.toolkitBuilder().interceptor(RabbitkitObservations.of(consumerService))
            .connect()) {
      server.declare(Topology.builder().queue(Queue.classic(queue)).build());
      // A server written as a consumer that replies (RpcServer's own handling is not observed yet).
      try (Publisher<String> replies = server.publisherBuilder(String.class).routingKey(r -> "").mandatory(false)
          .build();
          MessageConsumer s = server.consumerBuilder(String.class).queue(queue).handler(d -> replies.publish(
              Message.of(d.body().toUpperCase(java.util.Locale.ROOT)).withRoutingKey(d.replyTo().orElseThrow())
                  .withCorrelationId(d.correlationId().orElseThrow()))
              .get(10, TimeUnit.SECONDS)).build();
          RpcClient<String, String> c = client.rpcClientBuilder(String.class, String.class).routingKey(queue).build()) {
        assertEquals("PING", c.call("ping").get(10, TimeUnit.SECONDS));
      }
    }
    List<SpanData> calls = named("call " + queue);
    assertEquals(1, calls.size(), String.valueOf(spans.getFinishedSpanItems()));
    SpanData call = calls.get(0);
    assertEquals(SpanKind.PRODUCER, call.getKind());
    assertEquals("ok", attribute(call, "rabbitkit.outcome"));
    List<SpanData> handled = named("process " + queue);
    assertEquals(1, handled.size());
    assertEquals(call.getTraceId(), handled.get(0).getTraceId());
    assertEquals(call.getSpanId(), handled.get(0).getParentSpanId(), "the server's handling is the call's child");
    List<SpanData> reply = named("publish amq.default");
    assertEquals(1, reply.size());
    assertEquals(handled.get(0).getSpanId(), reply.get(0).getParentSpanId(),
        "the reply, published inside the handler, is the handling's child");
  }
}
