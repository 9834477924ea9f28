/**
 * The toolkit's API: {@link io.rabbitkit.RabbitToolkit} (the entry point), publishers, consumers,
 * request/reply, the exceptions they report, and the {@link io.rabbitkit.Interceptor} extension
 * point. The implementation lives in {@code io.rabbitkit.impl}, package-private except the one
 * class the entry point reaches it through; the public sub-packages {@code topology},
 * {@code codec} and {@code deadletter} hold declarations, body encodings and dead-letter
 * inspection.
 *
 * <h2>Threads</h2>
 *
 * A toolkit starts these threads (all daemon threads, all ended by {@code close()}):
 *
 * <ul>
 *   <li>{@code rabbitkit-dispatch-N}: amqp-client's consumer dispatch, one busy thread per channel
 *       at most. A consumer whose channel is idle runs the handler right here, without a hand-off;
 *   <li>{@code rabbitkit-consumer-<queue>-N}: a consumer's pool (at most {@code concurrency} threads). A
 *       handler runs here when its channel is busy (a delivery arrived while another ran), and for
 *       in-process retries of async handlers;
 *   <li>{@code rabbitkit-consumer-N}, instead of the two above for consumers, with
 *       {@link io.rabbitkit.RabbitToolkit.Builder#dispatchThreads}: one pool of that many threads
 *       dispatches every consumer's deliveries and runs their lanes (RPC replies still arrive on
 *       {@code rabbitkit-dispatch-N});
 *   <li>{@code rabbitkit-callback-N}: runs the callbacks of publish and RPC futures (never on a
 *       connection thread, so a callback may publish or call again) and listeners and interceptor
 *       observers (or the executor given to {@code callbackExecutor}). At most 32 threads (4 per
 *       core on larger machines): callbacks that fall behind hold their publisher's in-flight
 *       window, so publishing slows down instead of the pool growing. A callback that blocks holds
 *       a thread; one that waits on another publish future should wait with a timeout. A thread
 *       blocked in an RPC future's {@code get()} is woken by the reply's dispatch thread directly;
 *   <li>{@code rabbitkit-timer-1}: confirm and RPC timeouts, delayed requeues, re-subscription and
 *       re-connection back-off, ack batching;
 *   <li>amqp-client's own connection reader and heartbeat threads, two per connection (the toolkit
 *       opens one connection for publishing and one for consuming).
 * </ul>
 *
 * <p>Pool threads (dispatch, consumer, callback) end after 10 seconds without work, so idle
 * consumers hold no threads: a thousand idle consumers cost no more threads than ten.
 *
 * <p>Which callback runs where: handlers on the dispatch or consumer threads as above;
 * {@link io.rabbitkit.MessageConsumer.Listener} and {@link io.rabbitkit.ConnectionListener} methods on the
 * callback pool, one at a time per consumer or connection and in the order the events happened;
 * {@code Interceptor.before...} on the thread that publishes, handles or calls; interceptor
 * outcomes on a callback thread for publishes and RPC calls, and for deliveries on the handler's
 * thread, or a callback thread when the outcome waited for a re-publish to be confirmed.
 */
package io.rabbitkit;
