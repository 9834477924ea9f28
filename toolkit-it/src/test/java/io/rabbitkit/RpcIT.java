package io.rabbitkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rabbitkit.PublishException.MessageReturnedException;
import io.rabbitkit.ToolkitException.ResourceClosedException;
import io.rabbitkit.ToolkitException.RpcRemoteException;
import io.rabbitkit.ToolkitException.RpcTimeoutException;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@RabbitTest
class RpcIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  record Square(int n) {
  }

  record Squared(int n, long square) {
  }

  @Test
  void aThousandConcurrentCallsAreEachAnsweredWithTheirOwnReply(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("squares");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (RpcServer server = rabbit.rpcServerBuilder(Square.class, Squared.class).queue(queue).concurrency(4)
        .handler(req -> new Squared(req.n(), (long) req.n() * req.n())).build();
        RpcClient<Square, Squared> client = rabbit.rpcClientBuilder(Square.class, Squared.class).routingKey(queue)
            .build()) {
      List<CompletableFuture<Squared>> calls = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        calls.add(client.call(new Square(i)));
      }
      for (int i = 0; i < 1000; i++) {
        assertEquals(new Squared(i, (long) i * i), calls.get(i).get(30, TimeUnit.SECONDS));
      }
      assertEquals(0, client.outstanding());
      Await.until(Duration.ofSeconds(10), () -> server.stats().processed() == 1000);
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void aCallbackMayWaitForAnotherCallOfTheSameClientEvenWhenTheCallsAreJoinedWithAllOf(RabbitToolkit rabbit,
      TestNames names) throws Exception {
    // Replies arrive on one dispatch thread per client: a callback run there and blocking on the
    // next reply would stall every reply until the inner call timed out.
    String queue = names.queue("nested");
    try (RpcServer server = rabbit.rpcServerBuilder(Square.class, Squared.class).queue(queue)
        .handler(req -> new Squared(req.n(), (long) req.n() * req.n())).build();
        RpcClient<Square, Squared> client = rabbit.rpcClientBuilder(Square.class, Squared.class).routingKey(queue)
            .timeout(Duration.ofSeconds(20)).build()) {
      CompletableFuture<Long> chained = client.call(new Square(2))
          .thenApply(r -> r.square() + client.call(new Square(3)).join().square());
      CompletableFuture<Square> first = client.call(new Square(4)).thenApply(r -> new Square((int) r.square()));
      CompletableFuture<Long> joined = CompletableFuture.allOf(client.call(new Square(5)))
          .thenApply(ignored -> client.call(new Square(6)).join().square());
      long start = System.nanoTime();
      assertEquals(4 + 9, chained.get(10, TimeUnit.SECONDS));
      assertEquals(36, joined.get(10, TimeUnit.SECONDS));
      assertEquals(new Square(16), first.get(10, TimeUnit.SECONDS));
      assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 5, "no call waited for a timeout");
    }
  }

  @Test
  void aServerDeclaresItsRequestQueueWhenNobodyHas(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("undeclared");
    try (RpcServer server = rabbit.rpcServerBuilder(Square.class, Squared.class).queue(queue)
        .handler(req -> new Squared(req.n(), (long) req.n() * req.n())).build();
        RpcClient<Square, Squared> client = rabbit.rpcClientBuilder(Square.class, Squared.class).routingKey(queue)
            .build()) {
      assertEquals(new Squared(7, 49), client.call(new Square(7)).get(10, TimeUnit.SECONDS));
    }
    assertTrue(rabbit.queueInfo(queue).isPresent());
  }

  @Test
  void aCallWithoutAReplyTimesOutInAboutTheConfiguredTime(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("silent");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
        .timeout(Duration.ofMillis(400)).build()) {
      long start = System.nanoTime();
      Throwable e = Await.failure(client.call("anyone?"), WAIT);
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      RpcTimeoutException timeout = assertInstanceOf(RpcTimeoutException.class, e);
      assertEquals(queue, timeout.routingKey());
      assertEquals(Duration.ofMillis(400), timeout.timeout());
      assertTrue(timeout.getMessage().contains(timeout.correlationId()), timeout.getMessage());
      assertTrue(took >= 390 && took < 3000, "timed out after " + took + " ms");
      assertEquals(0, client.outstanding());
    }
    // The request carried the timeout as its expiration: nobody processes it after the caller gave up.
    Await.until(Duration.ofSeconds(5), () -> rabbit.queueInfo(queue).orElseThrow().messageCount() == 0);
  }

  @Test
  void aServerErrorArrivesAsTheTypedExceptionLongBeforeTheTimeout(RabbitToolkit rabbit, TestNames names)
      throws Exception {
    String queue = names.queue("fails");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (RpcServer server = rabbit.rpcServerBuilder(Square.class, Squared.class).queue(queue).handler(req -> {
      throw new IllegalArgumentException("no square for " + req.n());
    }).build();
        RpcClient<Square, Squared> client = rabbit.rpcClientBuilder(Square.class, Squared.class).routingKey(queue)
            .timeout(Duration.ofSeconds(20)).build()) {
      long start = System.nanoTime();
      RpcRemoteException e =
          assertInstanceOf(RpcRemoteException.class, Await.failure(client.call(new Square(7)), WAIT));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 5000);
      assertEquals(IllegalArgumentException.class.getName(), e.remoteType());
      assertTrue(e.getMessage().contains("no square for 7"), e.getMessage());
      // An error reply still acknowledges the request (once the reply is confirmed).
      Await.until(Duration.ofSeconds(5), () -> server.stats().processed() == 1);
    }
    assertEquals(0, rabbit.queueInfo(queue).orElseThrow().messageCount());
  }

  @Test
  void aRequestNoQueueReceivesFailsAtOnce(RabbitToolkit rabbit, TestNames names) throws Exception {
    try (RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class)
        .routingKey(names.queue("nobody-home")).timeout(Duration.ofSeconds(20)).build()) {
      long start = System.nanoTime();
      assertInstanceOf(MessageReturnedException.class, Await.failure(client.call("hello?"), WAIT));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 5000);
    }
  }

  @Test
  void closeFailsOutstandingCalls(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("slow");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    CountDownLatch release = new CountDownLatch(1);
    try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue).handler(req -> {
      release.await(10, TimeUnit.SECONDS);
      return req;
    }).build()) {
      RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue).build();
      CompletableFuture<String> call = client.call("pending");
      Await.until(Duration.ofSeconds(5), () -> client.outstanding() == 1);
      client.close();
      assertInstanceOf(ResourceClosedException.class, Await.failure(call, WAIT));
      assertInstanceOf(ResourceClosedException.class, Await.failure(client.call("after close"), WAIT));
      release.countDown();
    }
  }

  @Test
  void callbacksChainWithoutBlockingAThread(RabbitToolkit rabbit, TestNames names) throws Exception {
    String queue = names.queue("echo");
    rabbit.declare(Topology.of(Queue.classic(queue)));
    try (RpcServer server = rabbit.rpcServerBuilder(String.class, String.class).queue(queue)
        .handler(String::toUpperCase).build();
        RpcClient<String, String> client = rabbit.rpcClientBuilder(String.class, String.class).routingKey(queue)
            .build()) {
      String result = client.call("a").thenCompose(r -> client.call(r + "b")).thenApply(r -> r + "!")
          .get(10, TimeUnit.SECONDS);
      assertEquals("AB!", result);
    }
  }
}
