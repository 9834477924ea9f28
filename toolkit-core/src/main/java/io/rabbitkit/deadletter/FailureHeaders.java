package io.rabbitkit.deadletter;

/**
 * Names of the headers the toolkit writes on messages it moves to a delay queue or a dead-letter
 * queue. None starts with {@code x-}: since RabbitMQ 3.13/4.0 those belong to the broker, which
 * ignores an {@code x-death} a client re-publishes, so the toolkit counts attempts in its own
 * header and reads {@code x-death} only as an extra fact.
 *
 * <p>Values are strings except {@link #ATTEMPTS} and {@link #REPLAY_COUNT} (integers). Times are
 * ISO-8601 instants. Texts are truncated ({@link #MAX_MESSAGE_LENGTH}, {@link
 * #MAX_STACK_TRACE_LENGTH}) so headers stay far below the negotiated frame size.
 */
public final class FailureHeaders {

  /** Failed processing rounds so far (the first failure writes 1). */
  public static final String ATTEMPTS = "toolkit-attempts";
  /** Why the message left the work queue: {@link #REASON_HANDLER_FAILED}, {@link #REASON_REJECTED} or {@link #REASON_UNDECODABLE}. */
  public static final String REASON = "toolkit-failure-reason";
  /** Class name of the last exception. */
  public static final String EXCEPTION = "toolkit-exception";
  /** Message of the last exception, truncated. */
  public static final String EXCEPTION_MESSAGE = "toolkit-exception-message";
  /** Stack trace of the last exception, truncated (dead-letter queue only). */
  public static final String STACK_TRACE = "toolkit-stacktrace";
  /** The exchange the message was first published to ({@code ""}: the default exchange). */
  public static final String ORIGINAL_EXCHANGE = "toolkit-original-exchange";
  /** The routing key the message was first published with. */
  public static final String ORIGINAL_ROUTING_KEY = "toolkit-original-routing-key";
  /** The work queue that failed to process it; replay sends it back there. */
  public static final String ORIGINAL_QUEUE = "toolkit-original-queue";
  /** When the first processing round failed. */
  public static final String FIRST_FAILED_AT = "toolkit-first-failed-at";
  /** When the last processing round failed. */
  public static final String FAILED_AT = "toolkit-failed-at";
  /** The {@code user_id} the message was published with: a re-publisher cannot vouch for it, so it moves here. */
  public static final String ORIGINAL_USER_ID = "toolkit-original-user-id";
  /** The {@code CC} routing header the message carried: removed on re-publish so no queue gets a second copy. */
  public static final String ORIGINAL_CC = "toolkit-original-cc";
  /** Set when the message's own headers were too large to re-publish with the failure headers: how many were dropped. */
  public static final String DROPPED_HEADERS = "toolkit-dropped-headers";
  /** How many times the message was replayed from a dead-letter queue. */
  public static final String REPLAY_COUNT = "toolkit-replay-count";

  /** Reason: the handler kept failing through every retry. */
  public static final String REASON_HANDLER_FAILED = "handler-failed";
  /** Reason: the handler threw {@code RejectMessageException}. */
  public static final String REASON_REJECTED = "rejected";
  /** Reason: the body could not be decoded (malformed, unknown content type, too large). */
  public static final String REASON_UNDECODABLE = "undecodable";

  /** Reason: the body is larger than the consumer accepts (its {@code maxBodySize}). */
  public static final String REASON_TOO_LARGE = "too-large";
  /**
   * Reason: the message failed on a queue whose delivery limit one more requeue would have
   * reached; the broker would have dropped it (or dead-lettered it without the toolkit's headers).
   */
  public static final String REASON_DELIVERY_LIMIT = "delivery-limit";

  /** Longest exception message kept, in characters. */
  public static final int MAX_MESSAGE_LENGTH = 1024;
  /** Longest stack trace kept, in characters. */
  public static final int MAX_STACK_TRACE_LENGTH = 8192;

  private FailureHeaders() {
  }
}
