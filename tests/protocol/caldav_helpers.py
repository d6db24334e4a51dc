"""Helpers for the CalDAV protocol tests (test_caldav*.py): iCalendar text
builders, calendar creation, the REPORT bodies of RFC 4791 and RFC 6578,
and a small iCalendar reader for calendar-data and free-busy answers.

The reader is deliberately independent of the server's library (libical):
it unfolds lines and splits components, nothing more, so the tests check
what the server sends, not what a parser would make of it.
"""

import re
import uuid

import pytest

from dav_helpers import XML_HEADERS, dav, parse_multistatus, url_path

C_NS = "urn:ietf:params:xml:ns:caldav"
CS_NS = "http://calendarserver.org/ns/"
A_NS = "http://apple.com/ns/ical/"
NSMAP = {"D": "DAV:", "C": C_NS, "CS": CS_NS, "A": A_NS}
SYNC_TOKEN_RE = re.compile(r"^http://parvis\.org/ns/sync/\d+-\d+-\d+$")

CAL_CT = {"Content-Type": "text/calendar; charset=utf-8"}

# ------------------------------------------------------------ time zones
# Written out here (not taken from a library) so that the tests depend on
# the rules below only.

VTZ_PARIS = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "TZNAME:CEST\r\n"
    "DTSTART:19810329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\n"
    "DTSTART:19961027T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n")

# US Eastern: first Sunday of April to last Sunday of October until 2006,
# second Sunday of March to first Sunday of November from 2007.
VTZ_NEW_YORK = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:America/New_York\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\n"
    "TZNAME:EDT\r\n"
    "DTSTART:19870405T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:-0400\r\n"
    "TZOFFSETTO:-0500\r\n"
    "TZNAME:EST\r\n"
    "DTSTART:19671029T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z\r\n"
    "END:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\n"
    "TZNAME:EDT\r\n"
    "DTSTART:20070311T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:-0400\r\n"
    "TZOFFSETTO:-0500\r\n"
    "TZNAME:EST\r\n"
    "DTSTART:20071104T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n")

# ------------------------------------------------------------ iCalendar text


def component(kind, uid, *lines, dtstamp=True):
    """BEGIN:kind / UID / DTSTAMP / lines / END:kind, CRLF-terminated.
    uid=None leaves UID out."""
    out = ["BEGIN:" + kind]
    if uid is not None:
        out.append("UID:" + uid)
    if dtstamp:
        out.append("DTSTAMP:20240101T000000Z")
    out += list(lines)
    out.append("END:" + kind)
    return "\r\n".join(out) + "\r\n"


def vevent(uid, *lines):
    return component("VEVENT", uid, *lines)


def vtodo(uid, *lines):
    return component("VTODO", uid, *lines)


def vcalendar(*components, extra=""):
    """A VCALENDAR around the components; extra goes right after PRODID
    (a METHOD line, VTIMEZONEs)."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            "PRODID:-//Parvis tests//CalDAV//EN\r\n"
            + extra + "".join(components) + "END:VCALENDAR\r\n")


def event_ics(uid, *lines, extra=""):
    return vcalendar(vevent(uid, *lines), extra=extra)


def todo_ics(uid, *lines, extra=""):
    return vcalendar(vtodo(uid, *lines), extra=extra)


# ------------------------------------------------------------ a tiny reader

class Comp:
    def __init__(self, name):
        self.name = name
        self.props = []        # [(NAME, {PARAM: value}, value)]
        self.children = []

    def all(self, name):
        return [p for p in self.props if p[0] == name.upper()]

    def value(self, name):
        ps = self.all(name)
        return ps[0][2] if ps else None

    def param(self, name, param):
        ps = self.all(name)
        return ps[0][1].get(param.upper()) if ps else None

    def walk(self, name):
        """Descendant components named `name` (depth first)."""
        out = []
        for c in self.children:
            if c.name == name.upper():
                out.append(c)
            out += c.walk(name)
        return out

    def __repr__(self):
        return "<Comp %s %s>" % (self.name, self.props)


def unfold(text):
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"\n[ \t]", "", text).split("\n")


def _split_params(head):
    """'DTSTART;TZID="a;b";VALUE=DATE' -> ('DTSTART', {'TZID': 'a;b', ...})"""
    parts, cur, quoted = [], "", False
    for ch in head:
        if ch == '"':
            quoted = not quoted
            cur += ch
        elif ch == ";" and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.upper()] = v[1:-1] if v.startswith('"') and v.endswith('"') else v
    return parts[0].upper(), params


def _split_line(line):
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[:i], line[i + 1:]
    raise AssertionError("not a content line: %r" % line)


def parse_ical(text):
    """The top component (VCALENDAR) of iCalendar text."""
    stack = [Comp("ROOT")]
    for line in unfold(text):
        if not line.strip():
            continue
        head, value = _split_line(line)
        name, params = _split_params(head)
        if name == "BEGIN":
            c = Comp(value.strip().upper())
            stack[-1].children.append(c)
            stack.append(c)
        elif name == "END":
            assert stack[-1].name == value.strip().upper(), (line, stack)
            stack.pop()
        else:
            stack[-1].props.append((name, params, value))
    assert len(stack) == 1, "unbalanced BEGIN/END in %r" % text[:500]
    assert len(stack[0].children) == 1, text[:500]
    return stack[0].children[0]


# ------------------------------------------------------------ calendars


def cal_home(user):
    return "/dav/calendars/%s/" % user


def new_calendar(server, sess, user="alice", slug="s1", name=None, body=None,
                 method="MKCALENDAR"):
    """MKCALENDAR (or MKCOL with body) /dav/calendars/USER/SLUG.NAME/ (or
    /NAME/ for slug=None: a personal calendar); asserts 201, returns the
    URL."""
    name = name or "cal" + uuid.uuid4().hex[:10]
    seg = name if slug is None else "%s.%s" % (slug, name)
    url = server.url + cal_home(user) + seg + "/"
    headers = dict(XML_HEADERS) if body else {}
    r = dav(sess, method, url, data=body, headers=headers)
    assert r.status_code == 201, "%s %s -> %d\n%s" % (method, url, r.status_code,
                                                      r.text[:2000])
    return url


def mkcalendar_body(props_xml):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="%s" xmlns:A="%s">'
            '<D:set><D:prop>%s</D:prop></D:set></C:mkcalendar>'
            % (C_NS, A_NS, props_xml)).encode()


def put_ics(sess, url, text, headers=None):
    h = dict(CAL_CT)
    h.update(headers or {})
    data = text.encode("utf-8") if isinstance(text, str) else text
    return dav(sess, "PUT", url, data=data, headers=h)


def put_ok(sess, url, text, headers=None):
    r = put_ics(sess, url, text, headers)
    assert r.status_code in (201, 204), "PUT %s -> %d\n%s" % (url, r.status_code,
                                                              r.text[:2000])
    return r


def error_condition(r):
    """(namespace, local name[, href]) of the precondition element of a
    DAV:error body."""
    from lxml import etree
    root = etree.fromstring(r.content)
    assert root.tag == "{DAV:}error", r.text
    kids = list(root)
    assert len(kids) == 1, r.text
    el = kids[0]
    ns, name = el.tag[1:].split("}", 1)
    return ns, name, el


def assert_precondition(r, status, ns, name):
    assert r.status_code == status, "%s %s -> %d (want %d %s)\n%s" % (
        r.request.method, r.request.url, r.status_code, status, name, r.text[:2000])
    got_ns, got_name, el = error_condition(r)
    assert (got_ns, got_name) == (ns, name), r.text
    return el


# ------------------------------------------------------------ reports


def report(sess, url, body, depth="1"):
    headers = dict(XML_HEADERS)
    if depth is not None:
        headers["Depth"] = depth
    return dav(sess, "REPORT", url, data=body.encode("utf-8"), headers=headers)


def query_body(filter_xml, prop_xml="<D:getetag/>"):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<C:calendar-query xmlns:D="DAV:" xmlns:C="%s">'
            '<D:prop>%s</D:prop><C:filter>%s</C:filter></C:calendar-query>'
            % (C_NS, prop_xml, filter_xml))


def comp_filter(*inner, name="VEVENT"):
    """<comp-filter VCALENDAR><comp-filter name>inner</></>."""
    return ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="%s">%s'
            '</C:comp-filter></C:comp-filter>' % (name, "".join(inner)))


def time_range(start=None, end=None):
    attrs = ""
    if start:
        attrs += ' start="%s"' % start
    if end:
        attrs += ' end="%s"' % end
    return "<C:time-range%s/>" % attrs


def range_filter(start=None, end=None, comp="VEVENT"):
    return comp_filter(time_range(start, end), name=comp)


def calendar_query(sess, cal_url, filter_xml, prop_xml="<D:getetag/>", depth="1"):
    r = report(sess, cal_url, query_body(filter_xml, prop_xml), depth)
    assert r.status_code == 207, "calendar-query -> %d\n%s" % (r.status_code,
                                                              r.text[:3000])
    return parse_multistatus(r.content)


def names(resps):
    """Sorted last path segments of multistatus responses."""
    return sorted(url_path(x.href).rstrip("/").rsplit("/", 1)[1] for x in resps)


def query_names(sess, cal_url, filter_xml):
    return names(calendar_query(sess, cal_url, filter_xml))


def calendar_data(resp):
    el = resp.ok_props().get("{%s}calendar-data" % C_NS)
    assert el is not None, resp
    return el.text or ""


def expand_prop(start, end):
    return ('<C:calendar-data><C:expand start="%s" end="%s"/></C:calendar-data>'
            % (start, end))


def expanded_instances(sess, cal_url, start, end, filter_xml=None):
    """calendar-query over [start, end) with C:expand on the same window:
    sorted [(UID, DTSTART, RECURRENCE-ID or None, SUMMARY)] of every
    returned instance."""
    if filter_xml is None:
        filter_xml = range_filter(start, end)
    out = []
    for resp in calendar_query(sess, cal_url, filter_xml, expand_prop(start, end)):
        cal = parse_ical(calendar_data(resp))
        for kind in ("VEVENT", "VTODO"):
            for c in cal.walk(kind):
                out.append((c.value("UID"), c.value("DTSTART"),
                            c.value("RECURRENCE-ID"), c.value("SUMMARY")))
    return sorted(out, key=lambda t: (t[1], t[0]))


def multiget_body(hrefs, prop_xml="<D:getetag/><C:calendar-data/>"):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="%s">'
            '<D:prop>%s</D:prop>%s</C:calendar-multiget>'
            % (C_NS, prop_xml, "".join("<D:href>%s</D:href>" % h for h in hrefs)))


def freebusy_body(start, end):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<C:free-busy-query xmlns:C="%s"><C:time-range start="%s" end="%s"/>'
            '</C:free-busy-query>' % (C_NS, start, end))


def sync_body(token, level="1", prop_xml="<D:getetag/>"):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:sync-collection xmlns:D="DAV:"><D:sync-token>%s</D:sync-token>'
            '<D:sync-level>%s</D:sync-level><D:prop>%s</D:prop>'
            '</D:sync-collection>' % (token, level, prop_xml))


class SyncResult:
    def __init__(self, r):
        from lxml import etree
        self.status = r.status_code
        self.responses = parse_multistatus(r.content)
        root = etree.fromstring(r.content)
        tok = root.find("{DAV:}sync-token")
        self.token = tok.text.strip() if tok is not None and tok.text else None

    def changed(self):
        """{last segment: MSResponse} of members reported present."""
        return {_last(x.path): x for x in self.responses if x.status != 404}

    def removed(self):
        return sorted(_last(x.path) for x in self.responses if x.status == 404)

    def paths(self):
        return sorted(x.path for x in self.responses)


def _last(path):
    return path.rstrip("/").rsplit("/", 1)[1] + ("/" if path.endswith("/") else "")


def sync_collection(sess, url, token, depth="1", prop_xml="<D:getetag/>"):
    r = report(sess, url, sync_body(token, prop_xml=prop_xml), depth=depth)
    assert r.status_code == 207, "sync-collection -> %d\n%s" % (r.status_code,
                                                               r.text[:2000])
    res = SyncResult(r)
    assert res.token and SYNC_TOKEN_RE.match(res.token), r.text
    return res


# ------------------------------------------------------------ fixtures


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def cal(server, alice):
    """A fresh calendar (VEVENT and VTODO) of space s1, made by alice."""
    return new_calendar(server, alice)


def add_user(ctl, name, memberships=(), email=None):
    """parvisctl user add NAME (password NAME-pw) [--email], then member add
    for each (space, role)."""
    args = ["user", "add", name, "--password-stdin"]
    if email:
        args += ["--email", email]
    ctl(*args, input=name + "-pw\n")
    for space, role in memberships:
        ctl("member", "add", space, name, "--role", role)
    return name
