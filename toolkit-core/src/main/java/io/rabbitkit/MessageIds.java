package io.rabbitkit;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unique message ids made cheaply: a random 64-bit prefix chosen once per generator, then a
 * counter ({@code "mZb1q0Jm3xU-1a"}). Ids from one generator never repeat; two generators collide
 * only if their random prefixes do (about 1 in 2^64). Shorter than a UUID on every message, and
 * no secure random number per message.
 *
 * <p>Publishers and RPC clients use one generator each; modules that write messages to be
 * published later (the JDBC outbox) use the same ids. Thread-safe.
 */
public final class MessageIds {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String prefix;
  private final AtomicLong next = new AtomicLong();

  /** Creates a generator with a fresh random prefix. */
  public MessageIds() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    this.prefix = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes) + "-";
  }

  /** Returns the next id. */
  public String next() {
    return prefix + Long.toString(next.incrementAndGet(), 36);
  }
}
