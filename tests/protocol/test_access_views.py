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
