-- +goose Up
-- Which worker holds a pending row's claim (NULL: nobody). A claim lasts
-- until next_attempt_at, a few seconds ahead, and its worker renews it
-- while it works; so a crashed worker's mail is due again within seconds,
-- and a worker can hand back exactly the claims that are its own.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_by;
