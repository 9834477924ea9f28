package io.rabbitkit.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rabbitkit.RabbitToolkit;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.springframework.boot.testcontainers.service.connection.ServiceConnectionAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Service connections need Docker (a Testcontainers container, a Docker Compose service): without
 * a Docker engine these tests are skipped, never passed.
 */
class ServiceConnectionIT {

  private static void assumeDocker() {
    assumeTrue(DockerClientFactory.instance().isDockerAvailable(), "no Docker engine: service connections untested");
  }

  @Configuration(proxyBeanMethods = false)
  static class WithContainer {
    @Bean
    @ServiceConnection
    RabbitMQContainer rabbit() {
      return new RabbitMQContainer("rabbitmq:4-management");
    }
  }

  @Test
  void aServiceConnectionContainerIsWhereTheToolkitConnectsWhateverThePropertiesSay() {
    assumeDocker();
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ServiceConnectionAutoConfiguration.class,
            RabbitkitAutoConfiguration.class))
        .withUserConfiguration(WithContainer.class)
        .withPropertyValues("rabbitkit.uri=amqp://nobody:wrong@127.0.0.1:1/")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(RabbitkitConnectionDetails.class))
              .isNotInstanceOf(PropertiesConnectionDetails.class);
          RabbitMQContainer container = context.getBean(RabbitMQContainer.class);
          assertThat(context.getBean(RabbitkitConnectionDetails.class).addresses())
              .containsExactly(container.getHost() + ":" + container.getAmqpPort());
          assertThat(context.getBean(RabbitToolkit.class).isConnected()).isTrue();
        });
  }

  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration(RabbitkitAutoConfiguration.class)
  static class ComposeApp {
  }

  @Test
  void aDockerComposeRabbitmqServiceIsWhereTheToolkitConnects() {
    assumeDocker();
    Path compose = Path.of("src/test/resources/compose/rabbitmq.yml").toAbsolutePath();
    SpringApplication app = new SpringApplication(ComposeApp.class);
    app.setWebApplicationType(WebApplicationType.NONE);
    try (ConfigurableApplicationContext context = app.run("--spring.docker.compose.file=" + compose,
        "--spring.docker.compose.skip.in-tests=false", "--spring.docker.compose.lifecycle-management=start-and-stop",
        "--rabbitkit.uri=amqp://nobody:wrong@127.0.0.1:1/")) {
      RabbitkitConnectionDetails details = context.getBean(RabbitkitConnectionDetails.class);
      assertThat(details.username()).isEqualTo("kit");
      assertThat(context.getBean(RabbitToolkit.class).isConnected()).isTrue();
    }
  }
}
