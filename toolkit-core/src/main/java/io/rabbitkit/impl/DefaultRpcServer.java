package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import io.rabbitkit.Delivery;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.MessageIds;
import io.rabbitkit.PublishException;
import io.rabbitkit.RpcServer;
import io.rabbitkit.ToolkitException.RejectMessageException;
import io.rabbitkit.codec.MessageCodec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RPC server is a consumer whose async handler completes when the reply is confirmed, so the
 * request is acknowledged only after its reply is published.
 */
final class DefaultRpcServer<Q, R> implements RpcServer {

  private static final Logger LOG = LoggerFactory.getLogger(DefaultRpcServer.class);
  /** Header of an error reply: class name of the server-side exception. */
  static final String ERROR_TYPE = "toolkit-rpc-error";
  /** Header of an error reply: the exception's message, truncated. */
  static final String ERROR_MESSAGE = "toolkit-rpc-error-message";

  private final String queue;
  private final MessageCodec<Q> requestCodec;
  private final MessageCodec<R> responseCodec;
  private final RpcServer.Handler<Q, R> handler;
  private final ConfirmingSender replies;
  private final MessageIds replyIds = new MessageIds();
  private volatile MessageConsumer consumer;
  private volatile Runnable onClose = () -> {
  };

  DefaultRpcServer(String queue, MessageCodec<Q> requestCodec, MessageCodec<R> responseCodec,
      RpcServer.Handler<Q, R> handler,
      ConfirmingSender replies) {
    this.queue = queue;
    this.requestCodec = requestCodec;
    this.responseCodec = responseCodec;
    this.handler = handler;
    this.replies = replies;
  }

  void attach(MessageConsumer consumer) {
    this.consumer = consumer;
  }

  CompletionStage<?> serve(Delivery<byte[]> request) {
    String id = request.correlationId().or(request::messageId).orElse(null);
    byte[] body;
    String contentType;
    Map<String, Object> headers = null;
    try {
      Q value = requestCodec.decode(request.body(), request.contentType().orElse(null));
      R response = handler.handle(value);
      body = responseCodec.encode(response);
      contentType = responseCodec.contentType();
    } catch (Exception e) {
      LOG.warn("rpc request {} on queue '{}' failed: {}", id, queue, Errors.brief(e));
      headers = Map.of(ERROR_TYPE, e.getClass().getName(),
          ERROR_MESSAGE, DeadLetterPipeline.truncate(String.valueOf(e.getMessage()), 1024));
      body = new byte[0];
      contentType = "text/plain";
    }
    if (request.replyTo().isEmpty()) {
      LOG.warn("rpc request {} on queue '{}' has no reply-to; nobody to answer", id, queue);
      return CompletableFuture.completedFuture(null);
    }
    String replyTo = request.replyTo().get();
    CompletionStage<?> sent = reply(id, replyTo, contentType, headers, body);
    if (headers != null) {
      return sent; // already an error reply
    }
    // A reply the broker or the sender refuses (too large, a property it cannot carry) would be
    // refused again on every redelivery, running the handler each time: answer with an error
    // instead, once; if even that is refused, the request is dead-lettered, never looped.
    return sent.handle((ok, e) -> {
      Throwable failure = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
      if (!(failure instanceof PublishException p) || !p.reason().aboutMessage()) {
        return e == null ? sent : CompletableFuture.failedFuture(failure);
      }
      LOG.warn("the reply to rpc request {} on queue '{}' was refused ({}); answering with an error instead", id,
          queue, Errors.brief(failure));
      Map<String, Object> error = Map.of(ERROR_TYPE, failure.getClass().getName(),
          ERROR_MESSAGE,
          DeadLetterPipeline.truncate("the server's reply could not be sent: " + failure.getMessage(), 1024));
      return reply(id, replyTo, "text/plain", error, new byte[0]).handle((sentError, refused) -> {
        if (refused != null) {
          throw new RejectMessageException(
              "neither the reply nor an error reply could be sent: " + failure.getMessage(),
              refused);
        }
        return sentError;
      });
    }).thenCompose(stage -> stage);
  }

  private CompletionStage<?> reply(String id, String replyTo, String contentType, Map<String, Object> headers,
      byte[] body) {
    AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
        .correlationId(id)
        .messageId(replyIds.next())
        .contentType(contentType)
        .headers(headers)
        .deliveryMode(1)
        .build();
    // Not mandatory: a reply to a caller that has gone away is dropped by the broker, which is right.
    return replies.send(new Outbound("", replyTo, false, props, body));
  }

  @Override
  public String queue() {
    return queue;
  }

  @Override
  public boolean isRunning() {
    MessageConsumer c = consumer;
    return c != null && c.isRunning();
  }

  @Override
  public MessageConsumer.Stats stats() {
    MessageConsumer c = consumer;
    return c == null ? new MessageConsumer.Stats(0, 0, 0, 0, 0, 0, 0) : c.stats();
  }

  @Override
  public java.util.concurrent.CompletionStage<Void> stopped() {
    MessageConsumer c = consumer;
    return c == null ? CompletableFuture.completedFuture(null) : c.stopped();
  }

  /** Runs {@code hook} once this resource has closed (the toolkit forgets it then). */
  void onClose(Runnable hook) {
    this.onClose = hook;
  }

  @Override
  public void close() {
    MessageConsumer c = consumer;
    if (c != null) {
      c.close();
    }
    replies.close(Duration.ofSeconds(5));
    onClose.run();
  }

  @Override
  public String toString() {
    return "rpc server of '" + queue + "'";
  }
}
