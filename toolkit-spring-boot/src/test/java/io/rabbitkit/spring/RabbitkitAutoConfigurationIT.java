package io.rabbitkit.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.rabbitkit.MessageConsumer;
import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.micrometer.RabbitkitMetrics;
import io.rabbitkit.test.Await;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.env.EnvironmentEndpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The auto-configuration against the real broker, one condition or property at a time. */
@RabbitTest
class RabbitkitAutoConfigurationIT {

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(RabbitkitAutoConfiguration.class,
          RabbitkitHealthAutoConfiguration.class));

  @Test
  void aUriIsEnoughForAConnectedToolkitItsDefaultsConsumersAndHealth(RabbitBroker broker) {
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.connection-name=boot-test").run(context -> {
      assertThat(context).hasNotFailed().hasSingleBean(RabbitToolkit.class).hasSingleBean(RabbitkitDefaults.class)
          .hasSingleBean(RabbitkitConsumers.class).hasSingleBean(RabbitkitHealthIndicator.class)
          .doesNotHaveBean(RabbitkitMetrics.class);
      RabbitToolkit rabbit = context.getBean(RabbitToolkit.class);
      assertThat(rabbit.isConnected()).isTrue();
      assertThat(rabbit.health().connections()).extracting(c -> c.name())
          .containsExactlyInAnyOrder("boot-test/consumer", "boot-test/publisher");
      assertThat(context.getBean(RabbitkitHealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
    });
  }

  @Test
  void withoutRabbitkitSettingsSpringRabbitmqPropertiesAreUsed(RabbitBroker broker) {
    URI uri = URI.create(broker.uri());
    String[] user = uri.getUserInfo().split(":", 2);
    runner.withPropertyValues("spring.rabbitmq.host=" + uri.getHost(), "spring.rabbitmq.port=" + uri.getPort(),
        "spring.rabbitmq.username=" + user[0], "spring.rabbitmq.password=" + user[1],
        "spring.application.name=fallback-app").run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(RabbitToolkit.class).health().connections()).extracting(c -> c.name())
              .contains("fallback-app/consumer");
        });
    // and rabbitkit.* wins over spring.rabbitmq.*
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "spring.rabbitmq.port=1")
        .run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void everyBeanBacksOffForTheApplicationsOwnAndCustomizersAndInterceptorsAreApplied(RabbitBroker broker) {
    AtomicInteger customized = new AtomicInteger();
    RabbitToolkit own = broker.connect();
    try {
      runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
          .withBean(RabbitToolkit.class, () -> own, d -> d.setDestroyMethodName(""))
          .withBean("rabbitkitHealthIndicator", String.class, () -> "not a health indicator")
          .withBean(RabbitToolkitCustomizer.class, () -> b -> customized.incrementAndGet())
          .run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(RabbitkitHealthIndicator.class);
            assertThat(context.getBean(RabbitToolkit.class)).isSameAs(own);
            assertThat(context.getBean(RabbitkitDefaults.class).toolkit()).isSameAs(own);
          });
      assertThat(customized).hasValue(0); // the auto-configured toolkit was never built
    } finally {
      own.close();
    }
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean(RabbitToolkitCustomizer.class, () -> b -> customized.incrementAndGet())
        .run(context -> assertThat(customized).hasValue(1));
  }

  @Test
  void aCredentialsProviderBeanReplacesTheConfiguredUserAndPassword(RabbitBroker broker) {
    String[] user = URI.create(broker.uri()).getUserInfo().split(":", 2);
    AtomicInteger asked = new AtomicInteger();
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.password=wrong")
        .withBean(com.rabbitmq.client.impl.CredentialsProvider.class,
            () -> new com.rabbitmq.client.impl.CredentialsProvider() {
              @Override
              public String getUsername() {
                asked.incrementAndGet();
                return user[0];
              }

              @Override
              public String getPassword() {
                return user[1];
              }
            })
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(asked.get()).isGreaterThanOrEqualTo(2);
        });
  }

  @Test
  void withAnObservationRegistryTheToolkitIsObserved(RabbitBroker broker) {
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean(io.micrometer.observation.ObservationRegistry.class,
            io.micrometer.observation.ObservationRegistry::create)
        .run(context -> assertThat(context).hasNotFailed()
            .hasSingleBean(io.rabbitkit.micrometer.RabbitkitObservations.class));
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .run(context -> assertThat(context).doesNotHaveBean(io.rabbitkit.micrometer.RabbitkitObservations.class));
  }

  @Test
  void withoutActuatorOnTheClassPathThereIsNoHealthIndicator(RabbitBroker broker) {
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withClassLoader(new FilteredClassLoader(org.springframework.boot.health.contributor.HealthIndicator.class))
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(RabbitkitHealthIndicator.class));
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "management.health.rabbitkit.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(RabbitkitHealthIndicator.class));
  }

  @Test
  void topologyBeansAreDeclaredAndConsumerBeansRunWithTheConfiguredDefaults(RabbitBroker broker, TestNames names) {
    String queue = names.queue("boot-orders");
    List<String> handled = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.consumer.prefetch=7",
        "rabbitkit.consumer.concurrency=2", "rabbitkit.consumer.drain-timeout=3s",
        "rabbitkit.publisher.max-in-flight=16", "rabbitkit.publisher.confirm-timeout=4s")
        .withBean(Topology.class, () -> Topology.builder().queue(Queue.classic(queue)).build())
        .withBean(RabbitkitConsumer.class, () -> RabbitkitConsumer.of(queue, String.class, d -> handled.add(d.body())))
        .run(context -> {
          assertThat(context).hasNotFailed();
          RabbitkitProperties properties = context.getBean(RabbitkitProperties.class);
          assertThat(properties.consumer()).isEqualTo(new RabbitkitProperties.Consumer(7, 2, Duration.ofSeconds(3)));
          assertThat(properties.publisher()).isEqualTo(new RabbitkitProperties.Publisher(16, Duration.ofSeconds(4)));
          RabbitToolkit rabbit = context.getBean(RabbitToolkit.class);
          assertThat(rabbit.queueInfo(queue)).isPresent();
          MessageConsumer consumer = context.getBean(RabbitkitConsumers.class).consumer(queue).orElseThrow();
          assertThat(consumer.isRunning()).isTrue();
          try (Publisher<String> publisher = context.getBean(RabbitkitDefaults.class).publisherBuilder(String.class)
              .routingKey(queue).build()) {
            for (int i = 0; i < 20; i++) {
              publisher.publish("m" + i).get(5, TimeUnit.SECONDS);
            }
          }
          Await.until(Duration.ofSeconds(10), "20 handled", () -> handled.size() == 20);
          assertThat(rabbit.queueInfo(queue).orElseThrow().consumerCount()).as("concurrency 2").isEqualTo(2);
        });
  }

  @Test
  void healthIsDownWithTheReasonWhileAConsumerIsNotSubscribedAndUpWhenItIsBack(RabbitBroker broker,
      TestNames names) {
    String queue = names.queue("health");
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean(Topology.class, () -> Topology.builder().queue(Queue.classic(queue)).build())
        .withBean(RabbitkitConsumer.class, () -> RabbitkitConsumer.of(queue, String.class, d -> {
        }))
        .run(context -> {
          RabbitToolkit rabbit = context.getBean(RabbitToolkit.class);
          RabbitkitHealthIndicator health = context.getBean(RabbitkitHealthIndicator.class);
          assertThat(health.health().getStatus()).isEqualTo(Status.UP);
          rabbit.deleteQueue(queue); // the broker cancels the consumer
          Await.until(Duration.ofSeconds(10), "DOWN", () -> health.health().getStatus().equals(Status.DOWN));
          assertThat(health.health().getDetails().get("problems").toString()).contains(queue, "not subscribed");
          rabbit.declare(Topology.builder().queue(Queue.classic(queue)).build());
          Await.until(Duration.ofSeconds(15), "UP again", () -> health.health().getStatus().equals(Status.UP));
          @SuppressWarnings("unchecked")
          Map<String, Object> consumers = (Map<String, Object>) health.health().getDetails().get("consumers");
          assertThat(consumers).containsKey(queue);
        });
  }

  @Test
  void withAMeterRegistryTheToolkitsMetricsAreRecordedInIt(RabbitBroker broker, TestNames names) {
    String queue = names.queue("metered");
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean(Topology.class, () -> Topology.builder().queue(Queue.classic(queue)).build())
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(RabbitkitMetrics.class);
          MeterRegistry meters = context.getBean(MeterRegistry.class);
          try (Publisher<String> p = context.getBean(RabbitToolkit.class).publisherBuilder(String.class)
              .routingKey(queue).build()) {
            p.publish("one").get(5, TimeUnit.SECONDS);
          }
          // The timer is recorded as the confirm completes the future: it can trail get() by a moment.
          Await.until(Duration.ofSeconds(5), "publish timed", () -> meters.find("rabbitkit.publish")
              .tag("outcome", "confirmed").timer() != null);
          assertThat(meters.get("rabbitkit.publish").tag("outcome", "confirmed").timer().count()).isEqualTo(1);
          assertThat(meters.get("rabbitkit.connection.state").tag("role", "publisher").gauge().value()).isEqualTo(1.0);
        });
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withClassLoader(new FilteredClassLoader("io.rabbitkit.micrometer"))
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("rabbitkitMetrics"));
  }

  @Test
  void dispatchThreadsPutsTheConsumersOnTheSharedPool(RabbitBroker broker, TestNames names) {
    String queue = names.queue("shared");
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.dispatch-threads=1").run(context -> {
      assertThat(context).hasNotFailed();
      RabbitToolkit rabbit = context.getBean(RabbitToolkit.class);
      rabbit.declare(Topology.of(Queue.classic(queue)));
      List<String> threads = new CopyOnWriteArrayList<>();
      try (MessageConsumer c = rabbit.consumerBuilder(String.class).queue(queue)
          .handler(d -> threads.add(Thread.currentThread().getName())).build();
          Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue).build()) {
        p.publish("one").get(5, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(5), "handled", () -> !threads.isEmpty());
      } finally {
        rabbit.deleteQueue(queue);
      }
      assertThat(threads).containsExactly("rabbitkit-consumer-1");
    });
  }

  @Test
  void aBadValueFailsTheStartNamingThePropertyAndLeavesNoContext(RabbitBroker broker) {
    for (String[] bad : List.of(new String[]{"rabbitkit.consumer.prefetch=0", "rabbitkit.consumer.prefetch"},
        new String[]{"rabbitkit.heartbeat=soon", "rabbitkit.heartbeat"},
        new String[]{"rabbitkit.dispatch-threads=0", "rabbitkit.dispatch-threads"},
        new String[]{"rabbitkit.publisher.confirm-timeout=-1s", "rabbitkit.publisher.confirm-timeout"},
        new String[]{"rabbitkit.ssl.trust-store=/no/such/ca.pem", "trustStore"},
        new String[]{"rabbitkit.uri=http://localhost:15672", "amqp"},
        new String[]{"rabbitkit.ssl.enabled=true", "TLS"},
        new String[]{"rabbitkit.ssl.bundle=no-such-bundle", "no-such-bundle"},
        new String[]{"rabbitkit.ssl.sasl-external=true", "saslExternal"})) {
      runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), bad[0]).run(context -> {
        assertThat(context).hasFailed();
        assertThat(messages(context.getStartupFailure())).as(bad[0]).contains(bad[1]);
      });
    }
    runner.withPropertyValues("rabbitkit.addresses=127.0.0.1:1").run(context -> {
      assertThat(context).hasFailed();
      assertThat(messages(context.getStartupFailure())).contains("127.0.0.1:1");
    });
  }

  @Test
  void thePasswordAppearsNeitherInTheEnvironmentEndpointNorInLogsNorInErrors(RabbitBroker broker) {
    String secret = "Sup3r-s3cret-pw";
    URI uri = URI.create(broker.uri());
    String withSecret = "amqp://nobody:" + secret + "@" + uri.getHost() + ":" + uri.getPort() + "/";
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    java.io.PrintStream out = System.out;
    System.setErr(new java.io.PrintStream(captured, true));
    System.setOut(new java.io.PrintStream(captured, true));
    try {
      runner.withPropertyValues("rabbitkit.uri=" + withSecret).run(context -> {
        assertThat(context).hasFailed();
        assertThat(messages(context.getStartupFailure())).contains("nobody").doesNotContain(secret);
      });
      runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.password=" + secret,
          "rabbitkit.ssl.key-store-password=" + secret)
          .withBean(RabbitToolkitCustomizer.class, () -> b -> b.password(URI.create(broker.uri()).getUserInfo()
              .split(":", 2)[1]))
          .run(context -> {
            assertThat(context).hasNotFailed();
            List<SanitizingFunction> functions =
                context.getBeanProvider(SanitizingFunction.class).orderedStream().toList();
            EnvironmentEndpoint endpoint = new EnvironmentEndpoint(context.getEnvironment(), functions, Show.ALWAYS);
            String shown = String.valueOf(endpoint.environmentEntry("rabbitkit.password").getProperty().getValue())
                + endpoint.environmentEntry("rabbitkit.ssl.key-store-password").getProperty().getValue();
            assertThat(shown).doesNotContain(secret).contains("******");
            assertThat(context.getBean(RabbitkitProperties.class).toString()).doesNotContain(secret);
          });
      runner.withPropertyValues("rabbitkit.uri=" + withSecret.replace("nobody", "guest"))
          .withBean(RabbitToolkitCustomizer.class, () -> b -> b.uri(broker.uri())).run(context -> {
            assertThat(context).hasNotFailed();
            List<SanitizingFunction> functions =
                context.getBeanProvider(SanitizingFunction.class).orderedStream().toList();
            Object shown = new EnvironmentEndpoint(context.getEnvironment(), functions, Show.ALWAYS)
                .environmentEntry("rabbitkit.uri").getProperty().getValue();
            assertThat(String.valueOf(shown)).doesNotContain(secret).contains("guest:******@");
            assertThat(context.getBean(RabbitkitProperties.class).toString()).doesNotContain(secret);
          });
    } finally {
      System.setErr(err);
      System.setOut(out);
    }
    assertThat(captured.toString()).doesNotContain(secret);
    // an unencoded '/' in the password is masked too (the env endpoint's pattern used to miss such a URI)
    assertThat(Secrets.mask("amqp://u:pa/ss@h:5672/v,amqps://w:x@h2/", "******"))
        .isEqualTo("amqp://u:******@h:5672/v,amqps://w:******@h2/");
  }

  @Test
  void noPartOfAPasswordShowsInEnvOrConfigpropsWhereverItIsSetAndWhateverItHolds(RabbitBroker broker) {
    for (String secret : List.of("p@ss", "pa/ss", "p?ss", "p#ss", "a@b/c?d#e")) {
      String uri = "amqp://app:" + secret + "@localhost:5791/";
      String brokerPassword = URI.create(broker.uri()).getUserInfo().split(":", 2)[1];
      runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
          // the toolkit connects to the test's broker, whatever the sources below say
          .withBean(RabbitToolkitCustomizer.class, () -> b -> b.uri(broker.uri()).password(brokerPassword))
          .withInitializer(c -> {
            var sources = c.getEnvironment().getPropertySources();
            sources.addLast(new org.springframework.core.env.SystemEnvironmentPropertySource("systemEnvironment-test",
                Map.of("RABBITKIT_PASSWORD", secret, "SPRING_RABBITMQ_PASSWORD", secret, "RABBITKIT_URI", uri,
                    "RABBITKIT_SSL_KEYSTOREPASSWORD", secret)));
            sources.addLast(new org.springframework.core.env.MapPropertySource("systemProperties-test", Map.of(
                "sun.java.command", "app.jar --rabbitkit.uri=" + uri + " --rabbitkit.password=" + secret
                    + " -Dspring.rabbitmq.password=" + secret,
                "app.fallback-uris", "amqp://a:" + secret + "@h1:5672,amqps://b:" + secret + "@h2:5671")));
          })
          .run(context -> {
            assertThat(context).hasNotFailed();
            List<SanitizingFunction> functions =
                context.getBeanProvider(SanitizingFunction.class).orderedStream().toList();
            EnvironmentEndpoint env = new EnvironmentEndpoint(context.getEnvironment(), functions, Show.ALWAYS);
            StringBuilder shown = new StringBuilder();
            for (String key : List.of("RABBITKIT_PASSWORD", "SPRING_RABBITMQ_PASSWORD", "RABBITKIT_URI",
                "RABBITKIT_SSL_KEYSTOREPASSWORD", "sun.java.command", "app.fallback-uris")) {
              for (var source : env.environmentEntry(key).getPropertySources()) {
                if (source.getProperty() != null) {
                  shown.append(key).append('=').append(source.getProperty().getValue()).append('\n');
                }
              }
            }
            String text = shown.toString();
            assertThat(text).contains("RABBITKIT_PASSWORD=******", "app:******@localhost:5791",
                "--rabbitkit.password=******", "a:******@h1:5672,amqps://b:******@h2:5671");
            // No piece of the password: neither whole nor the tail after an '@', '/', '?' or '#'.
            for (String piece : secret.split("[@/?#]")) {
              assertThat(text).as(secret).doesNotContain(":" + secret).doesNotContain(piece + "@localhost")
                  .doesNotContain("=" + secret);
            }
            String configprops = String.valueOf(
                new org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint(functions,
                    Show.ALWAYS).configurationProperties());
            assertThat(configprops).doesNotContain(secret);
          });
    }
  }

  @Test
  void twoToolkitBeansStartAreEachClosedAndHealthCoversBoth(RabbitBroker broker) {
    List<RabbitToolkit> made = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean("ordersToolkit", RabbitToolkit.class, () -> remember(made, broker.connect()))
        .withBean("billingToolkit", RabbitToolkit.class, () -> remember(made, broker.connect()))
        .run(context -> {
          assertThat(context).hasNotFailed().doesNotHaveBean(RabbitkitDefaults.class);
          var health = context.getBean(RabbitkitHealthIndicator.class).health(true);
          assertThat(health.getStatus()).isEqualTo(Status.UP);
          assertThat(String.valueOf(health.getDetails().get("toolkits"))).contains("ordersToolkit", "billingToolkit");
          made.get(0).close(); // one of them goes away: the component is down and says which
          var down = context.getBean(RabbitkitHealthIndicator.class).health(true);
          assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        });
    assertThat(made).hasSize(2);
    assertThat(made).noneMatch(RabbitToolkit::isConnected); // each closed with the context
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .withBean("ordersToolkit", RabbitToolkit.class, broker::connect)
        .withBean("billingToolkit", RabbitToolkit.class, broker::connect)
        .withBean(RabbitkitConsumer.class, () -> RabbitkitConsumer.of("anywhere", String.class, d -> {
        }))
        .run(context -> {
          assertThat(context).hasFailed();
          assertThat(messages(context.getStartupFailure())).contains("@Primary");
        });
  }

  /** An application's outbox relay, on the test's own schema of the machine's PostgreSQL. */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class RelayConfiguration {
    static final String SCHEMA = "t_boot_" + Long.toHexString(System.nanoTime() & 0xffffffL);
    static com.zaxxer.hikari.HikariDataSource dataSource;

    @org.springframework.context.annotation.Bean
    io.rabbitkit.jdbc.OutboxRelay ordersRelay(RabbitToolkit rabbit) {
      return io.rabbitkit.jdbc.Outbox.in(SCHEMA).relayBuilder(dataSource, rabbit).start();
    }
  }

  @Test
  void outboxRelayBeansGetAHealthComponentAndMeters(RabbitBroker broker) throws Exception {
    com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
    config.setJdbcUrl(System.getenv().getOrDefault("RABBITKIT_JDBC_URL",
        "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"));
    config.setMaximumPoolSize(4);
    try (com.zaxxer.hikari.HikariDataSource dataSource = new com.zaxxer.hikari.HikariDataSource(config)) {
      RelayConfiguration.dataSource = dataSource;
      io.rabbitkit.jdbc.Outbox.in(RelayConfiguration.SCHEMA).createSchema(dataSource);
      List<io.rabbitkit.jdbc.OutboxRelay> relays = new CopyOnWriteArrayList<>();
      try {
        runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
            .withUserConfiguration(RelayConfiguration.class)
            .run(context -> {
              assertThat(context).hasNotFailed().hasSingleBean(OutboxRelayHealthIndicator.class);
              relays.add(context.getBean(io.rabbitkit.jdbc.OutboxRelay.class));
              var health = context.getBean(OutboxRelayHealthIndicator.class).health(true);
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(String.valueOf(health.getDetails().get("ordersRelay"))).contains("relaying");
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              assertThat(registry.get("rabbitkit.outbox.relay.up").tag("relay", "ordersRelay").gauge().value())
                  .isEqualTo(1.0);
              assertThat(registry.get("rabbitkit.outbox.relayed").tag("relay", "ordersRelay").functionCounter()
                  .count()).isEqualTo(0.0);
            });
        assertThat(relays).hasSize(1);
        assertThat(relays.get(0).status().up()).isFalse(); // closed with the context
      } finally {
        try (var c = dataSource.getConnection(); var st = c.createStatement()) {
          st.execute("DROP SCHEMA IF EXISTS " + RelayConfiguration.SCHEMA + " CASCADE");
        }
      }
    }
  }

  private static RabbitToolkit remember(List<RabbitToolkit> made, RabbitToolkit toolkit) {
    made.add(toolkit);
    return toolkit;
  }

  private static String messages(Throwable failure) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      sb.append(t).append('\n');
    }
    return sb.toString();
  }
}
