-- 0020_calendar_range_per_calendar: a calendar-query reads the index
-- entries of its own calendar only.
--
-- The range index of 0004 covered every calendar's objects: a query for
-- one week of one calendar scanned the entries of every calendar in that
-- week, then kept those of its calendar (a bitmap AND with the index on
-- calendar_id), so that its cost grew with the whole installation's
-- events, not with its answer.  The range is now indexed under its
-- calendar (a GiST index on both columns; btree_gist gives GiST the
-- equality of bigint).  btree_gist ships with PostgreSQL and is trusted:
-- the database's owner may create it.

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX calendar_objects_cal_range ON calendar_objects
    USING gist (calendar_id, trange);
DROP INDEX calendar_objects_range;
