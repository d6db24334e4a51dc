-- 0013_calendar_exact: calendar objects whose time range answers a
-- time-range filter by itself.
--
-- A calendar-query parses every candidate the index gives (the objects
-- whose range overlaps the query's) to apply the filter; for a week of a
-- busy agenda that parsing was nine tenths of the query's cost.  An
-- object with a single instance (one component, no RRULE, RDATE or
-- RECURRENCE-ID, a DTSTART) overlaps a range exactly when its indexed
-- range does, so a filter that asks only that of its component is
-- answered by the index.  Rows written before this migration count as
-- not exact, and are parsed as before until their next PUT.

ALTER TABLE calendar_objects ADD COLUMN exact boolean NOT NULL DEFAULT false;
