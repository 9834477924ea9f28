package io.rabbitkit.spring;

import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.console.DeadLetterConsole;
import jakarta.servlet.http.HttpServlet;
import java.util.List;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * The dead-letter console (toolkit-console), off until {@code rabbitkit.dead-letter-console.enabled=true},
 * served at {@code <management.endpoints.web.base-path>/dead-letters/} (by default {@code
 * /actuator/dead-letters/}) of a servlet web application. It lists the dead-letter queues of the
 * toolkit's consumers and those named in {@code rabbitkit.dead-letter-console.queues}.
 *
 * <p>With Spring Security on the class path, each request needs an authenticated user, and replay
 * and purge need the role {@code rabbitkit.dead-letter-console.role} (default {@value
 * #DEFAULT_ROLE}, that is the authority {@code ROLE_RABBITKIT_DEAD_LETTERS}); without Spring
 * Security the console is read-only. It is served on the application's port, not on a separate
 * {@code management.server.port}.
 */
@AutoConfiguration(after = RabbitkitAutoConfiguration.class)
@ConditionalOnClass({DeadLetterConsole.class, HttpServlet.class, ServletRegistrationBean.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(prefix = "rabbitkit.dead-letter-console", name = "enabled", havingValue = "true")
@ConditionalOnBean(RabbitToolkit.class)
@EnableConfigurationProperties(DeadLetterConsoleAutoConfiguration.ConsoleProperties.class)
public final class DeadLetterConsoleAutoConfiguration {

  /** The role that may replay and purge when Spring Security is present. */
  public static final String DEFAULT_ROLE = "RABBITKIT_DEAD_LETTERS";

  /**
   * Settings under {@code rabbitkit.dead-letter-console}.
   *
   * @param enabled serve the console (false by default)
   * @param queues work queues whose dead letters ({@code <queue>.dlq}) it lists besides the
   *     consumers' own
   * @param readOnly refuse every replay and purge, whoever asks
   * @param role the role that may replay and purge, with Spring Security
   * @param replayRate the most letters replayed per second
   */
  @ConfigurationProperties("rabbitkit.dead-letter-console")
  public record ConsoleProperties(boolean enabled, @DefaultValue List<String> queues, boolean readOnly,
      @DefaultValue(DEFAULT_ROLE) String role, @DefaultValue("500") int replayRate) {
  }

  @Bean
  ServletRegistrationBean<HttpServlet> rabbitkitDeadLetterConsole(RabbitToolkit rabbit, ConsoleProperties settings,
      Environment environment, ApplicationContext context) {
    DeadLetterConsole.Builder console = DeadLetterConsole.builder(rabbit).readOnly(settings.readOnly())
        .replayRate(settings.replayRate());
    settings.queues().forEach(console::queue);
    boolean security = ClassUtils.isPresent("org.springframework.security.core.Authentication",
        context.getClassLoader());
    String base = environment.getProperty("management.endpoints.web.base-path", "/actuator");
    ServletRegistrationBean<HttpServlet> bean = new ServletRegistrationBean<>(
        new DeadLetterConsoleServlet(console.build(), settings.role(), security), path(base) + "/dead-letters/*");
    bean.setName("rabbitkitDeadLetterConsole");
    return bean;
  }

  private static String path(String base) {
    String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    return trimmed.isEmpty() || trimmed.startsWith("/") ? trimmed : "/" + trimmed;
  }
}
