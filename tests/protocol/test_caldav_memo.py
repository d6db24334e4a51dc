"""A calendar-query asked again: the node remembers what libical answered
for each object it had to decide (caldav/reports.c, match_memo), keyed by
the object's text, the request's body and the calendar's zone of floating
times.  Whatever changes one of those must be decided afresh: these tests
ask the very same query before and after each such change."""

import uuid

from caldav_helpers import (VTZ_NEW_YORK, alice, cal, calendar_query,
                            event_ics, names, put_ok, range_filter, vcalendar)
from dav_helpers import XML_HEADERS, dav

_ = (alice, cal)  # fixtures, imported for pytest

C_NS = "urn:ietf:params:xml:ns:caldav"
WEEK = range_filter("20260615T000000Z", "20260622T000000Z")


def uid():
    return uuid.uuid4().hex


def asked(alice, cal, filter_xml=WEEK):
    return names(calendar_query(alice, cal, filter_xml))


def test_a_changed_series_is_decided_again(cal, alice):
    series = uid()
    put_ok(alice, cal + "series.ics", event_ics(
        series, "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z",
        "RRULE:FREQ=WEEKLY;COUNT=6"))
    for _ in range(3):
        assert asked(alice, cal) == ["series.ics"]
    # The week's instance cancelled: the same query, another answer.
    put_ok(alice, cal + "series.ics", event_ics(
        series, "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z",
        "RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE:20260615T100000Z"))
    for _ in range(3):
        assert asked(alice, cal) == []
    # And back.
    put_ok(alice, cal + "series.ics", event_ics(
        series, "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z",
        "RRULE:FREQ=WEEKLY;COUNT=6"))
    assert asked(alice, cal) == ["series.ics"]


def test_the_same_text_in_two_objects_is_decided_alike(cal, alice):
    text = event_ics(uid(), "DTSTART:20260601T100000Z",
                     "DTEND:20260601T110000Z", "RRULE:FREQ=WEEKLY;COUNT=3")
    put_ok(alice, cal + "one.ics", text)
    assert asked(alice, cal) == ["one.ics"]
    other = text.replace("COUNT=3", "COUNT=2")
    put_ok(alice, cal + "two.ics", other.replace(
        "UID:", "UID:two-"))
    assert asked(alice, cal) == ["one.ics"]


def test_another_query_is_decided_apart(cal, alice):
    put_ok(alice, cal + "series.ics", event_ics(
        uid(), "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z",
        "RRULE:FREQ=WEEKLY;COUNT=6"))
    assert asked(alice, cal) == ["series.ics"]
    later = range_filter("20260713T000000Z", "20260720T000000Z")
    assert asked(alice, cal, later) == []
    assert asked(alice, cal) == ["series.ics"]


def test_the_calendars_zone_of_floating_times_is_part_of_the_answer(
        cal, alice):
    # Floating 23:00 on Mondays: 23:00Z read in UTC, 03:00Z the next day
    # in New York (summer time), outside a range ending at 23:30Z.
    put_ok(alice, cal + "floating.ics", event_ics(
        uid(), "DTSTART:20260608T230000", "DTEND:20260608T232000",
        "RRULE:FREQ=WEEKLY;COUNT=4"))
    monday = range_filter("20260615T000000Z", "20260615T233000Z")
    for _ in range(2):
        assert asked(alice, cal, monday) == ["floating.ics"]
    tz = vcalendar(extra=VTZ_NEW_YORK).replace("\r\n", "\n")
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="%s"><D:set><D:prop>'
            '<C:calendar-timezone>%s</C:calendar-timezone>'
            '</D:prop></D:set></D:propertyupdate>' % (C_NS, tz))
    r = dav(alice, "PROPPATCH", cal, data=body.encode(), headers=XML_HEADERS)
    assert r.status_code == 207, r.text
    for _ in range(2):
        assert asked(alice, cal, monday) == []
