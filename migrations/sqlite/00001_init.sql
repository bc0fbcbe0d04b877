-- +goose Up
CREATE TABLE orgs (
    id                    INTEGER PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    max_failed_logins     INTEGER NOT NULL CHECK (max_failed_logins >= 0),
    lockout_duration_s    BIGINT NOT NULL CHECK (lockout_duration_s >= 0),
    failure_window_s      BIGINT NOT NULL CHECK (failure_window_s >= 0),
    auto_unlock           BOOLEAN NOT NULL,
    max_requests_per_hour INTEGER NOT NULL CHECK (max_requests_per_hour >= 0),
    created_at            DATETIME NOT NULL
);

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX contacts_org_email ON contacts (org_id, lower(email));
CREATE INDEX contacts_email ON contacts (lower(email));

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    lock_reason     TEXT CHECK (lock_reason IN ('failed_logins', 'admin')),
    locked_at       DATETIME,
    locked_by       TEXT NOT NULL DEFAULT '',
    lock_note       TEXT NOT NULL DEFAULT '',
    lock_expires_at DATETIME,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    last_failed_at  DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (org_id, username),
    CHECK ((lock_reason IS NULL) = (locked_at IS NULL))
);
CREATE INDEX users_locked ON users (org_id, lock_reason) WHERE lock_reason IS NOT NULL;

-- One row per mailbox message: the decision SPEC §3 records exactly once.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,
    mailbox       TEXT NOT NULL,
    message_key   TEXT NOT NULL,
    message_id    TEXT NOT NULL DEFAULT '',
    uidvalidity   BIGINT NOT NULL DEFAULT 0,
    uid           BIGINT NOT NULL DEFAULT 0,
    sender        TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    verdict       TEXT NOT NULL CHECK (verdict IN ('ignored', 'rejected', 'no_username', 'accepted')),
    reason        TEXT NOT NULL DEFAULT '',
    authenticated BOOLEAN NOT NULL DEFAULT 0,
    auth_reason   TEXT NOT NULL DEFAULT '',
    contact_id    BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
    received_at   DATETIME,
    decided_at    DATETIME NOT NULL,
    UNIQUE (mailbox, message_key)
);

-- One row per requested username of an accepted decision.
CREATE TABLE request_items (
    id                INTEGER PRIMARY KEY,
    decision_id       BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    org_id            BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    user_id           BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username          TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'rejected', 'expired', 'not_locked', 'unknown_user')),
    reason            TEXT NOT NULL DEFAULT '',
    unverified_sender BOOLEAN NOT NULL DEFAULT 0,
    decided_by        TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    decided_at        DATETIME
);
CREATE INDEX request_items_decision ON request_items (decision_id);
CREATE INDEX request_items_org_state ON request_items (org_id, state);
CREATE INDEX request_items_decided_by ON request_items (decided_by, decided_at);

CREATE TABLE mailbox_checkpoints (
    mailbox     TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('staff', 'admin', 'service')),
    org_id       BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    CHECK ((role = 'staff') = (org_id IS NULL))
);

CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    org_id        BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  DATETIME,
    created_at    DATETIME NOT NULL,
    CHECK ((role = 'staff') = (org_id IS NULL))
);
CREATE UNIQUE INDEX operators_email ON operators (lower(email));

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    org_id BIGINT REFERENCES orgs (id) ON DELETE SET NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    note   TEXT NOT NULL DEFAULT '',
    at     DATETIME NOT NULL
);
CREATE INDEX audit_org_at ON audit (org_id, at);

-- +goose Down
DROP TABLE audit;
DROP TABLE operators;
DROP TABLE api_tokens;
DROP TABLE mailbox_checkpoints;
DROP TABLE request_items;
DROP TABLE decisions;
DROP TABLE users;
DROP TABLE contacts;
DROP TABLE orgs;
