package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.ProcessedMessages;
import org.junit.jupiter.api.Test;

class ProcessedMessagesTest {

  @Test
  void processedIdsForgetTheLeastRecentlySeen() {
    ProcessedMessages ids = ProcessedMessages.inMemory(2, java.time.Duration.ofHours(1));
    ids.add("a");
    ids.add("b");
    assertTrue(ids.contains("a")); // touches a
    ids.add("c");
    assertTrue(ids.contains("a"));
    assertFalse(ids.contains("b"));
    assertTrue(ids.contains("c"));
  }

  @Test
  void processedIdsForgetIdsOlderThanTheWindow() throws Exception {
    ProcessedMessages ids = ProcessedMessages.inMemory(100, java.time.Duration.ofMillis(50));
    ids.add("a");
    assertTrue(ids.contains("a"));
    Thread.sleep(80);
    assertFalse(ids.contains("a"));
  }
}
