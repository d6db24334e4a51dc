-- 0008_audit_seal: the audit chain is sealed after commit, in batches.
--
-- Until now each row was chained as it was inserted, under a lock held to
-- the end of its transaction: concurrent writers committed one at a time,
-- and PostgreSQL could not flush their commits together.  Rows are now
-- inserted unchained and listed in audit_pending; parvis_audit_seal()
-- chains the committed ones, in the order it finds them, into
-- audit_seal (seq, audit_id, prev_hash, row_hash), where row_hash =
-- SHA-256(prev_hash || the row's canonical text).  The chain is the rows
-- chained before this migration (their own prev_hash/row_hash, in id
-- order), then the seals in seq order; the first seal follows the last of
-- those rows.

CREATE SEQUENCE audit_seal_seq;
CREATE TABLE audit_seal (
    seq       bigint PRIMARY KEY,
    audit_id  bigint NOT NULL UNIQUE,
    prev_hash bytea NOT NULL,
    row_hash  bytea NOT NULL
);

-- Rows committed but not sealed yet.
CREATE TABLE audit_pending (id bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION parvis_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.id := nextval('audit_seq');
    NEW.at := clock_timestamp();
    NEW.prev_hash := '\x'::bytea;
    NEW.row_hash := '\x'::bytea;
    INSERT INTO audit_pending (id) VALUES (NEW.id);
    RETURN NEW;
END $$;

-- Chain up to 'batch' committed rows; returns how many.  One sealer at a
-- time (the lock the rows' trigger used to take); when 'wait' is false
-- and another sealer holds it, returns 0 at once.
CREATE FUNCTION parvis_audit_seal(batch integer, wait boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    last bytea;
    h bytea;
    r audit;
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_pending) THEN
        RETURN 0;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(7370726977);
    ELSIF NOT pg_try_advisory_xact_lock(7370726977) THEN
        RETURN 0;
    END IF;
    SELECT row_hash INTO last FROM audit_seal ORDER BY seq DESC LIMIT 1;
    IF last IS NULL THEN
        SELECT row_hash INTO last FROM audit WHERE row_hash <> '\x'::bytea
        ORDER BY id DESC LIMIT 1;
    END IF;
    last := coalesce(last, '\x'::bytea);
    FOR r IN SELECT a.* FROM audit_pending p JOIN audit a ON a.id = p.id
             ORDER BY p.id LIMIT batch LOOP
        h := sha256(last || convert_to(parvis_audit_text(r), 'UTF8'));
        INSERT INTO audit_seal (seq, audit_id, prev_hash, row_hash)
        VALUES (nextval('audit_seal_seq'), r.id, last, h);
        DELETE FROM audit_pending WHERE id = r.id;
        last := h;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- Seals, like rows, are never changed or removed by parvisd's role.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal FROM CURRENT_USER;
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION parvis_audit_append_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_audit_append_only();
