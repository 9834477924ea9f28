package io.rabbitkit.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy between clients and a broker that a test can break: cut every connection, reset it,
 * or silently drop all traffic (a black hole, which only heartbeats detect). Listens on a free
 * local port; point the client at {@link #port()}.
 *
 * <pre>{@code
 * try (TcpProxy proxy = TcpProxy.to("127.0.0.1", broker.port())) {
 *   RabbitToolkit rabbit = RabbitToolkit.builder().port(proxy.port()).heartbeat(ofSeconds(2)).connect();
 *   proxy.blackHole();   // the client notices after about two heartbeats
 *   proxy.restore();     // new connections work again
 * }
 * }</pre>
 */
public final class TcpProxy implements AutoCloseable {

  private final String host;
  private final int targetPort;
  private final ServerSocket server;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean blackHole;
  private volatile boolean closed;

  /** One client connection and its connection to the broker. */
  private record Link(Socket client, Socket upstream) {
    void close(boolean reset) {
      for (Socket s : List.of(client, upstream)) {
        try {
          if (reset) {
            s.setSoLinger(true, 0); // close with RST instead of FIN
          }
          s.close();
        } catch (IOException e) {
          // already closed
        }
      }
    }
  }

  private TcpProxy(String host, int targetPort) throws IOException {
    this.host = host;
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-proxy-accept-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a proxy to {@code host:port}. */
  public static TcpProxy to(String host, int port) {
    try {
      return new TcpProxy(host, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The local port clients connect to. */
  public int port() {
    return server.getLocalPort();
  }

  /** Closes every current connection with a FIN, as a broker or load balancer going away would. */
  public void cut() {
    closeAll(false);
  }

  /** Closes every current connection with a TCP reset. */
  public void reset() {
    closeAll(true);
  }

  /**
   * From now on forwards nothing, in either direction, and accepts new connections without ever
   * connecting them: like a network partition, nothing fails, everything just stops.
   */
  public void blackHole() {
    blackHole = true;
  }

  /** Ends a black hole and drops the connections it swallowed, so that clients reconnect. */
  public void restore() {
    blackHole = false;
    closeAll(true);
  }

  private void closeAll(boolean reset) {
    for (Link link : links) {
      link.close(reset);
      links.remove(link);
    }
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      try {
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(host, targetPort), 5_000);
        Link link = new Link(client, upstream);
        links.add(link);
        pump(link, client, upstream, "up");
        pump(link, upstream, client, "down");
      } catch (IOException e) {
        new Link(client, new Socket()).close(true);
      }
    }
  }

  private void pump(Link link, Socket from, Socket to, String direction) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (!blackHole) {
            out.write(buffer, 0, n);
            out.flush();
          }
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        link.close(false);
        links.remove(link);
      }
    }, "tcp-proxy-" + direction + "-" + from.getPort());
    t.setDaemon(true);
    t.start();
  }

  /** Stops listening and closes every connection. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    closeAll(false);
  }
}
