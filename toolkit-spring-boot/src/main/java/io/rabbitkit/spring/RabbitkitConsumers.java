package io.rabbitkit.spring;

import io.rabbitkit.MessageConsumer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the {@link RabbitkitConsumer} beans when the context has been refreshed and stops them
 * gracefully when it closes. Its phase comes after the web server's: on shutdown the server stops
 * taking requests first, then the consumers drain (each for its drain timeout, all at once), and
 * only then are publishers and the connections closed.
 */
public final class RabbitkitConsumers implements SmartLifecycle {

  /** Below the web server's phases, so consumers stop after it and start before it. */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

  private static final Logger log = LoggerFactory.getLogger(RabbitkitConsumers.class);

  private final RabbitkitDefaults defaults;
  private final List<RabbitkitConsumer<?>> declared;
  private final Map<String, MessageConsumer> running = new ConcurrentHashMap<>();
  private volatile boolean started;

  public RabbitkitConsumers(RabbitkitDefaults defaults, List<RabbitkitConsumer<?>> declared) {
    this.defaults = defaults;
    this.declared = List.copyOf(declared);
  }

  /** The running consumer of {@code queue}. */
  public Optional<MessageConsumer> consumer(String queue) {
    return Optional.ofNullable(running.get(queue));
  }

  @Override
  public void start() {
    try {
      for (RabbitkitConsumer<?> c : declared) {
        if (running.putIfAbsent(c.queue(), c.start(defaults)) != null) {
          throw new IllegalStateException("two RabbitkitConsumer beans consume queue '" + c.queue() + "'");
        }
      }
    } catch (RuntimeException e) {
      closeAll();
      throw e;
    }
    started = true;
    if (!declared.isEmpty()) {
      log.info("started {} consumer(s): {}", declared.size(), running.keySet());
    }
  }

  @Override
  public void stop() {
    closeAll();
  }

  private void closeAll() {
    started = false;
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (MessageConsumer c : running.values()) {
      closing.add(CompletableFuture.runAsync(c::close, task -> {
        Thread t = new Thread(task, "rabbitkit-drain-" + c.queue());
        t.setDaemon(true);
        t.start();
      }));
    }
    CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).join();
    running.clear();
  }

  @Override
  public boolean isRunning() {
    return started;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
