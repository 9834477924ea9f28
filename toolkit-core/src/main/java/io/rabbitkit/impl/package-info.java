/**
 * Not API: the toolkit's implementation, package-private but for {@link
 * io.rabbitkit.impl.ToolkitBuilder}, which {@link io.rabbitkit.RabbitToolkit#builder()} returns as a
 * {@link io.rabbitkit.RabbitToolkit.Builder}. Use the interfaces of {@code io.rabbitkit}; anything
 * here may change in any release.
 */
package io.rabbitkit.impl;
