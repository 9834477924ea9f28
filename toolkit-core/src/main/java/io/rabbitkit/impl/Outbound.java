package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import java.util.HashMap;
import java.util.Map;

/**
 * A message ready for the wire. {@code uniqueId}: its id comes from a {@link io.rabbitkit.MessageIds}
 * generator of the sending publisher, so no other unconfirmed message of that sender can have it.
 */
record Outbound(String exchange, String routingKey, boolean mandatory, AMQP.BasicProperties props, byte[] body,
    boolean uniqueId) {

  /** Header added to a message whose return cannot be matched by its id: none, or one already in flight. */
  static final String RETURN_KEY_HEADER = "toolkit-publish-id";

  Outbound(String exchange, String routingKey, boolean mandatory, AMQP.BasicProperties props, byte[] body) {
    this(exchange, routingKey, mandatory, props, body, false);
  }

  String messageId() {
    return props.getMessageId();
  }

  /**
   * This message with {@link #RETURN_KEY_HEADER} set to {@code key} when {@code keyed}; otherwise
   * without the header a re-published message may carry from elsewhere (it would match the wrong return).
   */
  Outbound withReturnKey(boolean keyed, long key) {
    Map<String, Object> headers = props.getHeaders();
    boolean carries = headers != null && headers.containsKey(RETURN_KEY_HEADER);
    if (!keyed && !carries) {
      return this;
    }
    Map<String, Object> copy = headers == null ? new HashMap<>() : new HashMap<>(headers);
    if (keyed) {
      copy.put(RETURN_KEY_HEADER, key);
    } else {
      copy.remove(RETURN_KEY_HEADER);
    }
    return new Outbound(exchange, routingKey, mandatory, props.builder().headers(copy).build(), body, uniqueId);
  }
}
