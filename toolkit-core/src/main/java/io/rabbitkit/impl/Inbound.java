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
 */
final class Inbound {

  private final ConsumerChannel worker;
  private final Channel channel;
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
  private Map<String, Object> javaHeaders; // only touched on the channel's lane
  /** Its body could not be decoded or was too large. */
  volatile boolean undecodable;

  Inbound(ConsumerChannel worker, Channel channel, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    this.worker = worker;
    this.channel = channel;
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
    return worker.queue();
  }

  /** The message id, or null when there is none; an empty id is none (it cannot tell messages apart). */
  String messageId() {
    String id = props.getMessageId();
    return id == null || id.isEmpty() ? null : id;
  }

  /** The headers with text values as {@code String}, read-only; converted once, on first use. */
  Map<String, Object> javaHeaders() {
    if (javaHeaders == null) {
      javaHeaders = Headers.toJava(props.getHeaders());
    }
    return javaHeaders;
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
    String counter = worker.roundsInQueue() ? "x-delivery-count" : FailureHeaders.ATTEMPTS;
    return Math.min(1_000_000, Math.max(0, Headers.integer(headers(), counter, 0)));
  }

  String describe() {
    return "message " + SafeText.of(messageId()) + " from queue '" + queue() + "'";
  }
}
