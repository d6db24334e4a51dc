-- 0011_current_revision_guard: the copy of 0010 filled in for a writer
-- that sets current_rev alone.
--
-- During a rolling upgrade a server older than 0010 keeps writing
-- revisions after the migration, setting current_rev without the copy;
-- servers of this version would then serve that resource's previous
-- size and ETag.  This trigger fills the copy in for such an UPDATE, and
-- for any later statement that forgot it.  This version's statements set
-- the copy themselves, to a number that always differs from the old one
-- (a new revision's number is above its predecessors'; a copy's row starts
-- with none), so the WHEN clause keeps the trigger from running for them:
-- a copy of a thousand members pays no function call per row.

CREATE FUNCTION parvis_current_revision_copy() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.current_rev IS NULL THEN
        NEW.cur_num := NULL;
        NEW.cur_size := NULL;
        NEW.cur_type := NULL;
        NEW.cur_sha256 := NULL;
    ELSE
        SELECT v.num, v.size, v.content_type, v.sha256
          INTO NEW.cur_num, NEW.cur_size, NEW.cur_type, NEW.cur_sha256
          FROM revisions v WHERE v.id = NEW.current_rev;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER resources_current_revision_copy
    BEFORE UPDATE OF current_rev ON resources
    FOR EACH ROW
    WHEN (NEW.current_rev IS DISTINCT FROM OLD.current_rev
          AND NEW.cur_num IS NOT DISTINCT FROM OLD.cur_num)
    EXECUTE FUNCTION parvis_current_revision_copy();

CREATE TRIGGER resources_current_revision_insert
    BEFORE INSERT ON resources
    FOR EACH ROW
    WHEN (NEW.current_rev IS NOT NULL AND NEW.cur_num IS NULL)
    EXECUTE FUNCTION parvis_current_revision_copy();
