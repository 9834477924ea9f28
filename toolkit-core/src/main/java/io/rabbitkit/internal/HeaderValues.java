package io.rabbitkit.internal;

import com.rabbitmq.client.LongString;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** What AMQP can carry as a header value: the check behind a message's headers and a publisher's. */
public final class HeaderValues {

  private HeaderValues() {
  }

  /**
   * Checks that every name is one an application may set (not {@code x-}: those belong to the
   * broker) and every value can be written as an AMQP field value.
   *
   * @throws IllegalArgumentException naming the offending header otherwise
   */
  public static Map<String, Object> check(Map<String, Object> headers) {
    if (headers.isEmpty()) {
      return headers; // most messages: no iterator to allocate
    }
    for (Map.Entry<String, Object> e : headers.entrySet()) {
      if (e.getKey() == null) {
        throw new IllegalArgumentException("header names must not be null");
      }
      ShortStrings.check("header name", e.getKey());
      if (("CC".equals(e.getKey()) || "BCC".equals(e.getKey())) && !stringList(e.getValue())) {
        // The broker closes the channel over any other type (406 unacceptable_type_in_header).
        throw new IllegalArgumentException("header '" + e.getKey() + "' lists extra routing keys: its value must be "
            + "a List of Strings, not " + (e.getValue() == null ? "null" : e.getValue().getClass().getName()));
      }
      if (!writable(e.getValue())) {
        throw new IllegalArgumentException("header '" + e.getKey() + "' has a value of type "
            + e.getValue().getClass().getName() + ", which AMQP cannot carry (use String, numbers, Boolean, "
            + "Date, byte[], List or Map)");
      }
      if (e.getKey().startsWith("x-")) {
        throw new IllegalArgumentException("headers starting with 'x-' belong to the broker: " + e.getKey());
      }
    }
    return headers;
  }

  private static boolean stringList(Object v) {
    return v instanceof List<?> list && list.stream().allMatch(x -> x instanceof String || x instanceof LongString);
  }

  private static boolean writable(Object v) {
    if (v == null || v instanceof String || v instanceof LongString || v instanceof Integer || v instanceof Long
        || v instanceof Short || v instanceof Byte || v instanceof Double || v instanceof Float
        || v instanceof Boolean || v instanceof BigDecimal || v instanceof Date || v instanceof byte[]) {
      return true;
    }
    if (v instanceof List<?> list) {
      return list.stream().allMatch(HeaderValues::writable);
    }
    if (v instanceof Map<?, ?> map) {
      return map.entrySet().stream().allMatch(e -> e.getKey() instanceof String && writable(e.getValue()));
    }
    return false;
  }
}
