-- 0019_dates_not_exact: events with all-day dates are no longer answered
-- by the index alone.
--
-- A date (VALUE=DATE) is floating like a date-time without a zone
-- (RFC 4791 §9.9): its day begins at midnight in the zone of the query
-- or of the calendar, which the index, written at PUT, cannot know.  As
-- 0016 did for floating date-times, rows marked exact whose DTSTART or
-- DTEND is a date are now indexed as not exact, with a day of margin on
-- each side, and parsed by each query.

UPDATE calendar_objects
SET exact = false,
    trange = tstzrange(lower(trange) - interval '1 day',
                       upper(trange) + interval '1 day', '[)')
WHERE exact AND
      (data ~* '(^|\n)DT(START|END);[^:\n]*VALUE=DATE[;:]' OR
       data ~ '(^|\n)DT(START|END)(;[^:\n]*)?:[0-9]{8}\r?(\n|$)');
