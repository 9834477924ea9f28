package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ReturnListener;
import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.SafeText;
import io.rabbitkit.impl.InFlight.Pending;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The confirms and returns of one channel <em>incarnation</em> of a {@link ConfirmingSender}:
 * sequence numbers restart with every new channel, so each incarnation has its own map from
 * sequence number to pending message, and its own listeners. They run on the connection's reader
 * thread and only move entries; {@link InFlight} completes the futures.
 */
final class ChannelConfirms implements ConfirmListener, ReturnListener {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelConfirms.class);

  final Channel channel;
  final ConcurrentSkipListMap<Long, Pending> unconfirmed = new ConcurrentSkipListMap<>();
  private final String name;
  private final InFlight inFlight;
  private final UnaryOperator<List<Pending>> retryNacked;

  /**
   * @param retryNacked schedules nacked messages for another try and returns those it will not retry
   */
  ChannelConfirms(Channel channel, String name, InFlight inFlight, UnaryOperator<List<Pending>> retryNacked) {
    this.channel = channel;
    this.name = name;
    this.inFlight = inFlight;
    this.retryNacked = retryNacked;
  }

  @Override
  public void handleAck(long tag, boolean multiple) {
    inFlight.settle(take(tag, multiple), p -> p.returnCode == 0 ? null
        : new MessageReturnedException(p.message.messageId(), p.message.exchange(), p.message.routingKey(),
            p.returnCode, p.returnText));
  }

  @Override
  public void handleNack(long tag, boolean multiple) {
    inFlight.settle(retryNacked.apply(take(tag, multiple)),
        p -> new MessageNackedException(p.message.messageId(), p.message.exchange(), p.message.routingKey()));
  }

  private List<Pending> take(long tag, boolean multiple) {
    if (!multiple) {
      Pending p = unconfirmed.remove(tag);
      return p == null ? List.of() : List.of(p);
    }
    NavigableMap<Long, Pending> head = unconfirmed.headMap(tag, true);
    List<Pending> taken = new ArrayList<>(head.values());
    head.clear();
    return taken;
  }

  @Override
  public void handleReturn(int replyCode, String replyText, String exchange, String routingKey,
      AMQP.BasicProperties properties, byte[] body) {
    // A return always precedes the ack of the same message on the same channel.
    Map<String, Object> headers = properties.getHeaders();
    Object key = headers == null ? null : headers.get(Outbound.RETURN_KEY_HEADER);
    String id = properties.getMessageId();
    for (Pending p : unconfirmed.values()) {
      boolean match = key != null ? p.keyed && key.toString().equals(Long.toString(p.order))
          : !p.keyed && id != null && id.equals(p.message.messageId());
      if (match && p.returnCode == 0) {
        p.returnText = replyText;
        p.returnCode = replyCode;
        return;
      }
    }
    LOG.warn("{}: a return ({} {}) matched no unconfirmed message", name, replyCode, SafeText.of(replyText));
  }

  /** Hands every message whose confirm deadline passed by {@code now} to {@code timedOut}, oldest first. */
  void expire(long now, Consumer<Pending> timedOut) {
    for (Map.Entry<Long, Pending> e : unconfirmed.entrySet()) {
      Pending p = e.getValue();
      if (p.deadline - now > 0) {
        break;
      }
      if (unconfirmed.remove(e.getKey(), p)) {
        timedOut.accept(p);
      }
    }
  }

  /** How long the oldest message sent and not yet confirmed has waited, zero if none. */
  Duration oldestAge() {
    Map.Entry<Long, Pending> first = unconfirmed.firstEntry();
    long sentAt = first == null ? 0 : first.getValue().sentAt;
    return sentAt == 0 ? Duration.ZERO : Duration.ofNanos(Math.max(0, System.nanoTime() - sentAt));
  }
}
