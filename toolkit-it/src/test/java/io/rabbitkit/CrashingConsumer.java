package io.rabbitkit;

import java.util.concurrent.CountDownLatch;

/**
 * A consumer process for crash tests: {@code CrashingConsumer <uri> <queue> hang|halt}. On its first
 * message it prints {@code handling <message id>}, then either hangs (for the test to SIGKILL it)
 * or halts the JVM at once (a crash inside the handler). Either way the message is never acked.
 */
public final class CrashingConsumer {

  private CrashingConsumer() {
  }

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String queue = args[1];
    boolean halt = args[2].equals("halt");
    RabbitToolkit rabbit = RabbitToolkit.builder().uri(uri).connectionName("crashing-consumer").connect();
    rabbit.consumerBuilder(String.class).queue(queue).prefetch(1).handler(d -> {
      System.out.println("handling " + d.messageId().orElse("?"));
      System.out.flush();
      if (halt) {
        Runtime.getRuntime().halt(3);
      }
      new CountDownLatch(1).await();
    }).build();
    System.out.println("consuming");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
