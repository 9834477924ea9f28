package io.rabbitkit.test;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.topology.Exchange;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The extension behind {@link RabbitTest}: resolves {@link RabbitToolkit}, {@link TestNames},
 * {@link RabbitBroker} and (in {@link RabbitTest.Broker#THROWAWAY} mode) {@link ThrowawayBroker}
 * parameters, cleans up after each test, and stops a class's throw-away broker after its last test.
 */
public final class RabbitExtension
    implements
      ParameterResolver,
      AfterEachCallback,
      AfterAllCallback,
      ExecutionCondition {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RabbitExtension.class);

  /** With {@link BrokerLocator#IMAGE_PROPERTY} set (-Pbroker4) and no Docker, broker tests are skipped. */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String unavailable = BrokerLocator.forcedImageUnavailable();
    if (unavailable != null) {
      return ConditionEvaluationResult.disabled(unavailable);
    }
    return ConditionEvaluationResult.enabled("a broker is available");
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == RabbitToolkit.class || type == TestNames.class || type == RabbitBroker.class
        || type == ThrowawayBroker.class && throwaway(context);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    if (type == ThrowawayBroker.class) {
      return throwawayBroker(context);
    }
    if (type == RabbitBroker.class) {
      return broker(context);
    }
    Resources resources = context.getStore(NAMESPACE).getOrComputeIfAbsent(Resources.class,
        ignored -> new Resources(context, broker(context)), Resources.class);
    return type == TestNames.class ? resources.names : resources.toolkit();
  }

  private static boolean throwaway(ExtensionContext context) {
    return context.getTestClass().map(c -> c.getAnnotation(RabbitTest.class))
        .map(a -> a.broker() == RabbitTest.Broker.THROWAWAY).orElse(false);
  }

  private static RabbitBroker broker(ExtensionContext context) {
    if (throwaway(context)) {
      return new RabbitBroker(throwawayBroker(context).uri(), "throw-away node");
    }
    try {
      return BrokerLocator.locate();
    } catch (IllegalStateException e) {
      throw new ExtensionConfigurationException(e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("could not start or reach a RabbitMQ broker: " + e.getMessage(), e);
    }
  }

  /** The class's own broker, started on first use and kept in the class's store until {@link #afterAll}. */
  private static ThrowawayBroker throwawayBroker(ExtensionContext context) {
    ExtensionContext owner = context;
    while (owner.getTestMethod().isPresent() && owner.getParent().isPresent()) {
      owner = owner.getParent().get();
    }
    return owner.getStore(NAMESPACE).getOrComputeIfAbsent(ThrowawayBroker.class, ignored -> ThrowawayBroker.start(),
        ThrowawayBroker.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close(context);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close(context);
    ThrowawayBroker own = context.getStore(NAMESPACE).remove(ThrowawayBroker.class, ThrowawayBroker.class);
    if (own != null) {
      own.close();
    }
  }

  private static void close(ExtensionContext context) {
    Resources resources = context.getStore(NAMESPACE).remove(Resources.class, Resources.class);
    if (resources != null) {
      resources.close();
    }
  }

  /** What one test (or test class, for {@code @BeforeAll} parameters) holds. */
  private static final class Resources {
    final TestNames names;
    private final RabbitBroker broker;
    private RabbitToolkit toolkit;

    Resources(ExtensionContext context, RabbitBroker broker) {
      this.broker = broker;
      String test = context.getTestClass().map(Class::getSimpleName).orElse("test")
          + context.getTestMethod().map(m -> "-" + m.getName()).orElse("");
      this.names = new TestNames(test);
    }

    synchronized RabbitToolkit toolkit() {
      if (toolkit == null) {
        toolkit = broker.toolkitBuilder().connectionName(names.prefix()).connect();
      }
      return toolkit;
    }

    /** Closes the test's toolkit (its consumers drain), then deletes the test's queues and exchanges. */
    synchronized void close() {
      Topology declared = toolkit == null ? Topology.builder().build() : toolkit.declared();
      if (toolkit != null) {
        toolkit.close();
      }
      Set<String> queues = new LinkedHashSet<>(names.queues());
      Set<String> exchanges = new LinkedHashSet<>(names.exchanges());
      List<Topology> all = new ArrayList<>(List.of(declared));
      names.tracked().forEach(t -> all.add(t.declared())); // what the test's own toolkits declared
      for (Topology t : all) {
        t.queues().stream().map(Queue::name).filter(n -> n.startsWith(names.prefix())).forEach(queues::add);
        t.exchanges().stream().map(Exchange::name).filter(n -> n.startsWith(names.prefix())).forEach(exchanges::add);
      }
      if (queues.isEmpty() && exchanges.isEmpty()) {
        return;
      }
      try (RabbitToolkit rabbit = broker.connect()) {
        queues.forEach(queue -> quietly(() -> rabbit.deleteQueue(queue), queue));
        exchanges.forEach(exchange -> quietly(() -> rabbit.deleteExchange(exchange), exchange));
      } catch (RuntimeException e) {
        LOG.warn("cleaning up after {} failed: {}", names.prefix(), e.getMessage());
      }
    }

    private static void quietly(Runnable delete, String name) {
      try {
        delete.run();
      } catch (RuntimeException e) {
        LOG.debug("could not delete {}: {}", name, e.getMessage());
      }
    }
  }
}
