"""A MOVE into another space leaves the first space as a DELETE would and
arrives in the second as a COPY would: nothing of the first space's
rules comes along.  Whoever manages a space of their own (any user has a
personal one) could otherwise bring into a space where they only edit a
file they approved themselves, or a folder whose access control entries
they wrote, and take files out of a space beyond recovery."""

import re

import pytest

from access_helpers import ace_xml, acl_request, add_guest
from caldav_helpers import event_ics, new_calendar, put_ok
from dav_helpers import assert_status, dav, mkcol, propfind, put
from workflow_helpers import (approve, add_space, add_user, approval_state, p,
                              principal_href, proppatch_statuses,
                              published_url, revisions, set_approval, short,
                              trash_url)


def assert_needs_validator(r):
    assert r.status_code == 403, (r.status_code, r.text)
    assert b"approval-needs-validator" in r.content, r.text


@pytest.fixture(scope="module")
def spaces(ctl, seed):
    """Space 'own', where the user manages, and 'team', where they edit."""
    user = add_user(ctl, short("mover"))
    own = add_space(ctl, {user: "manager"})
    team = add_space(ctl, {user: "editor"})
    return user, own, team


@pytest.fixture
def mover(spaces, session_for):
    return session_for(spaces[0])


def test_approved_file_arrives_as_a_draft(server, spaces, mover):
    user, own, team = spaces
    src = server.space_url(own) + short("doc") + ".txt"
    assert_status(put(mover, src, b"approved in own\n"), 201)
    r = approve(mover, src)
    assert proppatch_statuses(r) == {p("approval-state"): 200}
    dst = server.space_url(team) + src.rsplit("/", 1)[1]
    assert_status(dav(mover, "MOVE", src, headers={"Destination": dst}), 201)
    assert approval_state(mover, dst) == "draft"
    assert dav(mover, "GET", published_url(dst)).status_code == 404
    # an editor still cannot approve it there
    assert_needs_validator(set_approval(mover, dst, "approved"))


def test_access_entries_stay_behind(server, spaces, mover, ctl,
                                    session_for):
    user, own, team = spaces
    guest = add_guest(ctl, short("g"), "2099-12-31")
    name = short("share")
    src = server.space_url(own) + name + "/"
    assert_status(mkcol(mover, src), 201)
    assert_status(put(mover, src + "doc.txt", b"x\n"), 201)
    r = acl_request(mover, src, ace_xml(principal_href(user), ["all"]),
                    ace_xml(principal_href(guest), ["read", "write"]))
    assert_status(r, 200)
    dst = server.space_url(team) + name + "/"
    assert_status(dav(mover, "MOVE", src, headers={"Destination": dst}), 201)
    # the entries did not come: an editor, and a guest with nothing there
    assert_needs_validator(set_approval(mover, dst + "doc.txt", "approved"))
    r = acl_request(mover, dst, ace_xml(principal_href("bob"), ["all"]))
    assert r.status_code == 403, r.status_code
    g = session_for(guest)
    assert dav(g, "GET", dst + "doc.txt").status_code in (401, 403, 404)
    assert dav(g, "PUT", dst + "g.txt", data=b"g").status_code in (401, 403,
                                                                    404, 409)


def test_what_leaves_a_space_goes_to_its_trash(server, spaces, mover,
                                               session_for, ctl):
    """The manager of the first space can restore what was taken out of it,
    with its history; the copy starts its own."""
    user, own, team = spaces
    # the mover edits 'team' and manages 'own': take a file out of 'team'
    src = server.space_url(team) + short("kept") + ".txt"
    assert_status(put(mover, src, b"v1\n"), 201)
    assert_status(put(mover, src, b"v2\n"), 204)
    dst = server.space_url(own) + src.rsplit("/", 1)[1]
    assert_status(dav(mover, "MOVE", src, headers={"Destination": dst}), 201)
    assert dav(mover, "GET", src).status_code == 404
    assert dav(mover, "GET", dst).content == b"v2\n"
    assert len(revisions(mover, dst)) == 1
    # in the trash of 'team', with both revisions, for its manager
    boss = add_user(ctl, short("boss"))
    ctl("member", "add", team, boss, "--role", "manager")
    r = propfind(session_for(boss), trash_url(server, team), "1", "prop",
                 [p("trashed-from")])
    assert src.rsplit("/", 1)[1] in r.text, r.text


def test_a_move_carries_only_what_the_mover_may_read(server, spaces, mover,
                                                     ctl):
    """As a COPY does: a member an entry hides from the mover does not go
    into the other space; it stays in the first space's trash."""
    user, own, team = spaces
    name = short("proj")
    src = server.space_url(team) + name + "/"
    assert_status(mkcol(mover, src), 201)
    assert_status(mkcol(mover, src + "secret/"), 201)
    assert_status(put(mover, src + "secret/s.txt", b"SECRET\n"), 201)
    assert_status(put(mover, src + "open.txt", b"open\n"), 201)
    ctl("acl", "deny", "%s/%s/secret" % (team, name), user, "read")
    dst = server.space_url(own) + name + "/"
    assert_status(dav(mover, "MOVE", src, headers={"Destination": dst}), 201)
    assert dav(mover, "GET", dst + "open.txt").content == b"open\n"
    assert dav(mover, "GET", dst + "secret/s.txt").status_code == 404


def test_a_trash_entry_is_not_moved_into_another_space(server, spaces, mover,
                                                       session_for, ctl):
    """A trash entry leaves the trash by a restore in its own space;
    moved into another space it would leave the first one's trash for
    good, approved revisions included, which only a purge may decide."""
    user, own, team = spaces
    boss = add_user(ctl, short("boss"))
    ctl("member", "add", team, boss, "--role", "manager")
    b = session_for(boss)
    f = server.space_url(team) + short("doc") + ".txt"
    assert_status(put(b, f, b"approved\n"), 201)
    assert proppatch_statuses(approve(b, f)) == \
        {p("approval-state"): 200}
    assert_status(dav(b, "DELETE", f), 204)
    r = propfind(b, trash_url(server, team), "1", "prop", [p("trashed-from")])
    name = f.rsplit("/", 1)[1]
    entry = [m.group(1) for m in re.finditer(
        r"<D:href>([^<]*/dav/trash/%s/[0-9]+)</D:href>.*?trashed-from>"
        r"([^<]*)<" % team, r.text, re.S) if m.group(2) == "/" + name]
    assert len(entry) == 1, r.text
    r = dav(mover, "MOVE", server.url + entry[0],
            headers={"Destination": server.space_url(own) + "took.txt"})
    assert r.status_code == 403, r.status_code
    assert dav(b, "GET", server.url + entry[0]).content == b"approved\n"


def test_an_event_moves_to_a_calendar_of_another_space(server, session_for):
    """Moving an event from a shared calendar to one's personal calendar
    (another space): it arrives, and leaves the first calendar."""
    alice = session_for("alice")
    shared = new_calendar(server, alice)
    personal = new_calendar(server, alice, slug=None)
    put_ok(alice, shared + "ev.ics",
           event_ics(short("ev"), "DTSTART:20240310T100000Z", "DURATION:PT1H"))
    r = dav(alice, "MOVE", shared + "ev.ics",
            headers={"Destination": personal + "ev.ics"})
    assert r.status_code == 201, r.status_code
    assert dav(alice, "GET", personal + "ev.ics").status_code == 200
    assert dav(alice, "GET", shared + "ev.ics").status_code == 404
