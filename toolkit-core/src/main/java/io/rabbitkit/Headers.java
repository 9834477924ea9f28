package io.rabbitkit;

import com.rabbitmq.client.LongString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Header values: what AMQP can carry, and how received values become plain Java values. */
final class Headers {

  private Headers() {}

  /**
   * Checks that every value can be written as an AMQP field value.
   *
   * @throws IllegalArgumentException naming the offending header otherwise
   */
  static Map<String, Object> check(Map<String, Object> headers) {
    for (Map.Entry<String, Object> e : headers.entrySet()) {
      if (e.getKey() == null) {
        throw new IllegalArgumentException("header names must not be null");
      }
      shortString("header name '" + e.getKey() + "'", e.getKey());
      if (!writable(e.getValue())) {
        throw new IllegalArgumentException("header '" + e.getKey() + "' has a value of type "
            + e.getValue().getClass().getName() + ", which AMQP cannot carry (use String, numbers, Boolean, "
            + "Date, byte[], List or Map)");
      }
    }
    return headers;
  }

  /** AMQP short strings hold at most 255 bytes; amqp-client would fail in the middle of a publish. */
  static void shortString(String what, String value) {
    // At most 3 UTF-8 bytes per char: only longer strings need encoding to be measured.
    if (value != null && value.length() > 85 && value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
      throw new IllegalArgumentException(what + " is longer than 255 bytes");
    }
  }

  private static boolean writable(Object v) {
    if (v == null || v instanceof String || v instanceof LongString || v instanceof Integer || v instanceof Long
        || v instanceof Short || v instanceof Byte || v instanceof Double || v instanceof Float
        || v instanceof Boolean || v instanceof BigDecimal || v instanceof Date || v instanceof byte[]) {
      return true;
    }
    if (v instanceof List<?> list) {
      return list.stream().allMatch(Headers::writable);
    }
    if (v instanceof Map<?, ?> map) {
      return map.entrySet().stream().allMatch(e -> e.getKey() instanceof String && writable(e.getValue()));
    }
    return false;
  }

  /** Converts received header values ({@code LongString} and nested tables) to plain Java values. */
  static Map<String, Object> toJava(Map<String, Object> headers) {
    if (headers == null || headers.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    headers.forEach((k, v) -> out.put(k, valueToJava(v)));
    return java.util.Collections.unmodifiableMap(out);
  }

  @SuppressWarnings("unchecked")
  static Object valueToJava(Object v) {
    if (v instanceof LongString s) {
      return s.toString();
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      list.forEach(x -> out.add(valueToJava(x)));
      return java.util.Collections.unmodifiableList(out);
    }
    if (v instanceof Map<?, ?> map) {
      return toJava((Map<String, Object>) map);
    }
    return v;
  }

  /** A copy without the headers the broker owns ({@code x-}...): a client must never re-publish them. */
  static Map<String, Object> withoutBrokerHeaders(Map<String, Object> headers) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (headers != null) {
      headers.forEach((k, v) -> {
        if (!k.startsWith("x-")) {
          out.put(k, v);
        }
      });
    }
    return out;
  }

  static String string(Map<String, Object> headers, String name) {
    Object v = headers == null ? null : headers.get(name);
    return v == null ? null : v.toString();
  }

  static int integer(Map<String, Object> headers, String name, int absent) {
    Object v = headers == null ? null : headers.get(name);
    if (v instanceof Number n) {
      return n.intValue();
    }
    if (v != null) {
      try {
        return Integer.parseInt(v.toString().trim());
      } catch (NumberFormatException e) {
        return absent;
      }
    }
    return absent;
  }
}
