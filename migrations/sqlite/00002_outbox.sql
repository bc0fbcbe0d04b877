-- +goose Up
-- Outgoing mail, written in the same transaction as the decision that
-- causes it and delivered by the outbox worker (SPEC §5).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    decision_id     BIGINT REFERENCES decisions (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reply', 'notify_admins', 'notify_staff')),
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    in_reply_to     TEXT NOT NULL DEFAULT '',
    refs            TEXT NOT NULL DEFAULT '',
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    smtp_response   TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    sent_at         DATETIME
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE outbox;
