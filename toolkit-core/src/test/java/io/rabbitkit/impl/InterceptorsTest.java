package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.rabbitkit.Interceptor;
import io.rabbitkit.Interceptor.ConsumeObserver;
import io.rabbitkit.Interceptor.ConsumeOutcome;
import io.rabbitkit.Interceptor.PublishObserver;
import io.rabbitkit.Interceptor.PublishOutcome;
import io.rabbitkit.Interceptor.RpcOutcome;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class InterceptorsTest {

  private record Publish(String exchange, String routingKey, String messageId, Map<String, Object> headers)
      implements
        Interceptor.PublishContext {
  }

  private record Consume(String queue) implements Interceptor.ConsumeContext {
    public String exchange() {
      return "";
    }

    public Optional<String> messageId() {
      return Optional.of("m-1");
    }

    public Map<String, Object> headers() {
      return Map.of();
    }

    public boolean redelivered() {
      return false;
    }

    public int attempt() {
      return 1;
    }

    public int bodySize() {
      return 0;
    }
  }

  @Test
  void noInterceptorsMeansNoObserverAndNoAllocationPerMessage() {
    assertSame(PublishObserver.NONE, Interceptors.NONE.beforePublish(new Publish("x", "k", "m", new HashMap<>())));
    assertSame(ConsumeObserver.NONE, Interceptors.NONE.beforeConsume(new Consume("q")));
  }

  @Test
  void interceptorsRunInOrderAndAThrowingOneIsSkipped() {
    List<String> seen = new CopyOnWriteArrayList<>();
    Interceptor broken = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        throw new IllegalStateException("boom");
      }
    };
    Interceptor first = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        context.headers().put("a", 1);
        seen.add("first");
        return (outcome, elapsed, failure) -> {
          seen.add("first:" + outcome);
          throw new IllegalStateException("observer boom");
        };
      }
    };
    Interceptor second = new Interceptor() {
      @Override
      public PublishObserver beforePublish(PublishContext context) {
        seen.add("second saw a=" + context.headers().get("a"));
        return (outcome, elapsed, failure) -> seen.add("second:" + outcome);
      }
    };
    Interceptors all = new Interceptors(List.of(broken, first, second));
    Map<String, Object> headers = new HashMap<>();
    PublishObserver o = all.beforePublish(new Publish("x", "k", "m", headers));
    o.outcome(PublishOutcome.CONFIRMED, Duration.ZERO, null);
    assertEquals(List.of("first", "second saw a=1", "first:CONFIRMED", "second:CONFIRMED"), seen);
    assertEquals(Map.of("a", 1), headers);
  }

  @Test
  void scopesCloseInnermostFirstEvenWhenOneFails() {
    List<String> seen = new CopyOnWriteArrayList<>();
    Interceptor outer = scoped("outer", seen, false);
    Interceptor failing = scoped("failing", seen, true);
    Interceptor inner = scoped("inner", seen, false);
    ConsumeObserver o = new Interceptors(List.of(outer, failing, inner)).beforeConsume(new Consume("q"));
    try (Interceptor.Scope s = o.handlerScope()) {
      seen.add("handler");
    }
    o.outcome(ConsumeOutcome.ACKED, Duration.ofMillis(3), null);
    assertEquals(List.of("open outer", "open inner", "handler", "close inner", "close outer", "outer:ACKED",
        "failing:ACKED", "inner:ACKED"), seen);
  }

  private static Interceptor scoped(String name, List<String> seen, boolean failScope) {
    return new Interceptor() {
      @Override
      public ConsumeObserver beforeConsume(ConsumeContext context) {
        return new ConsumeObserver() {
          @Override
          public Interceptor.Scope handlerScope() {
            if (failScope) {
              throw new IllegalStateException("scope boom");
            }
            seen.add("open " + name);
            return () -> seen.add("close " + name);
          }

          @Override
          public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
            seen.add(name + ":" + outcome);
          }
        };
      }
    };
  }

  @Test
  void failuresMapToOutcomes() {
    assertEquals(PublishOutcome.CONFIRMED, PublishOutcome.of(null));
    assertEquals(PublishOutcome.NACKED,
        PublishOutcome.of(new CompletionException(new MessageNackedException("m", "x", "k"))));
    assertEquals(PublishOutcome.RETURNED,
        PublishOutcome.of(new MessageReturnedException("m", "x", "k", 312, "NO_ROUTE")));
    assertEquals(PublishOutcome.CLOSED, PublishOutcome.of(new ResourceClosedException("publisher", "is closed")));
    assertEquals(PublishOutcome.REFUSED, PublishOutcome.of(new PublishException("full", "m", "x", "k", null)));
    assertEquals(RpcOutcome.OK, RpcOutcome.of(null));
    assertEquals(RpcOutcome.CLOSED, RpcOutcome.of(new ResourceClosedException("publisher", "is closed")));
    assertEquals(RpcOutcome.FAILED, RpcOutcome.of(new CompletionException(new ToolkitException.ConnectionException(
        ToolkitException.ConnectionException.Reason.CLOSED, "connection lost", null))), "a lost call is no close");
  }
}
