package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Envelope;
import io.rabbitkit.Interceptor;
import io.rabbitkit.SafeText;
import io.rabbitkit.deadletter.FailureHeaders;
import java.util.Map;

/**
 * One raw delivery and the channel incarnation it came on. Acks must go to that very channel: after
 * the channel is lost, the broker has already put the message back, so a late ack is dropped.
 *
 * <p>The delivery's facts (channel, envelope, properties, body, queue, how rounds are counted) are
 * fixed; the fields after them are what processing it has found out so far, each written by one
 * step of its flow (the processor, the limit guard, the channel's lane).
 */
final class Inbound {

  private final ConsumerChannel worker;
  private final Channel channel;
  private final String queue;
  /** Failed rounds are the broker's count of rejects ({@code x-delivery-count}), not the toolkit's header. */
  private final boolean roundsInQueue;
  private final Envelope envelope;
  private final AMQP.BasicProperties props;
  private final byte[] body;
  /** Settled on its own (not by a later multiple ack); only touched on the worker's serial executor. */
  boolean settledAlone;
  /** The delivery-limit guard already tried to move it aside (a second failure requeues it after all). */
  volatile boolean limitGuardTried;
  /** Follows this delivery for the installed interceptors. */
  volatile Interceptor.ConsumeObserver observer = Interceptor.ConsumeObserver.NONE;
  /** The last handler call's duration and, until the next call, its failure (for interceptors). */
  volatile long handlerNanos;
  volatile Throwable failedCall;
  private volatile Map<String, Object> javaHeaders;
  /** Its body could not be decoded or was too large. */
  volatile boolean undecodable;

  /**
   * @param worker the consumer channel it came on (null where none is involved: the processor's tests)
   */
  Inbound(ConsumerChannel worker, Channel channel, String queue, boolean roundsInQueue, Envelope envelope,
      AMQP.BasicProperties props, byte[] body) {
    this.worker = worker;
    this.channel = channel;
    this.queue = queue;
    this.roundsInQueue = roundsInQueue;
    this.envelope = envelope;
    this.props = props;
    this.body = body;
  }

  ConsumerChannel worker() {
    return worker;
  }

  Channel channel() {
    return channel;
  }

  Envelope envelope() {
    return envelope;
  }

  AMQP.BasicProperties props() {
    return props;
  }

  byte[] body() {
    return body;
  }

  long tag() {
    return envelope.getDeliveryTag();
  }

  String queue() {
    return queue;
  }

  /** The message id, or null when there is none; an empty id is none (it cannot tell messages apart). */
  String messageId() {
    String id = props.getMessageId();
    return id == null || id.isEmpty() ? null : id;
  }

  /** The headers with text values as {@code String}, read-only; converted once, on first use. */
  Map<String, Object> javaHeaders() {
    Map<String, Object> h = javaHeaders;
    if (h == null) {
      h = Headers.toJava(props.getHeaders());
      javaHeaders = h;
    }
    return h;
  }

  Map<String, Object> headers() {
    Map<String, Object> h = props.getHeaders();
    return h == null ? Map.of() : h;
  }

  /** Failed processing rounds before this delivery, from the toolkit's own header (never from {@code x-death}). */
  int failedRounds() {
    // Rounds delayed in the queue itself are the broker's count of rejects; rounds through delay
    // queues are the toolkit's header. Both come with the message: a hostile or broken value must
    // not overflow the round count.
    String counter = roundsInQueue ? "x-delivery-count" : FailureHeaders.ATTEMPTS;
    return Math.min(1_000_000, Math.max(0, Headers.integer(headers(), counter, 0)));
  }

  /** The event's offset in its stream ({@code x-stream-offset}, set by the broker), or -1 if it is none. */
  long streamOffset() {
    Object offset = headers().get("x-stream-offset");
    return offset instanceof Long l ? l : offset instanceof Number n ? n.longValue() : -1;
  }

  String describe() {
    long offset = streamOffset();
    return "message " + SafeText.of(messageId()) + (offset < 0 ? " from queue '" + queue() + "'"
        : " at offset " + offset + " of stream '" + queue() + "'");
  }
}
