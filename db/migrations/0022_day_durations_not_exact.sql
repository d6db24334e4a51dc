-- 0022_day_durations_not_exact: events whose DURATION counts days are
-- indexed again with a margin.
--
-- The days and weeks of a DURATION are calendar days (RFC 5545 §3.3.6):
-- an event of a day that begins at noon in Paris on the eve of the
-- change to summer time ends at noon the next day, 23 hours later.  They
-- were counted as 86,400 seconds, so a row marked exact (decision 0017)
-- whose DTSTART is in a zone and whose DURATION counts days may end an
-- hour off in the index.  As 0016 and 0019 did, such rows are now marked
-- not exact, with a day of margin on each side, and parsed by each query;
-- the next PUT of the object indexes it exactly again, with its right end.

UPDATE calendar_objects
SET exact = false,
    trange = tstzrange(lower(trange) - interval '1 day',
                       upper(trange) + interval '1 day', '[)')
WHERE exact AND
      data ~ '(^|\n)DURATION(;[^:\n]*)?:[+-]?P[0-9]+[DW]' AND
      data ~ '(^|\n)DTSTART;[^:\n]*TZID=';
