-- +goose Up
-- A token is named by its name within its org (`unlockd token revoke
-- NAME`), so live tokens' names are unique per org (staff tokens, bound
-- to none, share one namespace). Existing duplicates keep the oldest
-- token's name; the others get " #<id>" added. A revoked token's name may
-- be used again.
UPDATE api_tokens SET name = name || ' #' || id
WHERE revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM api_tokens o
    WHERE o.revoked_at IS NULL AND o.name = api_tokens.name
      AND o.org_id IS NOT DISTINCT FROM api_tokens.org_id AND o.id < api_tokens.id
);
CREATE UNIQUE INDEX api_tokens_org_name ON api_tokens (COALESCE(org_id, 0), name) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX api_tokens_org_name;
