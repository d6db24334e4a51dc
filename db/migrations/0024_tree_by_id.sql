-- 0024_tree_by_id: a resource names its parent by id (decision 0034).
--
-- Until now each row held its full path and its parent's path, so a MOVE
-- or a DELETE (a move to the trash) of a folder rewrote one row per member.
-- Now a row holds its parent's id and its own name: moving or trashing a
-- folder rewrites that folder's row alone, whatever it holds.  A path is
-- found from the root down, one index probe per level
-- (parvis_resolve), and a row's path from the row up (parvis_path).

ALTER TABLE resources ADD COLUMN parent_id bigint;

ALTER TABLE resources DISABLE TRIGGER USER;
-- Rows whose parent is missing (left by crossed MOVEs before decision
-- 0020) go to their space's trash, each as an entry that remembers where
-- it was: kept, and restorable, rather than lost from sight.  As a DELETE
-- does (trash_mark), each entry takes the access control entries of the
-- folders still above where it was, so that what they hid stays hidden.
INSERT INTO resources (space_id, path, parent_path, name, kind)
SELECT DISTINCT o.space_id, '/.trash', '', '.trash', 0 FROM resources o
 WHERE o.parent_path IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources p
       WHERE p.space_id = o.space_id AND p.path = o.parent_path)
ON CONFLICT (space_id, path) DO NOTHING;
INSERT INTO aces (space_id, resource_id, principal_kind, principal_id,
                  is_grant, privileges, position, from_trash)
SELECT o.space_id, o.id, a.principal_kind, a.principal_id, a.is_grant,
       a.privileges, a.position, true
  FROM resources o
  JOIN resources r ON r.space_id = o.space_id AND r.path <> ''
       AND left(o.path, length(r.path) + 1) = r.path || '/'
  JOIN aces a ON a.resource_id = r.id
 WHERE o.parent_path IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources p
       WHERE p.space_id = o.space_id AND p.path = o.parent_path);
UPDATE resources o SET parent_path = '/.trash',
       name = nextval('trash_seq')::text, trashed_from = o.path,
       trashed_at = now()
 WHERE o.parent_path IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources p
       WHERE p.space_id = o.space_id AND p.path = o.parent_path);
UPDATE resources c SET parent_id = p.id FROM resources p
 WHERE p.space_id = c.space_id AND p.path = c.parent_path;
ALTER TABLE resources ENABLE TRIGGER USER;
-- A calendar object is indexed under the calendar that holds it: an
-- object that the above took out of its calendar leaves the index.
DELETE FROM calendar_objects o USING resources r
 WHERE r.id = o.resource_id AND r.parent_id IS DISTINCT FROM o.calendar_id;

-- The functions the old columns appear in, replaced below.
DROP FUNCTION parvis_log_parent(bigint, text);

ALTER TABLE resources DROP COLUMN path, DROP COLUMN parent_path;
-- A folder's members, by name: the children's listing, each step of a
-- path's resolution, and the uniqueness of a name in its folder.
ALTER TABLE resources ADD CONSTRAINT resources_member UNIQUE (parent_id, name);
-- One root per space.
CREATE UNIQUE INDEX resources_root ON resources (space_id)
    WHERE parent_id IS NULL;
-- A folder's sub-folders, and its members holding an approved revision:
-- the walks below visit folders, not every file.
CREATE INDEX resources_folders ON resources (parent_id) WHERE kind = 0;
CREATE INDEX resources_approved_members ON resources (parent_id)
    WHERE approved_rev IS NOT NULL;

-- The resource at path p ('' for the root, '/a/b' below it) of space sid,
-- or NULL.  PL/pgSQL: its statements are planned once per session.
CREATE FUNCTION parvis_resolve(sid bigint, p text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cur bigint;
    part text;
BEGIN
    IF p IS NULL OR (p <> '' AND (left(p, 1) <> '/' OR right(p, 1) = '/'))
    THEN
        RETURN NULL;
    END IF;
    SELECT r.id INTO cur FROM resources r
     WHERE r.space_id = sid AND r.parent_id IS NULL;
    IF p = '' OR cur IS NULL THEN
        RETURN cur;
    END IF;
    FOREACH part IN ARRAY string_to_array(substr(p, 2), '/') LOOP
        SELECT r.id INTO cur FROM resources r
         WHERE r.parent_id = cur AND r.name = part;
        IF cur IS NULL THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN cur;
END $$;

-- The path of resource rid in its space, or NULL.
CREATE FUNCTION parvis_path(rid bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p text := '';
    cur bigint := rid;
    nm text;
    up bigint;
BEGIN
    LOOP
        SELECT r.name, r.parent_id INTO nm, up FROM resources r
         WHERE r.id = cur;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        EXIT WHEN up IS NULL;
        p := '/' || nm || p;
        cur := up;
    END LOOP;
    RETURN p;
END $$;

-- Whether resource rid is anc or below it: from rid up, one probe a level.
-- A move refuses to put a folder below itself (a cycle, cut off from the
-- root) even if the request's own checks were outrun.
CREATE FUNCTION parvis_within(rid bigint, anc bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cur bigint := rid;
BEGIN
    WHILE cur IS NOT NULL LOOP
        IF cur = anc THEN
            RETURN true;
        END IF;
        SELECT r.parent_id INTO cur FROM resources r WHERE r.id = cur;
    END LOOP;
    RETURN false;
END $$;

-- The bytes of the current revisions in the tree at rid (the quota's count
-- of the trash): one level at a time, each level's folders through
-- resources_folders.
CREATE FUNCTION parvis_tree_bytes(rid bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint;
    level bigint[] := ARRAY[rid];
BEGIN
    SELECT coalesce(r.cur_size, 0) INTO total FROM resources r
     WHERE r.id = rid;
    WHILE cardinality(level) > 0 LOOP
        total := total + (SELECT coalesce(sum(r.cur_size), 0)
                            FROM resources r WHERE r.parent_id = ANY (level)
                             AND r.kind = 1);
        level := ARRAY(SELECT r.id FROM resources r
                        WHERE r.parent_id = ANY (level) AND r.kind = 0);
    END LOOP;
    RETURN coalesce(total, 0);
END $$;

-- Whether a file below folder rid has an approved revision (the published
-- view shows such folders): one level at a time, stopping at the first.
CREATE FUNCTION parvis_holds_approved(rid bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    level bigint[] := ARRAY[rid];
BEGIN
    WHILE cardinality(level) > 0 LOOP
        IF EXISTS (SELECT 1 FROM resources r WHERE r.parent_id = ANY (level)
                      AND r.approved_rev IS NOT NULL) THEN
            RETURN true;
        END IF;
        level := ARRAY(SELECT r.id FROM resources r
                        WHERE r.parent_id = ANY (level) AND r.kind = 0);
    END LOOP;
    RETURN false;
END $$;

-- The tree at rid: its resources' rows, rid's first.
-- Each level's members through UNIQUE (parent_id, name), one probe per
-- folder: the planner, which cannot tell the size of a recursion, would
-- otherwise hash each level against a scan of every resource of every
-- space (3 ms for one file among 20,000 rows instead of 0.4).
CREATE FUNCTION parvis_subtree(rid bigint)
RETURNS SETOF resources LANGUAGE sql STABLE
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
    WITH RECURSIVE t AS (
        SELECT r.* FROM resources r WHERE r.id = rid
        UNION ALL
        SELECT c.* FROM t JOIN resources c ON c.parent_id = t.id)
    SELECT * FROM t
$$;

-- The change log: a row's collection is its parent.  Rows whose parent
-- is in the same statement's rows are logged through that parent alone.
CREATE OR REPLACE FUNCTION parvis_log_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM new_rows));
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, n.parent_id, n.name
    FROM new_rows n
    WHERE n.parent_id IS NOT NULL
      AND n.parent_id NOT IN (SELECT id FROM new_rows);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION parvis_log_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    INSERT INTO changes (space_id, collection_id, name, deleted, guarded)
    SELECT o.space_id, o.parent_id, o.name, true,
           coalesce(current_setting('parvis.guarded', true), '') = 'true'
           OR EXISTS (SELECT 1 FROM aces a WHERE a.space_id = o.space_id
                      AND a.resource_id = o.id)
    FROM old_rows o
    WHERE o.parent_id IS NOT NULL
      AND o.parent_id NOT IN (SELECT id FROM old_rows);
    PERFORM set_config('parvis.guarded', '', true);
    RETURN NULL;
END $$;

-- A row moved when its id does not come with the same parent and name on
-- the other side (the rows below a tree moved into another space change
-- space alone: their collections went with them); a row left in place
-- changed when its id does not come with the same revision and
-- modification time.
CREATE OR REPLACE FUNCTION parvis_log_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    -- Moved away: gone from the old parent, its entries with it.
    INSERT INTO changes (space_id, collection_id, name, deleted, guarded)
    SELECT o.space_id, o.parent_id, o.name, true,
           EXISTS (SELECT 1 FROM aces a WHERE a.space_id = o.space_id
                   AND a.resource_id = o.id)
    FROM old_rows o
    WHERE o.parent_id IS NOT NULL
      AND (o.id, o.parent_id, o.name) NOT IN
          (SELECT id, parent_id, name FROM new_rows
            WHERE parent_id IS NOT NULL)
      AND o.parent_id NOT IN (SELECT id FROM old_rows);
    -- Moved in, or modified in place.
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, n.parent_id, n.name
    FROM new_rows n
    WHERE n.parent_id IS NOT NULL
      AND CASE WHEN (n.id, n.parent_id, n.name) NOT IN
                    (SELECT id, parent_id, name FROM old_rows
                      WHERE parent_id IS NOT NULL)
               THEN n.parent_id NOT IN (SELECT id FROM new_rows)
               ELSE (n.id, coalesce(n.current_rev, 0), n.modified_at) NOT IN
                    (SELECT id, coalesce(current_rev, 0), modified_at
                     FROM old_rows) END;
    RETURN NULL;
END $$;

-- A change of dead properties modifies its resource in its collection.
CREATE OR REPLACE FUNCTION parvis_log_props() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (space_id, collection_id, name)
        SELECT r.space_id, r.parent_id, r.name
        FROM (SELECT DISTINCT resource_id FROM old_rows) x
        CROSS JOIN LATERAL (SELECT space_id, parent_id, name FROM resources
                            WHERE id = x.resource_id LIMIT 1) r
        WHERE r.parent_id IS NOT NULL;
    ELSE
        INSERT INTO changes (space_id, collection_id, name)
        SELECT r.space_id, r.parent_id, r.name
        FROM (SELECT DISTINCT resource_id FROM new_rows) x
        CROSS JOIN LATERAL (SELECT space_id, parent_id, name FROM resources
                            WHERE id = x.resource_id LIMIT 1) r
        WHERE r.parent_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

-- A new space's trash folder, agenda and action sheets, under its root.
CREATE OR REPLACE FUNCTION parvis_space_trash(sid bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO resources (space_id, parent_id, name, kind)
    SELECT sid, r.id, '.trash', 0 FROM resources r
     WHERE r.space_id = sid AND r.parent_id IS NULL
    ON CONFLICT (parent_id, name) DO NOTHING
$$;

CREATE OR REPLACE FUNCTION parvis_space_calendars(sid bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    folder bigint;
    cal bigint;
    c record;
BEGIN
    INSERT INTO resources (space_id, parent_id, name, kind)
    SELECT sid, r.id, '.calendars', 0 FROM resources r
     WHERE r.space_id = sid AND r.parent_id IS NULL
    ON CONFLICT (parent_id, name) DO NOTHING;
    folder := parvis_resolve(sid, '/.calendars');
    FOR c IN SELECT * FROM (VALUES ('agenda', '{VEVENT}', 'Agenda'),
                                   ('actions', '{VTODO}', 'Fiches action'))
                           AS v(name, components, title) LOOP
        cal := NULL;
        INSERT INTO resources (space_id, parent_id, name, kind)
        VALUES (sid, folder, c.name, 0)
        ON CONFLICT (parent_id, name) DO NOTHING RETURNING id INTO cal;
        IF cal IS NOT NULL THEN
            INSERT INTO calendars (resource_id, space_id, components)
            VALUES (cal, sid, c.components::text[]);
            INSERT INTO props (space_id, resource_id, ns, name, value)
            VALUES (sid, cal, 'DAV:', 'displayname',
                    '<D:displayname xmlns:D="DAV:">' || c.title ||
                    '</D:displayname>');
        END IF;
    END LOOP;
END $$;
