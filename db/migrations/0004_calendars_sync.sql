-- 0004_calendars_sync: CalDAV calendars (RFC 4791) and their objects'
-- index, the change log behind sync tokens (RFC 6578) and CTags, and
-- personal spaces that hold a user's own calendars.

-- A calendar is a collection of a space (at /.calendars/NAME) with a row
-- here.  components: the component types it accepts.
CREATE TABLE calendars (
    resource_id  bigint PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
    space_id     bigint NOT NULL,
    components   text[] NOT NULL DEFAULT '{VEVENT}',
    description  text,
    color        text,
    timezone     text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per calendar object resource: its UID, component type and the
-- time range it covers (NULL bounds when unbounded), so that a
-- time-range query reads only candidates.
CREATE TABLE calendar_objects (
    resource_id  bigint PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
    space_id     bigint NOT NULL,
    calendar_id  bigint NOT NULL,
    uid          text NOT NULL,
    component    text NOT NULL,
    trange       tstzrange NOT NULL,
    recurring    boolean NOT NULL DEFAULT false,
    data         text NOT NULL          -- the iCalendar text, for reports
);
CREATE INDEX calendar_objects_uid ON calendar_objects (calendar_id, uid);
CREATE INDEX calendar_objects_range ON calendar_objects USING gist (trange);
CREATE INDEX calendar_objects_cal ON calendar_objects (calendar_id);

-- Change log: every bind, unbind and modification of a collection's
-- members.  seq orders all changes; a collection's sync token is the
-- highest seq among its rows.
CREATE TABLE changes (
    seq           bigserial PRIMARY KEY,
    space_id      bigint NOT NULL,
    collection_id bigint NOT NULL,
    name          text NOT NULL,
    deleted       boolean NOT NULL DEFAULT false,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_collection ON changes (collection_id, seq);

ALTER TABLE users ADD COLUMN personal_space_id bigint REFERENCES spaces(id);
ALTER TABLE spaces ADD COLUMN personal boolean NOT NULL DEFAULT false;

-- The change log is written by statement-level triggers, so that every
-- path that binds, unbinds or modifies a member is covered, and a subtree
-- operation costs one INSERT ... SELECT, not one per member.  Only direct
-- members of surviving collections are logged.

CREATE FUNCTION parvis_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, p.id, n.name
    FROM new_rows n JOIN resources p
      ON p.space_id = n.space_id AND p.path = n.parent_path
    WHERE NOT EXISTS (SELECT 1 FROM new_rows n2
                      WHERE n2.space_id = n.space_id AND n2.path = n.parent_path);
    RETURN NULL;
END $$;

CREATE FUNCTION parvis_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (space_id, collection_id, name, deleted)
    SELECT o.space_id, p.id, o.name, true
    FROM old_rows o JOIN resources p
      ON p.space_id = o.space_id AND p.path = o.parent_path
    WHERE NOT EXISTS (SELECT 1 FROM old_rows o2
                      WHERE o2.space_id = o.space_id AND o2.path = o.parent_path);
    RETURN NULL;
END $$;

CREATE FUNCTION parvis_log_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Moved away: gone from the old parent.
    INSERT INTO changes (space_id, collection_id, name, deleted)
    SELECT o.space_id, p.id, o.name, true
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    JOIN resources p ON p.space_id = o.space_id AND p.path = o.parent_path
    WHERE (n.space_id, n.path) IS DISTINCT FROM (o.space_id, o.path)
      AND NOT EXISTS (SELECT 1 FROM old_rows o2
                      WHERE o2.space_id = o.space_id AND o2.path = o.parent_path);
    -- Moved in, or modified in place.
    INSERT INTO changes (space_id, collection_id, name)
    SELECT n.space_id, p.id, n.name
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    JOIN resources p ON p.space_id = n.space_id AND p.path = n.parent_path
    WHERE ((n.space_id, n.path) IS DISTINCT FROM (o.space_id, o.path)
           AND NOT EXISTS (SELECT 1 FROM new_rows n2
                           WHERE n2.space_id = n.space_id
                             AND n2.path = n.parent_path))
       OR ((n.space_id, n.path) = (o.space_id, o.path)
           AND (n.current_rev IS DISTINCT FROM o.current_rev
                OR n.modified_at IS DISTINCT FROM o.modified_at));
    RETURN NULL;
END $$;

CREATE TRIGGER resources_log_insert AFTER INSERT ON resources
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_insert();
CREATE TRIGGER resources_log_delete AFTER DELETE ON resources
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_delete();
CREATE TRIGGER resources_log_update AFTER UPDATE ON resources
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_update();

-- A change of dead properties modifies the resource in its collection.
CREATE FUNCTION parvis_log_props() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (space_id, collection_id, name)
        SELECT DISTINCT r.space_id, p.id, r.name
        FROM old_rows x JOIN resources r ON r.id = x.resource_id
        JOIN resources p ON p.space_id = r.space_id AND p.path = r.parent_path;
    ELSE
        INSERT INTO changes (space_id, collection_id, name)
        SELECT DISTINCT r.space_id, p.id, r.name
        FROM new_rows x JOIN resources r ON r.id = x.resource_id
        JOIN resources p ON p.space_id = r.space_id AND p.path = r.parent_path;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER props_log_insert AFTER INSERT ON props
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_props();
CREATE TRIGGER props_log_update AFTER UPDATE ON props
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_props();
CREATE TRIGGER props_log_delete AFTER DELETE ON props
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_log_props();

-- Every (non-personal) space has a shared agenda and a list of action
-- sheets, created with it.
CREATE FUNCTION parvis_space_calendars(sid bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    folder bigint;
    cal bigint;
BEGIN
    INSERT INTO resources (space_id, path, parent_path, name, kind)
    VALUES (sid, '/.calendars', '', '.calendars', 0)
    ON CONFLICT (space_id, path) DO NOTHING;
    INSERT INTO resources (space_id, path, parent_path, name, kind)
    VALUES (sid, '/.calendars/agenda', '/.calendars', 'agenda', 0)
    ON CONFLICT (space_id, path) DO NOTHING RETURNING id INTO cal;
    IF cal IS NOT NULL THEN
        INSERT INTO calendars (resource_id, space_id, components)
        VALUES (cal, sid, '{VEVENT}');
        INSERT INTO props (space_id, resource_id, ns, name, value)
        VALUES (sid, cal, 'DAV:', 'displayname',
                '<D:displayname xmlns:D="DAV:">Agenda</D:displayname>');
    END IF;
    cal := NULL;
    INSERT INTO resources (space_id, path, parent_path, name, kind)
    VALUES (sid, '/.calendars/actions', '/.calendars', 'actions', 0)
    ON CONFLICT (space_id, path) DO NOTHING RETURNING id INTO cal;
    IF cal IS NOT NULL THEN
        INSERT INTO calendars (resource_id, space_id, components)
        VALUES (cal, sid, '{VTODO}');
        INSERT INTO props (space_id, resource_id, ns, name, value)
        VALUES (sid, cal, 'DAV:', 'displayname',
                '<D:displayname xmlns:D="DAV:">Fiches action</D:displayname>');
    END IF;
END $$;

SELECT parvis_space_calendars(id) FROM spaces WHERE NOT personal;
