package io.rabbitkit.impl;

/** Wording shared by log lines and exception messages. */
final class Names {

  private Names() {
  }

  static String orNone(String s) {
    return s == null ? "<none>" : s;
  }
}
