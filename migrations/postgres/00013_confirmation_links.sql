-- +goose Up
-- SPEC §2: which requests get a one-time confirmation link, per org.
ALTER TABLE orgs ADD COLUMN email_confirmation TEXT NOT NULL DEFAULT 'unverified'
    CHECK (email_confirmation IN ('off', 'unverified', 'always'));

-- The items of a request that its confirmation link may unlock.
ALTER TABLE request_items ADD COLUMN confirm BOOLEAN NOT NULL DEFAULT FALSE;

-- One link per request message, written with the decision: only the
-- SHA-256 of its token (256 random bits) is kept. used_at is set once, by
-- the one transaction that applies it.
CREATE TABLE confirmations (
    id          BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    used_from   TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE confirmations;
ALTER TABLE request_items DROP COLUMN confirm;
ALTER TABLE orgs DROP COLUMN email_confirmation;
