package io.rabbitkit.impl;

import io.rabbitkit.SafeText;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses {@code amqp://user:pass@host1:port,host2:port/vhost?heartbeat=10&connection_timeout=5000}.
 *
 * <p>Rules: {@code amqps} turns TLS on and defaults the port to 5671; several comma-separated hosts
 * form a cluster; an empty path or a bare {@code /} selects vhost {@code /} (as pika does, unlike
 * amqp-client, which selects the empty vhost); otherwise the path minus its leading slash,
 * percent-decoded, is the vhost ({@code %2F} is {@code /}). Error messages never repeat anything
 * from the user info (user name and password): it is shown as {@code ****}. A user info that holds
 * an unencoded {@code /}, {@code ?} or {@code #} is refused with a hint to percent-encode it,
 * rather than read as a host, port or path (which would print the password and connect as guest).
 */
record AmqpUri(boolean tls, List<Address> addresses, String username, String password, String virtualHost,
    Duration heartbeat, Duration connectionTimeout) {

  static AmqpUri parse(String uri) {
    String masked = mask(uri);
    int schemeEnd = uri.indexOf("://");
    if (schemeEnd < 0) {
      throw new IllegalArgumentException("not an AMQP URI (expected amqp:// or amqps://): " + masked);
    }
    String scheme = uri.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
    boolean tls;
    if (scheme.equals("amqp")) {
      tls = false;
    } else if (scheme.equals("amqps")) {
      tls = true;
    } else {
      throw new IllegalArgumentException("unsupported URI scheme '" + scheme + "' (expected amqp or amqps): " + masked);
    }
    String rest = uri.substring(schemeEnd + 3);
    int lastAt = rest.lastIndexOf('@');
    int firstDelimiter = indexOfAny(rest, "/?#");
    if (lastAt >= 0 && firstDelimiter >= 0 && firstDelimiter < lastAt) {
      throw new IllegalArgumentException("the user name or password in the AMQP URI holds an unencoded '/', '?', '#' "
          + "or '@': percent-encode / ? # @ : in the password (%2F %3F %23 %40 %3A): " + masked);
    }
    if (rest.indexOf('#') >= 0) {
      throw new IllegalArgumentException("an AMQP URI has no fragment: percent-encode '#' as %23: " + masked);
    }
    int authorityEnd = indexOfAny(rest, "/?");
    String authority = authorityEnd < 0 ? rest : rest.substring(0, authorityEnd);
    String pathAndQuery = authorityEnd < 0 ? "" : rest.substring(authorityEnd);

    String username = null;
    String password = null;
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = authority.substring(0, at);
      authority = authority.substring(at + 1);
      int colon = userInfo.indexOf(':');
      username = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), masked);
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1), masked);
    }
    if (authority.isEmpty()) {
      throw new IllegalArgumentException("AMQP URI names no host: " + masked);
    }
    int defaultPort = tls ? 5671 : 5672;
    List<Address> addresses = new ArrayList<>();
    for (String host : authority.split(",", -1)) {
      try {
        addresses.add(Address.parse(host, defaultPort));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(e.getMessage() + " in " + masked);
      }
    }

    String path = pathAndQuery;
    String query = "";
    int q = pathAndQuery.indexOf('?');
    if (q >= 0) {
      path = pathAndQuery.substring(0, q);
      query = pathAndQuery.substring(q + 1);
    }
    String virtualHost = "/";
    if (path.length() > 1) {
      String raw = path.substring(1);
      if (raw.contains("/")) {
        throw new IllegalArgumentException(
            "the vhost in an AMQP URI must be one path segment (encode '/' as %2F): " + masked);
      }
      virtualHost = decode(raw, masked);
    }

    Duration heartbeat = null;
    Duration connectionTimeout = null;
    if (!query.isEmpty()) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        String value = eq < 0 ? "" : pair.substring(eq + 1);
        switch (key) {
          case "heartbeat" -> heartbeat = Duration.ofSeconds(parseLong(key, value, masked));
          case "connection_timeout" -> {
            long millis = parseLong(key, value, masked);
            if (millis == 0) {
              throw new IllegalArgumentException(
                  "AMQP URI parameter connection_timeout must be positive (milliseconds): "
                      + masked);
            }
            connectionTimeout = Duration.ofMillis(millis);
          }
          default -> throw new IllegalArgumentException("unknown AMQP URI parameter '" + key
              + "' (supported: heartbeat, connection_timeout): " + masked);
        }
      }
    }
    return new AmqpUri(tls, List.copyOf(addresses), username, password, virtualHost, heartbeat, connectionTimeout);
  }

  /**
   * Replaces the user info of an AMQP URI (user name and password) with {@code ****}, and makes the
   * rest safe for a log line; safe to print even for a URI that does not parse.
   */
  static String mask(String uri) {
    if (uri == null) {
      return null;
    }
    int schemeEnd = uri.indexOf("://");
    int start = schemeEnd < 0 ? 0 : schemeEnd + 3;
    // The last '@' ends the user info even when an unencoded password holds '/', '?' or '@'.
    int at = uri.lastIndexOf('@');
    String shown = at < start ? uri : uri.substring(0, start) + "****" + uri.substring(at);
    return SafeText.of(shown, 300);
  }

  private static int indexOfAny(String s, String chars) {
    for (int i = 0; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }

  private static String decode(String s, String masked) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad percent-encoding in AMQP URI: " + masked);
    }
  }

  private static long parseLong(String key, String value, String masked) {
    try {
      long v = Long.parseLong(value);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("AMQP URI parameter " + key + " must be a non-negative integer: " + masked);
    }
  }

  @Override
  public String toString() {
    return "AmqpUri[tls=" + tls + ", addresses=" + addresses + ", username=" + username
        + ", password=" + (password == null ? "none" : "****") + ", virtualHost=" + virtualHost + "]";
  }
}
