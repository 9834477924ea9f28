package io.rabbitkit.jdbc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageRefusedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.PublishException.MessageTooLargeException;
import io.rabbitkit.PublishException.Reason;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.ToolkitException.TransportException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Which failed attempts count towards parking an outbox row: only those about the row itself. */
class RelayFailuresTest {

  @Test
  void theRowsOwnFailuresCount() {
    assertTrue(OutboxRelay.countsAgainstRow(new MessageReturnedException("m", "x", "k", 312, "NO_ROUTE")));
    assertTrue(OutboxRelay.countsAgainstRow(new MessageNackedException("m", "x", "k")));
    assertTrue(OutboxRelay.countsAgainstRow(new MessageRefusedException("m", "x", "k", 406, "too big", null)));
    assertTrue(OutboxRelay.countsAgainstRow(new MessageTooLargeException("m", "x", "k", 10, 5, "a limit")));
    assertTrue(OutboxRelay.countsAgainstRow(new PublishException(Reason.EXCHANGE_REFUSED, "no exchange", "m", "x", "k",
        null)));
    assertTrue(OutboxRelay.countsAgainstRow(new TopologyException("exchange 'x'", null, 404, "not found", null)));
    assertTrue(OutboxRelay.countsAgainstRow(new IllegalArgumentException("unreadable JSON in the outbox row")));
  }

  @Test
  void failuresThatSayNothingAboutTheRowDoNot() {
    assertFalse(OutboxRelay.countsAgainstRow(new ConfirmTimeoutException("m", "x", "k", Duration.ofSeconds(1), true)));
    assertFalse(OutboxRelay.countsAgainstRow(new ConfirmTimeoutException("m", "x", "k", Duration.ofSeconds(1), false)));
    assertFalse(OutboxRelay.countsAgainstRow(new PublishException(Reason.NOT_SENT, "connection down", "m", "x", "k",
        null)));
    assertFalse(OutboxRelay.countsAgainstRow(new PublishException(Reason.LOST, "channel lost", "m", "x", "k", null)));
    assertFalse(OutboxRelay.countsAgainstRow(new ResourceClosedException("publisher", "is closed")));
    assertFalse(OutboxRelay.countsAgainstRow(new ConnectionException(ConnectionException.Reason.CLOSED, "down", null)));
    assertFalse(OutboxRelay.countsAgainstRow(new TransportException("socket", null)));
    assertFalse(OutboxRelay.countsAgainstRow(new TimeoutException("the relay's own wait")));
    assertFalse(OutboxRelay.countsAgainstRow(new InterruptedException()));
  }
}
