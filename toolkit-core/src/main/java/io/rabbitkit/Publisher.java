package io.rabbitkit;

import io.rabbitkit.PublishException.ConfirmTimeoutException;
import io.rabbitkit.PublishException.MessageNackedException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Publishes typed messages with publisher confirms. Thread-safe: share one per destination; many
 * threads may publish through it at once.
 *
 * <pre>{@code
 * Publisher<OrderPlaced> orders = rabbit.publisherBuilder(OrderPlaced.class)
 *     .exchange("orders").routingKey("order.placed").build();
 * orders.publish(new OrderPlaced("o-1", 10.5))
 *     .whenComplete((confirmation, error) -> ...);
 * }</pre>
 *
 * <p>The returned future completes <em>only</em> when the broker has confirmed a routed message. A
 * message the broker nacks (a quorum queue electing a leader, a full queue rejecting publishes) is
 * re-sent with back-off until its confirm timeout. The future fails with {@link
 * MessageNackedException} (nacked until then), {@link MessageReturnedException} (unroutable, with
 * mandatory on), {@link ConfirmTimeoutException} (outcome unknown), {@link PublishException} (not
 * sent: window full, too large, exchange missing) or {@link ResourceClosedException}. Futures
 * complete on the toolkit's callback executor, never on a connection thread, so callbacks may
 * publish again. Cancelling a future does not un-publish the message.
 *
 * <p>At most {@code maxInFlight} messages are unconfirmed at a time: {@code publish} blocks while
 * the window is full, up to the publisher's window timeout, then returns a failed future. Messages
 * sent but unconfirmed when a connection is lost are re-sent after recovery (same message id), so
 * consumers may see a duplicate but never a silent loss.
 *
 * @param <T> the message type
 * @see <a href="https://www.rabbitmq.com/docs/confirms">Publisher confirms</a>
 */
public interface Publisher<T> extends AutoCloseable {

  /**
   * Publishes {@code message} with the publisher's routing and a fresh message id.
   *
   * @return a future that completes when the broker confirms the message
   */
  CompletableFuture<Confirmation> publish(T message);

  /**
   * Publishes {@code message} with its own properties (message id, routing key, headers...).
   *
   * @return a future that completes when the broker confirms the message
   */
  CompletableFuture<Confirmation> publish(Message<T> message);

  /** Returns how many messages are sent or waiting to be re-sent but not yet confirmed. */
  int inFlight();

  /**
   * Stops accepting messages, waits up to the confirm timeout for outstanding confirms, fails what
   * is left with {@link ResourceClosedException} and releases the channel. Idempotent.
   */
  @Override
  void close();

  /**
   * Configures and builds a {@link Publisher}. Obtain one from {@link RabbitToolkit#publisherBuilder}.
   * Each setter checks its argument at once; {@link #build()} checks the combination. Not
   * thread-safe.
   *
   * <p>Defaults: the default exchange, persistent messages, mandatory on, a unique message id (a
   * random prefix per publisher and a counter),
   * {@value #DEFAULT_MAX_IN_FLIGHT} messages in flight, a {@code 30 s} confirm timeout, a {@code 10
   * s} window timeout, re-send after recovery on, bodies up to 16 MiB.
   *
   * @param <T> the message type
   */
  interface Builder<T> {

    /** Default bound on unconfirmed messages. */
    int DEFAULT_MAX_IN_FLIGHT = 1000;
    /** Default time to wait for a confirm. */
    Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);
    /** Default time {@code publish} blocks while the in-flight window is full. */
    Duration DEFAULT_WINDOW_TIMEOUT = Duration.ofSeconds(10);
    /** Default largest body (RabbitMQ 4.x's default {@code max_message_size}). */
    int DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;
    /** Sets the exchange to publish to; {@code ""} (the default) is the default exchange, which routes by queue name. */
    Builder<T> exchange(String exchange);

    /** Sets a fixed routing key (for the default exchange: the queue name). */
    Builder<T> routingKey(String routingKey);

    /** Computes the routing key from each message, for example {@code o -> "order." + o.region()}. */
    Builder<T> routingKey(Function<? super T, String> routingKey);

    /** Sets the codec; the default is JSON (String and byte[] get their own codecs). */
    Builder<T> codec(MessageCodec<T> codec);

    /** Derives the message id from each message (for example a business key), instead of a generated one. */
    Builder<T> messageId(Function<? super T, String> messageId);

    /** Adds a header to every message. Names starting with {@code x-} belong to the broker and are refused. */
    Builder<T> header(String name, Object value);

    /** Whether unroutable messages fail their future ({@code true}, the default) or are dropped by the broker. */
    Builder<T> mandatory(boolean mandatory);

    /** Whether messages are persistent (delivery mode 2, the default) or transient. */
    Builder<T> persistent(boolean persistent);

    /** Bounds the number of unconfirmed messages; {@code publish} blocks beyond it. */
    Builder<T> maxInFlight(int maxInFlight);

    /** How long to wait for a confirm before failing with {@link ConfirmTimeoutException}. */
    Builder<T> confirmTimeout(Duration confirmTimeout);

    /** How long {@code publish} may block while the in-flight window is full. */
    Builder<T> windowTimeout(Duration windowTimeout);

    /**
     * Whether messages unconfirmed when a channel or connection is lost are re-sent on the next one,
     * and nacked messages re-sent with back-off until their confirm timeout (default {@code true}:
     * at-least-once, possibly a duplicate), or their futures fail at once with {@link
     * PublishException} or {@link MessageNackedException} (the outcome is then yours to handle).
     */
    Builder<T> resendAfterRecovery(boolean resend);

    /**
     * What {@code publish} does while the connection is down and recovering. By default ({@code
     * false}) the message waits and is sent once the connection is back, and its future fails with
     * {@link ConfirmTimeoutException} if that takes longer than the confirm timeout. With {@code true}
     * its future fails at once with a {@link PublishException} whose cause is a {@link
     * ConnectionException}, and the message is not sent. Messages already sent keep waiting for
     * their re-send either way.
     */
    Builder<T> failWhileDisconnected(boolean fail);

    /** Refuses bodies larger than this, before sending (the broker would close the channel). */
    Builder<T> maxBodySize(int bytes);

    /**
     * Completes the publish futures on the connection's reader thread, as the confirms arrive,
     * instead of handing each batch of confirms to the toolkit's callback pool (default {@code
     * false}). Saves a thread hand-off per batch of confirms: for publishers that only count or log
     * their outcomes. Whatever runs when a future completes (a {@code thenApply}, {@code
     * whenComplete}, or the code after a {@code join()} of a future in a chain) then runs on that
     * thread, which reads every confirm and delivery of the connection: it must be quick and must not
     * block, and must not wait for another publish or call (its confirm could never be read: a
     * deadlock). Waiting on a future from another thread ({@code join}, {@code get}) is fine.
     */
    Builder<T> completeOnConnectionThread(boolean inline);

    /**
     * Opens the publisher's channel and returns the publisher.
     *
     * @throws IllegalStateException if publishing to the default exchange without a routing key
     * @throws ToolkitException if the channel cannot be opened
     */
    Publisher<T> build();
  }
}
