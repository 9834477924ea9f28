package io.rabbitkit.impl;

import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import io.rabbitkit.ConnectionListener;
import io.rabbitkit.Health;
import io.rabbitkit.ToolkitException.TopologyException;
import io.rabbitkit.topology.Topology;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of the toolkit's two connections (publishing and consuming are kept apart so that a publisher
 * blocked by a resource alarm never stops consumers from acking). After amqp-client recovers the
 * connection, this re-declares the toolkit's topology and then re-opens every managed channel, in
 * that order, so consumers and re-sent messages never race a missing queue.
 */
final class RoleConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RoleConnection.class);

  private final Connection connection;
  private final String name;
  private final Shared context;
  private final SerialExecutor listenerLane;
  private final ConnectionListener listener;
  private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();
  private final ManagedChannel admin;
  private volatile boolean blocked;
  /** Channels closed while the connection was blocked, to close once it is not. */
  private final java.util.Queue<Channel> toClose = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicLong recoveries = new java.util.concurrent.atomic.AtomicLong();
  private volatile long lostAtNanos;
  private volatile long longestRecoveryNanos;

  private RoleConnection(Connection connection, String name, Shared context, ConnectionListener listener) {
    this.connection = connection;
    this.name = name;
    this.context = context;
    this.listenerLane = new SerialExecutor(context.executor);
    this.listener = listener;
    this.admin = new ManagedChannel(this, name + " admin", new ManagedChannel.RequestReply() {
    });
  }

  static RoleConnection open(ConnectionFactory factory, List<com.rabbitmq.client.Address> addresses, String name,
      String endpoint, Shared context, java.util.concurrent.ExecutorService dispatch, ConnectionListener listener) {
    Connection connection;
    try {
      connection = factory.newConnection(dispatch, addresses, name);
    } catch (IOException | TimeoutException | RuntimeException e) {
      throw Errors.connectFailed(e, endpoint);
    }
    RoleConnection rc = new RoleConnection(connection, name, context, listener);
    rc.listen();
    LOG.info("connected to {} as '{}'", endpoint, name);
    return rc;
  }

  private void listen() {
    ((Recoverable) connection).addRecoveryListener(new RecoveryListener() {
      @Override
      public void handleRecoveryStarted(Recoverable recoverable) {
        LOG.info("{}: connection lost, recovering", name);
        fire(() -> listener.recoveryStarted(name));
      }

      @Override
      public void handleRecovery(Recoverable recoverable) {
        LOG.info("{}: connection recovered", name);
        context.executor.execute(RoleConnection.this::afterRecovery);
      }
    });
    connection.addShutdownListener(cause -> {
      // A block belongs to a connection: the next one starts unblocked, and its channels are new.
      blocked = false;
      toClose.clear();
      if (!cause.isInitiatedByApplication()) {
        lostAtNanos = System.nanoTime();
        LOG.warn("{}: {}", name, Errors.describe(cause));
        fire(() -> listener.connectionLost(name, cause.getMessage()));
      }
    });
    connection.addBlockedListener(new BlockedListener() {
      @Override
      public void handleBlocked(String reason) {
        blocked = true;
        LOG.warn("{}: broker blocked the connection ({}); publishing waits", name, reason);
        fire(() -> listener.blocked(name, reason));
      }

      @Override
      public void handleUnblocked() {
        blocked = false;
        LOG.info("{}: broker unblocked the connection", name);
        fire(() -> listener.unblocked(name));
        for (ManagedChannel channel : channels) {
          context.executor.execute(channel::unblocked); // off the reader thread: the handlers write
        }
        Channel leftOver;
        while ((leftOver = toClose.poll()) != null) {
          Channel ch = leftOver;
          context.executor.execute(() -> ManagedChannel.abortQuietly(ch));
        }
      }
    });
  }

  private void afterRecovery() {
    Topology topology = context.topology.snapshot();
    List<String> failed = new java.util.ArrayList<>();
    for (Topology one : TopologyRegistry.entities(topology)) {
      try {
        declare(one);
      } catch (RuntimeException e) {
        failed.add(e.getMessage());
      }
    }
    if (!failed.isEmpty()) {
      LOG.error("{}: re-declaring topology after recovery failed for: {}", name, failed);
    }
    for (ManagedChannel channel : channels) {
      channel.connectionRecovered();
    }
    recoveries.incrementAndGet();
    long lost = lostAtNanos;
    if (lost != 0) {
      long took = System.nanoTime() - lost;
      longestRecoveryNanos = Math.max(longestRecoveryNanos, took);
      LOG.info("{}: channels restored {} ms after the connection was lost", name, took / 1_000_000);
    }
    fire(() -> listener.recovered(name));
  }

  interface ChannelCall<R> {
    R call(Channel channel) throws IOException;
  }

  /**
   * Runs one request/response call ({@code action} on {@code entity}, for example deleting queue
   * 'q') on the admin channel; broker refusals become {@link TopologyException}s. A failure inside
   * amqp-client before the broker answered (a value it cannot encode) aborts the channel, so the
   * next call gets a fresh one instead of waiting for a reply that never comes; every call is
   * bounded by the channel RPC timeout.
   */
  <R> R adminCall(String action, String entity, ChannelCall<R> call) {
    synchronized (admin) {
      Channel ch = admin.obtain();
      try {
        return call.call(ch);
      } catch (IOException | RuntimeException e) {
        abortUnlessBrokerClosed(ch, e);
        throw Errors.topology(action, entity, e);
      }
    }
  }

  /**
   * Runs a call whose refusal is an expected answer (a passive declare of a missing queue) on a
   * channel of its own, so the refusal neither closes the admin channel nor logs a warning.
   */
  <R> R probe(String entity, ChannelCall<R> call) {
    Channel ch;
    try {
      ch = createChannel();
    } catch (IOException | RuntimeException e) {
      throw Errors.io("opening a channel", e);
    }
    try {
      return call.call(ch);
    } catch (IOException | RuntimeException e) {
      throw Errors.topology("looking up", entity, e);
    } finally {
      ManagedChannel.abortQuietly(ch);
    }
  }

  /** Declares on the admin channel; a refusal closes that channel, and the next call opens a new one. */
  void declare(Topology topology) {
    synchronized (admin) {
      Channel ch = admin.obtain();
      try {
        TopologyRegistry.declare(ch, topology);
      } catch (RuntimeException e) {
        abortUnlessBrokerClosed(ch, e);
        throw e;
      }
    }
  }

  /** A channel whose call failed on the client side may be left waiting for a reply: never reuse it. */
  private static void abortUnlessBrokerClosed(Channel ch, Throwable e) {
    if (ch.isOpen() && Errors.shutdownSignal(e) == null) {
      ManagedChannel.abortQuietly(ch);
    }
  }

  /** Listener calls of this connection run one at a time, in the order the events happened. */
  private void fire(Runnable event) {
    listenerLane.execute(() -> {
      try {
        event.run();
      } catch (RuntimeException e) {
        LOG.warn("connection listener failed", e);
      }
    });
  }

  Channel createChannel() throws IOException {
    Channel ch = connection.createChannel();
    if (ch == null) {
      throw new IOException("no channel available on " + name + " (channel_max reached)");
    }
    return ch;
  }

  void register(ManagedChannel channel) {
    if (channel != admin) {
      channels.add(channel);
    }
  }

  void unregister(ManagedChannel channel) {
    channels.remove(channel);
  }

  boolean isOpen() {
    return connection.isOpen();
  }

  /**
   * Whether the broker blocks the connection (a resource alarm). While it does, the broker reads
   * nothing from the socket, and a thread that writes to it can hang for as long as the alarm
   * lasts: senders hold their messages back instead, until {@link ManagedChannel.Handler#unblocked}.
   */
  boolean isBlocked() {
    return blocked;
  }

  /** Closes {@code ch} when the broker lifts its block (or with the connection, whichever comes first). */
  void closeWhenUnblocked(Channel ch) {
    toClose.add(ch);
    if (!blocked && toClose.remove(ch)) {
      context.executor.execute(() -> ManagedChannel.abortQuietly(ch)); // unblocked meanwhile
    }
  }

  Health.ConnectionStatus status() {
    Health.State state = closed ? Health.State.CLOSED : !connection.isOpen() ? Health.State.RECOVERING
        : blocked ? Health.State.BLOCKED : Health.State.OPEN;
    return new Health.ConnectionStatus(name, state, recoveries.get(), java.time.Duration.ofNanos(longestRecoveryNanos));
  }

  /** What the broker announced when this connection opened (product, version, capabilities). */
  Map<String, Object> serverProperties() {
    Map<String, Object> p = connection.getServerProperties();
    return p == null ? Map.of() : p;
  }

  Shared context() {
    return context;
  }

  int frameMax() {
    return connection.getFrameMax();
  }

  @Override
  public void close() {
    closed = true;
    admin.close();
    try {
      connection.close(5_000);
    } catch (IOException | RuntimeException e) {
      connection.abort(1_000);
    }
  }
}
