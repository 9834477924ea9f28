/**
 * Spring Boot 4 auto-configuration for rabbitkit. Add {@code toolkit-spring-boot-starter}; set
 * {@code rabbitkit.uri} (or keep {@code spring.rabbitmq.*}); inject {@link
 * io.rabbitkit.RabbitToolkit} or {@link io.rabbitkit.spring.RabbitkitDefaults}; declare {@link
 * io.rabbitkit.topology.Topology} and {@link io.rabbitkit.spring.RabbitkitConsumer} beans.
 */
package io.rabbitkit.spring;
