package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CallbackFutureTest {

  private final AtomicInteger handedOff = new AtomicInteger();
  private final ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "callbacks"));
  private final java.util.concurrent.Executor callbacks = task -> {
    handedOff.incrementAndGet();
    pool.execute(task);
  };

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void aBlockedCallerIsWokenByTheCompletingThreadWithoutAHandOff() throws Exception {
    CallbackFuture<String> f = new CallbackFuture<>(callbacks);
    CompletableFuture<String> got = CompletableFuture.supplyAsync(f::join);
    while (f.getNumberOfDependents() == 0) {
      Thread.onSpinWait(); // the caller is parked in join()
    }
    f.settle("reply", null);
    assertEquals("reply", got.get(5, TimeUnit.SECONDS));
    assertEquals(0, handedOff.get());
  }

  @Test
  void stagesAddedToItRunOnTheCallbackExecutorNotOnTheCompletingThread() throws Exception {
    CallbackFuture<String> f = new CallbackFuture<>(callbacks);
    AtomicReference<String> ranOn = new AtomicReference<>();
    CompletableFuture<String> next = f.thenApply(v -> {
      ranOn.set(Thread.currentThread().getName());
      return v + "!";
    });
    f.settle("reply", null);
    assertEquals("reply!", next.get(5, TimeUnit.SECONDS));
    assertEquals("callbacks", ranOn.get());
  }

  @Test
  void whenAnotherFutureDependsOnItItIsCompletedOnTheCallbackExecutor() throws Exception {
    CallbackFuture<String> f = new CallbackFuture<>(callbacks);
    AtomicReference<String> ranOn = new AtomicReference<>();
    CompletableFuture<Void> all = CompletableFuture.allOf(f).thenRun(() -> ranOn.set(Thread.currentThread().getName()));
    f.settle(null, new IllegalStateException("failed"));
    all.handle((ok, e) -> null).get(5, TimeUnit.SECONDS);
    assertTrue(f.isCompletedExceptionally());
    assertEquals(1, handedOff.get());
    // The allOf stage failed, so thenRun's action did not run; what matters is where completion happened.
    assertEquals(null, ranOn.get());
    CallbackFuture<String> g = new CallbackFuture<>(callbacks);
    CompletableFuture<Void> both =
        CompletableFuture.allOf(g).thenRun(() -> ranOn.set(Thread.currentThread().getName()));
    g.settle("ok", null);
    both.get(5, TimeUnit.SECONDS);
    assertEquals("callbacks", ranOn.get());
  }
}
