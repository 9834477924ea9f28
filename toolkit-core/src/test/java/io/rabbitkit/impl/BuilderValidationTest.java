package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.RabbitToolkit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Builders check each argument as it is set and the combination in build(), before any I/O. */
class BuilderValidationTest {

  @Test
  void publisherToTheDefaultExchangeNeedsARoutingKey() {
    assertThrows(IllegalStateException.class, () -> new PublisherBuilder<>(null, String.class).build());
  }

  @Test
  void publisherArgumentsAreCheckedWhenSet() {
    PublisherBuilder<String> b = new PublisherBuilder<>(null, String.class);
    assertThrows(IllegalArgumentException.class, () -> b.maxInFlight(0));
    assertThrows(IllegalArgumentException.class, () -> b.confirmTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> b.header("x-match", "all"));
    assertThrows(IllegalArgumentException.class, () -> b.header("h", new Object()));
    assertThrows(NullPointerException.class, () -> b.exchange(null));
  }

  @Test
  void consumerNeedsAQueueAndExactlyOneHandler() {
    assertThrows(IllegalStateException.class, () -> new ConsumerBuilder<>(null, String.class).handler(d -> {
    }).build());
    assertThrows(IllegalStateException.class, () -> new ConsumerBuilder<>(null, String.class).queue("q").build());
    assertThrows(IllegalStateException.class, () -> new ConsumerBuilder<>(null, String.class).queue("q")
        .handler(d -> {
        }).asyncHandler(d -> null).build());
  }

  @Test
  void consumerArgumentsAreCheckedWhenSet() {
    MessageConsumer.Builder<String> b = new ConsumerBuilder<>(null, String.class);
    assertThrows(IllegalArgumentException.class, () -> b.prefetch(0));
    assertThrows(IllegalArgumentException.class, () -> b.concurrency(0));
    assertThrows(IllegalArgumentException.class, () -> b.queue(""));
    assertThrows(IllegalArgumentException.class, () -> b.requeueDelay(Duration.ofSeconds(-1)));
    assertThrows(IllegalStateException.class, () -> new ConsumerBuilder<>(null, String.class).queue("q")
        .handler(d -> {
        }).deadLetterQueue("q.dlq").deadLetterExchangeOnQueue().build());
  }

  @Test
  void connectionSettingsAreCheckedWhenSet() {
    RabbitToolkit.Builder b = RabbitToolkit.builder();
    assertThrows(IllegalArgumentException.class, () -> b.port(0));
    assertThrows(IllegalArgumentException.class, () -> b.addresses());
    assertThrows(IllegalArgumentException.class, () -> b.connectionTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> b.uri("http://localhost"));
  }
}
