package io.rabbitkit.stream;

import io.rabbitkit.Interceptor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The interceptors of {@link RabbitStreams} around one event a group member handles. */
final class Observers {

  private static final Logger LOG = LoggerFactory.getLogger(GroupMember.class);

  private Observers() {
  }

  static Interceptor.ConsumeObserver before(List<Interceptor> interceptors, String partition, String superStream,
      String messageId, Map<String, Object> headers, int size) {
    if (interceptors.isEmpty()) {
      return Interceptor.ConsumeObserver.NONE;
    }
    Interceptor.ConsumeContext context = new Interceptor.ConsumeContext() {
      @Override
      public String queue() {
        return partition;
      }

      @Override
      public String exchange() {
        return superStream;
      }

      @Override
      public Optional<String> messageId() {
        return Optional.ofNullable(messageId);
      }

      @Override
      public Map<String, Object> headers() {
        return headers;
      }

      @Override
      public boolean redelivered() {
        return false;
      }

      @Override
      public int attempt() {
        return 1;
      }

      @Override
      public int bodySize() {
        return size;
      }
    };
    Interceptor.ConsumeObserver[] observers = new Interceptor.ConsumeObserver[interceptors.size()];
    for (int i = 0; i < observers.length; i++) {
      try {
        observers[i] = interceptors.get(i).beforeConsume(context);
      } catch (RuntimeException e) {
        LOG.debug("interceptor {} failed: {}", interceptors.get(i), e.toString());
        observers[i] = Interceptor.ConsumeObserver.NONE;
      }
    }
    return observers.length == 1 ? observers[0] : new Interceptor.ConsumeObserver() {
      @Override
      public Interceptor.Scope handlerScope() {
        Interceptor.Scope[] scopes = new Interceptor.Scope[observers.length];
        for (int i = 0; i < observers.length; i++) {
          scopes[i] = observers[i].handlerScope();
        }
        return () -> {
          for (int i = scopes.length - 1; i >= 0; i--) {
            scopes[i].close();
          }
        };
      }

      @Override
      public void outcome(Interceptor.ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        for (Interceptor.ConsumeObserver o : observers) {
          o.outcome(outcome, handlerTime, failure);
        }
      }
    };
  }

  static void outcome(Interceptor.ConsumeObserver observer, Interceptor.ConsumeOutcome outcome,
      long handlerNanos, Throwable failure) {
    if (observer != Interceptor.ConsumeObserver.NONE) {
      try {
        observer.outcome(outcome, Duration.ofNanos(handlerNanos), failure);
      } catch (RuntimeException e) {
        LOG.debug("interceptor outcome failed: {}", e.toString());
      }
    }
  }

}
