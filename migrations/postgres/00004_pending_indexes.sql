-- +goose Up
-- The request sweeper (every minute) and each /metrics scrape look for
-- pending requests and count dead mail; both sets stay small while the
-- tables grow, so partial indexes keep those reads off full scans.
CREATE INDEX request_items_pending ON request_items (id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';

-- +goose Down
DROP INDEX outbox_dead;
DROP INDEX request_items_pending;
