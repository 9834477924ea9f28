package io.rabbitkit.examples.events;

/**
 * One event of stream 'events', as JSON: {@code {"eventId":"e-<run>-<i>","kind":"order.placed","at":"2026-12-05T14:00:00Z"}}.
 * The event id is also the message id.
 */
public record Event(String eventId, String kind, String at) {
}
