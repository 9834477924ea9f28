package io.rabbitkit.examples;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;

/** Prints through to another stream and completes a future once a line containing a marker went by. */
final class LineWatcher extends PrintStream {

  private final String marker;
  private final CompletableFuture<Void> seen = new CompletableFuture<>();

  LineWatcher(PrintStream target, String marker) {
    super((OutputStream) target, true);
    this.marker = marker;
  }

  @Override
  public void println(String line) {
    super.println(line);
    if (line != null && line.contains(marker)) {
      seen.complete(null);
    }
  }

  CompletableFuture<Void> seen() {
    return seen;
  }
}
