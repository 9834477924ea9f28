package io.rabbitkit.examples.deadletters;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.SafeText;
import io.rabbitkit.console.ConsoleServer;
import io.rabbitkit.console.DeadLetterConsole;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Inspects and repairs a work queue's dead letters (kept in {@code <queue>.dlq}). {@code --queue}
 * takes the work queue or its dead-letter queue. Bodies are shown readably: text cut to {@code
 * --body-length} characters with escapes for control characters, anything else as {@code
 * <binary, N bytes: ...>}. {@code --json} prints one JSON object per dead letter instead.
 *
 * <pre>
 * java -jar toolkit-examples.jar dead-letters list   --queue orders.placed [--limit 20] [--json] [--body-length 200]
 * java -jar toolkit-examples.jar dead-letters replay --queue orders.placed [--message-id ID] [--exception CLASS] [--rate 100]
 * java -jar toolkit-examples.jar dead-letters purge  --queue orders.placed
 * java -jar toolkit-examples.jar dead-letters serve  [--port 8088] [--queue Q ...] [--read-only] [--bind 127.0.0.1]
 * </pre>
 *
 * <p>{@code serve} starts the dead-letter console (toolkit-console) for the queues named (each
 * {@code --queue} a work queue or its dead-letter queue) and prints its URL with the access token,
 * which opens the page on the first one.
 */
public final class DeadLettersCommand {

  private static final ObjectMapper JSON = new ObjectMapper();

  private DeadLettersCommand() {
  }

  public static int run(Args args, PrintStream out) throws Exception {
    String action = args.positional().isEmpty() ? "list" : args.positional().get(0);
    if (!List.of("list", "replay", "purge", "serve").contains(action)) {
      throw new IllegalArgumentException("dead-letters takes list, replay, purge or serve, not '" + action + "'");
    }
    if (action.equals("serve")) {
      return serve(args, out);
    }
    String given = args.option("queue", "orders.placed");
    String queue = args.options().containsKey("dlq") ? given : workQueue(given);
    int limit = (int) args.number("limit", 20);
    int bodyLength = (int) args.number("body-length", 200);
    if (limit < 0 || bodyLength < 1) {
      throw new IllegalArgumentException("--limit must be >= 0 and --body-length >= 1");
    }
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      DeadLetters dead = rabbit.deadLetters(queue, args.option("dlq", queue + ".dlq"));
      if (rabbit.queueInfo(dead.deadLetterQueue()).isEmpty()) {
        throw new IllegalStateException("there is no dead-letter queue '" + SafeText.of(dead.deadLetterQueue())
            + "' (--queue takes a work queue or its dead-letter queue)");
      }
      switch (action) {
        case "list" -> {
          boolean json = args.options().containsKey("json");
          for (DeadLetter d : dead.list(limit)) {
            out.println(json ? JSON.writeValueAsString(asJson(d, bodyLength)) : line(d, bodyLength));
          }
          if (!json) {
            out.println(" [x] " + dead.count() + " dead letter(s) in '" + SafeText.of(dead.deadLetterQueue()) + "'");
          }
        }
        case "replay" -> {
          Predicate<DeadLetter> which = d -> true;
          String id = args.option("message-id", null);
          String exception = args.option("exception", null);
          if (id != null) {
            which = which.and(d -> d.messageId().filter(id::equals).isPresent());
          }
          if (exception != null) {
            which = which.and(d -> d.exceptionClass().filter(exception::equals).isPresent());
          }
          long replayed = dead.replay(which, (int) args.number("rate", DeadLetters.DEFAULT_REPLAY_RATE));
          out.println(" [x] Replayed " + replayed + " dead letter(s) to '" + SafeText.of(queue) + "'"
              + (dead.skipped() == 0 ? "" : "; " + dead.skipped() + " could not be delivered and stay"));
        }
        default -> out.println(" [x] Purged " + dead.purge() + " dead letter(s) from '"
            + SafeText.of(dead.deadLetterQueue()) + "'");
      }
    }
    return 0;
  }

  private static int serve(Args args, PrintStream out) {
    long port = args.number("port", 8088);
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("--port must be a port number, not " + port);
    }
    List<String> queues = args.list("queue", "orders.placed").stream().map(DeadLettersCommand::workQueue).toList();
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      DeadLetterConsole.Builder console = DeadLetterConsole.builder(rabbit)
          .readOnly(args.options().containsKey("read-only"));
      queues.forEach(console::queue);
      try (ConsoleServer server = ConsoleServer.start(console.build(),
          new InetSocketAddress(args.option("bind", "127.0.0.1"), (int) port), ConsoleServer.newToken(),
          queues.get(0) + ".dlq")) {
        out.println(" [*] Dead-letter console" + (args.options().containsKey("read-only") ? " (read-only)" : "")
            + " for " + queues.stream().map(q -> "'" + SafeText.of(q) + ".dlq'").collect(Collectors.joining(", "))
            + ": " + server.url());
        out.println(" [*] Anyone with this URL may replay and purge; it serves 127.0.0.1 unless --bind says"
            + " otherwise. To exit press CTRL+C");
        Examples.awaitStop(new CompletableFuture<>());
      }
    }
    return 0;
  }

  private static String workQueue(String given) {
    return given.endsWith(".dlq") ? given.substring(0, given.length() - ".dlq".length()) : given;
  }

  private static String line(DeadLetter d, int bodyLength) {
    return " [dlq] " + SafeText.of(d.messageId().orElse("<no id>")) + " reason=" + SafeText.of(d.reason())
        + " attempts=" + d.attempts()
        + d.exceptionClass().map(c -> " " + SafeText.of(c) + ": " + SafeText.of(d.exceptionMessage().orElse(""), 200))
            .orElse("")
        + " body=" + SafeText.body(d.body(), bodyLength);
  }

  /** One dead letter as the {@code --json} object; strings from the message are escaped by JSON itself. */
  private static Map<String, Object> asJson(DeadLetter d, int bodyLength) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("id", d.messageId().orElse(null));
    o.put("reason", d.reason());
    o.put("attempts", d.attempts());
    o.put("exception", d.exceptionClass().orElse(null));
    o.put("exception_message", d.exceptionMessage().orElse(null));
    o.put("original_exchange", d.originalExchange());
    o.put("original_routing_key", d.originalRoutingKey());
    o.put("original_queue", d.originalQueue());
    o.put("first_failure", d.firstFailedAt().map(Instant::toString).orElse(null));
    o.put("last_failure", d.lastFailedAt().map(Instant::toString).orElse(null));
    o.put("body_size", d.body().length);
    o.put("body_preview", SafeText.body(d.body(), bodyLength));
    return o;
  }
}
