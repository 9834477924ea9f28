package io.rabbitkit.topology;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.ShortStrings;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A binding from an exchange to a queue (or to another exchange). Immutable.
 *
 * <pre>{@code
 * Binding.of("orders", "orders.placed", "order.placed");   // exchange -> queue
 * Binding.exchange("orders", "audit", "#");                // exchange -> exchange
 * }</pre>
 *
 * @param source the exchange messages come from
 * @param destination the queue or exchange they go to
 * @param destinationType whether {@code destination} is a queue or an exchange
 * @param routingKey the binding key (a pattern for topic exchanges; ignored by fanout)
 * @param arguments binding arguments (for headers exchanges, {@code x-match} and the headers)
 */
public record Binding(String source, String destination, DestinationType destinationType, String routingKey,
    Map<String, Object> arguments) {

  /** What a binding points to. */
  public enum DestinationType {
    QUEUE, EXCHANGE
  }

  public Binding {
    requireNonNull(source, "source");
    requireNonNull(destination, "destination");
    requireNonNull(destinationType, "destinationType");
    requireNonNull(routingKey, "routingKey");
    if (source.isEmpty()) {
      throw new IllegalArgumentException("the default exchange cannot be bound explicitly");
    }
    if (destination.isEmpty()) {
      throw new IllegalArgumentException("binding destination must not be empty");
    }
    ShortStrings.check("binding source", source);
    ShortStrings.check("binding destination", destination);
    ShortStrings.check("binding key", routingKey);
    arguments = Map.copyOf(requireNonNull(arguments, "arguments"));
  }

  /** Binds queue {@code queue} to {@code exchange} with {@code routingKey}. */
  public static Binding of(String exchange, String queue, String routingKey) {
    return new Binding(exchange, queue, DestinationType.QUEUE, routingKey, Map.of());
  }

  /** Binds exchange {@code destination} to exchange {@code source} with {@code routingKey}. */
  public static Binding exchange(String source, String destination, String routingKey) {
    return new Binding(source, destination, DestinationType.EXCHANGE, routingKey, Map.of());
  }

  /** Returns a copy with one more argument (headers exchanges match on these). */
  public Binding withArgument(String key, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(arguments);
    copy.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
    return new Binding(source, destination, destinationType, routingKey, copy);
  }

  @Override
  public String toString() {
    return "binding '" + source + "' -> " + (destinationType == DestinationType.QUEUE ? "queue" : "exchange")
        + " '" + destination + "' (key '" + routingKey + "')";
  }
}
