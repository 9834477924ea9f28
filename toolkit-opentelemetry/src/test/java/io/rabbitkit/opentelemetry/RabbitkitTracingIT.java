package io.rabbitkit.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.rabbitkit.Message;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcClient;
import io.rabbitkit.RpcServer;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The spans against the real broker, exported to memory by the OpenTelemetry SDK. */
@RabbitTest
class RabbitkitTracingIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  record Order(String id) {
  }

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();

  private OpenTelemetrySdk otel(Sampler sampler) {
    return OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder().setSampler(sampler)
        .addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
  }

  @Test
  void aPublishSpanEndsOnTheConfirmAndTheProcessSpanIsItsChildAroundTheHandler(RabbitBroker broker,
      TestNames names) throws Exception {
    OpenTelemetrySdk otel = otel(Sampler.alwaysOn());
    RabbitkitTracing tracing = RabbitkitTracing.create(otel);
    assertTrue(tracing.active(), "no agent here");
    String queue = names.queue("orders");
    AtomicReference<String> handlerParent = new AtomicReference<>();
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder().interceptor(tracing).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(queue).handler(d -> {
            // The handler's own span is a child of the process span.
            io.opentelemetry.api.trace.Span own = otel.getTracer("app").spanBuilder("charge").startSpan();
            handlerParent.set(((io.opentelemetry.sdk.trace.ReadableSpan) own).getParentSpanContext().getSpanId());
            own.end();
          }).build()) {
        orders.publish(Message.of(new Order("o-1")).withMessageId("m-1")).get(10, TimeUnit.SECONDS);
        Await.until(WAIT, () -> named("process").size() == 1);
      }
    }
    SpanData publish = named("publish").get(0);
    SpanData process = named("process").get(0);
    assertEquals(SpanKind.PRODUCER, publish.getKind());
    assertEquals("rabbitmq", publish.getAttributes().get(RabbitkitTracing.SYSTEM));
    assertEquals("", publish.getAttributes().get(RabbitkitTracing.DESTINATION), "the default exchange");
    assertEquals(queue, publish.getAttributes().get(RabbitkitTracing.ROUTING_KEY));
    assertEquals("m-1", publish.getAttributes().get(RabbitkitTracing.MESSAGE_ID));
    assertEquals("send", publish.getAttributes().get(RabbitkitTracing.OPERATION_TYPE));
    assertEquals(StatusCode.UNSET, publish.getStatus().getStatusCode());
    assertEquals(SpanKind.CONSUMER, process.getKind());
    assertEquals(publish.getTraceId(), process.getTraceId());
    assertEquals(publish.getSpanId(), process.getParentSpanId(), "the consumer continues the producer's trace");
    assertEquals(queue, process.getAttributes().get(RabbitkitTracing.SUBSCRIPTION));
    assertEquals(1L, process.getAttributes().get(RabbitkitTracing.ATTEMPT));
    assertEquals(process.getSpanId(), handlerParent.get(), "current while the handler runs");
    assertTrue(publish.getEndEpochNanos() >= publish.getStartEpochNanos());
  }

  @Test
  void failuresMarkTheirSpansAndRetriesAreEvents(RabbitBroker broker, TestNames names) throws Exception {
    RabbitkitTracing tracing = RabbitkitTracing.create(otel(Sampler.alwaysOn()));
    String queue = names.queue("orders");
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder().interceptor(tracing).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build();
          Publisher<Order> nowhere = rabbit.publisherBuilder(Order.class).routingKey(names.queue("missing"))
              .build();
          MessageConsumer consumer = rabbit.consumerBuilder(Order.class).queue(queue).retry(3)
              .deadLetterQueue(queue + ".dlq").handler(d -> {
                throw new IllegalStateException("inventory down");
              }).build()) {
        orders.publish(new Order("o-1")).get(10, TimeUnit.SECONDS);
        assertTrue(nowhere.publish(new Order("o-2")).handle((c, e) -> e != null).get(10, TimeUnit.SECONDS),
            "unroutable");
        Await.until(WAIT, () -> named("process").size() == 1);
      }
    }
    SpanData process = named("process").get(0);
    assertEquals(StatusCode.ERROR, process.getStatus().getStatusCode());
    assertEquals("java.lang.IllegalStateException", process.getAttributes().get(RabbitkitTracing.ERROR_TYPE));
    assertEquals("dead_lettered", process.getAttributes().get(RabbitkitTracing.OUTCOME));
    assertEquals(2, process.getEvents().stream().filter(e -> e.getName().equals("retry")).count());
    SpanData returned = named("publish").stream().filter(s -> s.getStatus().getStatusCode() == StatusCode.ERROR)
        .findFirst().orElseThrow();
    assertEquals("returned", returned.getAttributes().get(RabbitkitTracing.OUTCOME));
  }

  @Test
  void aMessageCarryingAnotherTracesContextIsLinkedAndUnsampledSpansAreNotRecorded(RabbitBroker broker,
      TestNames names) throws Exception {
    String queue = names.queue("relayed");
    String carried = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder()
        .interceptor(RabbitkitTracing.create(otel(Sampler.alwaysOn()))).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (Publisher<Order> relay = rabbit.publisherBuilder(Order.class).routingKey(queue).build()) {
        relay.publish(Message.of(new Order("o-1")).withHeader("traceparent", carried)).get(10, TimeUnit.SECONDS);
      }
    }
    SpanData publish = named("publish").get(0);
    assertEquals(1, publish.getLinks().size());
    assertEquals("0af7651916cd43dd8448eb211c80319c", publish.getLinks().get(0).getSpanContext().getTraceId());
    assertFalse(publish.getTraceId().equals("0af7651916cd43dd8448eb211c80319c"), "a trace of its own, linked");

    spans.reset();
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder()
        .interceptor(RabbitkitTracing.create(otel(Sampler.alwaysOff()))).connect());
        Publisher<Order> orders = rabbit.publisherBuilder(Order.class).routingKey(queue).build()) {
      orders.publish(new Order("o-2")).get(10, TimeUnit.SECONDS);
    }
    assertEquals(List.of(), spans.getFinishedSpanItems(), "sampled out");
  }

  @Test
  void anRpcCallIsAClientSpanFromRequestToReply(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("rpc");
    try (RabbitToolkit rabbit = names.track(broker.toolkitBuilder()
        .interceptor(RabbitkitTracing.create(otel(Sampler.alwaysOn()))).connect())) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue)
          .handler(String::toUpperCase).build();
          RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
              .build()) {
        assertEquals("PING", client.call("ping").get(10, TimeUnit.SECONDS));
      }
    }
    SpanData call = named("call").get(0);
    assertEquals(SpanKind.CLIENT, call.getKind());
    assertEquals(queue, call.getAttributes().get(RabbitkitTracing.ROUTING_KEY));
    assertTrue(call.getAttributes().get(AttributeKey.stringKey("messaging.message.conversation_id")) != null);
  }

  private List<SpanData> named(String operation) {
    return spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(operation)
        || s.getName().startsWith(operation + " ")).toList();
  }
}
