-- +goose Up
-- Messages set aside after a temporary failure (a DKIM key lookup that timed
-- out): the mailbox checkpoint goes past them, so they cannot hold up later
-- mail, and they are tried again from here until a cap decides them.
CREATE TABLE deferrals (
    mailbox      TEXT NOT NULL,
    uidvalidity  BIGINT NOT NULL,
    uid          BIGINT NOT NULL,
    tries        INTEGER NOT NULL,
    first_try_at TIMESTAMPTZ NOT NULL,
    next_try_at  TIMESTAMPTZ NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (mailbox, uidvalidity, uid)
);
CREATE INDEX deferrals_due ON deferrals (mailbox, next_try_at);

-- +goose Down
DROP TABLE deferrals;
