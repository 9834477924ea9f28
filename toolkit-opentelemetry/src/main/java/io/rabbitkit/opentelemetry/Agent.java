package io.rabbitkit.opentelemetry;

import java.util.Locale;

/** Whether the OpenTelemetry Java agent runs in this JVM with its RabbitMQ instrumentation on. */
final class Agent {

  /** A class the agent puts on the bootstrap class path, where no application puts classes. */
  private static final String AGENT_CLASS = "io.opentelemetry.javaagent.bootstrap.AgentInitializer";

  private Agent() {
  }

  static boolean rabbitmqInstrumentationOn() {
    return present() && enabled("otel.instrumentation.rabbitmq.enabled",
        enabled("otel.instrumentation.common.default-enabled", true));
  }

  static boolean present() {
    try {
      Class.forName(AGENT_CLASS, false, null);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** The agent's own reading of a setting: the system property, else the environment variable. */
  private static boolean enabled(String property, boolean otherwise) {
    String value = System.getProperty(property);
    if (value == null) {
      value = System.getenv(property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
    }
    return value == null || value.isBlank() ? otherwise : Boolean.parseBoolean(value.trim());
  }
}
