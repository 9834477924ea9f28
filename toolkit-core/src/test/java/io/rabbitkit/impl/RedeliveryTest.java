package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rabbitkit.Redelivery;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedeliveryTest {

  @Test
  void delayQueueNamesUseTheLargestWholeUnit() {
    assertEquals("q.retry.1s", Redelivery.delayQueueName("q", Duration.ofSeconds(1)));
    assertEquals("q.retry.1m", Redelivery.delayQueueName("q", Duration.ofSeconds(60)));
    assertEquals("q.retry.2h", Redelivery.delayQueueName("q", Duration.ofHours(2)));
    assertEquals("q.retry.1500ms", Redelivery.delayQueueName("q", Duration.ofMillis(1500)));
    assertThrows(IllegalArgumentException.class, () -> Redelivery.after(Duration.ZERO));
  }
}
