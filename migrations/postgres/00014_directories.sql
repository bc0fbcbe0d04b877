-- +goose Up
-- SPEC §2: the directory holding an org's users; builtin is unlockd's own
-- users table, any other name one of the configuration's directories.
ALTER TABLE orgs ADD COLUMN directory TEXT NOT NULL DEFAULT 'builtin';

-- SPEC §5: an item decided for a remote directory is 'applying' until the
-- directory answers (the columns are described in the SQLite migration).
ALTER TABLE request_items DROP CONSTRAINT request_items_state_check;
ALTER TABLE request_items ADD CONSTRAINT request_items_state_check
    CHECK (state IN ('pending', 'applied', 'applying', 'rejected', 'expired', 'not_locked', 'unknown_user'));
ALTER TABLE request_items
    ADD COLUMN directory        TEXT NOT NULL DEFAULT '',
    ADD COLUMN lock_reason      TEXT NOT NULL DEFAULT '',
    ADD COLUMN lock_at          TIMESTAMPTZ,
    ADD COLUMN lock_expires_at  TIMESTAMPTZ,
    ADD COLUMN lock_mark        TEXT NOT NULL DEFAULT '',
    ADD COLUMN apply_for        TEXT NOT NULL DEFAULT '',
    ADD COLUMN apply_since      TIMESTAMPTZ,
    ADD COLUMN apply_due_at     TIMESTAMPTZ,
    ADD COLUMN apply_claimed_by TEXT,
    ADD COLUMN apply_tries      INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN apply_calls      INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN apply_error      TEXT NOT NULL DEFAULT '';
CREATE INDEX request_items_applying ON request_items (apply_due_at) WHERE state = 'applying';

-- +goose Down
DROP INDEX request_items_applying;
ALTER TABLE request_items
    DROP COLUMN apply_error, DROP COLUMN apply_calls, DROP COLUMN apply_tries, DROP COLUMN apply_claimed_by, DROP COLUMN apply_due_at,
    DROP COLUMN apply_since, DROP COLUMN apply_for, DROP COLUMN lock_mark, DROP COLUMN lock_expires_at,
    DROP COLUMN lock_at, DROP COLUMN lock_reason, DROP COLUMN directory;
ALTER TABLE request_items DROP CONSTRAINT request_items_state_check;
ALTER TABLE request_items ADD CONSTRAINT request_items_state_check
    CHECK (state IN ('pending', 'applied', 'rejected', 'expired', 'not_locked', 'unknown_user'));
ALTER TABLE orgs DROP COLUMN directory;
