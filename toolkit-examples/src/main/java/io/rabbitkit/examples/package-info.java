/** Runnable examples, one concept each; {@link io.rabbitkit.examples.Examples} dispatches by name. */
package io.rabbitkit.examples;
