package io.rabbitkit.impl;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool. This is how a channel is kept to
 * one thread at a time without a thread of its own.
 */
final class SerialExecutor implements Executor {

  private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor pool;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile Thread runner;

  SerialExecutor(Executor pool) {
    this.pool = pool;
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    schedule();
  }

  /**
   * Runs {@code task} on the calling thread when nothing else is running or waiting, together with
   * whatever is queued behind it; otherwise queues it like {@link #execute}. Saves a thread hand-off
   * for callers that may block, such as amqp-client's consumer dispatch.
   */
  void executeHere(Runnable task) {
    tasks.add(task);
    if (scheduled.compareAndSet(false, true)) {
      drain();
    }
  }

  private void schedule() {
    if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
      pool.execute(this::drain);
    }
  }

  /** Returns whether the caller is the thread currently running this executor's tasks. */
  boolean isCurrentThread() {
    return runner == Thread.currentThread();
  }

  private void drain() {
    runner = Thread.currentThread();
    try {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException | Error e) {
          LOG.error("task failed on serial executor", e);
        }
      }
    } finally {
      runner = null;
      scheduled.set(false);
      schedule();
    }
  }
}
