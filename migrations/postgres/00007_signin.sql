-- +goose Up
-- Failed operator sign-ins count per email address tried, known or not
-- (SPEC §8: an unknown email gets the same answer), keyed by the SHA-256 of
-- the normalised address so that rows have a fixed size and typos are not
-- kept in clear. Rows whose window and lock have passed are purged.
CREATE TABLE signin_failures (
    email_hash     TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    last_failed_at TIMESTAMPTZ NOT NULL,
    locked_until   TIMESTAMPTZ
);
CREATE INDEX signin_failures_last ON signin_failures (last_failed_at);

-- The counters moved to signin_failures.
ALTER TABLE operators DROP COLUMN failed_logins;
ALTER TABLE operators DROP COLUMN last_failed_at;
ALTER TABLE operators DROP COLUMN locked_until;

-- A second factor: the TOTP secret (RFC 6238, base32), empty until the
-- operator enrols, and the last time step a code was accepted for, so that
-- no code is accepted twice.
ALTER TABLE operators ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes, shown once at enrolment; only their SHA-256 is
-- kept (they are random, 80 bits each).
CREATE TABLE operator_recovery_codes (
    id          BIGSERIAL PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX operator_recovery_codes_hash ON operator_recovery_codes (operator_id, code_hash);

-- +goose Down
DROP TABLE operator_recovery_codes;
ALTER TABLE operators DROP COLUMN totp_last_step;
ALTER TABLE operators DROP COLUMN totp_secret;
ALTER TABLE operators ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE operators ADD COLUMN last_failed_at TIMESTAMPTZ;
ALTER TABLE operators ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
DROP TABLE signin_failures;
