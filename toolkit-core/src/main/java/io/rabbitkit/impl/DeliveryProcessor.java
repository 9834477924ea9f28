package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import io.github.resilience4j.retry.Retry;
import io.rabbitkit.Delivery;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.ProcessedMessages;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import io.rabbitkit.deadletter.FailureHeaders;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what becomes of one delivery, without a broker: the size and encoding checks, decoding,
 * the duplicate check, the handler call (synchronous or asynchronous, with in-process retry, a
 * {@link RejectMessageException} taken as a value), then the {@link FailurePolicy}'s decision for a
 * failure and the {@link DeliveryLimitGuard}'s last word on a requeue. It settles nothing, counts
 * nothing and tells no listener: it returns the {@link Settlement}, which its consumer records and
 * its channel carries out.
 *
 * <p>The decision completes on the thread that made it: at once, on the caller's thread, for a
 * synchronous handler and policy; after a confirmed re-publish, on the callback pool. What follows
 * an async handler's completion runs on the delivery's lane ({@link Parts#lane}), never on the
 * thread that completed the handler's stage (a connection's reader thread, for an RPC server's
 * confirmed reply). Thread-safe.
 */
final class DeliveryProcessor<T> {

  private static final Logger LOG = LoggerFactory.getLogger(QueueConsumer.class);
  /** Content encodings that leave the body as it is ("utf-8" is a charset some clients put there). */
  private static final Set<String> IDENTITY_ENCODINGS = Set.of("", "identity", "utf-8", "utf8");

  /**
   * What a consumer hands its processor.
   *
   * @param queue the consumer's queue
   * @param codec decodes the bodies
   * @param maxBodySize the largest body it decodes
   * @param handler the synchronous handler, or null
   * @param asyncHandler the asynchronous handler, or null
   * @param retry in-process retry, or null
   * @param processed the duplicate store, or null
   * @param failures decides for failed and poison messages
   * @param guard has the last word on requeues
   * @param interceptors observe each delivery
   * @param timer schedules an async handler's retries
   * @param pool runs an async handler's retries
   * @param lane where what follows an async handler's completion runs, per delivery (its channel's lane)
   * @param warnings warnings about single messages
   */
  record Parts<T>(String queue, MessageCodec<T> codec, int maxBodySize, MessageConsumer.Handler<T> handler,
      MessageConsumer.AsyncHandler<T> asyncHandler, Retry retry, ProcessedMessages processed, FailurePolicy failures,
      DeliveryLimitGuard guard, Interceptors interceptors, ScheduledExecutorService timer, Executor pool,
      Function<Inbound, Executor> lane, MessageWarnings warnings) {
  }

  private final Parts<T> parts;

  DeliveryProcessor(Parts<T> parts) {
    this.parts = parts;
  }

  /** Decides for {@code in}; see the class comment for the thread the decision completes on. */
  CompletionStage<Settlement> process(Inbound in) {
    return decide(in).thenCompose(s -> parts.guard().apply(in, s));
  }

  private CompletionStage<Settlement> decide(Inbound in) {
    if (!parts.interceptors().isEmpty()) {
      in.observer = parts.interceptors().beforeConsume(new Observed(in));
    }
    if (in.body().length > parts.maxBodySize()) {
      MessageDecodingException tooLarge = new MessageDecodingException("body of " + in.body().length
          + " bytes exceeds the consumer's limit of " + parts.maxBodySize() + " bytes")
          .at(parts.queue(), in.messageId(), in.props().getContentType());
      parts.warnings().warn("{} is too large: {}", in.describe(), tooLarge.getMessage());
      return poison(in, tooLarge, FailureHeaders.REASON_TOO_LARGE);
    }
    Delivery<T> delivery;
    try {
      delivery = delivery(in, decode(in));
    } catch (MessageDecodingException e) {
      parts.warnings().warn("{} cannot be decoded: {}", in.describe(), SafeText.of(e.getMessage(), 300));
      return poison(in, e.at(parts.queue(), in.messageId(), in.props().getContentType()),
          FailureHeaders.REASON_UNDECODABLE);
    } catch (RuntimeException e) {
      // Properties or headers the toolkit cannot represent: dead-letter it rather than let it stall the channel.
      parts.warnings().warn("{} has properties that cannot be read: {}", in.describe(), SafeText.of(e.toString(), 300));
      return poison(in, new MessageDecodingException("unreadable properties: " + e, e),
          FailureHeaders.REASON_UNDECODABLE);
    }
    String id = in.messageId();
    if (parts.processed() != null && id != null) {
      boolean seen;
      try {
        seen = parts.processed().contains(id);
      } catch (RuntimeException e) {
        parts.warnings().warn("{}: the processed-messages store failed; treating the message as failed",
            in.describe(), e);
        return settled(parts.failures().failed(in, e));
      }
      if (seen) {
        LOG.debug("{} was already processed; acknowledging the duplicate", in.describe());
        return CompletableFuture.completedFuture(Settlement.DUPLICATE);
      }
    }
    if (parts.handler() != null) {
      return outcome(in, runSync(in, delivery));
    }
    CompletionStage<Object> stage = parts.retry() == null ? attemptAsync(in, delivery)
        : Retry.decorateCompletionStage(parts.retry(), parts.timer(),
            () -> CompletableFuture.supplyAsync(() -> attemptAsync(in, delivery), parts.pool())
                .thenCompose(Function.identity()))
            .get();
    return stage.handle((rejected, error) -> error != null ? unwrap(error) : (Throwable) rejected)
        .thenComposeAsync(failure -> outcome(in, failure), parts.lane().apply(in));
  }

  private CompletionStage<Settlement> poison(Inbound in, Throwable cause, String reason) {
    in.undecodable = !FailureHeaders.REASON_REJECTED.equals(reason);
    return settled(parts.failures().poison(in, cause, reason));
  }

  /** A policy's decision; a policy that fails leaves the message requeued, never lost. */
  private static CompletionStage<Settlement> settled(CompletionStage<Settlement> decision) {
    return decision.handle((s, error) -> s != null ? s : new Settlement.Requeued(error));
  }

  private T decode(Inbound in) {
    String encoding = in.props().getContentEncoding();
    if (encoding != null && !IDENTITY_ENCODINGS.contains(encoding.trim().toLowerCase(java.util.Locale.ROOT))) {
      // Codecs read plain bytes: a compressed body would be decoded as garbage or, worse, as something else.
      throw new MessageDecodingException("unsupported content encoding '" + SafeText.of(encoding)
          + "' (codecs read uncompressed bodies)");
    }
    try {
      return parts.codec().decode(in.body(), in.props().getContentType());
    } catch (MessageDecodingException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new MessageDecodingException("codec " + parts.codec() + " failed: " + e, e);
    }
  }

  private Delivery<T> delivery(Inbound in, T body) {
    AMQP.BasicProperties p = in.props();
    Envelope env = in.envelope();
    return new Delivery<>(body, parts.queue(), env.getExchange(), env.getRoutingKey(), env.isRedeliver(),
        in.failedRounds() + 1, Optional.ofNullable(in.messageId()), Optional.ofNullable(p.getCorrelationId()),
        Optional.ofNullable(p.getReplyTo()), Optional.ofNullable(p.getContentType()),
        Optional.ofNullable(p.getTimestamp()).map(java.util.Date::toInstant), in.javaHeaders(),
        Optional.ofNullable(p.getType()), Optional.ofNullable(p.getAppId()),
        in.streamOffset() < 0 ? OptionalLong.empty() : OptionalLong.of(in.streamOffset()));
  }

  /** Runs the handler (with in-process retry); returns null on success, else the failure. */
  private Throwable runSync(Inbound in, Delivery<T> delivery) {
    try {
      if (parts.retry() == null) {
        handle(in, delivery);
        return null;
      }
      return parts.retry().executeCheckedSupplier(() -> {
        try {
          handle(in, delivery);
          return null;
        } catch (RejectMessageException rejected) {
          return rejected; // a value, not an exception: the retry must not repeat it
        }
      });
    } catch (Throwable t) {
      return t;
    }
  }

  /** One call of the synchronous handler, inside the interceptors' scope and timed when they watch. */
  private void handle(Inbound in, Delivery<T> delivery) throws Exception {
    Interceptor.ConsumeObserver o = in.observer;
    if (o == Interceptor.ConsumeObserver.NONE) {
      parts.handler().handle(delivery);
      return;
    }
    reportRetried(in, o);
    long start = System.nanoTime();
    Interceptor.Scope scope = o.handlerScope();
    try {
      parts.handler().handle(delivery);
    } catch (Throwable t) {
      in.failedCall = t;
      throw t;
    } finally {
      in.handlerNanos = System.nanoTime() - start;
      scope.close();
    }
  }

  /** A handler call is about to repeat one that failed: that one was retried. */
  private static void reportRetried(Inbound in, Interceptor.ConsumeObserver o) {
    Throwable failed = in.failedCall;
    if (failed != null) {
      in.failedCall = null;
      o.outcome(Interceptor.ConsumeOutcome.RETRIED, Duration.ofNanos(in.handlerNanos), failed);
    }
  }

  /** One async attempt; completes with null on success, with the rejection as a value, or exceptionally. */
  private CompletionStage<Object> attemptAsync(Inbound in, Delivery<T> delivery) {
    Interceptor.ConsumeObserver o = in.observer;
    boolean observed = o != Interceptor.ConsumeObserver.NONE;
    long start = 0;
    Interceptor.Scope scope = Interceptor.Scope.NONE;
    if (observed) {
      reportRetried(in, o);
      start = System.nanoTime();
      scope = o.handlerScope();
    }
    CompletionStage<Object> result = attemptAsync(delivery, scope);
    if (!observed) {
      return result;
    }
    long started = start;
    return result.whenComplete((rejected, error) -> {
      in.handlerNanos = System.nanoTime() - started;
      in.failedCall = error != null ? unwrap(error) : (Throwable) rejected;
    });
  }

  private CompletionStage<Object> attemptAsync(Delivery<T> delivery, Interceptor.Scope scope) {
    CompletionStage<?> stage;
    try {
      stage = parts.asyncHandler().handle(delivery);
      if (stage == null) {
        throw new NullPointerException("async handler returned null instead of a CompletionStage");
      }
    } catch (RejectMessageException rejected) {
      return CompletableFuture.completedFuture(rejected);
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    } finally {
      scope.close();
    }
    return stage.handle((result, error) -> {
      Throwable cause = unwrap(error);
      if (cause instanceof RejectMessageException) {
        return cause;
      }
      if (cause != null) {
        throw new CompletionException(cause);
      }
      return null;
    });
  }

  /** What the handler's result means: acked, rejected to the dead-letter queue, or the policy's decision. */
  private CompletionStage<Settlement> outcome(Inbound in, Throwable failure) {
    if (failure == null && parts.processed() != null && in.messageId() != null) {
      try {
        parts.processed().add(in.messageId());
      } catch (RuntimeException e) {
        parts.warnings().warn("{}: the processed-messages store failed to record it; treating the message as failed",
            in.describe(), e);
        failure = e;
      }
    }
    if (failure == null) {
      return CompletableFuture.completedFuture(Settlement.ACKED);
    }
    if (failure instanceof RejectMessageException) {
      parts.warnings().warn("{} rejected by its handler: {}", in.describe(), SafeText.of(failure.getMessage(), 300));
      return poison(in, failure, FailureHeaders.REASON_REJECTED);
    }
    LOG.debug("{} failed", in.describe(), failure); // the consumer logs what becomes of it
    return settled(parts.failures().failed(in, failure));
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** What interceptors see of a delivery. */
  private static final class Observed implements Interceptor.ConsumeContext {

    private final Inbound in;
    private final Map<String, Object> headers;

    Observed(Inbound in) {
      this.in = in;
      this.headers = in.javaHeaders();
    }

    @Override
    public String queue() {
      return in.queue();
    }

    @Override
    public String exchange() {
      return in.envelope().getExchange();
    }

    @Override
    public Optional<String> messageId() {
      return Optional.ofNullable(in.messageId());
    }

    @Override
    public Map<String, Object> headers() {
      return headers;
    }

    @Override
    public boolean redelivered() {
      return in.envelope().isRedeliver();
    }

    @Override
    public int attempt() {
      return in.failedRounds() + 1;
    }

    @Override
    public int bodySize() {
      return in.body().length;
    }
  }
}
