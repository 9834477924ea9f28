-- rabbitkit's transactional outbox and inbox (PostgreSQL). ${schema} is replaced by the schema
-- name given to Outbox.in / Inbox.in; every statement is idempotent.

CREATE SCHEMA IF NOT EXISTS ${schema};

-- One row per message written in a business transaction and not yet confirmed by the broker.
-- The relay deletes a row only after the broker's confirm; a row that keeps failing is parked
-- (parked_at set, last_error says why) until it is replayed or purged.
CREATE TABLE IF NOT EXISTS ${schema}.outbox (
  id           bigserial   PRIMARY KEY,  -- insertion order; rows of one ordering key go out in this order
  message_id   text        NOT NULL,     -- the AMQP message id, the same on every re-send
  exchange     text        NOT NULL,
  routing_key  text        NOT NULL,
  ordering_key text,                     -- rows with the same key are published one after another
  content_type text        NOT NULL,
  headers      jsonb,                    -- JSON object of the message's headers, or null
  properties   jsonb,                    -- correlation_id, reply_to, expiration_ms, priority, type, app_id when set
  body         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),  -- not before: the back-off after a failed attempt
  attempts     integer     NOT NULL DEFAULT 0,
  last_error   text,
  parked_at    timestamptz               -- set once the row has failed max-attempts times
);

-- The relays claim in id order among rows not parked (a back-off row is skipped by a filter).
CREATE INDEX IF NOT EXISTS outbox_pending ON ${schema}.outbox (id) WHERE parked_at IS NULL;
-- Every row is deleted soon after it is written: vacuum after a few thousand, not after 20% of the table.
ALTER TABLE ${schema}.outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_cost_delay = 0);
CREATE INDEX IF NOT EXISTS outbox_ordering ON ${schema}.outbox (ordering_key, id) WHERE ordering_key IS NOT NULL;

-- One row per message a consumer has handled and committed: a second delivery of the same id is
-- acknowledged without running the handler. Rows older than the inbox's retention are deleted.
CREATE TABLE IF NOT EXISTS ${schema}.inbox (
  consumer    text        NOT NULL,
  message_id  text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);

CREATE INDEX IF NOT EXISTS inbox_received ON ${schema}.inbox (received_at);
ALTER TABLE ${schema}.inbox SET (autovacuum_vacuum_scale_factor = 0.05);

-- One row per stream consumer name: the offset of the last event it finished. A handler wrapped by
-- JdbcOffsetStore.transactional writes it in the transaction of its own effects (exactly once).
CREATE TABLE IF NOT EXISTS ${schema}.stream_offsets (
  stream      text        NOT NULL,
  consumer    text        NOT NULL,
  last_offset bigint      NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, consumer)
);
