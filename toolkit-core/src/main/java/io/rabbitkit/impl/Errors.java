package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.MalformedFrameException;
import com.rabbitmq.client.Method;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ConnectionException.Reason;
import io.rabbitkit.ToolkitException.TopologyException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The one place where amqp-client's exceptions become the toolkit's. Everything else calls these
 * methods instead of wrapping {@code IOException}s itself.
 */
final class Errors {

  private static final Pattern INEQUIVALENT_ARG = Pattern.compile("inequivalent arg '([^']+)'");
  private static final Pattern INVALID_ARG = Pattern.compile("invalid arg '([^']+)'");
  private static final Pattern EXCHANGE_IN_TEXT = Pattern.compile("exchange '([^']*)' in vhost");

  private Errors() {
  }

  /** Converts a failure of {@code ConnectionFactory.newConnection}. */
  static ConnectionException connectFailed(Throwable e, String endpoint) {
    Reason reason = connectReason(e);
    String detail = switch (reason) {
      case UNKNOWN_HOST -> "unknown host";
      case CONNECTION_REFUSED -> "connection refused (is the broker running and is the port right?)";
      case TIMEOUT -> "timed out (host unreachable or wrong port?)";
      case AUTHENTICATION_FAILED -> "authentication failed: the broker refused the user name or password";
      case VIRTUAL_HOST -> "virtual host refused: " + replyText(e);
      case TLS -> "TLS handshake failed: " + tlsDetail(e);
      case NOT_AMQP -> notAmqpDetail(e);
      default -> SafeText.of(rootMessage(e), 300);
    };
    return new ConnectionException(reason, "cannot connect to " + endpoint + ": " + detail, e);
  }

  /** Says in words which TLS check failed; the JDK's messages are terse. */
  private static String tlsDetail(Throwable e) {
    String all = "";
    for (Throwable t = e; t != null; t = t.getCause()) {
      all += " " + t.getMessage();
    }
    String root = rootMessage(e);
    if (all.contains("No subject alternative") || all.contains("No name matching")) {
      return "the broker's certificate does not name the host connected to (" + root
          + "); connect with a host name the certificate lists";
    }
    if (all.contains("PKIX path") || all.contains("certification path")) {
      return "the broker's certificate is not trusted (" + root + "); set trustStore(...) to the CA that signed it";
    }
    if (all.contains("Unsupported or unrecognized SSL message")) {
      return "the port does not speak TLS (a plain AMQP port?)";
    }
    if (all.contains("bad_certificate") || all.contains("certificate_required") || all.contains("unknown_ca")) {
      return "the broker refused the client certificate (" + root + ")";
    }
    return root;
  }

  /** Says what a server that is not an AMQP 0-9-1 broker did. */
  private static String notAmqpDetail(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (t instanceof MalformedFrameException && m.contains("protocol version mismatch")) {
        return "the server speaks another AMQP version (" + SafeText.of(m, 200) + "): an AMQP 1.0 broker or port?"
            + " The toolkit needs AMQP 0-9-1 (RabbitMQ's port 5672, or 5671 with TLS)";
      }
      if (t instanceof MalformedFrameException) {
        return "the server's answer is not AMQP 0-9-1 (" + SafeText.of(m, 200) + "): another service listens on"
            + " this port (HTTP, a database...)?";
      }
    }
    return "the server closed the connection during the AMQP 0-9-1 handshake without a word: another service on this"
        + " port (a database, a TLS-only port: use amqps://), or a broker refusing connections?";
  }

  private static Reason connectReason(Throwable e) {
    boolean eofBeforeAnAnswer = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MalformedFrameException) {
        return Reason.NOT_AMQP;
      }
      if (t instanceof java.io.EOFException) {
        eofBeforeAnAnswer = true;
      }
      if (t instanceof AuthenticationFailureException || t instanceof PossibleAuthenticationFailureException) {
        return Reason.AUTHENTICATION_FAILED;
      }
      if (t instanceof UnknownHostException) {
        return Reason.UNKNOWN_HOST;
      }
      if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
        return Reason.CONNECTION_REFUSED;
      }
      if (t instanceof SocketTimeoutException || t instanceof TimeoutException) {
        return Reason.TIMEOUT;
      }
      if (t instanceof SSLException) {
        return Reason.TLS;
      }
      if (t instanceof ShutdownSignalException sse) {
        int code = replyCode(sse);
        if (code == AMQP.NOT_ALLOWED || (code == AMQP.ACCESS_REFUSED && replyText(sse).contains("vhost"))) {
          return Reason.VIRTUAL_HOST;
        }
        if (code == AMQP.ACCESS_REFUSED) {
          return Reason.AUTHENTICATION_FAILED;
        }
      }
    }
    return eofBeforeAnAnswer ? Reason.NOT_AMQP : Reason.IO;
  }

  /** What RabbitMQ 4.x on Khepri says when a metadata change found no quorum in time. */
  private static final String METADATA_TIMEOUT = "metadata store operation timed out";

  /** Whether {@code e} is a declaration the broker's metadata store could not commit in time (no quorum). */
  static boolean metadataStoreTimedOut(Throwable e) {
    ShutdownSignalException sse = shutdownSignal(e);
    return sse != null && replyText(sse).contains(METADATA_TIMEOUT)
        || e instanceof TopologyException t && t.getMessage().contains("metadata store (Khepri)");
  }

  /** RabbitMQ 4.x's refusal of a deprecated feature, naming it. */
  private static final Pattern DEPRECATED_FEATURE = Pattern.compile("Feature `([a-z_0-9]+)` is deprecated");

  /** Converts a failed declaration of {@code entity} (for example {@code queue 'orders'}). */
  static ToolkitException topology(String entity, Throwable e) {
    return topology("declaring", entity, e);
  }

  /**
   * Converts a failed topology operation ({@code action}: declaring, deleting, purging, binding...)
   * on {@code entity} (for example {@code queue 'orders'}).
   */
  static ToolkitException topology(String action, String entity, Throwable e) {
    ShutdownSignalException sse = shutdownSignal(e);
    Matcher deprecated = DEPRECATED_FEATURE.matcher(sse == null ? "" : replyText(sse));
    if (deprecated.find()) {
      // RabbitMQ 4.x refuses a feature its configuration no longer permits with 541, closing the
      // whole connection (the toolkit recovers it): say which setting would permit it.
      String feature = deprecated.group(1);
      String avoid = feature.equals("transient_nonexcl_queues") ? "declare the queue durable, or exclusive if one "
          + "connection uses it" : "stop using it";
      return new TopologyException(entity, null, replyCode(sse), "the broker does not permit the deprecated feature '"
          + feature + "' that " + action + " " + entity + " needs: " + avoid + ", or let the broker permit it with "
          + "deprecated_features.permit." + feature + " = true in rabbitmq.conf", e);
    }
    if (sse != null && replyText(sse).contains(METADATA_TIMEOUT)) {
      // RabbitMQ 4.x on Khepri, without a quorum of its cluster: 541 after its own timeout (30 s).
      return new TopologyException(entity, null, replyCode(sse), action + " " + entity + " failed: the broker's "
          + "metadata store (Khepri) did not answer in time, which means its cluster has no quorum (a majority of "
          + "its nodes is down or unreachable); declarations work again once a majority is back ("
          + SafeText.of(replyText(sse), 300) + ")", e);
    }
    if (sse == null || sse.isHardError()) {
      return io(action + " " + entity, e);
    }
    int code = replyCode(sse);
    String text = replyText(sse);
    Matcher m = INEQUIVALENT_ARG.matcher(text);
    Matcher invalid = INVALID_ARG.matcher(text);
    String argument = m.find() ? m.group(1) : invalid.find() ? invalid.group(1) : null;
    boolean conflict = text.contains("inequivalent");
    String what = switch (code) {
      case AMQP.PRECONDITION_FAILED -> argument == null
          ? (conflict ? entity + " conflicts with what the broker has" : "the broker refused " + action + " " + entity)
          : conflict ? entity + " exists with a different '" + argument + "'"
          : entity + " has an invalid '" + argument + "'";
      case AMQP.NOT_FOUND -> entity + " refers to something that does not exist";
      case AMQP.ACCESS_REFUSED -> "access to " + entity + " refused";
      case AMQP.RESOURCE_LOCKED -> entity + " is exclusive to another connection";
      default -> "the broker refused " + entity;
    };
    return new TopologyException(entity, argument, code, what + " (" + SafeText.of(text, 300) + ")", e);
  }

  /** Converts an I/O failure during {@code action} (for example {@code purging queue 'q'}). */
  static ToolkitException io(String action, Throwable e) {
    if (e instanceof ToolkitException te) {
      return te;
    }
    ShutdownSignalException sse = shutdownSignal(e);
    if (sse != null && sse.isHardError() || e instanceof AlreadyClosedException) {
      return new ConnectionException(Reason.CLOSED, action + " failed: connection closed (" + rootMessage(e) + ")", e);
    }
    return new ToolkitException.TransportException(action + " failed: " + rootMessage(e), e);
  }

  /** Converts an interrupt: re-sets the interrupt flag and returns the exception to throw. */
  static ToolkitException interrupted(String action, InterruptedException e) {
    Thread.currentThread().interrupt();
    return new ToolkitException.TransportException(action + " was interrupted", e);
  }

  /** Finds the {@link ShutdownSignalException} in a cause chain, or {@code null}. */
  static ShutdownSignalException shutdownSignal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ShutdownSignalException sse) {
        return sse;
      }
    }
    return null;
  }

  /** Returns the AMQP reply code of a close, or 0. */
  static int replyCode(ShutdownSignalException sse) {
    Method reason = sse.getReason();
    if (reason instanceof AMQP.Channel.Close close) {
      return close.getReplyCode();
    }
    if (reason instanceof AMQP.Connection.Close close) {
      return close.getReplyCode();
    }
    return 0;
  }

  /** Returns the broker's reply text of a close, or the exception's message. */
  static String replyText(Throwable e) {
    ShutdownSignalException sse = shutdownSignal(e);
    if (sse != null) {
      Method reason = sse.getReason();
      if (reason instanceof AMQP.Channel.Close close) {
        return close.getReplyText();
      }
      if (reason instanceof AMQP.Connection.Close close) {
        return close.getReplyText();
      }
    }
    return rootMessage(e);
  }

  /** Returns the exchange a channel close names ({@code no exchange 'x' in vhost}), or {@code null}. */
  static String exchangeNamedIn(ShutdownSignalException sse) {
    if (sse == null || sse.isHardError()) {
      return null;
    }
    Matcher m = EXCHANGE_IN_TEXT.matcher(replyText(sse));
    return m.find() ? m.group(1) : null;
  }

  /** Returns "code text" for a close, for log lines. */
  static String describe(ShutdownSignalException sse) {
    int code = replyCode(sse);
    return (sse.isHardError() ? "connection" : "channel") + " closed"
        + (code == 0 ? "" : ": " + code + " " + SafeText.of(replyText(sse), 300))
        + (sse.isInitiatedByApplication() ? " by the application" : "");
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    String message = null;
    while (t != null) {
      if (t.getMessage() != null) {
        message = t.getMessage();
      }
      if (t instanceof ShutdownSignalException) {
        break;
      }
      t = t.getCause();
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  /** Describes a throwable for a log line without a stack trace. */
  static String brief(Throwable e) {
    return e.getClass().getSimpleName() + ": " + SafeText.of(String.valueOf(e.getMessage()), 300);
  }
}
