-- +goose Up
-- SPEC §3.5: unverified requests are counted on their own, per sender
-- address, with their own hourly limit.
ALTER TABLE orgs ADD COLUMN max_unverified_per_hour INTEGER NOT NULL DEFAULT 5
    CHECK (max_unverified_per_hour >= 0);

-- When staff and admins were last told about an unverified request from an
-- address, the last decision that notice covered, and since when more have
-- waited for the next combined notice. The row is also what decisions from
-- one address lock, so that concurrent ones cannot race past a limit.
CREATE TABLE sender_notices (
    sender          TEXT PRIMARY KEY,
    notified_at     DATETIME,
    noticed_through BIGINT NOT NULL DEFAULT 0,
    pending_since   DATETIME
);
CREATE INDEX sender_notices_pending ON sender_notices (pending_since) WHERE pending_since IS NOT NULL;

-- The hourly counts read only the rows they count, and at most the limit
-- of them (a flood of ten thousand must not cost ten thousand per message).
CREATE INDEX decisions_unverified ON decisions (sender, decided_at) WHERE NOT authenticated;
CREATE INDEX decisions_not_authorised ON decisions (sender, decided_at) WHERE authenticated AND verdict = 'rejected';
CREATE INDEX request_items_applied ON request_items (org_id, decided_by, decided_at) WHERE state = 'applied';

-- +goose Down
DROP INDEX request_items_applied;
DROP INDEX decisions_not_authorised;
DROP INDEX decisions_unverified;
DROP TABLE sender_notices;
ALTER TABLE orgs DROP COLUMN max_unverified_per_hour;
