package io.rabbitkit.spring;

import java.util.List;
import org.springframework.boot.docker.compose.core.RunningService;
import org.springframework.boot.docker.compose.service.connection.DockerComposeConnectionDetailsFactory;
import org.springframework.boot.docker.compose.service.connection.DockerComposeConnectionSource;

/**
 * Spring Boot's Docker Compose support: a running service whose image is {@code rabbitmq} becomes
 * the toolkit's connection (port 5672; user, password and vhost from {@code RABBITMQ_DEFAULT_USER},
 * {@code RABBITMQ_DEFAULT_PASS}, {@code RABBITMQ_DEFAULT_VHOST}, guest/guest by default).
 * Registered in {@code META-INF/spring.factories}.
 */
final class RabbitkitDockerComposeConnectionDetailsFactory
    extends
      DockerComposeConnectionDetailsFactory<RabbitkitConnectionDetails> {

  RabbitkitDockerComposeConnectionDetailsFactory() {
    super("rabbitmq", "io.rabbitkit.RabbitToolkit");
  }

  @Override
  protected RabbitkitConnectionDetails getDockerComposeConnectionDetails(DockerComposeConnectionSource source) {
    return new Details(source.getRunningService());
  }

  private static final class Details extends DockerComposeConnectionDetails implements RabbitkitConnectionDetails {

    private final RunningService service;

    Details(RunningService service) {
      super(service);
      this.service = service;
    }

    @Override
    public List<String> addresses() {
      return List.of(service.host() + ":" + service.ports().get(5672));
    }

    @Override
    public String username() {
      return service.env().getOrDefault("RABBITMQ_DEFAULT_USER", "guest");
    }

    @Override
    public String password() {
      return service.env().getOrDefault("RABBITMQ_DEFAULT_PASS", "guest");
    }

    @Override
    public String virtualHost() {
      return service.env().get("RABBITMQ_DEFAULT_VHOST");
    }
  }
}
