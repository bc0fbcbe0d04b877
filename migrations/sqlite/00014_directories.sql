-- +goose Up
-- SPEC §2: the directory holding an org's users; builtin is unlockd's own
-- users table, any other name one of the configuration's directories.
ALTER TABLE orgs ADD COLUMN directory TEXT NOT NULL DEFAULT 'builtin';

-- SPEC §5: an item decided for a remote directory is 'applying' until the
-- directory answers. SQLite cannot change a CHECK constraint, so the
-- table is rebuilt (nothing references it) with the new state and:
--   directory        the directory the unlock is applied in
--   lock_*           the lock the lookup returned, which Directory.Unlock
--                    must find unchanged (lock_mark: the directory's own
--                    record of it, e.g. pwdAccountLockedTime)
--   apply_for        decision (the request's own unlock) or approval (a
--                    reviewer approved a queued item)
--   apply_since      when the item became applying (limits.directory_apply_max_age)
--   apply_due_at     when the next call is due, or the worker's claim runs out
--   apply_claimed_by the worker holding the claim (NULL: nobody), as outbox.claimed_by
--   apply_tries      calls that failed temporarily; apply_error the last cause
--   apply_calls      unlock calls begun: a call whose answer was never
--                    recorded (a crash, a timeout) may have lifted the lock,
--                    so a later "not locked" counts as applied
CREATE TABLE request_items_new (
    id                INTEGER PRIMARY KEY,
    decision_id       BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    org_id            BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    user_id           BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username          TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'applying', 'rejected', 'expired', 'not_locked', 'unknown_user')),
    reason            TEXT NOT NULL DEFAULT '',
    unverified_sender BOOLEAN NOT NULL DEFAULT 0,
    decided_by        TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    decided_at        DATETIME,
    confirm           BOOLEAN NOT NULL DEFAULT 0,
    directory         TEXT NOT NULL DEFAULT '',
    lock_reason       TEXT NOT NULL DEFAULT '',
    lock_at           DATETIME,
    lock_expires_at   DATETIME,
    lock_mark         TEXT NOT NULL DEFAULT '',
    apply_for         TEXT NOT NULL DEFAULT '',
    apply_since       DATETIME,
    apply_due_at      DATETIME,
    apply_claimed_by  TEXT,
    apply_tries       INTEGER NOT NULL DEFAULT 0,
    apply_calls       INTEGER NOT NULL DEFAULT 0,
    apply_error       TEXT NOT NULL DEFAULT ''
);
INSERT INTO request_items_new (id, decision_id, org_id, user_id, username, state, reason, unverified_sender,
    decided_by, note, decided_at, confirm)
SELECT id, decision_id, org_id, user_id, username, state, reason, unverified_sender, decided_by, note, decided_at, confirm
FROM request_items;
DROP TABLE request_items;
ALTER TABLE request_items_new RENAME TO request_items;
CREATE INDEX request_items_decision ON request_items (decision_id);
CREATE INDEX request_items_org_state ON request_items (org_id, state);
CREATE INDEX request_items_decided_by ON request_items (decided_by, decided_at);
CREATE INDEX request_items_pending ON request_items (id) WHERE state = 'pending';
CREATE INDEX request_items_applied ON request_items (org_id, decided_by, decided_at) WHERE state = 'applied';
CREATE INDEX request_items_user ON request_items (user_id);
CREATE INDEX request_items_applying ON request_items (apply_due_at) WHERE state = 'applying';

-- +goose Down
DROP INDEX request_items_applying;
ALTER TABLE request_items DROP COLUMN apply_error;
ALTER TABLE request_items DROP COLUMN apply_calls;
ALTER TABLE request_items DROP COLUMN apply_tries;
ALTER TABLE request_items DROP COLUMN apply_claimed_by;
ALTER TABLE request_items DROP COLUMN apply_due_at;
ALTER TABLE request_items DROP COLUMN apply_since;
ALTER TABLE request_items DROP COLUMN apply_for;
ALTER TABLE request_items DROP COLUMN lock_mark;
ALTER TABLE request_items DROP COLUMN lock_expires_at;
ALTER TABLE request_items DROP COLUMN lock_at;
ALTER TABLE request_items DROP COLUMN lock_reason;
ALTER TABLE request_items DROP COLUMN directory;
ALTER TABLE orgs DROP COLUMN directory;
