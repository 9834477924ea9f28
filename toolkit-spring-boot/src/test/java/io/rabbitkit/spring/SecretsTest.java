package io.rabbitkit.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretsTest {

  @Test
  void aUriPasswordIsMaskedToItsLastAtWhateverItHolds() {
    for (String secret : new String[]{"p@ss", "pa/ss", "p?ss", "p#ss", "a@b/c?d#e", "plain"}) {
      String masked = Secrets.mask("--rabbitkit.uri=amqp://app:" + secret + "@localhost:5791/vh --x=1", "***");
      assertThat(masked).isEqualTo("--rabbitkit.uri=amqp://app:***@localhost:5791/vh --x=1");
    }
    assertThat(Secrets.mask("amqp://u:a@h1:5672,amqps://w:b@h2/", "***"))
        .isEqualTo("amqp://u:***@h1:5672,amqps://w:***@h2/");
    assertThat(Secrets.mask("amqp://h:5672/ and amqp://user@h/", "***")).isEqualTo("amqp://h:5672/ and amqp://user@h/");
  }

  @Test
  void inlinePasswordsOfTheToolkitAreMaskedInCommandLines() {
    assertThat(Secrets.mask("app.jar --rabbitkit.password=p@ss -Dspring.rabbitmq.password=x/y --other=z", "***"))
        .isEqualTo("app.jar --rabbitkit.password=*** -Dspring.rabbitmq.password=*** --other=z");
    assertThat(Secrets.mask("--rabbitkit.ssl.key-store-password=s3", "***"))
        .isEqualTo("--rabbitkit.ssl.key-store-password=***");
  }

  @Test
  void passwordKeysAreRecognisedHoweverSpelled() {
    assertThat(Secrets.isPassword("RABBITKIT_PASSWORD", false)).isTrue();
    assertThat(Secrets.isPassword("SPRING_RABBITMQ_PASSWORD", false)).isTrue();
    assertThat(Secrets.isPassword("RABBITKIT_SSL_KEYSTOREPASSWORD", false)).isTrue();
    assertThat(Secrets.isPassword("rabbitkit.ssl.key-store-password", false)).isTrue();
    assertThat(Secrets.isPassword("keyStorePassword", true)).isTrue();
    assertThat(Secrets.isPassword("rabbitkit.username", false)).isFalse();
    assertThat(Secrets.isPassword("spring.datasource.password", false)).isFalse();
  }
}
