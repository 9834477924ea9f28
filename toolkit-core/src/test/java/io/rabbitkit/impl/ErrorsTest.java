package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.TopologyException;
import org.junit.jupiter.api.Test;

/** How failures are worded and read from the broker's closes. */
class ErrorsTest {

  @Test
  void refusedDeclarationNamesEntityAndArgument() {
    AMQP.Channel.Close close = new AMQP.Channel.Close.Builder().replyCode(406)
        .replyText("PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': "
            + "received '20' but current is '10'")
        .classId(50).methodId(10).build();
    ToolkitException e = Errors.topology("queue 'q'", new ShutdownSignalException(false, false, close, null));
    TopologyException te = (TopologyException) e;
    assertEquals("queue 'q'", te.entity());
    assertEquals("x-max-length", te.argument().orElseThrow());
    assertEquals(406, te.replyCode());
    assertTrue(te.getMessage().contains("received '20' but current is '10'"));
  }

  @Test
  void missingExchangeIsReadFromAChannelClose() {
    AMQP.Channel.Close close = new AMQP.Channel.Close.Builder().replyCode(404)
        .replyText("NOT_FOUND - no exchange 'orders' in vhost '/'").classId(60).methodId(40).build();
    assertEquals("orders", Errors.exchangeNamedIn(new ShutdownSignalException(false, false, close, null)));
    assertNull(Errors.exchangeNamedIn(null));
  }

  @Test
  void failuresAreWordedByWhatWasBeingDone() {
    ToolkitException e = Errors.topology("deleting", "queue 'q'", new java.io.IOException("boom"));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("deleting queue 'q' failed"), e.getMessage());
  }
}
