package io.rabbitkit.codec;

import java.util.Locale;

/** Content-type parsing shared by the built-in codecs. */
final class ContentTypes {

  private ContentTypes() {
  }

  /** Returns the media type without parameters, lower case; {@code null} stays {@code null}. */
  static String mediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    String base = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return base.trim().toLowerCase(Locale.ROOT);
  }

  static boolean isJson(String mediaType) {
    return mediaType.equals("application/json") || mediaType.endsWith("+json") || mediaType.equals("text/json");
  }
}
