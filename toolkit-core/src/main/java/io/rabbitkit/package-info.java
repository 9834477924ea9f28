/**
 * The toolkit's API: {@link io.rabbitkit.RabbitToolkit} (the entry point), publishers, consumers,
 * request/reply, and the exceptions they report. Implementation classes are package-private.
 */
package io.rabbitkit;
