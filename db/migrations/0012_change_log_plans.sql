-- 0012_change_log_plans: the change log's triggers get plans that suit
-- any number of rows.
--
-- PL/pgSQL keeps the plan of a trigger's statement for the rest of the
-- session (until DISCARD PLANS), made for the transition tables of the
-- call that planned it.  With 0004's joins, a connection whose first
-- write touched one row kept nested loops comparing every old row with
-- every new one: a MOVE of 1,000 members then spent 0.1-0.2 s in the
-- triggers instead of a few milliseconds; one that first moved a large
-- tree kept hash joins over a scan of all resources, paid by every
-- one-row write after it.  Planning on every call (EXECUTE) would cost
-- each one-row write about 0.17 ms.
--
-- So the statements are written so that their plans are linear whatever
-- they were made for: rows are matched against the other transition
-- table with NOT IN, run as a hashed subplan, and the parent collection
-- is looked up through its index, one probe per row (the LIMIT keeps the
-- lookup from becoming a join that could scan all resources).  A hashed
-- subplan is chosen only when the planner expects the table to fit in
-- hash memory (work_mem times hash_mem_multiplier); a statement of
-- thousands of rows planned first would otherwise get a subplan searched
-- row by row.  parvis_log_room() raises hash_mem_multiplier for the rest
-- of such a statement's transaction: the hash table is built whatever
-- the setting, only the plan's choice depends on it.  The triggers log
-- the same changes as before.

-- Before planning for a statement of 'n' rows: room for its hash tables.
CREATE FUNCTION parvis_log_room(n bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF n > 1000 THEN
        PERFORM set_config('hash_mem_multiplier', '1000', true);
    END IF;
END $$;

-- The collection at 'path' in space 'space', found through UNIQUE
-- (space_id, path): one probe for each row it is joined to (LATERAL),
-- inlined into the statement that calls it.
CREATE FUNCTION parvis_log_parent(space bigint, path text)
RETURNS TABLE (id bigint) LANGUAGE sql STABLE AS $$
    SELECT r.id FROM resources r
    WHERE r.space_id = $1 AND r.path = $2 LIMIT 1
$$;

CREATE OR REPLACE FUNCTION parvis_log_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM new_rows));
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, p.id, n.name
    FROM new_rows n
    CROSS JOIN LATERAL parvis_log_parent(n.space_id, n.parent_path) p
    WHERE (n.space_id, n.parent_path) NOT IN
          (SELECT space_id, path FROM new_rows);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION parvis_log_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    INSERT INTO changes (space_id, collection_id, name, deleted)
    SELECT o.space_id, p.id, o.name, true
    FROM old_rows o
    CROSS JOIN LATERAL parvis_log_parent(o.space_id, o.parent_path) p
    WHERE (o.space_id, o.parent_path) NOT IN
          (SELECT space_id, path FROM old_rows);
    RETURN NULL;
END $$;

-- A row moved when its id is not at the same place on the other side; a
-- row left in place changed when its id does not come with the same
-- revision and modification time.
CREATE OR REPLACE FUNCTION parvis_log_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    -- Moved away: gone from the old parent.
    INSERT INTO changes (space_id, collection_id, name, deleted)
    SELECT o.space_id, p.id, o.name, true
    FROM old_rows o
    CROSS JOIN LATERAL parvis_log_parent(o.space_id, o.parent_path) p
    WHERE (o.id, o.space_id, o.path) NOT IN
          (SELECT id, space_id, path FROM new_rows)
      AND (o.space_id, o.parent_path) NOT IN
          (SELECT space_id, path FROM old_rows);
    -- Moved in, or modified in place.
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, p.id, n.name
    FROM new_rows n
    CROSS JOIN LATERAL parvis_log_parent(n.space_id, n.parent_path) p
    WHERE CASE WHEN (n.id, n.space_id, n.path) NOT IN
                    (SELECT id, space_id, path FROM old_rows)
               THEN (n.space_id, n.parent_path) NOT IN
                    (SELECT space_id, path FROM new_rows)
               ELSE (n.id, coalesce(n.current_rev, 0), n.modified_at) NOT IN
                    (SELECT id, coalesce(current_rev, 0), modified_at
                     FROM old_rows) END;
    RETURN NULL;
END $$;

-- A change of dead properties modifies its resource in its collection:
-- each resource once, found by its id, its collection by its path.
CREATE OR REPLACE FUNCTION parvis_log_props() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (space_id, collection_id, name)
        SELECT r.space_id, p.id, r.name
        FROM (SELECT DISTINCT resource_id FROM old_rows) x
        CROSS JOIN LATERAL (SELECT space_id, parent_path, name FROM resources
                            WHERE id = x.resource_id LIMIT 1) r
        CROSS JOIN LATERAL parvis_log_parent(r.space_id, r.parent_path) p;
    ELSE
        INSERT INTO changes (space_id, collection_id, name)
        SELECT r.space_id, p.id, r.name
        FROM (SELECT DISTINCT resource_id FROM new_rows) x
        CROSS JOIN LATERAL (SELECT space_id, parent_path, name FROM resources
                            WHERE id = x.resource_id LIMIT 1) r
        CROSS JOIN LATERAL parvis_log_parent(r.space_id, r.parent_path) p;
    END IF;
    RETURN NULL;
END $$;
