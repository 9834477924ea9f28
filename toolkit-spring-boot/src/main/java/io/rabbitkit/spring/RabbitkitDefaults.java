package io.rabbitkit.spring;

import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import java.util.Objects;

/**
 * The toolkit's builders with {@code rabbitkit.publisher.*} and {@code rabbitkit.consumer.*}
 * applied; whatever the caller sets afterwards wins. Inject it where you build publishers:
 *
 * <pre>{@code
 * @Bean
 * Publisher<Order> orders(RabbitkitDefaults rabbit) {
 *   return rabbit.publisherBuilder(Order.class).exchange("orders").routingKey("order.placed").build();
 * }
 * }</pre>
 */
public final class RabbitkitDefaults {

  private final RabbitToolkit toolkit;
  private final RabbitkitProperties properties;

  public RabbitkitDefaults(RabbitToolkit toolkit, RabbitkitProperties properties) {
    this.toolkit = Objects.requireNonNull(toolkit, "toolkit");
    this.properties = Objects.requireNonNull(properties, "properties");
  }

  /** The toolkit itself, for everything else (RPC, topology, dead letters). */
  public RabbitToolkit toolkit() {
    return toolkit;
  }

  /** A publisher builder with the configured max-in-flight and confirm timeout. */
  public <T> Publisher.Builder<T> publisherBuilder(Class<T> type) {
    Publisher.Builder<T> builder = toolkit.publisherBuilder(type);
    RabbitkitProperties.Publisher p = properties.publisher();
    if (p.maxInFlight() != null) {
      builder.maxInFlight(p.maxInFlight());
    }
    if (p.confirmTimeout() != null) {
      builder.confirmTimeout(p.confirmTimeout());
    }
    return builder;
  }

  /** A consumer builder with the configured prefetch, concurrency and drain timeout. */
  public <T> MessageConsumer.Builder<T> consumerBuilder(Class<T> type) {
    MessageConsumer.Builder<T> builder = toolkit.consumerBuilder(type);
    RabbitkitProperties.Consumer c = properties.consumer();
    if (c.prefetch() != null) {
      builder.prefetch(c.prefetch());
    }
    if (c.concurrency() != null) {
      builder.concurrency(c.concurrency());
    }
    if (c.drainTimeout() != null) {
      builder.drainTimeout(c.drainTimeout());
    }
    return builder;
  }
}
