package io.rabbitkit.impl;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the parts of one toolkit share: the interceptors, the topology declared through it, and the
 * threads it owns: a bounded callback pool (futures are completed here, never on a connection's
 * reader thread) and one timer thread (confirm timeouts, delayed requeues, reconnection backoff).
 * Once the toolkit is shut down, late tasks (a connection's last shutdown notice, say) are dropped
 * instead of failing on whatever thread submitted them.
 */
final class Shared {

  private static final Logger LOG = LoggerFactory.getLogger(Shared.class);

  final Executor executor;
  final ScheduledExecutorService timer;
  /**
   * Threads of the toolkit's own callback pool. Bounded: callbacks that fall behind queue (and hold
   * their publishers' windows, which slows publishing down) instead of starting a thread each.
   */
  static final int CALLBACK_THREADS = Math.max(32, 4 * Runtime.getRuntime().availableProcessors());
  /** How long a pool thread with nothing to do lives: idle consumers must not keep threads. */
  static final long IDLE_THREAD_SECONDS = 10;

  /**
   * Runs amqp-client's consumer dispatch for the toolkit's connections. Unbounded, so that each
   * busy channel (one per unit of consumer concurrency) has a thread of its own; idle threads end.
   */
  final ExecutorService dispatch = growingPool("rabbitkit-dispatch");
  /**
   * With {@code dispatchThreads(n)}: the one bounded pool that dispatches the consuming
   * connection's deliveries and runs every consumer's lane, instead of a thread per busy channel and
   * a pool per consumer. Null when not set.
   */
  final ExecutorService consumerThreads;
  final TopologyRegistry topology = new TopologyRegistry();
  final Interceptors interceptors;
  private final ExecutorService pool;
  private final boolean ownsPool;

  Shared(ExecutorService callbackExecutor, Interceptors interceptors, int dispatchThreads) {
    this.interceptors = interceptors;
    this.consumerThreads = dispatchThreads > 0 ? fixedPool(dispatchThreads, "rabbitkit-consumer") : null;
    this.ownsPool = callbackExecutor == null;
    this.pool = ownsPool ? fixedPool(CALLBACK_THREADS, "rabbitkit-callback") : callbackExecutor;
    this.executor = task -> {
      try {
        pool.execute(task);
      } catch (RejectedExecutionException e) {
        LOG.debug("dropped a task submitted after shutdown: {}", e.getMessage());
      }
    };
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, threads("rabbitkit-timer"),
        new ScheduledThreadPoolExecutor.DiscardPolicy());
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
  }

  /** A pool that starts a thread whenever none is free; each ends after {@link #IDLE_THREAD_SECONDS} without work. */
  static ExecutorService growingPool(String prefix) {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_THREAD_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(),
        threads(prefix));
  }

  /** A pool of at most {@code size} threads, each ending after {@link #IDLE_THREAD_SECONDS} without work. */
  static ExecutorService fixedPool(int size, String prefix) {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
        new java.util.concurrent.LinkedBlockingQueue<>(), threads(prefix));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The executor that dispatches the consuming connection's deliveries. */
  ExecutorService consumerDispatch() {
    return consumerThreads != null ? consumerThreads : dispatch;
  }

  void shutdown() {
    timer.shutdownNow();
    dispatch.shutdown();
    if (consumerThreads != null) {
      consumerThreads.shutdown();
    }
    if (ownsPool) {
      pool.shutdown();
      try {
        if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
          pool.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        pool.shutdownNow();
      }
    }
  }
}
