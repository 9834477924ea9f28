package io.rabbitkit;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Date;

/**
 * Where a stream consumer starts reading when its name has no stored offset yet: the first event
 * the stream still holds, the last chunk, only events published from now on, an offset, or a point
 * in time. Once the consumer has finished an event, it resumes after the last one it finished, and
 * its start position no longer applies.
 */
public final class StreamOffset {

  private enum Kind {
    FIRST, LAST, NEXT, OFFSET, TIMESTAMP
  }

  private static final StreamOffset FIRST = new StreamOffset(Kind.FIRST, 0, null);
  private static final StreamOffset LAST = new StreamOffset(Kind.LAST, 0, null);
  private static final StreamOffset NEXT = new StreamOffset(Kind.NEXT, 0, null);

  private final Kind kind;
  private final long offset;
  private final Instant timestamp;

  private StreamOffset(Kind kind, long offset, Instant timestamp) {
    this.kind = kind;
    this.offset = offset;
    this.timestamp = timestamp;
  }

  /** The first event the stream still holds (older ones may have gone with its retention). */
  public static StreamOffset first() {
    return FIRST;
  }

  /** The last chunk of events the stream holds (one or more events), then new ones. */
  public static StreamOffset last() {
    return LAST;
  }

  /** Only events published after the consumer subscribed. */
  public static StreamOffset next() {
    return NEXT;
  }

  /**
   * The event at {@code offset} (its position in the stream, from 0). An offset beyond the end of
   * the stream is refused when the consumer starts, rather than waited for.
   */
  public static StreamOffset offset(long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("a stream offset is >= 0: " + offset);
    }
    return new StreamOffset(Kind.OFFSET, offset, null);
  }

  /**
   * The first event published at or after {@code time} (the broker keeps time per chunk, in whole
   * seconds, so a few earlier events may come first).
   */
  public static StreamOffset timestamp(Instant time) {
    return new StreamOffset(Kind.TIMESTAMP, 0, requireNonNull(time, "time"));
  }

  /**
   * Reads {@code first}, {@code last}, {@code next}, an offset ({@code 4200}) or an ISO-8601 instant
   * ({@code 2026-12-05T14:00:00Z}), as command lines and configuration files write them.
   *
   * @throws IllegalArgumentException naming what is accepted otherwise
   */
  public static StreamOffset parse(String text) {
    requireNonNull(text, "text");
    switch (text) {
      case "first" :
        return FIRST;
      case "last" :
        return LAST;
      case "next" :
        return NEXT;
      default :
        break;
    }
    if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
      try {
        return offset(Long.parseLong(text));
      } catch (NumberFormatException e) {
        // too long for a long: reported below
      }
    }
    try {
      return timestamp(Instant.parse(text));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("a stream start is first, last, next, an offset (0 or more) or an ISO-8601 "
          + "time such as 2026-12-05T14:00:00Z: " + SafeText.of(text));
    }
  }

  /** The offset, if this position is one. */
  public java.util.OptionalLong offset() {
    return kind == Kind.OFFSET ? java.util.OptionalLong.of(offset) : java.util.OptionalLong.empty();
  }

  /**
   * The value of the {@code x-stream-offset} consumer argument that starts here: {@code "first"},
   * {@code "last"}, {@code "next"}, a {@code Long}, or a {@code Date} (sent as an AMQP timestamp).
   */
  public Object argument() {
    return switch (kind) {
      case FIRST -> "first";
      case LAST -> "last";
      case NEXT -> "next";
      case OFFSET -> offset;
      case TIMESTAMP -> Date.from(timestamp);
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StreamOffset s && s.kind == kind && s.offset == offset
        && java.util.Objects.equals(s.timestamp, timestamp);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(kind, offset, timestamp);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case FIRST, LAST, NEXT -> kind.name().toLowerCase(java.util.Locale.ROOT);
      case OFFSET -> "offset " + offset;
      case TIMESTAMP -> "time " + timestamp;
    };
  }
}
