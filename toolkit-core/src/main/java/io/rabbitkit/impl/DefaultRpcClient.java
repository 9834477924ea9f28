package io.rabbitkit.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.rabbitkit.Interceptor;
import io.rabbitkit.MessageIds;
import io.rabbitkit.PublishException;
import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.RpcClient;
import io.rabbitkit.ToolkitException.ConnectionException;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.ToolkitException.RpcTimeoutException;
import io.rabbitkit.codec.MessageCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Request/reply over direct reply-to: requests and the reply subscription share one channel. */
final class DefaultRpcClient<Q, R> implements RpcClient<Q, R>, ManagedChannel.Handler {

  private static final Logger LOG = LoggerFactory.getLogger(DefaultRpcClient.class);
  static final String DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

  private record Call<R>(CallbackFuture<R> future, Channel channel, long deadline, Duration timeout) {
  }

  /** A request held back while the broker blocks the connection. */
  private record Held(String id, AMQP.BasicProperties props, byte[] body) {
  }

  /** How often outstanding calls are checked against their deadlines. */
  private static final long SWEEP_MILLIS = 20;

  private final Shared context;
  private final RoleConnection connection;
  /** Requests held back while the connection is blocked, in call order; guarded by publishLock. */
  private final java.util.List<Held> held = new java.util.ArrayList<>();
  private final String exchange;
  private final String routingKey;
  private final MessageCodec<Q> requestCodec;
  private final MessageCodec<R> responseCodec;
  private final Duration defaultTimeout;
  private final Map<String, Call<R>> calls = new ConcurrentHashMap<>();
  private final Object publishLock = new Object();
  private final ManagedChannel channel;
  private final MessageIds ids = new MessageIds();
  private final ScheduledFuture<?> sweeper;
  private volatile boolean closed;
  private volatile Runnable onClose = () -> {
  };

  DefaultRpcClient(RoleConnection connection, String exchange, String routingKey, MessageCodec<Q> requestCodec,
      MessageCodec<R> responseCodec, Duration defaultTimeout) {
    this.context = connection.context();
    this.connection = connection;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.requestCodec = requestCodec;
    this.responseCodec = responseCodec;
    this.defaultTimeout = defaultTimeout;
    this.channel = new ManagedChannel(connection, "rpc client of '" + routingKey + "'", this);
    // One periodic check rather than a timer task per call: scheduling and cancelling a task per call
    // woke the timer thread twice per call.
    this.sweeper = context.timer.scheduleAtFixedRate(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    try {
      channel.start();
    } catch (IOException | RuntimeException e) {
      sweeper.cancel(false);
      throw Errors.io("subscribing to direct reply-to", e);
    }
  }

  @Override
  public void opened(Channel ch) throws IOException {
    ch.addReturnListener((code, text, ex, key, props, body) -> fail(props.getCorrelationId(),
        new MessageReturnedException(props.getMessageId(), ex, key, code, text)));
    ch.basicConsume(DIRECT_REPLY_TO, true, new com.rabbitmq.client.DefaultConsumer(ch) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
        replied(props, body);
      }
    });
  }

  @Override
  public void lost(Channel ch, ShutdownSignalException cause) {
    // Direct reply-to is bound to the channel: replies to requests sent on it can no longer arrive.
    calls.forEach((id, call) -> {
      if (call.channel() == ch) {
        fail(id, new ConnectionException(ConnectionException.Reason.CLOSED, "the channel was lost before the reply to "
            + "request " + id + " arrived; the server may still process it", cause));
      }
    });
  }

  @Override
  public CompletableFuture<R> call(Q request) {
    return call(request, defaultTimeout);
  }

  @Override
  public CompletableFuture<R> call(Q request, Duration timeout) {
    java.util.Objects.requireNonNull(request, "request");
    java.util.Objects.requireNonNull(timeout, "timeout");
    if (closed) {
      return CompletableFuture
          .failedFuture(new ResourceClosedException("rpc client of '" + routingKey + "'", "is closed"));
    }
    String id = ids.next();
    byte[] body;
    try {
      body = requestCodec.encode(request);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(new PublishException("cannot encode request " + id + ": " + e.getMessage(),
          id, exchange, routingKey, e));
    }
    Map<String, Object> headers = null;
    Interceptor.RpcObserver observer = Interceptor.RpcObserver.NONE;
    long start = 0;
    if (!context.interceptors.isEmpty()) {
      start = System.nanoTime();
      Map<String, Object> h = new java.util.LinkedHashMap<>();
      observer = context.interceptors.beforeCall(new Outgoing(exchange, routingKey, id, h));
      headers = h.isEmpty() ? null : h;
    }
    AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
        .headers(headers)
        .replyTo(DIRECT_REPLY_TO)
        .correlationId(id)
        .messageId(id)
        .contentType(requestCodec.contentType())
        .deliveryMode(1)
        .expiration(Long.toString(Math.max(1, timeout.toMillis())))
        .build();
    CallbackFuture<R> future = new CallbackFuture<>(context.executor);
    if (observer != Interceptor.RpcObserver.NONE) {
      Interceptor.RpcObserver o = observer;
      long t0 = start;
      future.whenComplete((reply, error) -> o.outcome(Interceptor.RpcOutcome.of(error),
          Duration.ofNanos(System.nanoTime() - t0), error));
    }
    synchronized (publishLock) {
      Channel ch = channel.current();
      if (ch == null || !ch.isOpen()) {
        future.completeExceptionally(new ConnectionException(ConnectionException.Reason.CLOSED,
            "cannot send request " + id + ": the connection is down (recovering)", null));
        return future;
      }
      calls.put(id, new Call<>(future, ch, System.nanoTime() + timeout.toNanos(), timeout));
      if (connection.isBlocked() || !held.isEmpty()) {
        // A write to a blocked connection can hang the caller for as long as the alarm lasts: the
        // request waits for unblocked() instead, and the sweeper fails it when its time is up.
        held.add(new Held(id, props, body));
      } else {
        publish(ch, id, props, body);
      }
    }
    return future;
  }

  private void publish(Channel ch, String id, AMQP.BasicProperties props, byte[] body) {
    try {
      ch.basicPublish(exchange, routingKey, true, props, body);
    } catch (IOException | RuntimeException e) {
      fail(id, Errors.io("sending request " + id, e));
    }
  }

  @Override
  public void unblocked() {
    synchronized (publishLock) {
      Channel ch = channel.current();
      while (!held.isEmpty() && !connection.isBlocked()) {
        Held h = held.remove(0);
        Call<R> call = calls.get(h.id());
        if (call == null) {
          continue; // timed out while held: never sent
        }
        if (ch == null || !ch.isOpen() || call.channel() != ch) {
          fail(h.id(), new ConnectionException(ConnectionException.Reason.CLOSED, "cannot send request " + h.id()
              + ": the channel was lost while the broker blocked the connection", null));
        } else {
          publish(ch, h.id(), h.props(), h.body());
        }
      }
    }
  }

  private void replied(AMQP.BasicProperties props, byte[] body) {
    String id = props.getCorrelationId();
    Call<R> call = id == null ? null : calls.remove(id);
    if (call == null) {
      LOG.debug("reply {} arrived after its call ended", id);
      return;
    }
    Map<String, Object> headers = props.getHeaders();
    String remoteType = Headers.string(headers, DefaultRpcServer.ERROR_TYPE);
    if (remoteType != null) {
      call.future().settle(null,
          new RpcRemoteException(remoteType, Headers.string(headers, DefaultRpcServer.ERROR_MESSAGE)));
      return;
    }
    R reply;
    try {
      reply = responseCodec.decode(body, props.getContentType());
    } catch (RuntimeException e) {
      call.future().settle(null, e instanceof MessageDecodingException ? e
          : new MessageDecodingException("cannot decode the reply to " + id + ": " + e.getMessage(), e));
      return;
    }
    // On the dispatch thread: a caller blocked in get() is woken from here; callbacks still run on the pool.
    call.future().settle(reply, null);
  }

  private void fail(String id, Throwable failure) {
    Call<R> call = id == null ? null : calls.remove(id);
    if (call != null) {
      call.future().settle(null, failure);
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    calls.forEach((id, call) -> {
      if (now - call.deadline() >= 0) {
        fail(id, new RpcTimeoutException(id, routingKey, call.timeout()));
      }
    });
  }

  @Override
  public int outstanding() {
    return calls.size();
  }

  /** Runs {@code hook} once this resource has closed (the toolkit forgets it then). */
  void onClose(Runnable hook) {
    this.onClose = hook;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    sweeper.cancel(false);
    for (String id : calls.keySet()) {
      fail(id,
          new ResourceClosedException("rpc client of '" + routingKey + "'", "was closed before the reply to " + id));
    }
    channel.close();
    onClose.run();
  }

  @Override
  public String toString() {
    return "rpc client of '" + routingKey + "'";
  }

  private record Outgoing(String exchange, String routingKey, String correlationId, Map<String, Object> headers)
      implements
        Interceptor.RpcContext {
  }
}
