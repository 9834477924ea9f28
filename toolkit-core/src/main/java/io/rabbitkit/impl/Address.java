package io.rabbitkit.impl;

import static java.util.Objects.requireNonNull;

/** A broker host and port. */
record Address(String host, int port) {

  Address {
    requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535: " + port);
    }
  }

  /** Parses {@code host}, {@code host:port} or {@code [ipv6]:port}. */
  static Address parse(String text, int defaultPort) {
    String s = text.trim();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty broker address");
    }
    if (s.startsWith("[")) {
      int end = s.indexOf(']');
      if (end < 0) {
        throw new IllegalArgumentException("unterminated IPv6 address: " + s);
      }
      String host = s.substring(1, end);
      String rest = s.substring(end + 1);
      if (rest.isEmpty()) {
        return new Address(host, defaultPort);
      }
      if (!rest.startsWith(":")) {
        throw new IllegalArgumentException("bad broker address: " + s);
      }
      return new Address(host, parsePort(rest.substring(1), s));
    }
    int colon = s.lastIndexOf(':');
    if (colon < 0) {
      return new Address(s, defaultPort);
    }
    return new Address(s.substring(0, colon), parsePort(s.substring(colon + 1), s));
  }

  private static int parsePort(String port, String address) {
    try {
      return Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in broker address '" + address + "'");
    }
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
