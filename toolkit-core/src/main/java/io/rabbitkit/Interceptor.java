package io.rabbitkit;

import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageRefusedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.ToolkitException.RpcTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The toolkit's extension point: sees every message published, consumed and every RPC call of one
 * {@link RabbitToolkit}, and hears how each ended. toolkit-micrometer's metrics and observations are
 * built on it (the outbox and inbox of toolkit-jdbc use publishers and handlers, not interceptors);
 * install one with {@code RabbitToolkit.builder().interceptor(...)}. Every method has a
 * default that does nothing. An interceptor also hears the connection events of {@link
 * ConnectionListener}.
 *
 * <p>The {@code before...} methods run on the caller's thread (the publishing thread, the thread
 * about to run the handler, the calling thread) and may add headers; they return an observer that
 * learns the outcome. Observers' outcome methods run on toolkit threads and must be quick. An
 * interceptor or observer that throws is logged (the first time at WARN, after that at DEBUG) and
 * skipped: it never changes what happens to a message.
 *
 * <p>Interceptors run in the order they were installed; their observers hear outcomes in the same
 * order. Internal re-publishes (to delay and dead-letter queues, RPC replies) are not publishes of
 * the application and do not pass through {@link #beforePublish}.
 */
public interface Interceptor extends ConnectionListener {

  /** Called once per {@code publish}, before the message is encoded and sent. */
  default PublishObserver beforePublish(PublishContext context) {
    return PublishObserver.NONE;
  }

  /**
   * Called once per delivery, before it is decoded and handled, on the thread that runs the handler
   * when the delivery is handled at once.
   */
  default ConsumeObserver beforeConsume(ConsumeContext context) {
    return ConsumeObserver.NONE;
  }

  /** Called once per RPC call, before the request is sent. */
  default RpcObserver beforeCall(RpcContext context) {
    return RpcObserver.NONE;
  }

  /** A message about to be published. */
  interface PublishContext {
    String exchange();

    String routingKey();

    String messageId();

    /** The message's headers so far; interceptors may add or replace entries. */
    Map<String, Object> headers();
  }

  /** How a publish ended: the future's outcome. */
  enum PublishOutcome {
    /** The broker confirmed the routed message. */
    CONFIRMED,
    /** The broker nacked it until its confirm timeout ({@link MessageNackedException}). */
    NACKED,
    /** Unroutable ({@link MessageReturnedException}). */
    RETURNED,
    /** No confirm within the timeout: outcome unknown ({@link ConfirmTimeoutException}). */
    TIMEOUT,
    /** The publisher or toolkit closed first ({@link ResourceClosedException}). */
    CLOSED,
    /** Never sent, or refused by the broker ({@link PublishException}, {@link MessageRefusedException}). */
    REFUSED;

    /** The outcome a publish future's failure stands for ({@code null}: confirmed). */
    public static PublishOutcome of(Throwable failure) {
      if (failure == null) {
        return CONFIRMED;
      }
      Throwable t = cause(failure);
      if (t instanceof MessageNackedException) {
        return NACKED;
      }
      if (t instanceof MessageReturnedException) {
        return RETURNED;
      }
      if (t instanceof ConfirmTimeoutException) {
        return TIMEOUT;
      }
      if (t instanceof ResourceClosedException) {
        return CLOSED;
      }
      return REFUSED;
    }
  }

  /** Learns how one publish ended. */
  interface PublishObserver {
    PublishObserver NONE = (outcome, elapsed, failure) -> {
    };

    /**
     * @param elapsed from {@code publish} to the outcome
     * @param failure what the future failed with, {@code null} when confirmed
     */
    void outcome(PublishOutcome outcome, Duration elapsed, Throwable failure);
  }

  /** A delivery about to be handled. */
  interface ConsumeContext {
    String queue();

    String exchange();

    Optional<String> messageId();

    /** The delivery's headers, read-only ({@code x-} headers included). */
    Map<String, Object> headers();

    boolean redelivered();

    /** This delivery's attempt number, 1 for the first round (see {@link Delivery#attempt()}). */
    int attempt();

    int bodySize();
  }

  /** What finally happened to a delivery, or {@link #RETRIED} for each in-process retry. */
  enum ConsumeOutcome {
    /** Handled and acknowledged. */
    ACKED,
    /** The handler failed and is called again in process (reported once per extra call). */
    RETRIED,
    /**
     * Scheduled for a later round by the consumer's {@link Redelivery}: moved to a delay queue, or
     * (in-queue redelivery) returned to its quorum queue to wait there. Not the broker's redelivered
     * flag, which {@link ConsumeContext#redelivered()} reports.
     */
    DELAYED,
    /** Moved to the dead-letter queue, or rejected to the queue's dead-letter exchange. */
    DEAD_LETTERED,
    /** Put back on its queue. */
    REQUEUED,
    /** Skipped: its id was already processed. */
    DUPLICATE,
    /** Its body could not be decoded or was too large (then dead-lettered or requeued). */
    UNDECODABLE
  }

  /** Closed when the handler call it was opened for returns. */
  interface Scope extends AutoCloseable {
    Scope NONE = () -> {
    };

    @Override
    void close();
  }

  /** Follows one delivery. */
  interface ConsumeObserver {
    ConsumeObserver NONE = new ConsumeObserver() {
    };

    /**
     * Opened on the handler's thread right before each handler call and closed right after it
     * returns (for an async handler: after it returned its stage). A tracing module makes its span
     * current here.
     */
    default Scope handlerScope() {
      return Scope.NONE;
    }

    /**
     * Called for each in-process retry ({@link ConsumeOutcome#RETRIED}), then exactly once with the
     * final outcome.
     *
     * @param handlerTime how long the handler call ran (the last call for a final outcome; zero when
     *     the handler never ran)
     * @param failure the handler's failure or the reason, {@code null} when acked
     */
    default void outcome(ConsumeOutcome outcome, Duration handlerTime, Throwable failure) {
    }
  }

  /** An RPC call about to be sent. */
  interface RpcContext {
    String exchange();

    String routingKey();

    String correlationId();

    /** The request's headers; interceptors may add or replace entries. */
    Map<String, Object> headers();
  }

  /** How an RPC call ended. */
  enum RpcOutcome {
    /** A reply arrived. */
    OK,
    /** The server's handler failed and sent the failure back ({@link RpcRemoteException}). */
    REMOTE_ERROR,
    /** No reply within the timeout ({@link RpcTimeoutException}). */
    TIMEOUT,
    /** No queue took the request ({@link MessageReturnedException}). */
    RETURNED,
    /** The client or toolkit was closed ({@link ResourceClosedException}). */
    CLOSED,
    /** Anything else: the connection was lost, the request could not be encoded or sent. */
    FAILED;

    /** The outcome a call future's failure stands for ({@code null}: a reply arrived). */
    public static RpcOutcome of(Throwable failure) {
      if (failure == null) {
        return OK;
      }
      Throwable t = cause(failure);
      if (t instanceof RpcRemoteException) {
        return REMOTE_ERROR;
      }
      if (t instanceof RpcTimeoutException) {
        return TIMEOUT;
      }
      if (t instanceof MessageReturnedException) {
        return RETURNED;
      }
      return t instanceof ResourceClosedException ? CLOSED : FAILED;
    }
  }

  /** Learns how one call ended. */
  interface RpcObserver {
    RpcObserver NONE = (outcome, elapsed, failure) -> {
    };

    void outcome(RpcOutcome outcome, Duration elapsed, Throwable failure);
  }

  /** What a future failed with, without the CompletionException around it. */
  private static Throwable cause(Throwable failure) {
    return failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
  }
}
