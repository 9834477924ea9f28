package io.rabbitkit.console;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.QueueInfo;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.ToolkitException;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.internal.Checks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter console: a JSON API and the page on it, independent of any HTTP server. {@link
 * ConsoleServer} serves it on the JDK's HTTP server; the Spring Boot starter serves it under the
 * actuator's base path. Each adapter authenticates the caller and passes it in the {@link Request};
 * the console refuses actions to a caller that may not act, and always when built read-only.
 *
 * <pre>{@code
 * DeadLetterConsole console = DeadLetterConsole.builder(rabbit).queue("orders.placed").build();
 * try (ConsoleServer server = ConsoleServer.start(console, new InetSocketAddress("127.0.0.1", 8088))) {
 *   System.out.println(server.url());
 * }
 * }</pre>
 *
 * <p>The API, relative to where it is served:
 *
 * <ul>
 *   <li>{@code GET api/queues}: the dead-letter queues it knows, with counts;
 *   <li>{@code GET api/queues/<dlq>/groups}: the letters grouped by failure reason and exception
 *       type, with count, first and last seen (one read of the queue, holding counts, not letters);
 *   <li>{@code GET api/queues/<dlq>/letters?group=&offset=&limit=}: letters, newest first, with their
 *       headers, failure facts and body preview;
 *   <li>{@code POST api/queues/<dlq>/replay} and {@code .../purge} with {@code {"group": ID}} or
 *       {@code {"ids": [...]}} and {@code "confirmed": true}: moves them back to the queue they came
 *       from (through {@link DeadLetters#replay}: a letter is removed only after its re-publish is
 *       confirmed) or deletes them; answers how many, and writes an audit line to the logger {@code
 *       io.rabbitkit.console.audit}.
 * </ul>
 *
 * <p>Only dead-letter queues the console knows are served: those named to the builder and those of
 * the toolkit's consumers ({@link RabbitToolkit#knownDeadLetters()}); never another queue by name.
 */
public final class DeadLetterConsole {

  /** Headers every answer carries: no script but the console's own, no framing, no sniffing, no caching. */
  public static final Map<String, String> SECURITY_HEADERS = Map.of(
      "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
          + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "X-Content-Type-Options", "nosniff",
      "X-Frame-Options", "DENY",
      "Referrer-Policy", "no-referrer",
      "Cache-Control", "no-store");

  /** At most this many letters newest first are held to serve a page (offset plus limit). */
  public static final int MAX_DEPTH = 10_000;

  /** How long a request waits for another read or action on the same queue. */
  private static final Duration BUSY_FOR = Duration.ofSeconds(60);
  private static final Logger AUDIT = LoggerFactory.getLogger("io.rabbitkit.console.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> ASSETS = Map.of("/", "index.html", "/index.html", "index.html",
      "/console.js", "console.js", "/console.css", "console.css");

  private final RabbitToolkit rabbit;
  private final List<DeadLetters> named;
  private final boolean readOnly;
  private final int replayRate;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  private DeadLetterConsole(Builder b) {
    this.rabbit = b.rabbit;
    this.named = List.copyOf(b.named);
    this.readOnly = b.readOnly;
    this.replayRate = b.replayRate;
  }

  /** Starts building a console over {@code rabbit}'s dead-letter queues. */
  public static Builder builder(RabbitToolkit rabbit) {
    return new Builder(rabbit);
  }

  /**
   * A request, as the adapter received it.
   *
   * @param method {@code GET} or {@code POST}
   * @param path the path below where the console is served, starting with {@code /}, decoded
   * @param query the query parameters, decoded
   * @param body the request body (empty for {@code GET})
   * @param caller who asks, as the adapter authenticated them
   */
  public record Request(String method, String path, Map<String, String> query, byte[] body, Caller caller) {
    public Request {
      requireNonNull(method, "method");
      requireNonNull(path, "path");
      query = Map.copyOf(query);
      requireNonNull(body, "body");
      requireNonNull(caller, "caller");
    }
  }

  /**
   * Who asks: a name for the audit line, whether they may replay and purge, and headers the page must
   * send with an action (a Spring Security CSRF token, say).
   */
  public record Caller(String name, boolean mayAct, Map<String, String> actionHeaders) {
    public Caller {
      requireNonNull(name, "name");
      actionHeaders = Map.copyOf(actionHeaders);
    }

    public Caller(String name, boolean mayAct) {
      this(name, mayAct, Map.of());
    }
  }

  /** An answer: status, content type and body; {@link #SECURITY_HEADERS} go with every one. */
  public record Response(int status, String contentType, byte[] body) {
  }

  /** Answers {@code request}; never throws for anything the request or the broker did. */
  public Response handle(Request request) {
    try {
      String path = request.path();
      if (ASSETS.containsKey(path)) {
        return request.method().equals("GET") ? asset(ASSETS.get(path)) : error(405, "use GET");
      }
      if (path.equals("/api/queues")) {
        return request.method().equals("GET") ? json(200, queues(request.caller())) : error(405, "use GET");
      }
      if (!path.startsWith("/api/queues/") || path.lastIndexOf('/') <= "/api/queues/".length()) {
        return error(404, "no such page");
      }
      String dlq = path.substring("/api/queues/".length(), path.lastIndexOf('/'));
      String what = path.substring(path.lastIndexOf('/') + 1);
      DeadLetters dead = known().get(dlq);
      if (dead == null) {
        return error(404, "the console knows no dead-letter queue '" + SafeText.of(dlq) + "'");
      }
      return switch (what) {
        case "groups" -> get(request, () -> exclusive(dead, () -> json(200, groups(dead))));
        case "letters" -> get(request, () -> exclusive(dead, () -> json(200, letters(dead, request.query()))));
        case "replay", "purge" -> request.method().equals("POST") ? exclusive(dead, () -> act(request, dead, what))
            : error(405, "use POST");
        default -> error(404, "no such page");
      };
    } catch (IllegalArgumentException e) {
      return error(400, e.getMessage());
    } catch (ToolkitException e) {
      return error(502, "the broker: " + SafeText.of(e.getMessage(), 300));
    }
  }

  private static Response get(Request request, Supplier<Response> answer) {
    return request.method().equals("GET") ? answer.get() : error(405, "use GET");
  }

  /**
   * One read or action on a dead-letter queue at a time: two readers would split its letters between
   * them (each holds what it read until it ends), and a page's two reads come together.
   */
  private Response exclusive(DeadLetters dead, Supplier<Response> answer) {
    ReentrantLock lock = locks.computeIfAbsent(dead.deadLetterQueue(), q -> new ReentrantLock(true));
    try {
      if (!lock.tryLock(BUSY_FOR.toSeconds(), TimeUnit.SECONDS)) {
        return error(409, "'" + SafeText.of(dead.deadLetterQueue()) + "' has been busy for " + BUSY_FOR.toSeconds()
            + " s (a replay or purge is running): try again later");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return error(503, "interrupted");
    }
    try {
      return answer.get();
    } finally {
      lock.unlock();
    }
  }

  /** The dead-letter queues this console serves, by name: those it was given, then the toolkit's consumers'. */
  private Map<String, DeadLetters> known() {
    Map<String, DeadLetters> known = new LinkedHashMap<>();
    named.forEach(d -> known.putIfAbsent(d.deadLetterQueue(), d));
    rabbit.knownDeadLetters().forEach(d -> known.putIfAbsent(d.deadLetterQueue(), d));
    return known;
  }

  private Map<String, Object> queues(Caller caller) {
    List<Map<String, Object>> queues = new ArrayList<>();
    for (DeadLetters d : known().values()) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("queue", d.queue());
      q.put("deadLetterQueue", d.deadLetterQueue());
      Optional<QueueInfo> info = rabbit.queueInfo(d.deadLetterQueue()); // one passive declare for both
      q.put("exists", info.isPresent());
      q.put("count", info.map(QueueInfo::messageCount).orElse(0L));
      queues.add(q);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("user", caller.name());
    out.put("mayAct", mayAct(caller));
    out.put("readOnly", readOnly);
    out.put("actionHeaders", caller.actionHeaders());
    out.put("queues", queues);
    return out;
  }

  private boolean mayAct(Caller caller) {
    return !readOnly && caller.mayAct();
  }

  private Map<String, Object> groups(DeadLetters dead) {
    long started = System.nanoTime();
    Map<String, Group> groups = new LinkedHashMap<>();
    long read = dead.browse(Integer.MAX_VALUE, letter -> {
      groups.computeIfAbsent(Letters.groupId(letter), id -> new Group(id, letter)).add(letter);
      return true;
    });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("queue", dead.queue());
    out.put("deadLetterQueue", dead.deadLetterQueue());
    out.put("count", dead.count());
    out.put("read", read);
    out.put("readMillis", (System.nanoTime() - started) / 1_000_000);
    out.put("groups", groups.values().stream().sorted((a, b) -> Long.compare(b.count, a.count))
        .map(Group::toJson).toList());
    return out;
  }

  /** Letters newest first: the queue is read to its end, holding at most offset plus limit of them. */
  private Map<String, Object> letters(DeadLetters dead, Map<String, String> query) {
    int offset = number(query, "offset", 0);
    int limit = number(query, "limit", 20);
    if (limit < 1 || offset + limit > MAX_DEPTH) {
      throw new IllegalArgumentException("limit must be >= 1 and offset + limit <= " + MAX_DEPTH);
    }
    String group = query.get("group");
    ArrayDeque<DeadLetter> newest = new ArrayDeque<>(offset + limit + 1);
    long[] matching = {0};
    dead.browse(Integer.MAX_VALUE, letter -> {
      if (group == null || group.isEmpty() || group.equals(Letters.groupId(letter))) {
        matching[0]++;
        newest.addFirst(letter);
        if (newest.size() > offset + limit) {
          newest.removeLast();
        }
      }
      return true;
    });
    List<Map<String, Object>> page = newest.stream().skip(offset).map(Letters::toJson).toList();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("deadLetterQueue", dead.deadLetterQueue());
    out.put("group", group);
    out.put("offset", offset);
    out.put("matching", matching[0]);
    out.put("letters", page);
    return out;
  }

  private Response act(Request request, DeadLetters known, String action) {
    DeadLetters dead = rabbit.deadLetters(known.queue(), known.deadLetterQueue()); // its own skipped() count
    if (!mayAct(request.caller())) {
      return error(403, readOnly ? "this console is read-only" : "'" + SafeText.of(request.caller().name())
          + "' may not replay or purge dead letters");
    }
    JsonNode body = parse(request.body());
    if (!body.path("confirmed").asBoolean(false)) {
      return error(400, "an action needs \"confirmed\": true");
    }
    String selection;
    Predicate<DeadLetter> which;
    if (body.hasNonNull("group")) {
      String group = body.get("group").asText();
      selection = "group " + group;
      which = letter -> group.equals(Letters.groupId(letter));
    } else if (body.path("ids").isArray() && !body.get("ids").isEmpty()) {
      Set<String> ids = new HashSet<>();
      body.get("ids").forEach(id -> ids.add(id.asText()));
      selection = ids.size() + " selected";
      which = letter -> ids.contains(Letters.id(letter));
    } else {
      return error(400, "say which letters: {\"group\": ID} or {\"ids\": [ID, ...]}");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    if (action.equals("replay")) {
      long moved = dead.replay(which, replayRate);
      out.put("replayed", moved);
      out.put("skipped", dead.skipped());
      AUDIT.info("audit: '{}' replayed {} dead letter(s) ({}) from '{}' to '{}'{}", SafeText.of(
          request.caller().name()), moved, SafeText.of(selection), dead.deadLetterQueue(), dead.queue(),
          dead.skipped() == 0 ? "" : "; " + dead.skipped() + " could not be delivered and stay");
    } else {
      long purged = dead.purge(which);
      out.put("purged", purged);
      AUDIT.info("audit: '{}' purged {} dead letter(s) ({}) from '{}'", SafeText.of(request.caller().name()),
          purged, SafeText.of(selection), dead.deadLetterQueue());
    }
    out.put("count", dead.count());
    return json(200, out);
  }

  private static JsonNode parse(byte[] body) {
    try {
      JsonNode node = JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("the body must be a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body is not JSON: " + SafeText.of(e.getOriginalMessage(), 200));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int number(Map<String, String> query, String name, int otherwise) {
    String value = query.get(name);
    try {
      return value == null || value.isEmpty() ? otherwise : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number");
    }
  }

  private static Response asset(String name) {
    try (InputStream in = DeadLetterConsole.class.getResourceAsStream(name)) {
      if (in == null) {
        return error(404, "no such page");
      }
      String type = name.endsWith(".html") ? "text/html; charset=utf-8"
          : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
      return new Response(200, type, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Response json(int status, Object body) {
    try {
      return new Response(status, "application/json", JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Response error(int status, String message) {
    return json(status, Map.of("error", message));
  }

  /** Letters of one failure reason and exception type. */
  private static final class Group {
    final String id;
    final String reason;
    final String exception;
    final String example;
    long count;
    String firstSeen;
    String lastSeen;

    Group(String id, DeadLetter first) {
      this.id = id;
      this.reason = first.reason();
      this.exception = first.exceptionClass().orElse(null);
      this.example = first.exceptionMessage().map(m -> SafeText.of(m, 300)).orElse(null);
    }

    void add(DeadLetter letter) {
      count++;
      String at = Letters.failedAt(letter);
      if (at != null && (firstSeen == null || at.compareTo(firstSeen) < 0)) {
        firstSeen = at;
      }
      if (at != null && (lastSeen == null || at.compareTo(lastSeen) > 0)) {
        lastSeen = at;
      }
    }

    Map<String, Object> toJson() {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("id", id);
      out.put("reason", reason);
      out.put("exception", exception);
      out.put("example", example);
      out.put("count", count);
      out.put("firstSeen", firstSeen);
      out.put("lastSeen", lastSeen);
      return out;
    }
  }

  /** Builds a {@link DeadLetterConsole}. */
  public static final class Builder {
    private final RabbitToolkit rabbit;
    private final List<DeadLetters> named = new ArrayList<>();
    private boolean readOnly;
    private int replayRate = DeadLetters.DEFAULT_REPLAY_RATE;

    private Builder(RabbitToolkit rabbit) {
      this.rabbit = requireNonNull(rabbit, "rabbit");
    }

    /** Serves the dead letters of work queue {@code queue}, kept in {@code <queue>.dlq}. */
    public Builder queue(String queue) {
      named.add(rabbit.deadLetters(requireNonNull(queue, "queue")));
      return this;
    }

    /** Serves the dead letters of work queue {@code queue}, kept in {@code deadLetterQueue}. */
    public Builder queue(String queue, String deadLetterQueue) {
      named.add(rabbit.deadLetters(requireNonNull(queue, "queue"), requireNonNull(deadLetterQueue,
          "deadLetterQueue")));
      return this;
    }

    /** Refuses every replay and purge, whoever asks. */
    public Builder readOnly(boolean readOnly) {
      this.readOnly = readOnly;
      return this;
    }

    /** Replays at most this many letters per second (default {@value DeadLetters#DEFAULT_REPLAY_RATE}). */
    public Builder replayRate(int perSecond) {
      this.replayRate = Checks.atLeastOne("replayRate", perSecond);
      return this;
    }

    public DeadLetterConsole build() {
      return new DeadLetterConsole(this);
    }
  }
}
