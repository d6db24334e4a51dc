-- 0017_audit_text_fields: the text hashed into the audit chain tells its
-- fields apart.
--
-- parvis_audit_text(a) joins the fields with '|', unescaped, and writes
-- NULL as '': a '|' inside a field (a User-Agent is the client's to
-- choose) let a row be rewritten with its fields shifted across the
-- separators, or a NULL turned into '', without changing its hash.  Rows
-- sealed from now on hash their text version 2: 'v2', then each field as
-- '|' followed by '-' for NULL or by its length in characters, ':' and its
-- value, which no two different rows share and no version 1 text (it
-- begins with the row's id) equals.  Each seal records the version it
-- hashed; those written before keep version 1, the default, and verify as
-- they were sealed.  The rows chained at insertion (before 0008) are
-- version 1 too.

ALTER TABLE audit_seal
    ADD COLUMN text_version smallint NOT NULL DEFAULT 1
    CHECK (text_version IN (1, 2));

-- The text of a row in the given version; NULL for an unknown version.
CREATE FUNCTION parvis_audit_text(a audit, version smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE version
        WHEN 1 THEN parvis_audit_text(a)
        WHEN 2 THEN 'v2' || (
            SELECT string_agg('|' || CASE WHEN f IS NULL THEN '-'
                                     ELSE length(f) || ':' || f END,
                              '' ORDER BY n)
            FROM unnest(ARRAY[
                a.id::text,
                to_char(a.at AT TIME ZONE 'UTC',
                        'YYYY-MM-DD"T"HH24:MI:SS.US'),
                a.principal, a.client, a.user_agent, a.action,
                a.space_id::text, a.path, a.resource_id::text,
                a.revision_id::text, a.status::text, a.detail])
                WITH ORDINALITY AS t(f, n))
    END
$$;

-- As in 0008, sealing with text version 2.
CREATE OR REPLACE FUNCTION parvis_audit_seal(batch integer, wait boolean)
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
        h := sha256(last || convert_to(parvis_audit_text(r, 2::smallint),
                                       'UTF8'));
        INSERT INTO audit_seal (seq, audit_id, prev_hash, row_hash,
                                text_version)
        VALUES (nextval('audit_seal_seq'), r.id, last, h, 2);
        DELETE FROM audit_pending WHERE id = r.id;
        last := h;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
