package io.rabbitkit.stream;

import com.rabbitmq.stream.AuthenticationFailureException;
import com.rabbitmq.stream.Constants;
import com.rabbitmq.stream.StreamDoesNotExistException;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.StreamException;
import io.rabbitkit.ToolkitException.TopologyException;

/** stream-client's exceptions as the toolkit's typed ones, worded so that a user can act on them. */
final class StreamErrors {

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
    return new ToolkitException(what + " cannot start: " + describe(e), e);
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
