"""Recurrence expansion against the examples of RFC 5545 §3.8.5.3.

Each case is one example of the RFC: its DTSTART (09:00 in
America/New_York unless said otherwise) and RRULE, and the instances the
RFC lists, written here as the RFC writes them -- "(1997 9:00 AM EDT)
September 2,4" is EDT(1997, 9, 2, 4), i.e. 13:00Z (EDT is UTC-4, EST is
UTC-5, 09:00 EST is 14:00Z).  The test PUTs the event (10 minutes long),
asks calendar-query with C:expand over the case's window and compares the
UTC start of every returned instance, then checks that a time range lying
in the longest gap between two instances matches nothing.

Each case runs twice: with a VTIMEZONE for America/New_York in the object,
and with the bare IANA TZID (the server's own zone data).

A few cases at the end are not from the RFC: UNTIL given in UTC for a
zoned DTSTART, cutting between the local and the UTC reading of an
instance (RFC 5545 §3.3.10: UNTIL is compared as a UTC instant).
"""

from datetime import datetime, timedelta

import pytest

from caldav_helpers import (VTZ_NEW_YORK, VTZ_PARIS, alice, cal,
                            event_ics, expanded_instances, put_ok,
                            query_names, range_filter)

_ = (alice, cal)


def _days(utc_time, year, month, days):
    return ["%04d%02d%02dT%sZ" % (year, month, d, utc_time) for d in days]


def EDT(year, month, *days):
    """09:00 EDT (UTC-4) on those days."""
    return _days("130000", year, month, days)


def EST(year, month, *days):
    """09:00 EST (UTC-5) on those days."""
    return _days("140000", year, month, days)


def span(a, b):
    return list(range(a, b + 1))


# (id, DTSTART local, rule lines, window [start, end), expected UTC starts)
CASES = [
    ("daily-10", "19970902T090000", ["RRULE:FREQ=DAILY;COUNT=10"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, *span(2, 11))),

    ("daily-until-dec-24", "19970902T090000",
     ["RRULE:FREQ=DAILY;UNTIL=19971224T000000Z"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, *span(2, 30)) + EDT(1997, 10, *span(1, 25))
     + EST(1997, 10, *span(26, 31)) + EST(1997, 11, *span(1, 30))
     + EST(1997, 12, *span(1, 23))),

    ("every-other-day", "19970902T090000", ["RRULE:FREQ=DAILY;INTERVAL=2"],
     ("19970901T000000Z", "19971031T000000Z"),
     EDT(1997, 9, *range(2, 31, 2)) + EDT(1997, 10, *range(2, 25, 2))
     + EST(1997, 10, 26, 28, 30)),

    ("every-10-days-5", "19970902T090000",
     ["RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 12, 22) + EDT(1997, 10, 2, 12)),

    ("every-day-in-january-yearly", "19980101T090000",
     ["RRULE:FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;"
      "BYDAY=SU,MO,TU,WE,TH,FR,SA"],
     ("19971201T000000Z", "20010101T000000Z"),
     EST(1998, 1, *span(1, 31)) + EST(1999, 1, *span(1, 31))
     + EST(2000, 1, *span(1, 31))),

    ("every-day-in-january-daily", "19980101T090000",
     ["RRULE:FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1"],
     ("19971201T000000Z", "20010101T000000Z"),
     EST(1998, 1, *span(1, 31)) + EST(1999, 1, *span(1, 31))
     + EST(2000, 1, *span(1, 31))),

    ("weekly-10", "19970902T090000", ["RRULE:FREQ=WEEKLY;COUNT=10"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 9, 16, 23, 30) + EDT(1997, 10, 7, 14, 21)
     + EST(1997, 10, 28) + EST(1997, 11, 4)),

    ("weekly-until-dec-24", "19970902T090000",
     ["RRULE:FREQ=WEEKLY;UNTIL=19971224T000000Z"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 9, 16, 23, 30) + EDT(1997, 10, 7, 14, 21)
     + EST(1997, 10, 28) + EST(1997, 11, 4, 11, 18, 25)
     + EST(1997, 12, 2, 9, 16, 23)),

    ("every-other-week", "19970902T090000",
     ["RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU"],
     ("19970901T000000Z", "19980218T000000Z"),
     EDT(1997, 9, 2, 16, 30) + EDT(1997, 10, 14) + EST(1997, 10, 28)
     + EST(1997, 11, 11, 25) + EST(1997, 12, 9, 23) + EST(1998, 1, 6, 20)
     + EST(1998, 2, 3, 17)),

    ("tue-thu-five-weeks-until", "19970902T090000",
     ["RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 4, 9, 11, 16, 18, 23, 25, 30) + EDT(1997, 10, 2)),

    ("tue-thu-five-weeks-count", "19970902T090000",
     ["RRULE:FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 4, 9, 11, 16, 18, 23, 25, 30) + EDT(1997, 10, 2)),

    ("every-other-week-mo-we-fr-until", "19970901T090000",
     ["RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;"
      "BYDAY=MO,WE,FR"],
     ("19970801T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 1, 3, 5, 15, 17, 19, 29) + EDT(1997, 10, 1, 3, 13, 15, 17)
     + EST(1997, 10, 27, 29, 31) + EST(1997, 11, 10, 12, 14, 24, 26, 28)
     + EST(1997, 12, 8, 10, 12, 22)),

    ("every-other-week-tu-th-8", "19970902T090000",
     ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"],
     ("19970901T000000Z", "19980101T000000Z"),
     EDT(1997, 9, 2, 4, 16, 18, 30) + EDT(1997, 10, 2, 14, 16)),

    ("monthly-first-friday-10", "19970905T090000",
     ["RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 5) + EDT(1997, 10, 3) + EST(1997, 11, 7) + EST(1997, 12, 5)
     + EST(1998, 1, 2) + EST(1998, 2, 6) + EST(1998, 3, 6) + EST(1998, 4, 3)
     + EDT(1998, 5, 1) + EDT(1998, 6, 5)),

    ("monthly-first-friday-until", "19970905T090000",
     ["RRULE:FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 5) + EDT(1997, 10, 3) + EST(1997, 11, 7) + EST(1997, 12, 5)),

    ("every-other-month-first-last-sunday", "19970907T090000",
     ["RRULE:FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 7, 28) + EST(1997, 11, 2, 30) + EST(1998, 1, 4, 25)
     + EST(1998, 3, 1, 29) + EDT(1998, 5, 3, 31)),

    ("monthly-second-to-last-monday-6", "19970922T090000",
     ["RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=-2MO"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 22) + EDT(1997, 10, 20) + EST(1997, 11, 17) + EST(1997, 12, 22)
     + EST(1998, 1, 19) + EST(1998, 2, 16)),

    ("monthly-third-to-last-day", "19970928T090000",
     ["RRULE:FREQ=MONTHLY;BYMONTHDAY=-3"],
     ("19970901T000000Z", "19980301T000000Z"),
     EDT(1997, 9, 28) + EST(1997, 10, 29) + EST(1997, 11, 28) + EST(1997, 12, 29)
     + EST(1998, 1, 29) + EST(1998, 2, 26)),

    ("monthly-2nd-and-15th-10", "19970902T090000",
     ["RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 2, 15) + EDT(1997, 10, 2, 15) + EST(1997, 11, 2, 15)
     + EST(1997, 12, 2, 15) + EST(1998, 1, 2, 15)),

    ("monthly-first-and-last-day-10", "19970930T090000",
     ["RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 30) + EDT(1997, 10, 1) + EST(1997, 10, 31) + EST(1997, 11, 1, 30)
     + EST(1997, 12, 1, 31) + EST(1998, 1, 1, 31) + EST(1998, 2, 1)),

    ("every-18-months-10th-to-15th", "19970910T090000",
     ["RRULE:FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15"],
     ("19970901T000000Z", "20000101T000000Z"),
     EDT(1997, 9, *span(10, 15)) + EST(1999, 3, 10, 11, 12, 13)),

    ("every-tuesday-every-other-month", "19970902T090000",
     ["RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=TU"],
     ("19970901T000000Z", "19980401T000000Z"),
     EDT(1997, 9, 2, 9, 16, 23, 30) + EST(1997, 11, 4, 11, 18, 25)
     + EST(1998, 1, 6, 13, 20, 27) + EST(1998, 3, 3, 10, 17, 24, 31)),

    ("yearly-june-july-10", "19970610T090000",
     ["RRULE:FREQ=YEARLY;COUNT=10;BYMONTH=6,7"],
     ("19970601T000000Z", "20030101T000000Z"),
     [x for y in range(1997, 2002) for x in EDT(y, 6, 10) + EDT(y, 7, 10)]),

    ("every-other-year-jan-feb-mar-10", "19970310T090000",
     ["RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3"],
     ("19970301T000000Z", "20040101T000000Z"),
     EST(1997, 3, 10)
     + [x for y in (1999, 2001, 2003) for m in (1, 2, 3) for x in EST(y, m, 10)]),

    ("every-third-year-days-1-100-200", "19970101T090000",
     ["RRULE:FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200"],
     ("19961201T000000Z", "20070101T000000Z"),
     EST(1997, 1, 1) + EDT(1997, 4, 10) + EDT(1997, 7, 19)
     + EST(2000, 1, 1) + EDT(2000, 4, 9) + EDT(2000, 7, 18)
     + EST(2003, 1, 1) + EDT(2003, 4, 10) + EDT(2003, 7, 19)
     + EST(2006, 1, 1)),

    ("every-20th-monday", "19970519T090000", ["RRULE:FREQ=YEARLY;BYDAY=20MO"],
     ("19970501T000000Z", "20000101T000000Z"),
     EDT(1997, 5, 19) + EDT(1998, 5, 18) + EDT(1999, 5, 17)),

    ("monday-of-week-20", "19970512T090000",
     ["RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"],
     ("19970501T000000Z", "20000101T000000Z"),
     EDT(1997, 5, 12) + EDT(1998, 5, 11) + EDT(1999, 5, 17)),

    ("every-thursday-in-march", "19970313T090000",
     ["RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=TH"],
     ("19970301T000000Z", "20000101T000000Z"),
     EST(1997, 3, 13, 20, 27) + EST(1998, 3, 5, 12, 19, 26)
     + EST(1999, 3, 4, 11, 18, 25)),

    ("every-thursday-june-july-august", "19970605T090000",
     ["RRULE:FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8"],
     ("19970601T000000Z", "19980101T000000Z"),
     EDT(1997, 6, 5, 12, 19, 26) + EDT(1997, 7, 3, 10, 17, 24, 31)
     + EDT(1997, 8, 7, 14, 21, 28)),

    # The RFC excludes DTSTART (2 Sep 1997, a Tuesday) with an EXDATE.
    ("friday-13th", "19970902T090000",
     ["EXDATE;TZID=America/New_York:19970902T090000",
      "RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13"],
     ("19970901T000000Z", "20001101T000000Z"),
     EST(1998, 2, 13) + EST(1998, 3, 13) + EST(1998, 11, 13)
     + EDT(1999, 8, 13) + EDT(2000, 10, 13)),

    ("first-saturday-after-first-sunday", "19970913T090000",
     ["RRULE:FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13"],
     ("19970901T000000Z", "19980701T000000Z"),
     EDT(1997, 9, 13) + EDT(1997, 10, 11) + EST(1997, 11, 8) + EST(1997, 12, 13)
     + EST(1998, 1, 10) + EST(1998, 2, 7) + EST(1998, 3, 7)
     + EDT(1998, 4, 11) + EDT(1998, 5, 9) + EDT(1998, 6, 13)),

    ("us-presidential-election-day", "19961105T090000",
     ["RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;"
      "BYMONTHDAY=2,3,4,5,6,7,8"],
     ("19961101T000000Z", "20050101T000000Z"),
     EST(1996, 11, 5) + EST(2000, 11, 7) + EST(2004, 11, 2)),

    ("third-tu-we-th-3-months", "19970904T090000",
     ["RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"],
     ("19970901T000000Z", "19990101T000000Z"),
     EDT(1997, 9, 4) + EDT(1997, 10, 7) + EST(1997, 11, 6)),

    ("second-to-last-weekday", "19970929T090000",
     ["RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2"],
     ("19970901T000000Z", "19980401T000000Z"),
     EDT(1997, 9, 29) + EST(1997, 10, 30) + EST(1997, 11, 27) + EST(1997, 12, 30)
     + EST(1998, 1, 29) + EST(1998, 2, 26) + EST(1998, 3, 30)),

    # (September 2, 1997 EDT) 09:00,09:15,09:30,09:45,10:00,10:15
    ("every-15-minutes-6", "19970902T090000",
     ["RRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=6"],
     ("19970901T000000Z", "19980101T000000Z"),
     ["19970902T130000Z", "19970902T131500Z", "19970902T133000Z",
      "19970902T134500Z", "19970902T140000Z", "19970902T141500Z"]),

    # (September 2, 1997 EDT) 09:00,10:30;12:00;13:30
    ("every-hour-and-a-half-4", "19970902T090000",
     ["RRULE:FREQ=MINUTELY;INTERVAL=90;COUNT=4"],
     ("19970901T000000Z", "19980101T000000Z"),
     ["19970902T130000Z", "19970902T143000Z", "19970902T160000Z",
      "19970902T173000Z"]),

    ("wkst-monday", "19970805T090000",
     ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"],
     ("19970801T000000Z", "19980101T000000Z"),
     EDT(1997, 8, 5, 10, 19, 24)),

    ("wkst-sunday", "19970805T090000",
     ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"],
     ("19970801T000000Z", "19980101T000000Z"),
     EDT(1997, 8, 5, 17, 19, 31)),

    # (2007 EST) January 15,30; February 15; (2007 EDT) March 15,30
    ("invalid-date-ignored", "20070115T090000",
     ["RRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5"],
     ("20070101T000000Z", "20080101T000000Z"),
     EST(2007, 1, 15, 30) + EST(2007, 2, 15) + EDT(2007, 3, 15, 30)),
]

# Not from the RFC: UNTIL in UTC that cuts between the UTC instant of an
# instance and the same wall-clock time read as UTC.
UNTIL_CASES = [
    # 09:00 EDT is 13:00Z: UNTIL 12:00Z on 5 Sep leaves 2, 3 and 4 Sep.
    ("until-utc-west", "America/New_York", VTZ_NEW_YORK, "19970902T090000",
     ["RRULE:FREQ=DAILY;UNTIL=19970905T120000Z"],
     ("19970901T000000Z", "19971001T000000Z"),
     EDT(1997, 9, 2, 3, 4)),
    # 10:00 Paris (CET) is 09:00Z: UNTIL 09:00Z on 15 Jan is the third.
    ("until-utc-east", "Europe/Paris", VTZ_PARIS, "20240101T100000",
     ["RRULE:FREQ=WEEKLY;UNTIL=20240115T090000Z"],
     ("20231201T000000Z", "20240301T000000Z"),
     ["20240101T090000Z", "20240108T090000Z", "20240115T090000Z"]),
]


def _fmt(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def _parse(s):
    return datetime.strptime(s, "%Y%m%dT%H%M%SZ")


def _longest_gap(instances):
    """[end of an instance, start of the next) for the longest gap."""
    ts = sorted(_parse(x) for x in instances)
    best = max(range(len(ts) - 1), key=lambda i: ts[i + 1] - ts[i])
    return _fmt(ts[best] + timedelta(minutes=10)), _fmt(ts[best + 1])


def _put_case(sess, cal_url, tzid, vtz, dtstart, rules):
    uid = "rfc5545-%s" % cal_url.rstrip("/").rsplit("/", 1)[1]
    extra = vtz if vtz else ""
    put_ok(sess, cal_url + "r.ics", event_ics(
        uid, "DTSTART;TZID=%s:%s" % (tzid, dtstart), "DURATION:PT10M",
        "SUMMARY:RFC 5545 example", *rules, extra=extra))
    return uid


def _check_expand(sess, cal_url, uid, window, expected):
    got = expanded_instances(sess, cal_url, *window)
    assert all(g[0] == uid for g in got), got
    assert sorted(g[1] for g in got) == sorted(expected)
    # Every expanded instance names the instance it stands for.
    assert all(g[2] == g[1] for g in got), got


def _check_gap(sess, cal_url, expected):
    start, end = _longest_gap(expected)
    assert query_names(sess, cal_url, range_filter(start, end)) == [], (start, end)


def _check_first_hit(sess, cal_url, expected):
    first = _parse(min(expected))
    assert query_names(sess, cal_url, range_filter(
        _fmt(first), _fmt(first + timedelta(minutes=1)))) == ["r.ics"]


ZONE_MODES = [("vtimezone", VTZ_NEW_YORK), ("iana-name-only", None)]


def test_cases_are_consistent():
    # The table itself: no duplicates, instances inside their windows.
    for cid, _dt, _rules, (ws, we), expected in CASES + [c[:1] + c[3:] for c in UNTIL_CASES]:
        assert len(set(expected)) == len(expected), cid
        assert all(ws <= x < we for x in expected), cid
        assert len(expected) >= 2, cid


@pytest.mark.parametrize("mode,vtz", ZONE_MODES, ids=[m[0] for m in ZONE_MODES])
@pytest.mark.parametrize("dtstart,rules,window,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rfc5545_example_expands(dtstart, rules, window, expected, mode, vtz,
                                 cal, alice):
    uid = _put_case(alice, cal, "America/New_York", vtz, dtstart, rules)
    _check_expand(alice, cal, uid, window, expected)


@pytest.mark.parametrize("dtstart,rules,window,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rfc5545_example_gap_has_no_instance(dtstart, rules, window, expected,
                                             cal, alice):
    _put_case(alice, cal, "America/New_York", VTZ_NEW_YORK, dtstart, rules)
    _check_gap(alice, cal, expected)
    _check_first_hit(alice, cal, expected)


@pytest.mark.parametrize("tzid,vtz,dtstart,rules,window,expected",
                         [c[1:] for c in UNTIL_CASES], ids=[c[0] for c in UNTIL_CASES])
def test_until_in_utc_for_zoned_dtstart(tzid, vtz, dtstart, rules, window,
                                        expected, cal, alice):
    uid = _put_case(alice, cal, tzid, vtz, dtstart, rules)
    _check_expand(alice, cal, uid, window, expected)


# A long series is walked from near the query window, not from DTSTART.  In
# a zone east of UTC, an instance later in the local day than the window's
# start (read as local time) must still be found.  One case per zone where
# the window opens at 00:00Z on the instance's day.
EAST_CASES = [
    ("tokyo-afternoon", "Asia/Tokyo", None, "20260302T153000",
     "20260615T063000Z"),
    ("paris-small-hours", "Europe/Paris", VTZ_PARIS, "20260302T023000",
     "20260615T003000Z"),
]


@pytest.mark.parametrize("tzid,vtz,dtstart,instance",
                         [c[1:] for c in EAST_CASES],
                         ids=[c[0] for c in EAST_CASES])
def test_weekly_series_found_on_the_window_first_day(tzid, vtz, dtstart,
                                                     instance, cal, alice):
    uid = _put_case(alice, cal, tzid, vtz, dtstart, ["RRULE:FREQ=WEEKLY"])
    assert query_names(alice, cal, range_filter(
        "20260615T000000Z", "20260622T000000Z")) == ["r.ics"]
    got = expanded_instances(alice, cal, "20260615T000000Z",
                             "20260622T000000Z")
    assert [(g[0], g[1]) for g in got] == [(uid, instance)]
    # The week before holds the previous instance only.
    assert query_names(alice, cal, range_filter(
        "20260608T000000Z", "20260609T000000Z")) == ["r.ics"]
    assert query_names(alice, cal, range_filter(
        "20260609T000000Z", "20260615T000000Z")) == []


@pytest.mark.parametrize("rule", [
    # At most 15 Tuesdays, Wednesdays and Thursdays in a month.
    "RRULE:FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=16",
    "RRULE:FREQ=MONTHLY;COUNT=2;BYDAY=TU,WE,TH;BYSETPOS=-32",
    # One occurrence per day, two per week.
    "RRULE:FREQ=DAILY;BYSETPOS=2",
    "RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=3",
])
def test_bysetpos_beyond_the_period_leaves_dtstart_only(rule, cal, alice):
    # RFC 5545 §3.3.10: BYSETPOS picks among the occurrences of each
    # period; past their number it picks nothing, and DTSTART remains the
    # one instance (§3.8.5.3).  Accepted, and answered at once.
    put_ok(alice, cal + "p.ics", event_ics(
        "setpos-" + rule[-3:], "DTSTART:20240102T090000Z",
        "DURATION:PT30M", rule))
    got = expanded_instances(alice, cal, "20240101T000000Z",
                             "20250101T000000Z")
    assert [g[1] for g in got] == ["20240102T090000Z"]
    assert query_names(alice, cal, range_filter(
        "20240103T000000Z", "20250101T000000Z")) == []
