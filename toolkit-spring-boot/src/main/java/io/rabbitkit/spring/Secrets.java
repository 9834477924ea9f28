package io.rabbitkit.spring;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where passwords hide in configuration, and how to show it without them: the one rule behind the
 * actuator's sanitizing and the properties' {@code toString()}.
 */
final class Secrets {

  /**
   * {@code scheme://user:password@}: the password runs to the <em>last</em> '@' of the URI (it may
   * hold '@', '/', '?' or '#' unencoded); a URI ends at white space or a comma (address lists).
   * Masking too much of a URI with an '@' after its host is the safe side.
   */
  private static final Pattern URI_PASSWORD = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^:/@\\s,]*):[^\\s,]*@");
  /** {@code --rabbitkit.password=...}, {@code -Dspring.rabbitmq.password=...} inside a command line. */
  private static final Pattern INLINE_PASSWORD =
      Pattern.compile("(?i)((?:rabbitkit|spring[._-]rabbitmq)[\\w.-]*password\\s*[=:]\\s*)[^\\s,]+");

  private Secrets() {
  }

  /** {@code text} with every URI password and every inline toolkit password replaced by {@code mask}. */
  static String mask(String text, String mask) {
    String replacement = Matcher.quoteReplacement(mask);
    String masked = URI_PASSWORD.matcher(text).replaceAll("$1:" + replacement + "@");
    return INLINE_PASSWORD.matcher(masked).replaceAll("$1" + replacement);
  }

  /**
   * Whether {@code key} names one of the toolkit's or Spring AMQP's passwords, however it is
   * spelled: {@code rabbitkit.password}, {@code rabbitkit.ssl.key-store-password}, the environment
   * variables {@code RABBITKIT_PASSWORD} and {@code SPRING_RABBITMQ_PASSWORD}. {@code bound}: the
   * key is a bound property of the toolkit's own (the configprops endpoint names it without prefix).
   */
  static boolean isPassword(String key, boolean bound) {
    String k = key.toLowerCase(Locale.ROOT).replace('_', '.').replace("-", "");
    boolean ours = bound || k.startsWith("rabbitkit.") || k.startsWith("spring.rabbitmq.");
    return ours && k.contains("password");
  }
}
