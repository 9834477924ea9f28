package io.rabbitkit.examples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Command-line options of an example: positional words and {@code --name value} (or {@code
 * --name=value}) options. The broker comes from {@code --uri}, else {@code RABBITMQ_URI}, else
 * {@link #DEFAULT_URI}.
 */
public record Args(List<String> positional, Map<String, String> options) {

  /** The broker used when neither {@code --uri} nor {@code RABBITMQ_URI} says otherwise. */
  public static final String DEFAULT_URI = "amqp://guest:guest@localhost:5672/";

  public Args {
    positional = List.copyOf(positional);
    options = Map.copyOf(options);
  }

  /** Parses the words after the example's name. */
  public static Args parse(String... words) {
    List<String> positional = new ArrayList<>();
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < words.length; i++) {
      String w = words[i];
      if (!w.startsWith("--")) {
        positional.add(w);
        continue;
      }
      String name = w.substring(2);
      int eq = name.indexOf('=');
      // A repeated option collects its values, as a comma-separated list (--queue a --queue b).
      if (eq >= 0) {
        options.merge(name.substring(0, eq), name.substring(eq + 1), (a, b) -> a + "," + b);
      } else if (i + 1 < words.length && !words[i + 1].startsWith("--")) {
        options.merge(name, words[++i], (a, b) -> a + "," + b);
      } else {
        options.put(name, "true");
      }
    }
    return new Args(positional, options);
  }

  /** Returns the broker URI. */
  public String uri() {
    String env = System.getenv("RABBITMQ_URI");
    return options.getOrDefault("uri", env == null || env.isBlank() ? DevBroker.defaultUri() : env);
  }

  /**
   * The stream protocol's URI: {@code --stream-uri}, else {@code RABBITMQ_STREAM_URI}, else the AMQP
   * URI's host on port 5552 with the same credentials.
   */
  public String streamUri() {
    String env = System.getenv("RABBITMQ_STREAM_URI");
    String given = options.getOrDefault("stream-uri", env == null || env.isBlank() ? null : env);
    if (given != null) {
      return given;
    }
    java.net.URI amqp = java.net.URI.create(uri().split(",")[0].replaceFirst("^amqps?://", "http://"));
    String user = amqp.getRawUserInfo() == null ? "guest:guest" : amqp.getRawUserInfo();
    String host = amqp.getHost() == null ? "localhost" : amqp.getHost();
    return "rabbitmq-stream://" + user + "@" + host + ":5552/%2f";
  }

  /** These arguments with {@code --uri} set. */
  Args withUri(String uri) {
    Map<String, String> changed = new LinkedHashMap<>(options);
    changed.put("uri", uri);
    return new Args(positional, changed);
  }

  /** Returns {@code --count}, if given. */
  public OptionalLong count() {
    String count = options.get("count");
    if (count == null) {
      return OptionalLong.empty();
    }
    long n = parseLong("count", count);
    if (n < 1) {
      throw new IllegalArgumentException("--count must be at least 1: " + count);
    }
    return OptionalLong.of(n);
  }

  /** Returns an option, or {@code otherwise}. */
  public String option(String name, String otherwise) {
    return options.getOrDefault(name, otherwise);
  }

  /** Returns a whole-number option, or {@code otherwise}. */
  public long number(String name, long otherwise) {
    String value = options.get(name);
    return value == null ? otherwise : parseLong(name, value);
  }

  /** Returns a comma-separated option as a list. */
  public List<String> list(String name, String otherwise) {
    return Arrays.stream(option(name, otherwise).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** Returns a comma-separated list of durations such as {@code 200ms,1s,1m}. */
  public List<Duration> durations(String name, String otherwise) {
    return list(name, otherwise).stream().map(Args::duration).toList();
  }

  /** Returns the role word ({@code producer} or {@code consumer}), from the first positional word or {@code --role}. */
  public String role() {
    String role = positional.isEmpty() ? options.get("role") : positional.get(0);
    if (!"producer".equals(role) && !"consumer".equals(role)) {
      throw new IllegalArgumentException("say which role: producer or consumer");
    }
    return role;
  }

  static Duration duration(String text) {
    String t = text.trim();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a duration (use 500ms, 2s, 1m or 1h): " + text);
    }
  }

  private static long parseLong(String name, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number: " + value);
    }
  }
}
