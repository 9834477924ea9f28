package io.rabbitkit.console;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.rabbitkit.SafeText;
import io.rabbitkit.console.DeadLetterConsole.Caller;
import io.rabbitkit.console.DeadLetterConsole.Request;
import io.rabbitkit.console.DeadLetterConsole.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link DeadLetterConsole} on the JDK's own HTTP server, for a process without a web
 * framework (the examples' {@code dead-letters serve}). Every request needs the token it was started
 * with (random unless given), which {@link #url()} carries:
 *
 * <ul>
 *   <li>a page or API read may give it as the query parameter {@code token} (the printed URL), the
 *       header {@code X-Rabbitkit-Token}, or the cookie the first page sets ({@code HttpOnly},
 *       {@code SameSite=Strict});
 *   <li>a replay or purge must give it in the header {@code X-Rabbitkit-Token}: a page of another
 *       site cannot send that header, so the cookie alone never acts.
 * </ul>
 *
 * <p>Bind it to a loopback address (the examples' default, 127.0.0.1) unless the network between
 * the operator and this process is trusted: the token travels in plain HTTP.
 */
public final class ConsoleServer implements AutoCloseable {

  /** The header that carries the token; the only way an action may carry it. */
  public static final String TOKEN_HEADER = "X-Rabbitkit-Token";
  private static final String COOKIE = "rabbitkit-console-token";
  private static final int MAX_BODY = 1 << 20;

  private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);

  private final HttpServer server;
  private final ExecutorService executor;
  private final DeadLetterConsole console;
  private final String token;
  private final String firstQueue;

  private ConsoleServer(HttpServer server, ExecutorService executor, DeadLetterConsole console, String token,
      String firstQueue) {
    this.server = server;
    this.executor = executor;
    this.console = console;
    this.token = token;
    this.firstQueue = firstQueue;
  }

  /** Starts serving {@code console} on {@code address} with a random token. */
  public static ConsoleServer start(DeadLetterConsole console, InetSocketAddress address) {
    return start(console, address, newToken(), null);
  }

  /** A random token: 128 bits, as hex. */
  public static String newToken() {
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  /**
   * Starts serving {@code console} on {@code address} (port 0: a free one) with {@code token}; {@link
   * #url()} opens the page on {@code firstQueue}'s dead letters (null: the first one it knows).
   *
   * @throws UncheckedIOException if the address cannot be bound (the port is taken)
   */
  public static ConsoleServer start(DeadLetterConsole console, InetSocketAddress address, String token,
      String firstQueue) {
    requireNonNull(console, "console");
    requireNonNull(address, "address");
    if (requireNonNull(token, "token").length() < 16) {
      throw new IllegalArgumentException("a token needs at least 16 characters");
    }
    HttpServer server;
    try {
      server = HttpServer.create(address, 50);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve the dead-letter console on " + address + ": " + e.getMessage(),
          e);
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "rabbitkit-console-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    ConsoleServer s = new ConsoleServer(server, executor, console, token, firstQueue);
    server.createContext("/", s::serve);
    server.setExecutor(executor);
    server.start();
    return s;
  }

  /** The page's address with the token, on the first queue: what an operator opens. */
  public URI url() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + a.getPort() + "/?token=" + token
        + (firstQueue == null ? "" : "&queue=" + URLEncoder.encode(firstQueue, StandardCharsets.UTF_8)));
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      try {
        answer(exchange);
      } catch (IllegalArgumentException e) { // a malformed escape in the query
        send(exchange, new Response(400, "application/json", "{\"error\":\"malformed request\"}"
            .getBytes(StandardCharsets.UTF_8)));
      } catch (RuntimeException e) {
        LOG.warn("the dead-letter console failed to answer {} {}", exchange.getRequestMethod(),
            SafeText.of(exchange.getRequestURI().getPath()), e);
        send(exchange, new Response(500, "application/json", "{\"error\":\"internal error, see the log\"}"
            .getBytes(StandardCharsets.UTF_8)));
      }
    }
  }

  private void answer(HttpExchange exchange) throws IOException {
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    String method = exchange.getRequestMethod();
    String header = exchange.getRequestHeaders().getFirst(TOKEN_HEADER);
    boolean read = method.equals("GET");
    boolean byHeader = same(header, token);
    boolean byQuery = read && same(query.get("token"), token);
    if (!byHeader && !byQuery && !(read && same(cookie(exchange), token))) {
      send(exchange, new Response(401, "application/json", ("{\"error\":\"a token is needed: open the URL the"
          + " console printed when it started" + (read ? "" : ", and send actions with the header " + TOKEN_HEADER)
          + "\"}").getBytes(StandardCharsets.UTF_8)));
      return;
    }
    if (byQuery) {
      exchange.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    }
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readNBytes(MAX_BODY);
    }
    Response r = console.handle(new Request(method, exchange.getRequestURI().getPath(), query, body,
        new Caller("token holder from " + exchange.getRemoteAddress().getAddress().getHostAddress(), true)));
    send(exchange, r);
  }

  private static void send(HttpExchange exchange, Response r) throws IOException {
    DeadLetterConsole.SECURITY_HEADERS.forEach(exchange.getResponseHeaders()::add);
    exchange.getResponseHeaders().add("Content-Type", r.contentType());
    exchange.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(r.body());
    }
  }

  private static boolean same(String given, String token) {
    return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  private static String cookie(HttpExchange exchange) {
    List<String> cookies = exchange.getRequestHeaders().get("Cookie");
    if (cookies == null) {
      return null;
    }
    for (String line : cookies) {
      for (String c : line.split(";")) {
        String[] kv = c.trim().split("=", 2);
        if (kv.length == 2 && kv[0].equals(COOKIE)) {
          return kv[1];
        }
      }
    }
    return null;
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      String[] kv = pair.split("=", 2);
      out.putIfAbsent(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
          kv.length == 2 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
    }
    return out;
  }

  /** Stops serving at once (answers being written are cut off). */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
