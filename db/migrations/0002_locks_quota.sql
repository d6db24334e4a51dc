-- 0002_locks_quota: WebDAV locks (RFC 4918 §6, §7), per-space quotas
-- (RFC 4331) and the creator of each resource.

CREATE TABLE locks (
    token        text PRIMARY KEY,          -- urn:uuid:...
    space_id     bigint NOT NULL REFERENCES spaces(id),
    root_path    text COLLATE "C" NOT NULL, -- the lock root, in-space path
    depth        smallint NOT NULL CHECK (depth IN (0, -1)), -- -1: infinity
    exclusive    boolean NOT NULL,
    owner_xml    text,                      -- the DAV:owner element, verbatim
    principal_id bigint REFERENCES users(id),
    timeout_s    integer NOT NULL,          -- granted timeout, seconds
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX locks_root ON locks (space_id, root_path);

ALTER TABLE spaces ADD COLUMN quota_bytes bigint CHECK (quota_bytes >= 0);

ALTER TABLE resources ADD COLUMN created_by bigint REFERENCES users(id);
