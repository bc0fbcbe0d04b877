-- +goose Up
-- Web-UI sessions (SPEC §8): one row per signed-in browser, keyed by the
-- SHA-256 of the random token in its cookie, so that reading this table
-- yields no usable session. Idle and absolute expiry are enforced on lookup.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL
);
CREATE INDEX sessions_operator ON sessions (operator_id);

-- Operators' failed sign-ins count only while they follow each other
-- closely; this is when the last one happened.
ALTER TABLE operators ADD COLUMN last_failed_at DATETIME;

-- +goose Down
ALTER TABLE operators DROP COLUMN last_failed_at;
DROP TABLE sessions;
