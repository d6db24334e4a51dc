"""Calendar objects whose expansion would cost without bound are refused
at PUT with 403 CALDAV:valid-calendar-object-resource (RFC 4791
§5.3.2.1), before any expansion: a rule that can match no date, or that
steps through seconds or minutes over days and months; time zones whose
observances change more often than yearly; more than one master
component.  Each case must answer quickly, and the server keeps serving.
Their ordinary counterparts are accepted."""

import time

import pytest

from caldav_helpers import (alice, assert_precondition, cal, event_ics,
                            put_ics, vcalendar, vevent)

_ = (alice, cal)

COSTLY_RULES = [
    # can never match: libical searches until the year 2582
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31",
    "FREQ=YEARLY;BYMONTH=6,9;BYMONTHDAY=-31",
    "FREQ=HOURLY;BYMONTH=4;BYYEARDAY=1",
    "FREQ=HOURLY;BYYEARDAY=366;BYMONTH=1",
    "FREQ=HOURLY;BYYEARDAY=1;BYMONTHDAY=15",
    "FREQ=HOURLY;BYWEEKNO=30;BYMONTH=1",
    # second or minute steps over days and months
    "FREQ=SECONDLY;BYDAY=MO",
    "FREQ=SECONDLY;BYHOUR=9",
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=MINUTELY;BYYEARDAY=200",
]

FINE_RULES = [
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3",
    "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=5",
    "FREQ=HOURLY;BYDAY=MO;COUNT=30",
    "FREQ=MINUTELY;INTERVAL=15;COUNT=20",
    "FREQ=MINUTELY;BYHOUR=9;COUNT=30",
    # RFC 5545 §3.8.5.3 examples
    "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO;COUNT=3",
    "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200",
    "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=3",
    "FREQ=YEARLY;BYMONTH=1;BYWEEKNO=1,53;COUNT=3",
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYMONTH=2;COUNT=3",
]


def uid():
    return "cost-%d" % time.monotonic_ns()


def put_timed(alice, url, text):
    t0 = time.monotonic()
    r = put_ics(alice, url, text)
    return r, time.monotonic() - t0


@pytest.mark.parametrize("rule", COSTLY_RULES)
def test_costly_rule_is_refused(rule, cal, alice):
    ics = event_ics(uid(), "DTSTART:20240101T090000Z", "DURATION:PT1M",
                    "RRULE:" + rule)
    r, took = put_timed(alice, cal + "costly.ics", ics)
    assert_precondition(r, 403, "urn:ietf:params:xml:ns:caldav",
                        "valid-calendar-object-resource")
    assert took < 5, took


@pytest.mark.parametrize("rule", FINE_RULES)
def test_ordinary_rule_is_accepted(rule, cal, alice):
    ics = event_ics(uid(), "DTSTART:20240101T090000Z", "DURATION:PT1M",
                    "RRULE:" + rule)
    r, _ = put_timed(alice, cal + "fine.ics", ics)
    assert r.status_code == 201, r.text


def zone(tzid, rule):
    return ("BEGIN:VTIMEZONE\r\nTZID:%s\r\n"
            "BEGIN:STANDARD\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\n"
            "DTSTART:19700101T000000\r\nRRULE:%s\r\nEND:STANDARD\r\n"
            "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\n"
            "DTSTART:19700101T000001\r\nRRULE:%s\r\nEND:DAYLIGHT\r\n"
            "END:VTIMEZONE\r\n" % (tzid, rule, rule))


@pytest.mark.parametrize("rule", [
    "FREQ=HOURLY", "FREQ=DAILY", "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=YEARLY;BYYEARDAY=1,2,3", "FREQ=YEARLY;BYMONTH=3;BYHOUR=0,1",
    "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE",
    "FREQ=YEARLY;BYMONTHDAY=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,"
    "20,21,22,23,24,25,26,27,28,29,30,31", "FREQ=YEARLY;BYDAY=SU"])
def test_zone_changing_more_than_yearly_is_refused(rule, cal, alice):
    tzid = "Fast/" + uid()
    ics = event_ics(uid(), "DTSTART;TZID=%s:20240105T100000" % tzid,
                    "DURATION:PT1H", extra=zone(tzid, rule))
    r, took = put_timed(alice, cal + "zone.ics", ics)
    assert_precondition(r, 403, "urn:ietf:params:xml:ns:caldav",
                        "valid-calendar-object-resource")
    assert took < 5, took


def test_yearly_zone_is_accepted(cal, alice):
    tzid, u = "Slow/" + uid(), uid()
    for rule in ("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
                 "FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYMONTHDAY=8,9,10,11,12,13,14"):
        ics = event_ics(u, "DTSTART;TZID=%s:20240105T100000" % tzid,
                        "DURATION:PT1H", extra=zone(tzid, rule))
        r, _ = put_timed(alice, cal + "zone.ics", ics)
        assert r.status_code in (201, 204), r.text


def test_two_masters_are_refused(cal, alice):
    """Components of one object share a UID; only one of them may lack a
    RECURRENCE-ID (RFC 5545 §3.8.4.4): each master is expanded on its own,
    so a thousand of them would multiply max-instances by a thousand."""
    u = uid()
    ics = vcalendar(vevent(u, "DTSTART:20240101T090000Z",
                           "RRULE:FREQ=DAILY;COUNT=10"),
                    vevent(u, "DTSTART:20240101T100000Z",
                           "RRULE:FREQ=DAILY;COUNT=10"))
    r = put_ics(alice, cal + "twice.ics", ics)
    assert_precondition(r, 403, "urn:ietf:params:xml:ns:caldav",
                        "valid-calendar-object-resource")
    # a master and an override of one of its instances are fine
    ics = vcalendar(vevent(u, "DTSTART:20240101T090000Z",
                           "RRULE:FREQ=DAILY;COUNT=10"),
                    vevent(u, "RECURRENCE-ID:20240103T090000Z",
                           "DTSTART:20240103T110000Z"))
    assert put_ics(alice, cal + "twice.ics", ics).status_code == 201
