"""calendar-query and calendar-multiget stream their multistatus, as a
PROPFIND listing does (docs/decisions/0010): a query reads its candidates
through a cursor, 200 objects a page, and a multiget looks its hrefs up
100 at a time; each page is sent (chunked) before the next is read, so
the server's memory does not grow with the calendar.  free-busy-query
reads its candidates page by page too.  These tests use a calendar of
more than two pages and check that the answers are whole and right
(RFC 4791 §7.8, §7.9, §7.10): each match exactly once with its data,
404 for each unknown href, the periods of every page; that an answer of
one page still goes out with a Content-Length; and that max-instances
still refuses with 403 when the first page exceeds it."""

import pytest

from caldav_helpers import (C_NS, calendar_data, calendar_query, event_ics,
                            expand_prop, freebusy_body, multiget_body,
                            new_calendar, parse_ical, put_ok, range_filter,
                            report, assert_precondition, comp_filter,
                            query_body)
from dav_helpers import parse_multistatus, url_path, user_session

QUERY_PAGE = 200
EVENTS = 2 * QUERY_PAGE + 51          # three pages, the last one short


def ev_name(i):
    return "ev%04d.ics" % i


def ev_start(i):
    # One event a day from 2025-01-01, at 09:00 UTC, an hour long.
    from datetime import date, timedelta
    d = date(2025, 1, 1) + timedelta(days=i)
    return d.strftime("%Y%m%d") + "T090000Z"


def ev_uid(i):
    return "stream-%04d@parvis.test" % i


@pytest.fixture(scope="module")
def bigcal(server):
    """A calendar of EVENTS events (one a day), made by alice."""
    alice = user_session()
    url = new_calendar(server, alice)
    for i in range(EVENTS):
        put_ok(alice, url + ev_name(i),
               event_ics(ev_uid(i), "DTSTART:" + ev_start(i), "DURATION:PT1H",
                         "SUMMARY:event %d" % i))
    return url


def query_raw(sess, url, filter_xml, prop_xml="<D:getetag/>"):
    r = report(sess, url, query_body(filter_xml, prop_xml))
    assert r.status_code == 207, r.text[:2000]
    return r


def test_query_of_every_event_streams_each_once_with_its_data(bigcal):
    alice = user_session()
    r = query_raw(alice, bigcal, comp_filter(),
                  "<D:getetag/><C:calendar-data/>")
    # More than a page: sent as it is read, without a Content-Length.
    assert "Content-Length" not in r.headers
    assert r.headers.get("Transfer-Encoding") == "chunked"
    resps = parse_multistatus(r.content)
    got = [x.path.rsplit("/", 1)[1] for x in resps]
    assert sorted(got) == [ev_name(i) for i in range(EVENTS)]
    assert len(got) == len(set(got))
    for x in resps:
        i = int(x.path.rsplit("/", 1)[1][2:6])
        cal = parse_ical(calendar_data(x))
        (ev,) = cal.walk("VEVENT")
        assert ev.value("UID") == ev_uid(i)
        assert ev.value("DTSTART") == ev_start(i)


def test_query_in_name_order_across_pages(bigcal):
    alice = user_session()
    resps = calendar_query(alice, bigcal, comp_filter())
    got = [x.path.rsplit("/", 1)[1] for x in resps]
    assert got == sorted(got)


def test_time_range_across_pages_finds_exactly_the_days(bigcal):
    alice = user_session()
    # Days 150 to 349 (2025-05-31 to 2025-12-16): 200 events, across the
    # second and the third page of the cursor.
    resps = calendar_query(alice, bigcal,
                           range_filter(ev_start(150), ev_start(350)))
    got = sorted(x.path.rsplit("/", 1)[1] for x in resps)
    assert got == [ev_name(i) for i in range(150, 350)]


def test_one_page_query_has_content_length(bigcal):
    alice = user_session()
    r = query_raw(alice, bigcal, range_filter(ev_start(10), ev_start(13)))
    assert int(r.headers["Content-Length"]) == len(r.content)
    assert len(parse_multistatus(r.content)) == 3


def test_depth_0_query_on_one_object_of_a_big_calendar(bigcal):
    alice = user_session()
    r = report(alice, bigcal + ev_name(333), query_body(comp_filter()),
               depth="0")
    assert r.status_code == 207
    (resp,) = parse_multistatus(r.content)
    assert resp.path.endswith("/" + ev_name(333))


def test_multiget_of_many_hrefs_answers_each_in_order(bigcal):
    alice = user_session()
    p = url_path(bigcal)
    wanted = [p + ev_name(i) for i in range(0, EVENTS, 2)]
    # Unknown names spread over the pages of hrefs, and one asked twice.
    asked = []
    for k, h in enumerate(wanted):
        asked.append(h)
        if k % 37 == 0:
            asked.append(p + "missing-%d.ics" % k)
    asked.append(wanted[5])
    assert len(asked) > 2 * 100
    r = report(alice, bigcal, multiget_body(asked))
    assert r.status_code == 207
    assert "Content-Length" not in r.headers
    resps = parse_multistatus(r.content)
    # In order, each once: the one asked twice is answered where it was
    # first asked.
    assert [x.path for x in resps] == asked[:-1]
    for x in resps:
        name = x.path.rsplit("/", 1)[1]
        if name.startswith("missing-"):
            assert x.status == 404
        else:
            i = int(name[2:6])
            (ev,) = parse_ical(calendar_data(x)).walk("VEVENT")
            assert ev.value("UID") == ev_uid(i)


def test_free_busy_over_every_page(bigcal):
    alice = user_session()
    r = report(alice, bigcal, freebusy_body(ev_start(0), ev_start(EVENTS)))
    assert r.status_code == 200
    (vfb,) = parse_ical(r.text).walk("VFREEBUSY")
    periods = set()
    for _, _, value in vfb.all("FREEBUSY"):
        periods.update(value.split(","))
    starts = {p.split("/")[0] for p in periods}
    assert starts == {ev_start(i) for i in range(EVENTS)}


def test_max_instances_still_refused_when_the_first_page_exceeds_it(new_server):
    srv = new_server({"max_instances": 100})
    alice = user_session()
    url = new_calendar(srv, alice)
    for i in range(120):
        put_ok(alice, url + ev_name(i),
               event_ics(ev_uid(10000 + i), "DTSTART:" + ev_start(i),
                         "DURATION:PT1H"))
    r = report(alice, url, query_body(
        range_filter(ev_start(0), ev_start(200)),
        expand_prop(ev_start(0), ev_start(200))))
    assert_precondition(r, 403, C_NS, "max-instances")
    # The server goes on answering.
    resps = calendar_query(alice, url, range_filter(ev_start(0), ev_start(5)))
    assert len(resps) == 5
