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
from workflow_helpers import (approve, p, proppatch_statuses, published_url,
                              set_approval, short, trash_url)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def first_revision(server, sess, file_url):
    """URL of revision 1 of a file in its history view."""
    hist = file_url.replace("/dav/spaces/", "/dav/history/") + "/"
    r = propfind(sess, hist, "1", "prop", ["{DAV:}displayname"])
    first = [h for h in re.findall(r"<D:href>([^<]*)</D:href>", r.text)
             if re.search(r"/r1(%20|$| )", h)]
    assert first, r.text
    return server.url + first[0]


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
    first = first_revision(server, g, f)
    r = dav(g, "COPY", first, headers={"Destination": folder + "restored.txt"})
    assert r.status_code == 403, r.status_code
    assert dav(mgr, "GET", folder + "restored.txt").status_code == 404
    # onto the existing file, write-content is enough
    r = dav(g, "COPY", first, headers={"Destination": f})
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
    for name, summary, at in (("hidden", "HIDDEN-MEETING", "080000"),
                              ("open", "OPEN-MEETING", "100000")):
        r = dav(mgr, "PUT", own + name + ".ics",
                data=event_ics(unique(name), "DTSTART:20260105T%sZ" % at,
                               "DURATION:PT1H",
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
    # free-busy-query counts only what bob may read: 10:00, not 08:00
    body = ('<?xml version="1.0"?><C:free-busy-query xmlns:C="urn:ietf:'
            'params:xml:ns:caldav"><C:time-range start="20260105T000000Z" '
            'end="20260106T000000Z"/></C:free-busy-query>')
    r = dav(bob, "REPORT", seen, data=body,
            headers=dict(XML_HEADERS, Depth="1"))
    assert r.status_code == 200, r.text
    periods = re.findall(r"^FREEBUSY[^:\r\n]*:([^\r\n]*)", r.text, re.M)
    assert periods == ["20260105T100000Z/20260105T110000Z"], r.text


def trash_entries(sess, server):
    """{trashed-from: entry URL} of the trash of s1 as SESS sees it."""
    r = propfind(sess, trash_url(server), "1", "prop", [p("trashed-from")])
    assert r.status_code == 207, r.text
    out = {}
    for m in re.finditer(r"<D:href>([^<]*/dav/trash/s1/[0-9]+)/?</D:href>"
                         r".*?trashed-from>([^<]*)<", r.text, re.S):
        out[m.group(2)] = server.url + m.group(1)
    return out


def test_trash_keeps_the_entries_of_the_place_it_came_from(server, ctl,
                                                         session_for):
    """A file deleted from a folder denied to bob (reader) and alice
    (editor) stays out of their reach in the trash: not listed, not read,
    not restored elsewhere; a folder deleted with its own entry too. The
    manager still sees both, and bob sees what came from an open folder."""
    mgr, bob, alice = (session_for(u) for u in ("mgr", "bob", "alice"))
    closed = unique("closed")
    folder = server.space_url("s1") + closed + "/"
    assert_status(mkcol(mgr, folder), 201)
    assert_status(put(mgr, folder + "salaries.txt", b"SECRET-SALARIES\n"), 201)
    assert_status(mkcol(mgr, folder + "sub/"), 201)
    assert_status(put(mgr, folder + "sub/plan.txt", b"SECRET-PLAN\n"), 201)
    ctl("acl", "deny", "s1/" + closed, "bob", "read")
    ctl("acl", "deny", "s1/" + closed, "alice", "read")
    opened = unique("open")
    assert_status(mkcol(mgr, server.space_url("s1") + opened + "/"), 201)
    open_file = server.space_url("s1") + opened + "/notes.txt"
    assert_status(put(mgr, open_file, b"open\n"), 201)
    for u in (folder + "salaries.txt", folder + "sub/", open_file):
        assert_status(dav(mgr, "DELETE", u), 204)
    gone_file = "/%s/salaries.txt" % closed
    gone_dir = "/%s/sub" % closed
    boss = trash_entries(mgr, server)
    assert gone_file in boss and gone_dir in boss
    for who in (bob, alice):
        seen = trash_entries(who, server)
        assert "/%s/notes.txt" % opened in seen
        assert gone_file not in seen and gone_dir not in seen, seen
        assert dav(who, "GET", boss[gone_file]).status_code == 404
        assert dav(who, "GET", boss[gone_dir] + "/plan.txt").status_code == 404
    dst = server.space_url("s1") + unique("stolen") + ".txt"
    r = dav(alice, "MOVE", boss[gone_file], headers={"Destination": dst})
    assert r.status_code == 404, r.status_code
    assert dav(mgr, "GET", dst).status_code == 404
    assert dav(mgr, "GET", boss[gone_file]).content == b"SECRET-SALARIES\n"
    # whatever becomes of the folder since: renamed, then deleted too
    moved = server.space_url("s1") + unique("renamed") + "/"
    assert_status(dav(mgr, "MOVE", folder, headers={"Destination": moved}),
                  201)
    assert_status(dav(mgr, "DELETE", moved), 204)
    for who in (bob, alice):
        assert gone_file not in trash_entries(who, server)
        assert dav(who, "GET", boss[gone_file]).status_code == 404
    # restored into an open folder, it answers to that folder's entries
    back = server.space_url("s1") + opened + "/restored.txt"
    assert_status(dav(mgr, "MOVE", boss[gone_file],
                      headers={"Destination": back}), 201)
    assert dav(bob, "GET", back).content == b"SECRET-SALARIES\n"


def test_published_view_keeps_a_folder_denied_to_a_member_hidden(
        server, ctl, session_for):
    """An approved file in a folder an entry denies to bob (reader) is not
    served to him through the published view either, nor is the folder
    listed there; a file approved in an open folder is."""
    mgr, bob = session_for("mgr"), session_for("bob")
    closed, opened = unique("pclosed"), unique("popen")
    for name in (closed, opened):
        folder = server.space_url("s1") + name + "/"
        assert_status(mkcol(mgr, folder), 201)
        assert_status(put(mgr, folder + "offer.txt", b"APPROVED\n"), 201)
        r = approve(mgr, folder + "offer.txt")
        assert proppatch_statuses(r) == {p("approval-state"): 200}
    ctl("acl", "deny", "s1/" + closed, "bob", "read")
    base = server.space_url("s1")
    assert dav(bob, "GET", base + closed + "/offer.txt").status_code == 404
    assert dav(bob, "GET", published_url(base + closed + "/offer.txt")) \
        .status_code == 404
    assert dav(bob, "GET", published_url(base + opened + "/offer.txt")) \
        .content == b"APPROVED\n"
    r = propfind(bob, published_url(base), "1", "prop", ["{DAV:}displayname"])
    assert r.status_code == 207
    assert opened in r.text and closed not in r.text
    assert dav(mgr, "GET", published_url(base + closed + "/offer.txt")) \
        .status_code == 200


def test_a_revision_is_not_restored_onto_a_calendar_object(server,
                                                           session_for):
    """A restore onto an existing event would replace it with any bytes,
    without the checks of a PUT into a calendar nor its index."""
    mgr = session_for("mgr")
    f = server.space_url("s1") + unique("plain") + ".txt"
    assert_status(put(mgr, f, b"not a calendar at all\n"), 201)
    cal = "%s/dav/calendars/mgr/s1.%s/" % (server.url, unique("rc"))
    assert dav(mgr, "MKCALENDAR", cal).status_code == 201
    ev = event_ics(unique("e"), "DTSTART:20260105T100000Z", "SUMMARY:KEPT")
    r = dav(mgr, "PUT", cal + "e.ics", data=ev.encode(),
            headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    r = dav(mgr, "COPY", first_revision(server, mgr, f),
            headers={"Destination": cal + "e.ics"})
    assert r.status_code == 403, r.status_code
    assert "SUMMARY:KEPT" in dav(mgr, "GET", cal + "e.ics").text
