-- +goose Up
-- The daily retention sweep (limits.retention, mail_retention,
-- audit_retention) deletes the oldest rows in batches; these indexes let
-- each batch find them without a full scan.
CREATE INDEX decisions_decided_at ON decisions (decided_at);
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX outbox_sent_body ON outbox (sent_at) WHERE status = 'sent' AND text_body <> '';
CREATE INDEX outbox_dead_created ON outbox (created_at) WHERE status = 'dead';
CREATE INDEX audit_at ON audit (at);
-- Deleting a decision, user or contact sets the rows that name it to
-- NULL (or deletes them); without an index on the naming column, each
-- deleted row would scan the whole table that names it.
CREATE INDEX outbox_decision ON outbox (decision_id);
CREATE INDEX request_items_user ON request_items (user_id);
CREATE INDEX decisions_contact ON decisions (contact_id);

-- +goose Down
DROP INDEX decisions_contact;
DROP INDEX request_items_user;
DROP INDEX outbox_decision;
DROP INDEX audit_at;
DROP INDEX outbox_dead_created;
DROP INDEX outbox_sent_body;
DROP INDEX outbox_sent_at;
DROP INDEX decisions_decided_at;
