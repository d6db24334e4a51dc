"""Limits (issue: hardening, point 2): each bound of docs/admin.md "Limits"
is a parvis.conf key.  For each one a server starts with a LOW value; a
request just within it passes, one just beyond it gets the documented
status (and precondition), the server keeps serving and nothing stored
changed.  The CalDAV bounds are also advertised: the calendar property
equals the configured value."""

import http.client
import socket
import time

import requests

from caldav_helpers import (C_NS, assert_precondition, event_ics,
                            expand_prop, expanded_instances, freebusy_body,
                            multiget_body, new_calendar, parse_ical, put_ics,
                            put_ok, query_body, range_filter, report,
                            sync_body, vcalendar, vevent)
from class2_helpers import (activelock_timeout, activelocks, lock,
                            lock_rows, refresh, token_of, unlock)
from dav_helpers import (user_session, assert_status, basic_auth, count_resources_under,
                         dav, db_path, parse_multistatus, propfind,
                         propfind_one, put, raw_path_of, raw_request, unique,
                         url_path)


session = user_session


def still_serving(srv):
    """The server answers, and a DAV request still works."""
    assert_status(dav(session(), "GET", srv.url + "/healthz"), 200)
    assert_status(propfind(session(), srv.space_url("s1"), "0"), 207)


def listed(sess, url):
    """Last path segments of the members of collection URL (Depth 1)."""
    r = propfind(sess, url, "1", "prop", ["getetag"])
    assert_status(r, 207)
    base = url_path(url).rstrip("/")
    return sorted(x.path.rstrip("/").rsplit("/", 1)[1]
                  for x in parse_multistatus(r.content)
                  if x.path.rstrip("/") != base)


def uid():
    return unique("limits")


# ---------------------------------------------------------------- HTTP


def request_head_of(srv, size, method="PROPFIND"):
    """Send a Depth 0 PROPFIND of s1 whose request head (request line,
    header fields, blank line) is exactly SIZE bytes, padded in X-Pad."""
    line = "%s %s HTTP/1.1" % (method, raw_path_of(srv.space_url("s1")))
    fields = [("Authorization", basic_auth("alice")), ("Depth", "0")]

    def head(pad):
        # as raw_request writes it: Host first, Connection: close last
        lines = [line, "Host: 127.0.0.1:%d" % srv.port]
        lines += ["%s: %s" % kv for kv in fields + [("X-Pad", pad)]]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    pad = "p" * (size - len(head("")))
    assert len(head(pad)) == size
    return raw_request(srv.url, line, fields + [("X-Pad", pad)])


def test_max_header_block(new_server, seed):
    srv = new_server(extra_conf={"max_header_block": 8192})
    assert request_head_of(srv, 8192).status == 207
    r = request_head_of(srv, 8193)
    assert r.status == 431, r
    assert r.header("connection") == "close"
    # A head far beyond it, as libmicrohttpd's own buffer cannot hold it.
    assert request_head_of(srv, 1 << 20).status == 431
    # A refused PUT stores nothing.
    coll = srv.space_url("s1") + unique("hdr") + "/"
    assert_status(dav(session(), "MKCOL", coll), 201)
    r = raw_request(srv.url, "PUT %s HTTP/1.1" % raw_path_of(coll + "f.txt"),
                    [("Authorization", basic_auth("alice")),
                     ("X-Pad", "p" * 8192), ("Content-Length", "1")],
                    body=b"x", send_body_in_thread=True)
    assert r.status == 431, r

    still_serving(srv)
    assert listed(session(), coll) == []


def test_max_connections_per_client(new_server, seed):
    srv = new_server(extra_conf={"max_connections_per_client": 4})
    path = raw_path_of(srv.space_url("s1"))
    auth = {"Authorization": basic_auth("alice"), "Depth": "0"}

    def connect():
        return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)

    def propfind_on(conn):
        conn.request("PROPFIND", path, headers=auth)
        r = conn.getresponse()
        r.read()
        return r

    conns = [connect() for _ in range(4)]
    idle = []
    try:
        # Four connections, kept open, each served.
        for c in conns:
            assert propfind_on(c).status == 207
        # The fifth is answered 429 and closed; a PUT on it stores nothing.
        extra = connect()
        r = propfind_on(extra)
        assert r.status == 429
        assert r.getheader("Connection") == "close"
        assert r.getheader("Retry-After") is not None
        extra.close()
        extra = connect()
        extra.request("PUT", path + "over-limit.txt", body=b"x",
                      headers=dict(auth, **{"Content-Length": "1"}))
        r = extra.getresponse()
        r.read()
        assert r.status == 429
        extra.close()
        # Once one of the four is closed, a new connection is served (as
        # soon as the server has seen the close).
        conns.pop().close()
        deadline = time.monotonic() + 10
        while True:
            c = connect()
            status = propfind_on(c).status
            if status == 207 or time.monotonic() > deadline:
                break
            c.close()
            time.sleep(0.1)
        assert status == 207
        conns.append(c)
        # Sixteen more may wait for their 429; past those, connections
        # are closed without an answer.  (First let the server see the
        # closes of the refused connections above.)
        time.sleep(0.5)
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            idle.append(s)
        time.sleep(0.5)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = s.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        finally:
            s.close()
        assert got == b"", got
    finally:
        for c in conns:
            c.close()
        for s in idle:
            s.close()

    # The server sees the closes a moment later.
    deadline = time.monotonic() + 10
    while True:
        try:
            status = dav(session(), "GET", srv.url + "/healthz").status_code
        except requests.ConnectionError:
            status = None
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    still_serving(srv)
    assert dav(session(), "GET", srv.space_url("s1") + "over-limit.txt"
               ).status_code == 404


# ---------------------------------------------------------------- XML


Z_NS = "urn:parvis-test:limits"


def new_file(srv, sess):
    """URL of a fresh file in a fresh collection of s1."""
    coll = srv.space_url("s1") + unique("coll") + "/"
    assert_status(dav(sess, "MKCOL", coll), 201)
    assert_status(put(sess, coll + "f.txt", b"content"), 201)
    return coll + "f.txt"


def set_dead(sess, url, name, inner):
    """PROPPATCH setting Z:name to INNER: the document holds 6 nodes
    (propertyupdate, its 2 namespace declarations, set, prop, Z:name) and
    is 5 elements deep, plus what INNER adds."""
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="%s"><D:set><D:prop>'
            '<Z:%s>%s</Z:%s></D:prop></D:set></D:propertyupdate>'
            % (Z_NS, name, inner, name))
    return dav(sess, "PROPPATCH", url, data=body.encode(),
               headers={"Content-Type": "application/xml"})


def dead_props(sess, url, *names):
    """{name: status} of dead properties Z:name (Depth 0 PROPFIND)."""
    resp = propfind_one(sess, url, "prop",
                        ["{%s}%s" % (Z_NS, n) for n in names])
    return {n: resp.props["{%s}%s" % (Z_NS, n)][0] for n in names}


def test_max_xml_depth(new_server, seed):
    srv = new_server(extra_conf={"max_xml_depth": 16})
    alice = session()
    url = new_file(srv, alice)
    # propertyupdate, set, prop, Z:name: 4 levels, then 12 more = 16.
    assert_status(set_dead(alice, url, "deep", "<Z:i>" * 12 + "</Z:i>" * 12),
                  207)
    r = set_dead(alice, url, "deeper", "<Z:i>" * 13 + "</Z:i>" * 13)
    assert_status(r, 400)

    still_serving(srv)
    assert dead_props(alice, url, "deep", "deeper") == \
        {"deep": 200, "deeper": 404}


def test_max_xml_nodes(new_server, seed):
    srv = new_server(extra_conf={"max_xml_nodes": 100})
    alice = session()
    url = new_file(srv, alice)
    # 6 nodes, then 94 children = 100.
    assert_status(set_dead(alice, url, "many", "<Z:i/>" * 94), 207)
    assert_status(set_dead(alice, url, "more", "<Z:i/>" * 95), 413)
    # Attributes, text and comments are nodes too.
    assert_status(set_dead(alice, url, "attrs", '<Z:i a="1"/>' * 48), 413)
    assert_status(set_dead(alice, url, "text", "t<!---->" * 48), 413)
    assert_status(set_dead(alice, url, "text2", "t<!---->" * 47), 207)

    still_serving(srv)
    assert dead_props(alice, url, "many", "more", "attrs", "text",
                      "text2") == \
        {"many": 200, "more": 404, "attrs": 404, "text": 404, "text2": 200}


def test_max_props_per_request(new_server, seed):
    srv = new_server(extra_conf={"max_props_per_request": 16})
    alice = session()
    url = new_file(srv, alice)
    names = ["{%s}p%d" % (Z_NS, i) for i in range(17)]

    # PROPFIND
    resp = propfind_one(alice, url, "prop", names[:16])
    assert len(resp.props) == 16
    assert_status(propfind(alice, url, "0", "prop", names), 413)
    # PROPPATCH: within the bound all are set; beyond it none is.
    sets = "".join("<Z:p%d>v</Z:p%d>" % (i, i) for i in range(17))
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:Z="%s"><D:set><D:prop>'
            '%%s</D:prop></D:set></D:propertyupdate>' % Z_NS)
    xml = {"Content-Type": "application/xml"}
    r = dav(alice, "PROPPATCH", url, headers=xml,
            data=(body % sets.replace("<Z:p16>v</Z:p16>", "")).encode())
    assert_status(r, 207)
    r = dav(alice, "PROPPATCH", url, headers=xml,
            data=(body % sets.replace("p", "q")).encode())
    assert_status(r, 413)
    # REPORTs name properties too: sync-collection and calendar-multiget.
    coll = url.rsplit("/", 1)[0] + "/"
    r = report(alice, coll, sync_body("", prop_xml="".join(
        "<Z:p%d xmlns:Z='%s'/>" % (i, Z_NS) for i in range(16))))
    assert_status(r, 207)
    r = report(alice, coll, sync_body("", prop_xml="".join(
        "<Z:p%d xmlns:Z='%s'/>" % (i, Z_NS) for i in range(17))))
    assert_status(r, 413)
    cal = new_calendar(srv, alice)
    put_ok(alice, cal + "e.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    props = "<C:calendar-data/>" + "".join(
        "<Z:p%d xmlns:Z='%s'/>" % (i, Z_NS) for i in range(15))
    r = report(alice, cal, multiget_body([url_path(cal) + "e.ics"], props))
    assert_status(r, 207)
    r = report(alice, cal, multiget_body([url_path(cal) + "e.ics"],
                                         props + "<D:getetag/>"))
    assert_status(r, 413)

    still_serving(srv)
    for x, status in (("p", 200), ("q", 404)):
        assert dead_props(alice, url, *["%s%d" % (x, i) for i in range(16)]) \
            == {"%s%d" % (x, i): status for i in range(16)}


def big_propfind(size):
    """An allprop PROPFIND body of exactly SIZE bytes (padded in a
    comment, which is one node)."""
    head = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><!-- '
    tail = b' --><D:allprop/></D:propfind>'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_max_xml_body(new_server, seed):
    srv = new_server(extra_conf={"max_xml_body": 2048})
    alice = session()
    url = new_file(srv, alice)
    r = propfind(alice, url, "0", body=big_propfind(2048))
    assert_status(r, 207)
    assert_status(propfind(alice, url, "0", body=big_propfind(2049)), 413)
    # A PROPPATCH past the bound stores nothing.
    pad = "<!-- %s -->"
    r = set_dead(alice, url, "small", pad % ("x" * 1800))
    assert_status(r, 207)
    r = set_dead(alice, url, "large", pad % ("x" * 2100))
    assert_status(r, 413)

    still_serving(srv)
    assert dead_props(alice, url, "small", "large") == \
        {"small": 200, "large": 404}


# ---------------------------------------------------------------- locks


def test_lock_timeout_max(new_server, seed, cluster):
    # Not refused: RFC 4918 §10.7 lets the server grant a shorter timeout
    # than asked, and the answer says which.
    srv = new_server(extra_conf={"lock_timeout_max": 60})
    alice = session()
    url = new_file(srv, alice)
    for asked, granted in (("Second-59", "Second-59"),
                           ("Second-60", "Second-60"),
                           ("Second-61", "Second-60"),
                           ("Infinite", "Second-60"),
                           (None, "Second-60")):
        r = lock(alice, url, timeout=asked)
        assert_status(r, 200, 201)
        assert [activelock_timeout(a) for a in activelocks(r.content)] == \
            [granted], asked
        token = token_of(r)
        assert [row[3] for row in lock_rows(cluster, token)] == \
            [granted.split("-")[1]]
        # A refresh asking for more gets no more either.
        r = refresh(alice, url, token, timeout="Second-3600")
        assert_status(r, 200)
        assert [activelock_timeout(a) for a in activelocks(r.content)] == \
            ["Second-60"]
        assert_status(unlock(alice, url, token), 204)

    still_serving(srv)


# ---------------------------------------------------------------- listings


def test_max_propfind_members(new_server, seed, cluster):
    srv = new_server(extra_conf={"max_propfind_members": 100})
    alice = session()
    coll = srv.space_url("s1") + unique("many") + "/"
    assert_status(dav(alice, "MKCOL", coll), 201)
    for i in range(100):
        assert_status(put(alice, coll + "f%03d.txt" % i, b"x"), 201)
    assert len(listed(alice, coll)) == 100
    assert_status(put(alice, coll + "f100.txt", b"x"), 201)
    r = propfind(alice, coll, "1")
    assert_precondition(r, 403, "DAV:", "number-of-matches-within-limits")
    # The folder itself and each member stay reachable.
    assert_status(propfind(alice, coll, "0"), 207)
    assert dav(alice, "GET", coll + "f100.txt").content == b"x"
    # A COPY makes no more resources than a listing may show: the folder
    # and its 101 members are 102 (each copy could double a tree of empty
    # files, which a quota of bytes does not count).
    r = dav(alice, "COPY", coll, headers={"Destination": coll[:-1] + "-copy/",
                                          "Depth": "infinity"})
    assert_status(r, 507)
    assert dav(alice, "PROPFIND", coll[:-1] + "-copy/",
               headers={"Depth": "0"}).status_code == 404
    assert_status(dav(alice, "DELETE", coll + "f100.txt"), 204)
    assert_status(dav(alice, "DELETE", coll + "f099.txt"), 204)
    r = dav(alice, "COPY", coll, headers={"Destination": coll[:-1] + "-copy/",
                                          "Depth": "infinity"})
    assert_status(r, 201)
    assert len(listed(alice, coll[:-1] + "-copy/")) == 99

    # Nor does a calendar-multiget answer for more objects.
    cal = new_calendar(srv, alice)
    names = [raw_path_of(cal) + "e%d.ics" % i for i in range(101)]
    r = report(alice, cal, multiget_body(names))
    assert_precondition(r, 403, "DAV:", "number-of-matches-within-limits")
    assert_status(report(alice, cal, multiget_body(names[:100])), 207)

    still_serving(srv)
    assert count_resources_under(cluster, db_path(coll)) == 100


# ---------------------------------------------------------------- CalDAV


def calendar_prop(sess, cal, name):
    el = propfind_one(sess, cal, "prop", ["{%s}%s" % (C_NS, name)]) \
        .ok_props().get("{%s}%s" % (C_NS, name))
    assert el is not None, name
    return el.text


def sized_event(size):
    """An event of exactly SIZE bytes (padded in its DESCRIPTION)."""
    base = event_ics(uid(), "DTSTART:20240110T100000Z", "DESCRIPTION:")
    text = event_ics(uid(), "DTSTART:20240110T100000Z",
                     "DESCRIPTION:" + "x" * (size - len(base)))
    assert len(text.encode()) == size
    return text


def test_max_resource_size(new_server, seed):
    srv = new_server(extra_conf={"max_resource_size": 2048})
    alice = session()
    cal = new_calendar(srv, alice)
    assert calendar_prop(alice, cal, "max-resource-size") == "2048"

    put_ok(alice, cal + "at-limit.ics", sized_event(2048))
    r = put_ics(alice, cal + "over.ics", sized_event(2049))
    assert_precondition(r, 403, C_NS, "max-resource-size")
    # Without Content-Length (chunked), the bound holds as the body arrives.
    data = sized_event(2049).encode()
    r = dav(alice, "PUT", cal + "over-chunked.ics",
            data=iter([data[:1000], data[1000:]]),
            headers={"Content-Type": "text/calendar"})
    assert_precondition(r, 403, C_NS, "max-resource-size")
    # A MOVE into the calendar is a PUT there (RFC 4791 §5.3.2.1).
    coll = srv.space_url("s1") + unique("plain") + "/"
    assert_status(dav(alice, "MKCOL", coll), 201)
    assert_status(put(alice, coll + "big.ics", data,
                      headers={"Content-Type": "text/calendar"}), 201)
    r = dav(alice, "MOVE", coll + "big.ics",
            headers={"Destination": cal + "moved.ics"})
    assert_precondition(r, 403, C_NS, "max-resource-size")

    still_serving(srv)
    assert listed(alice, cal) == ["at-limit.ics"]
    assert dav(alice, "GET", coll + "big.ics").content == data


def test_max_instances_per_object(new_server, seed):
    srv = new_server(extra_conf={"max_instances": 100})
    alice = session()
    cal = new_calendar(srv, alice)
    assert calendar_prop(alice, cal, "max-instances") == "100"

    put_ok(alice, cal + "at-limit.ics", event_ics(
        uid(), "DTSTART:20240101T090000Z", "DURATION:PT1H",
        "RRULE:FREQ=DAILY;COUNT=100"))
    r = put_ics(alice, cal + "over.ics", event_ics(
        uid(), "DTSTART:20240101T090000Z", "DURATION:PT1H",
        "RRULE:FREQ=DAILY;COUNT=101"))
    assert_precondition(r, 403, C_NS, "max-instances")

    still_serving(srv)
    assert listed(alice, cal) == ["at-limit.ics"]


def test_max_instances_per_report(new_server, seed):
    srv = new_server(extra_conf={"max_instances": 100})
    alice = session()
    cal = new_calendar(srv, alice)
    for name in ("a.ics", "b.ics"):
        put_ok(alice, cal + name, event_ics(
            uid(), "DTSTART:20240101T090000Z", "DURATION:PT1H",
            "RRULE:FREQ=DAILY"))
    start, fifty, fifty_one = ("20240101T000000Z", "20240220T000000Z",
                               "20240221T000000Z")

    # calendar-query with expand: 2 x 50 instances, then 2 x 51.
    assert len(expanded_instances(alice, cal, start, fifty)) == 100
    r = report(alice, cal, query_body(range_filter(start, fifty_one),
                                      expand_prop(start, fifty_one)))
    assert_precondition(r, 403, C_NS, "max-instances")
    # calendar-multiget with expand: the same bound over the report.
    hrefs = [url_path(cal) + n for n in ("a.ics", "b.ics")]
    for end, status in ((fifty, 207), (fifty_one, 403)):
        r = report(alice, cal, multiget_body(
            hrefs, "<D:getetag/>" + expand_prop(start, end)))
        assert r.status_code == status, (end, r.status_code, r.text[:500])
    assert_precondition(r, 403, C_NS, "max-instances")
    # free-busy-query: one busy period per instance.
    r = report(alice, cal, freebusy_body(start, fifty), depth="1")
    assert_status(r, 200)
    assert len([p for c in parse_ical(r.text).walk("VFREEBUSY")
                for p in c.all("FREEBUSY")]) == 100
    r = report(alice, cal, freebusy_body(start, fifty_one), depth="1")
    assert_precondition(r, 403, C_NS, "max-instances")

    still_serving(srv)
    assert listed(alice, cal) == ["a.ics", "b.ics"]


def attendees(n):
    return ["ATTENDEE;CN=Guest %d:mailto:guest%d@example.org" % (i, i)
            for i in range(n)]


def test_max_attendees(new_server, seed):
    srv = new_server(extra_conf={"max_attendees": 5})
    alice = session()
    cal = new_calendar(srv, alice)
    assert calendar_prop(alice, cal, "max-attendees-per-instance") == "5"

    organizer = "ORGANIZER:mailto:alice@example.org"
    put_ok(alice, cal + "at-limit.ics", event_ics(
        uid(), "DTSTART:20240110T100000Z", organizer, *attendees(5)))
    r = put_ics(alice, cal + "over.ics", event_ics(
        uid(), "DTSTART:20240110T100000Z", organizer, *attendees(6)))
    assert_precondition(r, 403, C_NS, "max-attendees-per-instance")
    # The bound is per instance: an overridden instance is counted apart.
    u = uid()
    r = put_ics(alice, cal + "override-over.ics", vcalendar(
        vevent(u, "DTSTART:20240110T100000Z", "RRULE:FREQ=DAILY;COUNT=3",
               organizer, *attendees(5)),
        vevent(u, "RECURRENCE-ID:20240111T100000Z",
               "DTSTART:20240111T110000Z", organizer, *attendees(6))))
    assert_precondition(r, 403, C_NS, "max-attendees-per-instance")

    still_serving(srv)
    assert listed(alice, cal) == ["at-limit.ics"]


# ------------------------------------------------------------ fixed bounds

def test_dead_properties_are_bounded_per_resource(server, seed):
    """DAV_PROP_VALUE_MAX, DAV_PROPS_MAX, DAV_PROPS_BYTES_MAX: a PROPPATCH
    beyond them is refused whole (507) and what was stored stays."""
    alice = session()
    url = server.space_url("s1") + unique("props") + ".txt"
    assert_status(put(alice, url, b"x"), 201)

    def patch(props):
        body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" '
                'xmlns:Z="urn:z"><D:set><D:prop>%s</D:prop></D:set>'
                '</D:propertyupdate>' % "".join(
                    "<Z:%s>%s</Z:%s>" % (n, v, n) for n, v in props))
        return dav(alice, "PROPPATCH", url, data=body,
                   headers={"Content-Type": "application/xml"})

    assert_status(patch([("big", "v" * 65000)]), 207)
    assert_status(patch([("big2", "v" * 66000)]), 507)
    # 256 KiB in all: three more of 64,000 pass, the fifth does not.
    for i in range(3):
        assert_status(patch([("p%d" % i, "v" * 64000)]), 207)
    assert_status(patch([("p3", "v" * 64000)]), 507)
    # Replacing one is no growth.
    assert_status(patch([("p0", "w" * 64000)]), 207)
    # At most 1,000 properties.
    other = server.space_url("s1") + unique("props") + ".txt"
    assert_status(put(alice, other, b"x"), 201)
    url = other
    for k in range(4):
        assert_status(patch([("n%d" % i, "1")
                             for i in range(250 * k, 250 * k + 250)]), 207)
    assert_status(patch([("n1000", "1")]), 507)
    r = propfind(alice, url, "0", "allprop")
    assert b"n999" in r.content and b"n1000" not in r.content
    still_serving(server)
