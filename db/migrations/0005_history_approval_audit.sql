-- 0005_history_approval_audit: the trash, approval of documents before
-- publication, the published role, and a tamper-evident audit trail.

-- Approval state of a file (RFC-free, Parvis namespace).
ALTER TABLE resources ADD COLUMN approval_state text NOT NULL DEFAULT 'draft'
    CHECK (approval_state IN ('draft', 'submitted', 'approved', 'rejected'));
ALTER TABLE resources ADD COLUMN approval_comment text;
ALTER TABLE resources ADD COLUMN approved_rev bigint REFERENCES revisions(id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE resources ADD COLUMN approved_by bigint REFERENCES users(id);
ALTER TABLE resources ADD COLUMN approved_at timestamptz;
ALTER TABLE resources ADD COLUMN submitted_by bigint REFERENCES users(id);
ALTER TABLE revisions ADD COLUMN approved boolean NOT NULL DEFAULT false;

-- Partners who see only what was approved.
ALTER TABLE members DROP CONSTRAINT members_role_check;
ALTER TABLE members ADD CONSTRAINT members_role_check
    CHECK (role IN ('manager', 'validator', 'editor', 'reader', 'published'));

-- The trash: a deleted tree is moved under /.trash/<id> of its space; its
-- root remembers where it was, who deleted it and when.
ALTER TABLE resources ADD COLUMN trashed_from text;
ALTER TABLE resources ADD COLUMN trashed_by bigint REFERENCES users(id);
ALTER TABLE resources ADD COLUMN trashed_at timestamptz;
CREATE SEQUENCE trash_seq;

-- Retention of a space: keep everything (NULLs, the default), the last N
-- revisions of each file, or D days.  Approved revisions are never purged.
ALTER TABLE spaces ADD COLUMN keep_revisions integer CHECK (keep_revisions > 0);
ALTER TABLE spaces ADD COLUMN keep_days integer CHECK (keep_days > 0);

-- Audit trail: append only.  row_hash = SHA-256(prev_hash || the row's
-- canonical text), so that changing or removing a row breaks the chain.
CREATE SEQUENCE audit_seq;
CREATE TABLE audit (
    id          bigint PRIMARY KEY,     -- set by the chaining trigger
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    principal   text,
    client      text,
    user_agent  text,
    action      text NOT NULL,
    space_id    bigint,
    path        text,
    resource_id bigint,
    revision_id bigint,
    status      integer,
    detail      text,
    prev_hash   bytea NOT NULL,
    row_hash    bytea NOT NULL
);
CREATE INDEX audit_space_path ON audit (space_id, path);
CREATE INDEX audit_principal ON audit (principal, at);

-- The canonical text of a row, hashed into the chain.
CREATE FUNCTION parvis_audit_text(a audit) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', a.id::text,
                     to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                     coalesce(a.principal, ''), coalesce(a.client, ''),
                     coalesce(a.user_agent, ''), a.action,
                     coalesce(a.space_id::text, ''), coalesce(a.path, ''),
                     coalesce(a.resource_id::text, ''),
                     coalesce(a.revision_id::text, ''),
                     coalesce(a.status::text, ''), coalesce(a.detail, ''))
$$;

-- Rows are chained at insertion, one writer at a time (an advisory lock
-- held to the end of the inserting transaction).
CREATE FUNCTION parvis_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(7370726977);
    -- Numbered under the lock, so that id order is chain order.
    NEW.id := nextval('audit_seq');
    NEW.at := clock_timestamp();
    SELECT row_hash INTO last FROM audit ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(last, '\x'::bytea);
    NEW.row_hash := sha256(NEW.prev_hash || convert_to(parvis_audit_text(NEW), 'UTF8'));
    RETURN NEW;
END $$;

CREATE TRIGGER audit_chain BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION parvis_audit_chain();

-- parvisd's role may add rows, never change or remove them.
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM CURRENT_USER;

-- Every space has its trash folder; new spaces get it with their calendars.
CREATE OR REPLACE FUNCTION parvis_space_trash(sid bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO resources (space_id, path, parent_path, name, kind)
    VALUES (sid, '/.trash', '', '.trash', 0)
    ON CONFLICT (space_id, path) DO NOTHING
$$;
SELECT parvis_space_trash(id) FROM spaces;
