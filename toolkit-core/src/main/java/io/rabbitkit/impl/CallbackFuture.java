package io.rabbitkit.impl;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A future completed from a thread that must not run user code (a connection's dispatch thread)
 * without a hand-off when it need not be: every stage added to it runs on the callback executor,
 * as if added with {@code ...Async(fn, callbacks)}, and a thread blocked in {@code get()} or
 * {@code join()} is woken directly. Only when something else depends on it (it was passed to
 * {@code allOf}, or to another future's {@code thenCombine}) is it completed on the callback
 * executor instead, since those dependents would otherwise run on the completing thread.
 * Stages derived from it are ordinary futures.
 */
final class CallbackFuture<T> extends CompletableFuture<T> {

  private final Executor callbacks;
  /** Dependents that cannot run user code on the completing thread: blocked callers and async stages. */
  private final AtomicInteger harmless = new AtomicInteger();

  CallbackFuture(Executor callbacks) {
    this.callbacks = callbacks;
  }

  /** Completes with {@code value}, or with {@code error} when it is not null; see the class comment. */
  void settle(T value, Throwable error) {
    if (getNumberOfDependents() <= harmless.get()) {
      settleHere(value, error);
    } else {
      callbacks.execute(() -> settleHere(value, error));
    }
  }

  private void settleHere(T value, Throwable error) {
    if (error != null) {
      completeExceptionally(error);
    } else {
      complete(value);
    }
  }

  @Override
  public T get() throws InterruptedException, java.util.concurrent.ExecutionException {
    harmless.incrementAndGet();
    try {
      return super.get();
    } finally {
      harmless.decrementAndGet();
    }
  }

  @Override
  public T get(long timeout, java.util.concurrent.TimeUnit unit)
      throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
    harmless.incrementAndGet();
    try {
      return super.get(timeout, unit);
    } finally {
      harmless.decrementAndGet();
    }
  }

  @Override
  public T join() {
    harmless.incrementAndGet();
    try {
      return super.join();
    } finally {
      harmless.decrementAndGet();
    }
  }

  private Executor async() {
    harmless.incrementAndGet(); // counted before it is pushed: a count too high only for a moment is never unsafe
    return callbacks;
  }

  @Override
  public Executor defaultExecutor() {
    return callbacks;
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }

  @Override
  public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
    return thenApplyAsync(fn, async());
  }

  @Override
  public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
    return thenAcceptAsync(action, async());
  }

  @Override
  public CompletableFuture<Void> thenRun(Runnable action) {
    return thenRunAsync(action, async());
  }

  @Override
  public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
      BiFunction<? super T, ? super U, ? extends V> fn) {
    return thenCombineAsync(other, fn, async());
  }

  @Override
  public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
      BiConsumer<? super T, ? super U> action) {
    return thenAcceptBothAsync(other, action, async());
  }

  @Override
  public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
    return runAfterBothAsync(other, action, async());
  }

  @Override
  public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return applyToEitherAsync(other, fn, async());
  }

  @Override
  public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return acceptEitherAsync(other, action, async());
  }

  @Override
  public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
    return runAfterEitherAsync(other, action, async());
  }

  @Override
  public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
    return thenComposeAsync(fn, async());
  }

  @Override
  public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
    return handleAsync(fn, async());
  }

  @Override
  public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
    return whenCompleteAsync(action, async());
  }

  @Override
  public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
    return exceptionallyAsync(fn, async());
  }

  @Override
  public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return exceptionallyComposeAsync(fn, async());
  }
}
