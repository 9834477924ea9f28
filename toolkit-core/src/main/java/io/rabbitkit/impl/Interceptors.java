package io.rabbitkit.impl;

import io.rabbitkit.ConnectionListener;
import io.rabbitkit.Interceptor;
import io.rabbitkit.Interceptor.ConsumeContext;
import io.rabbitkit.Interceptor.ConsumeObserver;
import io.rabbitkit.Interceptor.ConsumeOutcome;
import io.rabbitkit.Interceptor.PublishContext;
import io.rabbitkit.Interceptor.PublishObserver;
import io.rabbitkit.Interceptor.RpcContext;
import io.rabbitkit.Interceptor.RpcObserver;
import io.rabbitkit.Interceptor.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installed interceptors of one toolkit, called in order. A failing interceptor is logged (once
 * at WARN, then at DEBUG) and skipped, so it can never change what happens to a message.
 */
final class Interceptors {

  private static final Logger LOG = LoggerFactory.getLogger(Interceptor.class);
  static final Interceptors NONE = new Interceptors(List.of());

  private final List<Interceptor> list;
  private final AtomicBoolean warned = new AtomicBoolean();

  Interceptors(List<Interceptor> list) {
    this.list = List.copyOf(list);
  }

  boolean isEmpty() {
    return list.isEmpty();
  }

  List<Interceptor> list() {
    return list;
  }

  PublishObserver beforePublish(PublishContext context) {
    List<PublishObserver> observers = collect(i -> i.beforePublish(context), PublishObserver.NONE);
    return observers.isEmpty() ? PublishObserver.NONE
        : (outcome, elapsed, failure) -> observers.forEach(o -> run(() -> o.outcome(outcome, elapsed, failure)));
  }

  RpcObserver beforeCall(RpcContext context) {
    List<RpcObserver> observers = collect(i -> i.beforeCall(context), RpcObserver.NONE);
    return observers.isEmpty() ? RpcObserver.NONE
        : (outcome, elapsed, failure) -> observers.forEach(o -> run(() -> o.outcome(outcome, elapsed, failure)));
  }

  ConsumeObserver beforeConsume(ConsumeContext context) {
    List<ConsumeObserver> observers = collect(i -> i.beforeConsume(context), ConsumeObserver.NONE);
    if (observers.isEmpty()) {
      return ConsumeObserver.NONE;
    }
    return new ConsumeObserver() {
      @Override
      public Scope handlerScope() {
        List<Scope> scopes = new ArrayList<>(observers.size());
        for (ConsumeObserver o : observers) {
          Scope s = call(o::handlerScope);
          if (s != null) {
            scopes.add(s);
          }
        }
        return () -> {
          for (int i = scopes.size() - 1; i >= 0; i--) { // innermost first
            Scope s = scopes.get(i);
            run(s::close);
          }
        };
      }

      @Override
      public void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
        observers.forEach(o -> run(() -> o.outcome(outcome, handlerTime, failure)));
      }
    };
  }

  /** One listener that tells {@code first} and then every interceptor. */
  ConnectionListener connectionListener(ConnectionListener first) {
    if (list.isEmpty()) {
      return first;
    }
    List<ConnectionListener> all = new ArrayList<>();
    all.add(first);
    all.addAll(list);
    return new ConnectionListener() {
      @Override
      public void connectionLost(String connection, String reason) {
        all.forEach(l -> run(() -> l.connectionLost(connection, reason)));
      }

      @Override
      public void recoveryStarted(String connection) {
        all.forEach(l -> run(() -> l.recoveryStarted(connection)));
      }

      @Override
      public void recovered(String connection) {
        all.forEach(l -> run(() -> l.recovered(connection)));
      }

      @Override
      public void blocked(String connection, String reason) {
        all.forEach(l -> run(() -> l.blocked(connection, reason)));
      }

      @Override
      public void unblocked(String connection) {
        all.forEach(l -> run(() -> l.unblocked(connection)));
      }
    };
  }

  private interface Call<T> {
    T on(Interceptor interceptor);
  }

  private <T> List<T> collect(Call<T> call, T none) {
    List<T> observers = new ArrayList<>(list.size());
    for (Interceptor i : list) {
      T o = call(() -> call.on(i));
      if (o != null && o != none) {
        observers.add(o);
      }
    }
    return observers;
  }

  private <T> T call(Supplier<T> s) {
    try {
      return s.get();
    } catch (RuntimeException | LinkageError e) {
      failed(e);
      return null;
    }
  }

  private void run(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException | LinkageError e) {
      failed(e);
    }
  }

  private void failed(Throwable e) {
    if (warned.compareAndSet(false, true)) {
      LOG.warn("an interceptor failed; it is skipped (later failures are logged at DEBUG)", e);
    } else {
      LOG.debug("an interceptor failed; it is skipped", e);
    }
  }
}
