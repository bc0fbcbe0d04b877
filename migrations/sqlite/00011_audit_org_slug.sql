-- +goose Up
-- The slug of a deleted org: its audit entries stay (their org_id is set
-- to NULL by the foreign key) and are still found by the slug they had.
-- Empty for every entry whose org exists, or that concerns none.
ALTER TABLE audit ADD COLUMN org_slug TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_org_slug ON audit (org_slug, id) WHERE org_slug <> '';

-- +goose Down
DROP INDEX audit_org_slug;
ALTER TABLE audit DROP COLUMN org_slug;
