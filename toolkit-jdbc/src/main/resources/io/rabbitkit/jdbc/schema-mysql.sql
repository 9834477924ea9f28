-- rabbitkit's transactional outbox and inbox (MySQL 8.0+, MariaDB 10.6+). ${schema} is replaced by
-- the schema name given to Outbox.in / Inbox.in (a database here); every statement is idempotent.
-- Binary collation: message ids and keys compare case-sensitively, as on PostgreSQL.

CREATE DATABASE IF NOT EXISTS ${schema};

-- One row per message written in a business transaction and not yet confirmed by the broker.
CREATE TABLE IF NOT EXISTS ${schema}.outbox (
  id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,  -- insertion order
  message_id   VARCHAR(255) NOT NULL,
  exchange     VARCHAR(255) NOT NULL,
  routing_key  VARCHAR(255) NOT NULL,
  ordering_key VARCHAR(255) NULL,
  content_type VARCHAR(255) NOT NULL,
  headers      LONGTEXT     NULL,        -- JSON object of the message's headers, or null
  properties   LONGTEXT     NULL,        -- correlation_id, reply_to, expiration_ms, priority, type, app_id
  body         LONGBLOB     NOT NULL,
  created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  available_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),  -- not before: the back-off
  attempts     INT          NOT NULL DEFAULT 0,
  last_error   TEXT         NULL,
  parked_at    TIMESTAMP(6) NULL DEFAULT NULL,
  KEY outbox_pending (parked_at, id),
  KEY outbox_ordering (ordering_key, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per message a consumer has handled and committed.
CREATE TABLE IF NOT EXISTS ${schema}.inbox (
  consumer    VARCHAR(255) NOT NULL,
  message_id  VARCHAR(255) NOT NULL,
  received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (consumer, message_id),
  KEY inbox_received (received_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per stream consumer name: the offset of the last event it finished.
CREATE TABLE IF NOT EXISTS ${schema}.stream_offsets (
  stream      VARCHAR(255) NOT NULL,
  consumer    VARCHAR(255) NOT NULL,
  last_offset BIGINT       NOT NULL,
  updated_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (stream, consumer)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
