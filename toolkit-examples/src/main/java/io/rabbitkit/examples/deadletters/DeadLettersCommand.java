package io.rabbitkit.examples.deadletters;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.deadletter.DeadLetter;
import io.rabbitkit.deadletter.DeadLetters;
import io.rabbitkit.examples.Args;
import java.io.PrintStream;
import java.util.function.Predicate;

/**
 * Inspects and repairs a work queue's dead letters (kept in {@code <queue>.dlq}).
 *
 * <pre>
 * java -jar toolkit-examples.jar dead-letters list   --queue orders.placed [--limit 20]
 * java -jar toolkit-examples.jar dead-letters replay --queue orders.placed [--message-id ID] [--exception CLASS] [--rate 100]
 * java -jar toolkit-examples.jar dead-letters purge  --queue orders.placed
 * </pre>
 */
public final class DeadLettersCommand {

  private DeadLettersCommand() {}

  public static int run(Args args, PrintStream out) {
    String action = args.positional().isEmpty() ? "list" : args.positional().get(0);
    String queue = args.option("queue", "orders.placed");
    if (!java.util.List.of("list", "replay", "purge").contains(action)) {
      throw new IllegalArgumentException("dead-letters takes list, replay or purge, not '" + action + "'");
    }
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      DeadLetters dead = rabbit.deadLetters(queue, args.option("dlq", queue + ".dlq"));
      switch (action) {
        case "list" -> {
          for (DeadLetter d : dead.list((int) args.number("limit", 20))) {
            out.println(" [dlq] " + d.messageId().orElse("<no id>") + " reason=" + d.reason()
                + " attempts=" + d.attempts() + d.exceptionClass().map(c -> " " + c + ": "
                + d.exceptionMessage().orElse("")).orElse("") + " body=" + d.bodyAsString());
          }
          out.println(" [x] " + dead.count() + " dead letter(s) in '" + dead.deadLetterQueue() + "'");
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
          out.println(" [x] Replayed " + replayed + " dead letter(s) to '" + queue + "'");
        }
        case "purge" -> out.println(" [x] Purged " + dead.purge() + " dead letter(s) from '" + dead.deadLetterQueue() + "'");
        default -> throw new IllegalArgumentException("dead-letters takes list, replay or purge, not '" + action + "'");
      }
    }
    return 0;
  }
}
