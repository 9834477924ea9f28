package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import io.rabbitkit.deadletter.FailureHeaders;
import io.rabbitkit.internal.FrozenHeaders;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Header values: what AMQP can carry, and how received values become plain Java values. */
final class Headers {

  private Headers() {
  }

  /** Converts received header values ({@code LongString} and nested tables) to plain Java values. */
  static Map<String, Object> toJava(Map<String, Object> headers) {
    return FrozenHeaders.of(headers, Headers::valueToJava);
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

  /**
   * Properties for re-publishing a consumed message (to a delay queue, a dead-letter queue, on
   * replay) with {@code headers}: persistent, no per-message TTL (it would silently drop the copy),
   * and without what the re-publisher cannot vouch for: {@code user_id} (the broker refuses one
   * that is not the connection's user) and the {@code CC}/{@code BCC} routing headers (they would
   * send another copy to the queues they name). The facts are kept in toolkit headers.
   */
  static AMQP.BasicProperties republished(AMQP.BasicProperties original, Map<String, Object> headers) {
    if (original.getUserId() != null) {
      headers.put(FailureHeaders.ORIGINAL_USER_ID, original.getUserId());
    }
    Object cc = headers.remove("CC");
    if (cc != null) {
      headers.put(FailureHeaders.ORIGINAL_CC, cc);
    }
    headers.remove("BCC");
    return original.builder().headers(headers).userId(null).deliveryMode(2).expiration(null).build();
  }

  /**
   * The bytes {@code table} takes as an AMQP field table (as amqp-client writes it: strings as long
   * strings), to keep re-published headers inside the negotiated frame size.
   */
  static long encodedSize(Map<String, Object> table) {
    long size = 4;
    if (table != null) {
      for (Map.Entry<String, Object> e : table.entrySet()) {
        size += 1 + utf8Length(e.getKey()) + valueSize(e.getValue());
      }
    }
    return size;
  }

  @SuppressWarnings("unchecked")
  private static long valueSize(Object v) {
    if (v instanceof String s) {
      return 5 + utf8Length(s);
    }
    if (v instanceof LongString s) {
      return 5 + s.length();
    }
    if (v instanceof byte[] b) {
      return 5 + b.length;
    }
    if (v instanceof Map<?, ?> m) {
      return 1 + encodedSize((Map<String, Object>) m);
    }
    if (v instanceof List<?> list) {
      long size = 5;
      for (Object x : list) {
        size += valueSize(x);
      }
      return size;
    }
    return 9 + 1; // numbers, booleans, dates, decimals, void: at most 9 bytes and the type tag
  }

  private static long utf8Length(String s) {
    return s.length() <= 85 ? s.length() * 3L : s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
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
