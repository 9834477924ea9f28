package io.rabbitkit;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads a toolkit owns: a callback pool (futures are completed here, never on a connection's
 * reader thread) and one timer thread (confirm timeouts, delayed requeues, reconnection backoff).
 */
final class Context {

  final ExecutorService executor;
  final ScheduledExecutorService timer;
  final TopologyRegistry topology = new TopologyRegistry();
  private final boolean ownsExecutor;

  Context(ExecutorService executor) {
    this.ownsExecutor = executor == null;
    this.executor = executor != null ? executor : Executors.newCachedThreadPool(threads("rabbitkit-callback"));
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, threads("rabbitkit-timer"));
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
  }

  static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  void shutdown() {
    timer.shutdownNow();
    if (ownsExecutor) {
      executor.shutdown();
      try {
        if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
          executor.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        executor.shutdownNow();
      }
    }
  }
}
