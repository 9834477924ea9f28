package io.rabbitkit.examples.rpc;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.RpcServer;
import io.rabbitkit.examples.Args;
import io.rabbitkit.examples.Examples;
import io.rabbitkit.examples.Tutorials;
import java.io.PrintStream;
import java.util.OptionalLong;

/**
 * Answers {@code fib(n)} requests on queue 'rpc_queue', like the RPC tutorial's server: the request
 * and reply bodies are plain numbers as text, so the tutorial's Python client works against it too.
 * A request is acknowledged only after its reply is published.
 *
 * <pre>java -jar toolkit-examples.jar rpc-server [--count N] [--concurrency 2] [--queue rpc_queue]</pre>
 */
public final class RpcServerExample {

  private RpcServerExample() {
  }

  public static int run(Args args, PrintStream out) {
    String queue = args.option("queue", "rpc_queue");
    OptionalLong count = args.count();
    int concurrency = (int) args.number("concurrency", 1);
    try (RabbitToolkit rabbit = RabbitToolkit.connect(args.uri())) {
      Tutorials.queue(rabbit, queue, false, out); // as rpc_server.py's queue_declare('rpc_queue')
      // The handler maps a request to a reply; a thrown exception goes back to the caller.
      RpcServer.Builder<String, String> builder = rabbit.rpcServerBuilder(String.class, String.class).queue(queue)
          .concurrency(concurrency)
          .handler(request -> {
            int n = Integer.parseInt(request.trim());
            out.println(" [.] fib(" + n + ")");
            return Long.toString(fib(n));
          });
      count.ifPresent(builder::stopAfter);
      try (RpcServer server = builder.build()) {
        out.println(" [x] Awaiting RPC requests");
        Examples.awaitStop(server.stopped());
      }
    }
    return 0;
  }

  static long fib(int n) {
    if (n < 0 || n > 92) {
      throw new IllegalArgumentException("fib is defined here for 0 <= n <= 92, not " + n);
    }
    long a = 0;
    long b = 1;
    for (int i = 0; i < n; i++) {
      long next = a + b;
      a = b;
      b = next;
    }
    return a;
  }
}
