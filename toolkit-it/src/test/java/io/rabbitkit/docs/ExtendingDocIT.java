package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** docs/extending.md's interceptor, run as written: the tenant reaches the handler's thread. */
@RabbitTest
class ExtendingDocIT {

  private static final Logger log = LoggerFactory.getLogger(ExtendingDocIT.class);

  // @formatter:off
  // tag::interceptor[]
  /** Carries the tenant from the publishing thread to the handler's thread; logs publishes that failed. */
  static final class TenantPropagation implements Interceptor {
    static final ThreadLocal<String> TENANT = new ThreadLocal<>();

    @Override
    public PublishObserver beforePublish(PublishContext context) {
      String tenant = TENANT.get();
      if (tenant != null) {
        context.headers().put("tenant", tenant);             // travels with the message
      }
      return (outcome, elapsed, failure) -> {
        if (outcome != PublishOutcome.CONFIRMED) {
          log.warn("message {} to {}: {}", context.messageId(), context.exchange(), outcome);
        }
      };
    }

    @Override
    public ConsumeObserver beforeConsume(ConsumeContext context) {
      Object tenant = context.headers().get("tenant");
      return new ConsumeObserver() {
        @Override
        public Scope handlerScope() {                        // around every handler call, on its thread
          TENANT.set(tenant == null ? null : tenant.toString());
          return TENANT::remove;
        }
      };
    }
  }
  // end::interceptor[]
  // @formatter:on

  @Test
  void theTenantReachesTheHandler(RabbitBroker broker, TestNames names) throws Exception {
    String queue = names.queue("tenants");
    // @formatter:off
    // tag::install-interceptor[]
    RabbitToolkit rabbit = RabbitToolkit.builder().uri(broker.uri())
        .interceptor(new TenantPropagation())                // in order; metrics and tracing are interceptors too
        .connect();
    // end::install-interceptor[]
    // @formatter:on
    CompletableFuture<String> seen = new CompletableFuture<>();
    try (rabbit) {
      rabbit.declare(Topology.of(Queue.classic(queue)));
      try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue)
          .handler(d -> seen.complete(TenantPropagation.TENANT.get())).build();
          Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        TenantPropagation.TENANT.set("acme");
        try {
          p.publish("hello").join();
        } finally {
          TenantPropagation.TENANT.remove();
        }
        assertEquals("acme", seen.get(10, TimeUnit.SECONDS));
      }
      rabbit.deleteQueue(queue);
    }
  }
}
