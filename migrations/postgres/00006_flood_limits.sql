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
    notified_at     TIMESTAMPTZ,
    noticed_through BIGINT NOT NULL DEFAULT 0,
    pending_since   TIMESTAMPTZ
);
CREATE INDEX sender_notices_pending ON sender_notices (pending_since) WHERE pending_since IS NOT NULL;

CREATE INDEX decisions_sender ON decisions (sender, decided_at);

-- +goose Down
DROP INDEX decisions_sender;
DROP TABLE sender_notices;
ALTER TABLE orgs DROP COLUMN max_unverified_per_hour;
