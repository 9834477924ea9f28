package io.rabbitkit.examples.rpc;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcClient;
import io.rabbitkit.SafeText;
import io.rabbitkit.examples.Args;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Asks rpc-server for {@code fib(n)} over direct reply-to, like the RPC tutorial's client. The call
 * returns a future at once; a callback prints the answer. A server error fails the future at once
 * with the server's exception; silence fails it after {@code --timeout}.
 *
 * <pre>java -jar toolkit-examples.jar rpc-client [--n 30] [--timeout 10s] [--queue rpc_queue]</pre>
 */
public final class RpcClientExample {

  private RpcClientExample() {
  }

  public static int run(Args args, PrintStream out) {
    String queue = args.option("queue", "rpc_queue");
    long n = args.number("n", 30);
    Duration timeout = args.durations("timeout", "10s").get(0);
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri());
        RpcClient<String, String> fib = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
            .timeout(timeout).build()) {
      out.println(" [x] Requesting fib(" + n + ")");
      // call() does not block; the callbacks run when the reply (or the failure) arrives.
      return fib.call(Long.toString(n))
          .thenApply(reply -> {
            out.println(" [.] Got " + SafeText.of(reply, 1000));
            return 0;
          })
          .exceptionally(error -> {
            out.println(" [!] Failed: " + SafeText.of(error.getCause().getMessage(), 300));
            return 1;
          })
          .join();
    }
  }
}
