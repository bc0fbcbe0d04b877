-- +goose Up
-- The passing DKIM signatures of every decided message, keyed by the
-- SHA-256 of their decoded b= value: a message carrying a signature seen
-- before, in any mailbox, is a replay and is not decided again (SPEC §3.2).
CREATE TABLE signature_keys (
    sig_key     TEXT PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE
);
CREATE INDEX signature_keys_decision ON signature_keys (decision_id);

-- +goose Down
DROP TABLE signature_keys;
