package io.rabbitkit.spring;

import java.util.Arrays;
import java.util.List;
import org.springframework.core.env.Environment;

/**
 * The connection {@code rabbitkit.*} describes. With no {@code rabbitkit.uri}, each part it leaves
 * out falls back to the matching {@code spring.rabbitmq.*} property, so an application moving from
 * spring-rabbit keeps its settings.
 */
final class PropertiesConnectionDetails implements RabbitkitConnectionDetails {

  private final RabbitkitProperties properties;
  private final Environment environment;

  PropertiesConnectionDetails(RabbitkitProperties properties, Environment environment) {
    this.properties = properties;
    this.environment = environment;
  }

  /** The URI the other parts override, or null. */
  String uri() {
    return properties.uri();
  }

  @Override
  public List<String> addresses() {
    if (!properties.addresses().isEmpty() || properties.uri() != null) {
      return properties.addresses();
    }
    String addresses = environment.getProperty("spring.rabbitmq.addresses");
    if (addresses != null && !addresses.isBlank()) {
      return Arrays.stream(addresses.split(",")).map(String::trim).map(PropertiesConnectionDetails::hostPort).toList();
    }
    String host = environment.getProperty("spring.rabbitmq.host");
    String port = environment.getProperty("spring.rabbitmq.port");
    if (host == null && port == null) {
      return List.of();
    }
    return List.of((host == null ? "localhost" : host) + (port == null ? "" : ":" + port));
  }

  /** spring.rabbitmq.addresses may hold {@code amqp://user:pass@host:port}: keep host and port. */
  private static String hostPort(String address) {
    int scheme = address.indexOf("://");
    String rest = scheme < 0 ? address : address.substring(scheme + 3);
    return rest.substring(rest.lastIndexOf('@') + 1);
  }

  @Override
  public String username() {
    return orFallback(properties.username(), "spring.rabbitmq.username");
  }

  @Override
  public String password() {
    return orFallback(properties.password(), "spring.rabbitmq.password");
  }

  @Override
  public String virtualHost() {
    return orFallback(properties.virtualHost(), "spring.rabbitmq.virtual-host");
  }

  private String orFallback(String value, String fallback) {
    return value != null || properties.uri() != null ? value : environment.getProperty(fallback);
  }

  @Override
  public String toString() {
    return "PropertiesConnectionDetails[addresses=" + addresses() + ", username=" + username() + "]";
  }
}
