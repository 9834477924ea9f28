/** Immutable declarations of exchanges, queues and bindings, declared with {@code RabbitToolkit.declare}. */
