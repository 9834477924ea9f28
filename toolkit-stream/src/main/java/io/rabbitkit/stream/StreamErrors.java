package io.rabbitkit.stream;

import com.rabbitmq.stream.AuthenticationFailureException;
import com.rabbitmq.stream.Constants;
import com.rabbitmq.stream.StreamDoesNotExistException;
import com.rabbitmq.stream.StreamNotAvailableException;
import io.rabbitkit.PublishException;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.ToolkitException.TopologyException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/** stream-client's exceptions as the toolkit's typed ones, worded so that a user can act on them. */
final class StreamErrors {

  /** How long building a producer or consumer waits for a partition without a leader. */
  static final Duration AVAILABLE_WITHIN = Duration.ofSeconds(30);

  private StreamErrors() {
  }

  /** The URI with its user information replaced, for messages. */
  static String masked(String uri) {
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    return scheme < 0 || at < scheme ? SafeText.of(uri, 200)
        : uri.substring(0, scheme + 3) + "****" + uri.substring(at);
  }

  static ConnectionException connectFailed(String shownUri, RuntimeException e) {
    String root = describe(e);
    if (causedBy(e, AuthenticationFailureException.class)) {
      return new ConnectionException(ConnectionException.Reason.AUTHENTICATION_FAILED, "cannot connect to "
          + shownUri + ": the broker refused the user name or password", e);
    }
    if (causedBy(e, java.net.ConnectException.class) || root.contains("Connection refused")) {
      return new ConnectionException(ConnectionException.Reason.CONNECTION_REFUSED, "cannot connect to " + shownUri
          + ": nothing answers on the stream port. Is the stream plugin enabled? rabbitmq-plugins enable "
          + "rabbitmq_stream (RabbitMQ 3.13+ for super streams; it listens on 5552)", e);
    }
    if (causedBy(e, java.net.UnknownHostException.class)) {
      return new ConnectionException(ConnectionException.Reason.UNKNOWN_HOST, "cannot connect to " + shownUri
          + ": unknown host", e);
    }
    return new ConnectionException(ConnectionException.Reason.IO, "cannot connect to " + shownUri + ": " + root, e);
  }

  static TopologyException declareFailed(SuperStream s, RuntimeException e) {
    return new TopologyException("super stream '" + s.name() + "'", null, code(e),
        "declaring super stream '" + s.name() + "' with partitions " + s.partitionNames() + " failed: "
            + describe(e) + (code(e) == Constants.RESPONSE_CODE_STREAM_ALREADY_EXISTS
                ? " (a super stream of that name exists with other partitions)" : ""),
        e);
  }

  /** A producer or consumer refused because the super stream is missing; other failures as they are. */
  static ToolkitException buildFailed(String what, String superStream, RuntimeException e) {
    if (causedBy(e, StreamDoesNotExistException.class) || code(e) == Constants.RESPONSE_CODE_STREAM_DOES_NOT_EXIST
        || describe(e).contains("does not exist") || describe(e).contains("has no partition")) {
      return new StreamException(StreamException.Reason.NO_SUCH_STREAM, what + " cannot start: no super stream '"
          + superStream + "' (declare it with RabbitStreams.declare(SuperStream.of(...)))", e);
    }
    if (causedBy(e, StreamNotAvailableException.class)) {
      return new ConnectionException(ConnectionException.Reason.IO, what + " cannot start: " + describe(e)
          + " (it has had no leader for " + AVAILABLE_WITHIN.toSeconds() + " s: are its nodes up?)", e);
    }
    return new ToolkitException(what + " cannot start: " + describe(e), e);
  }

  /**
   * Runs {@code build} until no partition is reported unavailable, for at most {@code patience}: a
   * partition has no leader for a moment right after it is declared (another process may have
   * declared it a millisecond ago) and while its leader moves after a node is lost.
   */
  static <T> T whileUnavailable(Duration patience, Supplier<T> build) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      try {
        return build.get();
      } catch (RuntimeException e) {
        if (!causedBy(e, StreamNotAvailableException.class) || System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ToolkitException("interrupted while waiting for a partition to become available", e);
      }
    }
  }

  /**
   * An event the producer reports unconfirmed, as a {@link PublishException} whose reason says
   * whether the event itself is at fault: a broker error about it, or a key no binding matches; or
   * the connection's state (producer unavailable or closed while it waited: outcome unknown; not
   * enqueued; no confirm in time), which an outbox relay does not count against its row.
   */
  static PublishException notConfirmed(short code, String id, String superStream, String key) {
    PublishException.Reason reason = switch (code) {
      case Constants.CODE_PUBLISH_CONFIRM_TIMEOUT -> PublishException.Reason.TIMED_OUT;
      case Constants.CODE_MESSAGE_ENQUEUEING_FAILED -> PublishException.Reason.NOT_SENT;
      case Constants.CODE_PRODUCER_NOT_AVAILABLE, Constants.CODE_PRODUCER_CLOSED,
          Constants.RESPONSE_CODE_STREAM_NOT_AVAILABLE, Constants.RESPONSE_CODE_PUBLISHER_DOES_NOT_EXIST ->
        PublishException.Reason.LOST;
      case Constants.CODE_NO_ROUTE_FOUND -> PublishException.Reason.RETURNED;
      default -> PublishException.Reason.NACKED;
    };
    return new PublishException(reason, "event " + SafeText.of(id) + " with key '" + SafeText.of(key)
        + "' to super stream '" + superStream + "' was not confirmed: " + reason.name().toLowerCase(Locale.ROOT)
            .replace('_', ' ')
        + " (stream protocol code " + code + ")", id, superStream, key, null);
  }

  static short code(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof com.rabbitmq.stream.StreamException s) {
        return s.getCode();
      }
    }
    return 0;
  }

  static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** The innermost message, escaped. */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() != null ? root.getMessage() : e.getMessage();
    return SafeText.of(message == null ? root.getClass().getSimpleName() : message, 300);
  }
}
