package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {

  @Test
  void serialExecutorRunsOneTaskAtATimeInOrder() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      SerialExecutor serial = new SerialExecutor(pool);
      List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
      int[] running = {0};
      boolean[] overlap = {false};
      CountDownLatch done = new CountDownLatch(1000);
      for (int i = 0; i < 1000; i++) {
        int n = i;
        serial.execute(() -> {
          if (++running[0] > 1) {
            overlap[0] = true;
          }
          seen.add(n);
          running[0]--;
          done.countDown();
        });
      }
      assertTrue(done.await(10, TimeUnit.SECONDS));
      assertFalse(overlap[0]);
      for (int i = 0; i < 1000; i++) {
        assertEquals(i, seen.get(i));
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
