package io.rabbitkit.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rabbitkit.PublishException.MessageNackedException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class SemanticsTest {

  @Test
  void aFailureHasOneErrorTypeWhereverItIsRecorded() {
    MessageNackedException nacked = new MessageNackedException("m-1", "orders", "placed");
    assertEquals("MessageNackedException", Semantics.errorType(nacked));
    assertEquals("MessageNackedException", Semantics.errorType(new CompletionException(nacked)),
        "the future's wrapper is not the failure");
    assertEquals("none", Semantics.errorType(null));
    RuntimeException anonymous = new RuntimeException() {
    };
    assertEquals(anonymous.getClass().getName(), Semantics.errorType(anonymous), "never an empty tag");
  }

  @Test
  void theDefaultExchangeHasAName() {
    assertEquals("amq.default", Semantics.exchange(""));
    assertEquals("orders", Semantics.exchange("orders"));
  }
}
