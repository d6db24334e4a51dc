-- 0018_audit_seal_by_batch: the sealer chains a batch in a few statements.
--
-- parvis_audit_seal() of 0017 ran, for every row, the version 2 text as a
-- sub-query (unnest and string_agg), an INSERT of its seal and a DELETE of
-- its pending entry: three statements a row, each set up and run on its
-- own (about 31 us a row).  The text is now one expression, which the
-- planner puts in line in the statement that reads the batch; the hashes
-- are chained in a loop over its rows; the seals are written by one INSERT
-- and the pending entries removed by one DELETE (about 10 us a row).  The
-- texts, hashes and seals are the same as before, byte for byte: only the
-- way they are computed changes.

-- One field of a version 2 text: '|' then '-' for NULL, or its length in
-- characters, ':' and the value.
CREATE FUNCTION parvis_audit_field(f text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN f IS NULL THEN '|-'
                ELSE '|' || length(f)::text || ':' || f END
$$;

-- The same texts as 0017's, as one expression.  STABLE, as to_char is:
-- the planner puts a function in line only when the function claims no
-- more than its body does.
CREATE OR REPLACE FUNCTION parvis_audit_text(a audit, version smallint)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE version
        WHEN 1 THEN parvis_audit_text(a)
        WHEN 2 THEN 'v2'
            || parvis_audit_field(a.id::text)
            || parvis_audit_field(to_char(a.at AT TIME ZONE 'UTC',
                                          'YYYY-MM-DD"T"HH24:MI:SS.US'))
            || parvis_audit_field(a.principal)
            || parvis_audit_field(a.client)
            || parvis_audit_field(a.user_agent)
            || parvis_audit_field(a.action)
            || parvis_audit_field(a.space_id::text)
            || parvis_audit_field(a.path)
            || parvis_audit_field(a.resource_id::text)
            || parvis_audit_field(a.revision_id::text)
            || parvis_audit_field(a.status::text)
            || parvis_audit_field(a.detail)
    END
$$;
ALTER FUNCTION parvis_audit_text(audit) STABLE;

-- As in 0017: chain up to 'batch' committed rows, in id order, one sealer
-- at a time; returns how many.
CREATE OR REPLACE FUNCTION parvis_audit_seal(batch integer, wait boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    last bytea;
    r record;
    ids bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
    n integer;
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
    FOR r IN SELECT a.id,
                    convert_to(parvis_audit_text(a, 2::smallint), 'UTF8') AS t
               FROM audit_pending p JOIN audit a ON a.id = p.id
              ORDER BY p.id LIMIT batch LOOP
        ids := array_append(ids, r.id);
        prevs := array_append(prevs, last);
        last := sha256(last || r.t);
        hashes := array_append(hashes, last);
    END LOOP;
    n := cardinality(ids);
    IF n = 0 THEN
        RETURN 0;
    END IF;
    -- The sequence is drawn after the sort, so seq follows id order.
    INSERT INTO audit_seal (seq, audit_id, prev_hash, row_hash, text_version)
    SELECT nextval('audit_seal_seq'), s.id, s.prev, s.h, 2
      FROM unnest(ids, prevs, hashes) WITH ORDINALITY AS s(id, prev, h, k)
     ORDER BY s.k;
    DELETE FROM audit_pending WHERE id = ANY (ids);
    RETURN n;
END $$;
