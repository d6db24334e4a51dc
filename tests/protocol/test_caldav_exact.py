"""A calendar-query whose filter asks only that a VEVENT overlap a time
range is answered by the index for the objects it marks exact (one
instance at times the object fixes; migration 0013): those are neither
read nor parsed.  The answers must be those of RFC 4791 §9.9, as the
parsed evaluation gives them.

The test stores events of every shape near the edges of the windows it
queries, checks which are marked exact, then compares every window's
answer with the answer of the same calendar once the index is put back as
it was before 0013 (no object exact, a day of margin around each range:
every candidate parsed).  A few answers are also checked by hand.
"""

import itertools
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from caldav_helpers import (VTZ_PARIS, calendar_data, calendar_query,
                            comp_filter, event_ics, names, new_calendar,
                            put_ok, range_filter, time_range, todo_ics,
                            vcalendar, vevent)
from dav_helpers import url_path, user_session

# name: (iCalendar text, marked exact?)
EVENTS = {
    "utc.ics": (event_ics("x-utc", "DTSTART:20250310T100000Z",
                          "DTEND:20250310T110000Z"), True),
    "paris.ics": (event_ics("x-paris", "DTSTART;TZID=Europe/Paris:"
                            "20250310T120000", "DTEND;TZID=Europe/Paris:"
                            "20250310T130000", extra=VTZ_PARIS), True),
    # a zone the object does not define: taken from the system's database
    "nozone.ics": (event_ics("x-nozone", "DTSTART;TZID=Europe/Paris:"
                             "20250310T140000", "DTEND;TZID=Europe/Paris:"
                             "20250310T150000"), False),
    # floating: read in the zone of the calendar or of the query (RFC 4791
    # §7.3), which the index cannot know
    "floating.ics": (event_ics("x-floating", "DTSTART:20250310T160000",
                               "DTEND:20250310T170000"), False),
    # dates are floating too (RFC 4791 §9.9; migration 0019)
    "allday.ics": (event_ics("x-allday", "DTSTART;VALUE=DATE:20250311",
                             "DTEND;VALUE=DATE:20250312"), False),
    "day.ics": (event_ics("x-day", "DTSTART;VALUE=DATE:20250312"), False),
    "point.ics": (event_ics("x-point", "DTSTART:20250310T180000Z"), True),
    "zero.ics": (event_ics("x-zero", "DTSTART:20250310T190000Z",
                           "DTEND:20250310T190000Z"), True),
    "duration.ics": (event_ics("x-duration", "DTSTART:20250310T200000Z",
                               "DURATION:PT90M"), True),
    "weekly.ics": (event_ics("x-weekly", "DTSTART:20250303T100000Z",
                             "DTEND:20250303T103000Z",
                             "RRULE:FREQ=WEEKLY;COUNT=4"), False),
    "moved.ics": (vcalendar(
        vevent("x-moved", "DTSTART:20250303T080000Z",
               "DTEND:20250303T090000Z", "RRULE:FREQ=DAILY;COUNT=10"),
        vevent("x-moved", "RECURRENCE-ID:20250310T080000Z",
               "DTSTART:20250310T213000Z", "DTEND:20250310T223000Z")), False),
    "todo.ics": (todo_ics("x-todo", "DTSTART:20250310T100000Z",
                          "DUE:20250310T110000Z"), False),
}

DAY = datetime(2025, 3, 10, tzinfo=timezone.utc)


def stamp(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def windows():
    """Windows with an end or a start at, or a second off, each hour of
    the days around the events, and whole days."""
    out = set()
    edges = [DAY + timedelta(minutes=30 * k) for k in range(-4, 3 * 48)]
    for e in edges:
        for a, b in ((-3600, 0), (0, 3600), (-1, 1), (0, 1), (-1, 0),
                     (-5400, 1800)):
            out.add((stamp(e + timedelta(seconds=a)),
                     stamp(e + timedelta(seconds=b))))
    for d in range(-2, 4):
        day = DAY + timedelta(days=d)
        out.add((stamp(day), stamp(day + timedelta(days=1))))
    out.add((stamp(DAY), None))
    out.add((None, stamp(DAY)))
    return sorted(out, key=lambda w: (w[0] or "", w[1] or ""))


@pytest.fixture(scope="module")
def exactcal(server, cluster):
    alice = user_session()
    url = new_calendar(server, alice)
    for name, (text, _) in EVENTS.items():
        put_ok(alice, url + name, text)
    return url


def index_rows(cluster, url):
    path = url_path(url).rstrip("/")
    rows = cluster.psql(
        "SELECT r.name, o.exact FROM calendar_objects o "
        "JOIN resources r ON r.id = o.resource_id "
        "JOIN resources c ON c.id = o.calendar_id "
        f"WHERE c.name = '{path.rsplit('/', 1)[1].split('.', 1)[1]}' "
        "ORDER BY r.name")
    return {name: exact == "t" for name, exact in rows}


def answers(sess, url):
    return {w: names(calendar_query(sess, url, range_filter(*w)))
            for w in windows()}


def test_single_instance_events_are_marked_exact(cluster, exactcal):
    assert index_rows(cluster, exactcal) == {
        name: exact for name, (_, exact) in EVENTS.items()}


def test_exact_answers_are_those_of_the_parsed_filter(cluster, exactcal):
    alice = user_session()
    fast = answers(alice, exactcal)
    # Back to the index before 0013: nothing exact, a day of margin.
    cal = url_path(exactcal).rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]
    cluster.psql(
        "UPDATE calendar_objects o SET exact = false, trange = tstzrange("
        "lower(o.trange) - interval '1 day', upper(o.trange) + "
        "interval '1 day', '[)') FROM resources c "
        f"WHERE c.id = o.calendar_id AND c.name = '{cal}' AND o.exact")
    assert not any(index_rows(cluster, exactcal).values())
    slow = answers(alice, exactcal)
    differ = {w: (fast[w], slow[w]) for w in fast if fast[w] != slow[w]}
    assert differ == {}
    # The windows reach every event, and also miss them.
    assert set(itertools.chain(*fast.values())) == set(EVENTS) - {"todo.ics"}
    assert any(v == [] for v in fast.values())


MIGRATION_0019 = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "db", "migrations",
                              "0019_dates_not_exact.sql")


def test_dates_indexed_as_exact_before_0019_are_not_after(cluster, server):
    """Before migration 0019 a date was read as UTC and an all-day event
    indexed as exact with its UTC day; the migration puts such rows as not
    exact with a day of margin, as a PUT now indexes them, and leaves the
    other exact rows alone."""
    alice = user_session()
    url = new_calendar(server, alice)
    for name, (text, _) in EVENTS.items():
        put_ok(alice, url + name, text)
    cal = url_path(url).rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]

    def ranges():
        return dict(cluster.psql(
            "SELECT r.name, o.trange::text FROM calendar_objects o "
            "JOIN resources r ON r.id = o.resource_id "
            "JOIN resources c ON c.id = o.calendar_id "
            f"WHERE c.name = '{cal}' ORDER BY r.name"))

    now = ranges()
    cluster.psql(
        "UPDATE calendar_objects o SET exact = true, trange = tstzrange("
        "lower(o.trange) + interval '1 day', upper(o.trange) - "
        "interval '1 day', '[)') FROM resources c, resources r "
        f"WHERE c.id = o.calendar_id AND c.name = '{cal}' AND "
        "r.id = o.resource_id AND r.name IN ('allday.ics', 'day.ics')")
    assert index_rows(cluster, url)["allday.ics"] is True
    with open(MIGRATION_0019) as f:
        cluster.psql(f.read())
    assert index_rows(cluster, url) == {
        name: exact for name, (_, exact) in EVENTS.items()}
    assert ranges() == now
    assert names(calendar_query(alice, url, range_filter(
        "20250311T000000Z", "20250311T000001Z"))) == ["allday.ics"]


@pytest.fixture(scope="module")
def fresh(server):
    """Another calendar of the same events, whose index is left as PUT
    made it."""
    alice = user_session()
    url = new_calendar(server, alice)
    for name, (text, _) in EVENTS.items():
        put_ok(alice, url + name, text)
    return alice, url


@pytest.mark.parametrize("window, expected", [
    # RFC 4791 §9.9: start < end of range and end > start of range
    (("20250310T110000Z", "20250310T120000Z"), ["paris.ics"]),
    (("20250310T105959Z", "20250310T110000Z"), ["utc.ics"]),
    (("20250310T090000Z", "20250310T100000Z"), []),
    # Europe/Paris is UTC+1 in March: 12:00 there is 11:00Z
    (("20250310T110000Z", "20250310T110001Z"), ["paris.ics"]),
    # a DATE-TIME without end: start of range <= DTSTART < end of range
    (("20250310T180000Z", "20250310T180001Z"), ["point.ics"]),
    (("20250310T175959Z", "20250310T180000Z"), []),
    (("20250310T190000Z", "20250310T190001Z"), ["zero.ics"]),
    # a DATE without end lasts one day
    (("20250312T235959Z", "20250313T000000Z"), ["day.ics"]),
    (("20250313T000000Z", "20250313T010000Z"), []),
    (("20250310T212900Z", "20250310T213000Z"), ["duration.ics"]),
])
def test_edges_by_hand(fresh, window, expected):
    alice, url = fresh
    got = names(calendar_query(alice, url, range_filter(*window)))
    assert got == expected


def test_exact_events_come_with_their_data_when_asked(fresh):
    alice, url = fresh
    resps = calendar_query(alice, url, range_filter("20250310T000000Z",
                                                    "20250311T000000Z"),
                           prop_xml="<D:getetag/><C:calendar-data/>")
    got = {url_path(r.href).rsplit("/", 1)[1]: calendar_data(r) for r in resps}
    assert got["utc.ics"].replace("\r\n", "\n") == \
        EVENTS["utc.ics"][0].replace("\r\n", "\n")
    assert "paris.ics" in got and "x-paris" in got["paris.ics"]


def test_other_filters_still_read_the_objects(fresh):
    """A filter asking more than a range (a property, a negation) is
    evaluated on the parsed object, exact or not."""
    alice, url = fresh
    flt = comp_filter(time_range("20250310T000000Z", "20250311T000000Z"),
                      '<C:prop-filter name="UID"><C:text-match>x-utc'
                      '</C:text-match></C:prop-filter>')
    assert names(calendar_query(alice, url, flt)) == ["utc.ics"]
    flt = comp_filter(time_range("20250310T000000Z", "20250313T000000Z"),
                      '<C:prop-filter name="DTEND"><C:is-not-defined/>'
                      '</C:prop-filter>')
    assert names(calendar_query(alice, url, flt)) == [
        "day.ics", "duration.ics", "point.ics"]


def _index_scans(plan):
    """The index scans of a plan (EXPLAIN ... FORMAT JSON), recursively."""
    if "Index Name" in plan:
        yield plan
    for sub in plan.get("Plans", []):
        yield from _index_scans(sub)


def test_a_query_reads_the_index_entries_of_its_calendar_only(cluster,
                                                              fresh):
    """The range index is per calendar (migration 0020): a query for a
    calendar's week reads that calendar's entries in the week, not every
    calendar's, so that other calendars' events add nothing to its cost."""
    _, url = fresh
    cal = url_path(url).rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]
    cal_id = int(cluster.psql(
        "SELECT c.id FROM resources c JOIN calendars k ON "
        f"k.resource_id = c.id WHERE c.name = '{cal}'")[0][0])
    # 3,000 more events of this calendar over a year, and another
    # calendar's 5,000 over the days queried: index rows alone, without
    # their resources (foreign keys off for the insert).
    cluster.psql(
        "BEGIN; SET LOCAL session_replication_role = replica; "
        "INSERT INTO calendar_objects (resource_id, space_id, calendar_id, "
        "uid, component, trange, data) SELECT 2000000000 + g, 0, "
        f"CASE WHEN g <= 3000 THEN {cal_id} ELSE -7 END, 'more-' || g, "
        "'VEVENT', tstzrange(t, t + interval '1 hour'), '' "
        "FROM generate_series(1, 8000) g, LATERAL (SELECT CASE WHEN "
        "g <= 3000 THEN timestamptz '2025-01-01' + g * interval '3 hours' "
        "ELSE timestamptz '2025-03-09' + (g % 96) * interval '1 hour' "
        "END AS t) x; COMMIT; ANALYZE calendar_objects")
    try:
        (plan,) = cluster.psql(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT o.resource_id FROM "
            f"calendar_objects o WHERE o.calendar_id = {cal_id}::bigint AND "
            "o.component = 'VEVENT' AND o.trange && tstzrange("
            "'2025-03-10 00:00Z', '2025-03-12 00:00Z', '[)')")[0]
        scans = list(_index_scans(json.loads(plan)[0]["Plan"]))
        assert scans, plan
        # About 16 of the 3,000 fall in those two days, with the few
        # events of EVENTS.
        assert max(s["Actual Rows"] for s in scans) <= 100, plan
    finally:
        cluster.psql("DELETE FROM calendar_objects WHERE resource_id "
                     "BETWEEN 2000000001 AND 2000008000; "
                     "ANALYZE calendar_objects")



MIGRATION_0022 = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "db", "migrations",
                              "0022_day_durations_not_exact.sql")


def test_day_durations_indexed_as_exact_before_0022_are_not_after(
        cluster, server):
    """A day of DURATION in Paris on the eve of summer time lasts 23
    hours.  Before, it was indexed as exact with 24; the migration puts
    such rows as not exact with a day of margin, and leaves the other
    exact rows alone; a PUT indexes it exactly, with its right end."""
    alice = user_session()
    url = new_calendar(server, alice)
    put_ok(alice, url + "utc.ics", EVENTS["utc.ics"][0])
    put_ok(alice, url + "dayparis.ics", event_ics(
        "x-dayparis", "DTSTART;TZID=Europe/Paris:20240330T120000",
        "DURATION:P1D", extra=VTZ_PARIS))
    cal = url_path(url).rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]

    def rows():
        return {name: (exact == "t", lower, upper) for name, exact, lower,
                upper in cluster.psql(
                    "SELECT r.name, o.exact, lower(o.trange) AT TIME ZONE "
                    "'UTC', upper(o.trange) AT TIME ZONE 'UTC' "
                    "FROM calendar_objects o JOIN resources r "
                    "ON r.id = o.resource_id JOIN resources c "
                    "ON c.id = o.calendar_id "
                    f"WHERE c.name = '{cal}' ORDER BY r.name")}

    now = rows()
    assert now["dayparis.ics"] == (True, "2024-03-30 11:00:00",
                                   "2024-03-31 10:00:00")
    # As the index was written before: 86,400 seconds.
    cluster.psql(
        "UPDATE calendar_objects o SET trange = tstzrange(lower(o.trange), "
        "lower(o.trange) + interval '86400 seconds', '[)') "
        "FROM resources r WHERE r.id = o.resource_id AND "
        "r.name = 'dayparis.ics'")
    with open(MIGRATION_0022) as f:
        cluster.psql(f.read())
    after = rows()
    assert after["utc.ics"] == now["utc.ics"]
    assert after["dayparis.ics"] == (False, "2024-03-29 11:00:00",
                                     "2024-04-01 11:00:00")
    # 10:30Z on the 31st is after the end: parsed, the answer is right.
    assert names(calendar_query(alice, url, range_filter(
        "20240331T103000Z", "20240331T104500Z"))) == []
    assert names(calendar_query(alice, url, range_filter(
        "20240331T093000Z", "20240331T094500Z"))) == ["dayparis.ics"]
