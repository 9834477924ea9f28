package io.rabbitkit.test;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.RabbitToolkit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Unique names for one test: every name starts with a prefix made of the test's class and method
 * and a random part, so tests never share queues or exchanges and can run in any order. After the
 * test, {@link RabbitExtension} deletes what was named here and everything the test's toolkit
 * declared under the prefix (including a consumer's delay and dead-letter queues).
 */
public final class TestNames {

  private final String prefix;
  private final Set<String> queues = new LinkedHashSet<>();
  private final Set<String> exchanges = new LinkedHashSet<>();
  private final List<RabbitToolkit> tracked = new ArrayList<>();

  TestNames(String testName) {
    String clean = testName.replaceAll("[^A-Za-z0-9]+", "-");
    if (clean.length() > 60) {
      clean = clean.substring(0, 60);
    }
    this.prefix = "test." + clean + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
  }

  /** Returns the prefix shared by every name of this test. */
  public String prefix() {
    return prefix;
  }

  /** Returns a unique queue name ending in {@code base}; the queue is deleted after the test. */
  public synchronized String queue(String base) {
    String name = prefix + "." + requireNonNull(base, "base");
    queues.add(name);
    return name;
  }

  /** Returns a unique exchange name ending in {@code base}; the exchange is deleted after the test. */
  public synchronized String exchange(String base) {
    String name = prefix + "." + requireNonNull(base, "base");
    exchanges.add(name);
    return name;
  }

  /**
   * Returns {@code toolkit}, a toolkit the test made itself, after noting it: after the test,
   * whatever it declared under this test's prefix (a consumer's delay and dead-letter queues among
   * them) is deleted too, as for the extension's own toolkit.
   */
  public synchronized <T extends RabbitToolkit> T track(T toolkit) {
    tracked.add(requireNonNull(toolkit, "toolkit"));
    return toolkit;
  }

  synchronized List<RabbitToolkit> tracked() {
    return List.copyOf(tracked);
  }

  synchronized Set<String> queues() {
    return Set.copyOf(queues);
  }

  synchronized Set<String> exchanges() {
    return Set.copyOf(exchanges);
  }

  @Override
  public String toString() {
    return prefix;
  }
}
