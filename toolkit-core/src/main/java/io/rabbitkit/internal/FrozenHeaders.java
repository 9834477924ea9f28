package io.rabbitkit.internal;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Headers that can no longer change, in their order, null values allowed (AMQP's void): made once
 * per delivery from what amqp-client decoded, then handed on without another copy ({@code
 * Delivery} copies any other map it is given).
 */
public final class FrozenHeaders extends AbstractMap<String, Object> {

  private final Map<String, Object> map;
  private final Map<String, Object> view;

  private FrozenHeaders(Map<String, Object> map) {
    this.map = map;
    this.view = Collections.unmodifiableMap(map);
  }

  /** {@code headers} with each value passed through {@code value}, frozen. */
  public static Map<String, Object> of(Map<String, Object> headers, Function<Object, Object> value) {
    if (headers == null || headers.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> copy = new LinkedHashMap<>(Math.max(4, headers.size() * 4 / 3 + 1));
    headers.forEach((k, v) -> copy.put(k, value.apply(v)));
    return new FrozenHeaders(copy);
  }

  @Override
  public Set<Entry<String, Object>> entrySet() {
    return view.entrySet();
  }

  @Override
  public Object get(Object key) {
    return map.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return map.containsKey(key);
  }

  @Override
  public int size() {
    return map.size();
  }
}
