package io.rabbitkit.topology;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.internal.ShortStrings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An exchange declaration. Immutable; the {@code with...} methods return modified copies.
 *
 * <pre>{@code
 * Exchange orders = Exchange.topic("orders");                 // durable topic exchange
 * Exchange events = Exchange.fanout("events").withAutoDelete(true);
 * }</pre>
 *
 * @param name the exchange name, not empty (the default exchange cannot be declared)
 * @param type the exchange type
 * @param durable whether it survives a broker restart (default {@code true})
 * @param autoDelete whether the broker deletes it when its last binding goes
 * @param internal whether clients may not publish to it directly
 * @param arguments extra {@code x-} arguments, copied
 * @see <a href="https://www.rabbitmq.com/docs/exchanges">RabbitMQ exchanges</a>
 */
public record Exchange(String name, Type type, boolean durable, boolean autoDelete, boolean internal,
    Map<String, Object> arguments) {

  /** The built-in exchange types. */
  public enum Type {
    DIRECT, FANOUT, TOPIC, HEADERS;

    /** Returns the name the broker uses, for example {@code topic}. */
    public String brokerName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Exchange {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("the default exchange (\"\") cannot be declared");
    }
    if (name.startsWith("amq.")) {
      throw new IllegalArgumentException("exchange names starting with 'amq.' are reserved by the broker: " + name);
    }
    ShortStrings.check("exchange name", name);
    arguments = Map.copyOf(requireNonNull(arguments, "arguments"));
  }

  /** A durable direct exchange: routes on exact routing key match. */
  public static Exchange direct(String name) {
    return new Exchange(name, Type.DIRECT, true, false, false, Map.of());
  }

  /** A durable fanout exchange: copies every message to every bound queue. */
  public static Exchange fanout(String name) {
    return new Exchange(name, Type.FANOUT, true, false, false, Map.of());
  }

  /** A durable topic exchange: routes on routing-key patterns ({@code order.*}, {@code #}). */
  public static Exchange topic(String name) {
    return new Exchange(name, Type.TOPIC, true, false, false, Map.of());
  }

  /** A durable headers exchange: routes on message header values. */
  public static Exchange headers(String name) {
    return new Exchange(name, Type.HEADERS, true, false, false, Map.of());
  }

  /** Returns a copy with the given durability. */
  public Exchange withDurable(boolean durable) {
    return new Exchange(name, type, durable, autoDelete, internal, arguments);
  }

  /** Returns a copy with the given auto-delete flag. */
  public Exchange withAutoDelete(boolean autoDelete) {
    return new Exchange(name, type, durable, autoDelete, internal, arguments);
  }

  /** Returns a copy with the given internal flag. */
  public Exchange withInternal(boolean internal) {
    return new Exchange(name, type, durable, autoDelete, internal, arguments);
  }

  /** Returns a copy with one more argument, for example {@code alternate-exchange}. */
  public Exchange withArgument(String key, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(arguments);
    copy.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
    return new Exchange(name, type, durable, autoDelete, internal, copy);
  }

  /** Returns a copy whose unroutable messages go to {@code alternateExchange}. */
  public Exchange withAlternateExchange(String alternateExchange) {
    return withArgument("alternate-exchange", alternateExchange);
  }

  @Override
  public String toString() {
    return "exchange '" + name + "' (" + type.brokerName() + ")";
  }
}
