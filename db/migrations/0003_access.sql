-- 0003_access: guests, app passwords and access control entries
-- (RFC 3744) on resources.

ALTER TABLE users ADD COLUMN kind text NOT NULL DEFAULT 'user'
    CHECK (kind IN ('user', 'guest'));
ALTER TABLE users ADD COLUMN expires_at timestamptz;

-- Per-device passwords: long random secrets, stored as SHA-256.
CREATE TABLE app_passwords (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id),
    label      text NOT NULL,
    sha256     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used  timestamptz,
    revoked_at timestamptz
);
CREATE INDEX app_passwords_user ON app_passwords (user_id);

-- Access control entries on a resource, inherited by what is below it.
-- principal_kind 'user' names users.id, 'space' the members of spaces.id.
-- privileges is the bitmask of dav/dav.h (DAV_PRIV_*).
CREATE TABLE aces (
    id             bigserial PRIMARY KEY,
    space_id       bigint NOT NULL REFERENCES spaces(id),
    resource_id    bigint NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    principal_kind text NOT NULL CHECK (principal_kind IN ('user', 'space')),
    principal_id   bigint NOT NULL,
    is_grant       boolean NOT NULL,
    privileges     integer NOT NULL CHECK (privileges > 0),
    position       integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aces_resource ON aces (space_id, resource_id);
CREATE INDEX aces_principal ON aces (principal_kind, principal_id);
