package io.rabbitkit.spring;

import io.rabbitkit.console.DeadLetterConsole;
import io.rabbitkit.console.DeadLetterConsole.Caller;
import io.rabbitkit.console.DeadLetterConsole.Request;
import io.rabbitkit.console.DeadLetterConsole.Response;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Serves the dead-letter console under the actuator's base path. With Spring Security on the class
 * path every request needs an authenticated user, and replay and purge need {@code role}; without
 * it the console is read-only. Spring Security's CSRF token, when the request carries one, is handed
 * to the page for its actions.
 */
final class DeadLetterConsoleServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  private final transient DeadLetterConsole console;
  private final String role;
  private final boolean security;

  DeadLetterConsoleServlet(DeadLetterConsole console, String role, boolean security) {
    this.console = console;
    this.role = role;
    this.security = security;
  }

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    String path = req.getPathInfo();
    if (path == null || path.isEmpty()) { // the page's relative links need the trailing slash
      String query = req.getQueryString();
      resp.sendRedirect(req.getRequestURI() + "/" + (query == null ? "" : "?" + query));
      return;
    }
    Caller caller;
    if (!security) {
      caller = new Caller("anonymous", false);
    } else if (req.getUserPrincipal() == null) {
      send(resp,
          new Response(401, "application/json", "{\"error\":\"sign in first\"}".getBytes(StandardCharsets.UTF_8)));
      return;
    } else {
      caller = new Caller(req.getUserPrincipal().getName(), req.isUserInRole(role), csrf(req));
    }
    Map<String, String> query = new LinkedHashMap<>();
    req.getParameterMap().forEach((k, v) -> query.put(k, v.length == 0 ? "" : v[0]));
    byte[] body = req.getMethod().equals("POST") ? req.getInputStream().readNBytes(1 << 20) : new byte[0];
    send(resp, console.handle(new Request(req.getMethod(), path, query, body, caller)));
  }

  private static void send(HttpServletResponse resp, Response r) throws IOException {
    DeadLetterConsole.SECURITY_HEADERS.forEach(resp::setHeader);
    resp.setStatus(r.status());
    resp.setContentType(r.contentType());
    resp.setContentLength(r.body().length);
    resp.getOutputStream().write(r.body());
  }

  /** Spring Security's CSRF token (request attribute {@code _csrf}), read without depending on it. */
  private static Map<String, String> csrf(HttpServletRequest req) {
    Object token = req.getAttribute("_csrf");
    if (token == null) {
      return Map.of();
    }
    try {
      String header = (String) token.getClass().getMethod("getHeaderName").invoke(token);
      String value = (String) token.getClass().getMethod("getToken").invoke(token);
      return header == null || value == null ? Map.of() : Map.of(header, value);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return Map.of();
    }
  }
}
