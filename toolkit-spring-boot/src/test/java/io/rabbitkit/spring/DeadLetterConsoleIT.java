package io.rabbitkit.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.rabbitkit.Publisher;
import io.rabbitkit.RabbitToolkit;
import io.rabbitkit.test.RabbitBroker;
import io.rabbitkit.test.RabbitTest;
import io.rabbitkit.test.TestNames;
import io.rabbitkit.topology.Queue;
import io.rabbitkit.topology.Topology;
import jakarta.servlet.http.HttpServlet;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * The console in a servlet application against the real broker (the HTTP requests are Spring's mock
 * ones): off by default; read-only without Spring Security; with it, a user to read and the role to
 * act.
 */
@RabbitTest
class DeadLetterConsoleIT {

  private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(RabbitkitAutoConfiguration.class,
          DeadLetterConsoleAutoConfiguration.class));

  @Test
  void offUnlessEnabled(RabbitBroker broker) {
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri())
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("rabbitkitDeadLetterConsole"));
  }

  @Test
  void withoutSpringSecurityItIsReadOnly(RabbitBroker broker, TestNames names) {
    String queue = names.queue("orders");
    runner.withClassLoader(new FilteredClassLoader("org.springframework.security"))
        .withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.dead-letter-console.enabled=true",
            "rabbitkit.dead-letter-console.queues=" + queue, "management.endpoints.web.base-path=/manage")
        .run(context -> {
          assertThat(context).hasNotFailed();
          ServletRegistrationBean<?> bean =
              context.getBean("rabbitkitDeadLetterConsole", ServletRegistrationBean.class);
          assertThat(bean.getUrlMappings()).containsExactly("/manage/dead-letters/*");
          HttpServlet servlet = (HttpServlet) bean.getServlet();
          deadLetter(context.getBean(RabbitToolkit.class), queue);
          MockHttpServletResponse queues = call(servlet, "GET", "/api/queues", null, null);
          assertThat(queues.getStatus()).isEqualTo(200);
          assertThat(queues.getContentAsString()).contains("\"mayAct\":false", queue + ".dlq");
          assertThat(queues.getHeader("Content-Security-Policy")).contains("script-src 'self'");
          assertThat(act(servlet, "/api/queues/" + queue + ".dlq/replay", () -> "alice", null).getStatus())
              .isEqualTo(403);
          assertThat(context.getBean(RabbitToolkit.class).deadLetters(queue).count()).isEqualTo(1);
          context.getBean(RabbitToolkit.class).deleteQueue(queue + ".dlq"); // the context's toolkit: not tracked
        });
  }

  @Test
  void withSpringSecurityReadingNeedsAUserAndActingTheRole(RabbitBroker broker, TestNames names) {
    String queue = names.queue("orders");
    runner.withPropertyValues("rabbitkit.uri=" + broker.uri(), "rabbitkit.dead-letter-console.enabled=true",
        "rabbitkit.dead-letter-console.queues=" + queue).run(context -> {
          assertThat(context).hasNotFailed();
          HttpServlet servlet = (HttpServlet) context.getBean("rabbitkitDeadLetterConsole",
              ServletRegistrationBean.class).getServlet();
          RabbitToolkit rabbit = context.getBean(RabbitToolkit.class);
          deadLetter(rabbit, queue);
          rabbit.declare(Topology.of(Queue.classic(queue)));
          String replay = "/api/queues/" + queue + ".dlq/replay";
          assertThat(call(servlet, "GET", "/api/queues", null, null).getStatus()).isEqualTo(401);
          assertThat(call(servlet, "GET", "/api/queues", () -> "bob", null).getContentAsString())
              .contains("\"user\":\"bob\"", "\"mayAct\":false");
          assertThat(act(servlet, replay, () -> "bob", null).getStatus()).isEqualTo(403);
          MockHttpServletResponse done = act(servlet, replay, () -> "alice",
              DeadLetterConsoleAutoConfiguration.DEFAULT_ROLE);
          assertThat(done.getStatus()).isEqualTo(200);
          assertThat(done.getContentAsString()).contains("\"replayed\":1");
          assertThat(rabbit.queueInfo(queue).orElseThrow().messageCount()).isEqualTo(1);
          rabbit.deleteQueue(queue); // the context's toolkit: not tracked
          rabbit.deleteQueue(queue + ".dlq");
        });
  }

  private static void deadLetter(RabbitToolkit rabbit, String queue) {
    rabbit.declare(Topology.of(Queue.classic(queue + ".dlq")));
    try (Publisher<String> p = rabbit.publisherBuilder(String.class).routingKey(queue + ".dlq").build()) {
      p.publish("dead").join();
    }
  }

  /** Replays or purges the first group, as the page would after reading the groups. */
  private static MockHttpServletResponse act(HttpServlet servlet, String path, Principal user, String role)
      throws Exception {
    String dlq = path.substring("/api/queues/".length(), path.lastIndexOf('/'));
    String groups = call(servlet, "GET", "/api/queues/" + dlq + "/groups", user, null, null).getContentAsString();
    String group = groups.replaceAll("(?s).*?\"id\":\"([0-9a-f]+)\".*", "$1");
    return call(servlet, "POST", path, user, role, "{\"confirmed\":true,\"group\":\"" + group + "\"}");
  }

  private static MockHttpServletResponse call(HttpServlet servlet, String method, String path, Principal user,
      String role) throws Exception {
    return call(servlet, method, path, user, role, null);
  }

  private static MockHttpServletResponse call(HttpServlet servlet, String method, String path, Principal user,
      String role, String body) throws Exception {
    MockHttpServletRequest request = new MockHttpServletRequest(method, "/actuator/dead-letters" + path);
    request.setPathInfo(path);
    request.setUserPrincipal(user);
    if (role != null) {
      request.addUserRole(role);
    }
    if (body != null) {
      request.setContent(body.getBytes(StandardCharsets.UTF_8));
    }
    MockHttpServletResponse response = new MockHttpServletResponse();
    servlet.service(request, response);
    return response;
  }
}
