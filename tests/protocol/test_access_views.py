"""Access control through the views and reports that reach a resource
other than by its own URL: a history restore, calendar reports, the
trash and the published view answer for a principal exactly what the
resource's own URL would (DESIGN.md: what one may not read is absent;
what one may not create is refused)."""

import re
import uuid

from access_helpers import ace_xml, acl_request, add_guest, principal_href
from caldav_helpers import event_ics
from dav_helpers import XML_HEADERS, assert_status, dav, mkcol, propfind, put
from workflow_helpers import (p, proppatch_statuses, published_url,
                              set_approval, short, trash_url)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def test_restore_to_a_new_name_needs_bind(server, ctl, session_for):
    """A guest granted read and write-content on a folder may overwrite
    its files but not add one (RFC 3744 §3.9): not by PUT, and not by
    restoring a revision under a new name."""
    mgr = session_for("mgr")
    guest = add_guest(ctl, short("g"), "2099-12-31")
    name = unique("wc")
    folder = server.space_url("s1") + name + "/"
    assert_status(mkcol(mgr, folder), 201)
    f = folder + "a.txt"
    assert_status(put(mgr, f, b"A\n"), 201)
    ctl("acl", "grant", "s1/" + name, guest, "read,write-content")
    g = session_for(guest)
    assert_status(put(g, f, b"A2\n"), 204)
    assert put(g, folder + "new.txt", b"N\n").status_code == 403
    hist = f.replace("/dav/spaces/", "/dav/history/") + "/"
    r = propfind(g, hist, "1", "prop", ["{DAV:}displayname"])
    first = [h for h in re.findall(r"<D:href>([^<]*)</D:href>", r.text)
             if re.search(r"/r1(%20|$| )", h)]
    assert first, r.text
    r = dav(g, "COPY", server.url + first[0],
            headers={"Destination": folder + "restored.txt"})
    assert r.status_code == 403, r.status_code
    assert dav(mgr, "GET", folder + "restored.txt").status_code == 404
    # onto the existing file, write-content is enough
    r = dav(g, "COPY", server.url + first[0], headers={"Destination": f})
    assert r.status_code == 204, r.status_code
    assert dav(mgr, "GET", f).content == b"A\n"


QUERY_ALL = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
             'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>'
             '<C:calendar-data/></D:prop><C:filter>'
             '<C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')


def test_calendar_reports_leave_out_a_denied_event(server, session_for):
    """An access control entry denying bob (reader) one event: calendar-query
    leaves it out and calendar-multiget answers 404 for it, as a GET of it
    does; the other event is served."""
    mgr, bob = session_for("mgr"), session_for("bob")
    cal = unique("zc")
    own = "%s/dav/calendars/mgr/s1.%s/" % (server.url, cal)
    assert dav(mgr, "MKCALENDAR", own).status_code == 201
    for name, summary in (("hidden", "HIDDEN-MEETING"), ("open", "OPEN-MEETING")):
        r = dav(mgr, "PUT", own + name + ".ics",
                data=event_ics(unique(name), "DTSTART:20260105T100000Z",
                               "SUMMARY:" + summary).encode(),
                headers={"Content-Type": "text/calendar"})
        assert r.status_code == 201, r.text
    r = acl_request(mgr, own + "hidden.ics",
                    ace_xml(principal_href("bob"), ["read"], grant=False))
    assert_status(r, 200)
    seen = "%s/dav/calendars/bob/s1.%s/" % (server.url, cal)
    assert dav(bob, "GET", seen + "hidden.ics").status_code == 404
    r = dav(bob, "REPORT", seen, data=QUERY_ALL,
            headers=dict(XML_HEADERS, Depth="1"))
    assert r.status_code == 207, r.text
    assert "OPEN-MEETING" in r.text
    assert "HIDDEN-MEETING" not in r.text and "hidden.ics" not in r.text
    body = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>'
            '<C:calendar-data/></D:prop><D:href>/dav/calendars/bob/s1.%s/'
            'hidden.ics</D:href><D:href>/dav/calendars/bob/s1.%s/open.ics'
            '</D:href></C:calendar-multiget>' % (cal, cal))
    r = dav(bob, "REPORT", seen, data=body,
            headers=dict(XML_HEADERS, Depth="1"))
    assert r.status_code == 207, r.text
    assert "HIDDEN-MEETING" not in r.text and "OPEN-MEETING" in r.text
    hidden = re.search(r"<D:response><D:href>[^<]*hidden\.ics</D:href>"
                       r"<D:status>([^<]*)</D:status>", r.text)
    assert hidden and " 404 " in hidden.group(1), r.text
