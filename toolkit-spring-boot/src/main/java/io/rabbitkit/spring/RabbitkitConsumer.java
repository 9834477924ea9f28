package io.rabbitkit.spring;

import static java.util.Objects.requireNonNull;

import io.rabbitkit.MessageConsumer;
import java.util.function.Consumer;

/**
 * A consumer declared as a bean: the queue, the handler and its settings. The toolkit's lifecycle
 * starts it once the context is refreshed and stops it gracefully on shutdown (in-flight handlers
 * finish and are acknowledged before the connection closes).
 *
 * <pre>{@code
 * @Bean
 * RabbitkitConsumer<Order> orders(OrderHandler handler) {
 *   return RabbitkitConsumer.of("orders", Order.class, handler::handle)
 *       .configure(c -> c.retry(3).deadLetterQueue("orders.dlq"));
 * }
 * }</pre>
 *
 * <p>Settings start from {@code rabbitkit.consumer.*}; {@link #configure} runs after them.
 */
public final class RabbitkitConsumer<T> {

  private final String queue;
  private final Class<T> type;
  private final MessageConsumer.Handler<T> handler;
  private final Consumer<MessageConsumer.Builder<T>> settings;

  private RabbitkitConsumer(String queue, Class<T> type, MessageConsumer.Handler<T> handler,
      Consumer<MessageConsumer.Builder<T>> settings) {
    this.queue = requireNonNull(queue, "queue");
    this.type = requireNonNull(type, "type");
    this.handler = handler;
    this.settings = requireNonNull(settings, "settings");
  }

  /** Consumes {@code queue}, decoding each body as {@code type} and calling {@code handler}. */
  public static <T> RabbitkitConsumer<T> of(String queue, Class<T> type, MessageConsumer.Handler<T> handler) {
    return new RabbitkitConsumer<>(queue, type, requireNonNull(handler, "handler"), b -> {
    });
  }

  /**
   * Consumes {@code queue} with the handler {@code settings} set ({@code handler} or {@code
   * asyncHandler}).
   */
  public static <T> RabbitkitConsumer<T> of(String queue, Class<T> type) {
    return new RabbitkitConsumer<>(queue, type, null, b -> {
    });
  }

  /** Adds settings (retry, dead-letter queue, prefetch...), applied after earlier ones. */
  public RabbitkitConsumer<T> configure(Consumer<MessageConsumer.Builder<T>> more) {
    requireNonNull(more, "settings");
    return new RabbitkitConsumer<>(queue, type, handler, settings.andThen(more));
  }

  /** The queue consumed. */
  public String queue() {
    return queue;
  }

  MessageConsumer start(RabbitkitDefaults defaults) {
    MessageConsumer.Builder<T> builder = defaults.consumerBuilder(type).queue(queue);
    if (handler != null) {
      builder.handler(handler);
    }
    settings.accept(builder);
    return builder.build();
  }

  @Override
  public String toString() {
    return "RabbitkitConsumer[" + queue + ", " + type.getSimpleName() + "]";
  }
}
