/** Dead-letter handling as a feature: the failure headers, and inspecting, replaying and purging dead letters. */
package io.rabbitkit.deadletter;
