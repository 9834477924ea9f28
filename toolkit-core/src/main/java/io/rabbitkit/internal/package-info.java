/**
 * Not API: rules the toolkit's own packages and modules share (public only so that they can), free
 * to change in any release. Applications must not use it.
 */
package io.rabbitkit.internal;
