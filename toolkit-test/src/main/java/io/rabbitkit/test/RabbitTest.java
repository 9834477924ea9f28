package io.rabbitkit.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class against a real RabbitMQ broker. Test methods (and {@code @BeforeEach} methods)
 * may declare parameters of these types:
 * <ul>
 *   <li>{@link io.rabbitkit.RabbitToolkit}: connected, one per test method, closed after it;
 *   <li>{@link TestNames}: unique queue and exchange names for this test; every queue and exchange
 *       named by it and declared through the injected toolkit is deleted after the test;
 *   <li>{@link RabbitBroker}: the broker's URI, to connect other clients;
 *   <li>{@link ThrowawayBroker}: with {@link #broker()} {@link Broker#THROWAWAY} only, the node
 *       itself, for faults (close its connections, stop it, raise a memory alarm).
 * </ul>
 *
 * <pre>{@code
 * @RabbitTest
 * class OrdersIT {
 *   @Test
 *   void publishesAndConsumes(RabbitToolkit rabbit, TestNames names) {
 *     String queue = names.queue("orders");
 *     rabbit.declare(Topology.of(Queue.classic(queue)));
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>The {@link Broker#SHARED} broker is found in this order: the {@code RABBITMQ_URI} environment
 * variable or system property; a broker answering on {@code localhost:5672}; a Testcontainers
 * RabbitMQ container when Docker is available. Otherwise the test fails (never skips) with a message
 * that says how to get a broker. With {@link Broker#THROWAWAY} the class gets a broker of its own.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(RabbitExtension.class)
public @interface RabbitTest {

  /** Which broker the class's tests use. */
  Broker broker() default Broker.SHARED;

  /** Where a test class's broker comes from. */
  enum Broker {
    /** The broker every test shares, found as described above; tests use their own names on it. */
    SHARED,
    /**
     * A {@link ThrowawayBroker} of the class's own, started before its first test that needs it
     * and stopped after its last: for tests that inject faults or use fixed names.
     */
    THROWAWAY
  }
}
