package io.rabbitkit.spring;

import java.util.List;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.testcontainers.service.connection.ContainerConnectionDetailsFactory;
import org.springframework.boot.testcontainers.service.connection.ContainerConnectionSource;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * {@code @ServiceConnection} on a Testcontainers {@code RabbitMQContainer}: the toolkit connects
 * to the container, whatever {@code rabbitkit.*} says. Registered in {@code META-INF/spring.factories}.
 */
final class RabbitkitContainerConnectionDetailsFactory
    extends
      ContainerConnectionDetailsFactory<RabbitMQContainer, RabbitkitConnectionDetails> {

  RabbitkitContainerConnectionDetailsFactory() {
    super(ANY_CONNECTION_NAME, "io.rabbitkit.RabbitToolkit");
  }

  @Override
  protected RabbitkitConnectionDetails getContainerConnectionDetails(
      ContainerConnectionSource<RabbitMQContainer> source) {
    return new Details(source);
  }

  private static final class Details extends ContainerConnectionDetails<RabbitMQContainer>
      implements
        RabbitkitConnectionDetails {

    Details(ContainerConnectionSource<RabbitMQContainer> source) {
      super(source);
    }

    @Override
    public List<String> addresses() {
      RabbitMQContainer c = getContainer();
      return List.of(c.getHost() + ":" + (getSslBundle() != null ? c.getAmqpsPort() : c.getAmqpPort()));
    }

    @Override
    public String username() {
      return getContainer().getAdminUsername();
    }

    @Override
    public String password() {
      return getContainer().getAdminPassword();
    }

    @Override
    public String virtualHost() {
      return null;
    }

    @Override
    public SslBundle sslBundle() {
      return getSslBundle();
    }
  }
}
