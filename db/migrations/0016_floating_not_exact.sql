-- 0016_floating_not_exact: events with floating times are no longer
-- answered by the index alone.
--
-- A floating date-time (no TZID, no Z) is read in the zone of the query
-- or of the calendar (RFC 4791 §7.3), up to 14 hours from UTC, which the
-- index, written at PUT, cannot know.  Such objects are now indexed as
-- not exact, with the day of margin of every other such object, and
-- parsed by each query.  Rows marked exact whose DTSTART or DTEND is
-- floating are put the same way here.

UPDATE calendar_objects
SET exact = false,
    trange = tstzrange(lower(trange) - interval '1 day',
                       upper(trange) + interval '1 day', '[)')
WHERE exact AND
      data ~ '(^|\n)DT(START|END)(;VALUE=DATE-TIME)?:[0-9]{8}T[0-9]{6}\r?(\n|$)';
