package io.rabbitkit.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Collects an example's output and lets a test wait for a line. */
final class LineLatch {

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private final LineWatcher watcher;

  LineLatch(String marker) {
    this.watcher = new LineWatcher(new PrintStream(buffer, true, StandardCharsets.UTF_8), marker);
  }

  PrintStream stream() {
    return watcher;
  }

  void await() throws Exception {
    watcher.seen().get(20, TimeUnit.SECONDS);
  }

  String text() {
    synchronized (buffer) {
      return buffer.toString(StandardCharsets.UTF_8);
    }
  }
}
