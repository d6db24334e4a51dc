-- 0021_changes_guarded: a member hidden by access control entries of its
-- own leaves no name in the change log that a sync could show.
--
-- A member that leaves its collection (deleted, renamed, moved away) is a
-- 404 in the next sync-collection answer (RFC 6578 §3.5.2), named.  What
-- one may not read is absent (RFC 3744 §7.1): a member hidden from a
-- reader by entries of its own must not be named to that reader, but once
-- it has left, its entries are elsewhere (moved with it) or gone (removed
-- with it), and whom they hid it from can no longer be told.  Such a
-- departure is now marked 'guarded', and a sync whose range holds one
-- refuses the token (DAV:valid-sync-token): the client lists the
-- collection anew, and sees what it may see.  Entries inherited from
-- above apply to the collection too, which the reader may read, so only
-- a member's own entries count.
--
-- A permanent removal deletes the member's entries (ON DELETE CASCADE)
-- before the statement's triggers run: the statement that removes says
-- through parvis.guarded whether the tree it removes held any.

ALTER TABLE changes ADD COLUMN guarded boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION parvis_log_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    INSERT INTO changes (space_id, collection_id, name, deleted, guarded)
    SELECT o.space_id, p.id, o.name, true,
           coalesce(current_setting('parvis.guarded', true), '') = 'true'
           OR EXISTS (SELECT 1 FROM aces a WHERE a.space_id = o.space_id
                      AND a.resource_id = o.id)
    FROM old_rows o
    CROSS JOIN LATERAL parvis_log_parent(o.space_id, o.parent_path) p
    WHERE (o.space_id, o.parent_path) NOT IN
          (SELECT space_id, path FROM old_rows);
    PERFORM set_config('parvis.guarded', '', true);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION parvis_log_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parvis_log_room((SELECT count(*) FROM old_rows));
    -- Moved away: gone from the old parent, its entries with it.
    INSERT INTO changes (space_id, collection_id, name, deleted, guarded)
    SELECT o.space_id, p.id, o.name, true,
           EXISTS (SELECT 1 FROM aces a WHERE a.space_id = o.space_id
                   AND a.resource_id = o.id)
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
