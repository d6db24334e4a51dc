"""The trash: DELETE moves a file or folder, history and all, to
/dav/trash/SLUG/<n>; MOVE from there restores it; managers purge entries
or empty the trash, but an entry holding an approved revision is never
purged. Calendar objects are deleted for real."""

import uuid
from datetime import datetime, timezone

import pytest

from dav_helpers import (RFC3339_RE, assert_status, dav, db_path, join,
                         parse_multistatus, propfind, put, sql_str)
from workflow_helpers import (approve, abs_url, add_space, error_elements, href_in,
                              last_segment, members, p, principal_href,
                              published_url, revisions, same_href,
                              set_approval, text_of, trash_url)

CONTENTS = [b"trash me, version one\n", b"trash me, version two\n",
            b"trash me, version three\n"]

TRASH_PROPS = ["displayname", "resourcetype", "getcontentlength",
               p("trashed-from"), p("trashed-by"), p("trashed-at")]


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def mgr(seed, session_for):
    return session_for("mgr")


def trash_entries(sess, server, slug="s1"):
    return members(sess, trash_url(server, slug), TRASH_PROPS)


def entry_of(sess, server, original, slug="s1"):
    """The trash entry (MSResponse) whose P:trashed-from is ORIGINAL (a
    path in the space, e.g. '/dir/file'); asserts there is exactly one."""
    found = [m for m in trash_entries(sess, server, slug)
             if text_of(m, p("trashed-from")) == original]
    assert len(found) == 1, (original, [
        (m.href, text_of(m, p("trashed-from")))
        for m in trash_entries(sess, server, slug)])
    return found[0]


@pytest.fixture
def deleted(server, alice, coll):
    """plan.odt PUT three times then DELETEd by alice; returns
    (file URL, trash entry URL)."""
    url = join(coll, "plan.odt")
    for body in CONTENTS:
        assert put(alice, url, body).status_code in (201, 204)
    r = dav(alice, "DELETE", url)
    assert_status(r, 204)
    entry = entry_of(alice, server, db_path(url))
    return url, abs_url(server, entry.href)


@pytest.fixture
def restored(alice, deleted):
    """deleted, then MOVEd back from the trash to its place."""
    url, entry = deleted
    r = dav(alice, "MOVE", entry, headers={"Destination": url})
    assert_status(r, 201, 204)
    return url, entry


# ------------------------------------------------------------------ DELETE

def test_deleted_file_is_gone_from_the_space(alice, deleted):
    url, _ = deleted
    assert_status(dav(alice, "GET", url), 404)


def test_deleted_file_is_not_listed_in_its_folder(alice, coll, deleted):
    names = [last_segment(m.href)
             for m in members(alice, coll, ["displayname"])]
    assert "plan.odt" not in names, names


def test_deleted_file_is_a_numbered_trash_entry(alice, deleted):
    _, entry = deleted
    assert last_segment(entry).isdigit(), entry


def test_trash_entry_is_under_the_trash_of_its_space(server, deleted):
    _, entry = deleted
    assert entry.startswith(trash_url(server, "s1")), entry


def test_trash_entry_displayname_is_the_original_name(server, alice,
                                                      deleted):
    url, _ = deleted
    m = entry_of(alice, server, db_path(url))
    assert text_of(m, "{DAV:}displayname") == "plan.odt"


def test_trash_entry_trashed_by_is_the_deleter(server, alice, deleted):
    url, _ = deleted
    m = entry_of(alice, server, db_path(url))
    assert same_href(href_in(m, p("trashed-by")), principal_href("alice"))


def test_trash_entry_trashed_at_is_the_time_of_deletion(server, alice,
                                                        deleted):
    url, _ = deleted
    m = entry_of(alice, server, db_path(url))
    at = text_of(m, p("trashed-at"))
    assert at and RFC3339_RE.match(at), at
    when = datetime.strptime(at[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 120, at


def test_get_of_a_trash_entry_returns_the_last_bytes(alice, deleted):
    _, entry = deleted
    r = dav(alice, "GET", entry)
    assert_status(r, 200)
    assert r.content == CONTENTS[2]


def test_deleted_file_keeps_its_revisions_in_the_database(cluster, deleted):
    _, entry = deleted
    rows = cluster.psql(
        "select v.num from revisions v join resources r on "
        "r.id = v.resource_id join spaces s on s.id = r.space_id "
        "where s.slug = 's1' and r.id = parvis_resolve(s.id, %s) "
        "order by v.num"
        % sql_str("/.trash/" + last_segment(entry)))
    assert [int(r[0]) for r in rows] == [1, 2, 3]


def test_two_deletes_of_one_name_make_two_entries(server, alice, coll):
    url = join(coll, "twice.txt")
    for body in (b"first life", b"second life"):
        put(alice, url, body)
        assert_status(dav(alice, "DELETE", url), 204)
    found = [m for m in trash_entries(alice, server)
             if text_of(m, p("trashed-from")) == db_path(url)]
    assert len(found) == 2
    got = sorted(dav(alice, "GET", abs_url(server, m.href)).content
                 for m in found)
    assert got == [b"first life", b"second life"]


def test_trash_is_not_listed_in_the_space(server, alice, deleted):
    names = [last_segment(m.href)
             for m in members(alice, server.space_url("s1"),
                              ["displayname"])]
    assert ".trash" not in names, names


def test_trash_is_not_in_the_html_listing_of_the_space(server, alice,
                                                       deleted):
    r = dav(alice, "GET", server.space_url("s1"))
    assert_status(r, 200)
    assert ".trash" not in r.text, r.text[:2000]


def test_trash_folder_is_not_reachable_in_the_space(server, alice, deleted):
    assert_status(dav(alice, "GET", server.space_url("s1") + ".trash/"), 404)


def test_trashed_approved_file_leaves_the_published_view(alice, mgr, coll):
    url = join(coll, "approved.txt")
    put(alice, url, b"approved then deleted")
    assert approve(mgr, url).status_code == 207
    assert_status(dav(alice, "GET", published_url(url)), 200)
    assert_status(dav(alice, "DELETE", url), 204)
    assert_status(dav(alice, "GET", published_url(url)), 404)


def test_reader_cannot_delete(session_for, alice, coll):
    url = join(coll, "keep.txt")
    put(alice, url, b"keep")
    assert_status(dav(session_for("bob"), "DELETE", url), 403)
    assert_status(dav(alice, "GET", url), 200)


# ---------------------------------------------------------------- folders

@pytest.fixture
def deleted_folder(server, alice, coll):
    """coll/dir/ with a.txt (2 revisions) and sub/b.txt, DELETEd."""
    d = join(coll, "dir", collection=True)
    assert_status(dav(alice, "MKCOL", d), 201)
    assert_status(dav(alice, "MKCOL", join(d, "sub", collection=True)), 201)
    put(alice, join(d, "a.txt"), b"a one")
    put(alice, join(d, "a.txt"), b"a two")
    put(alice, join(d, "sub", "b.txt"), b"b one")
    assert_status(dav(alice, "DELETE", d), 204)
    entry = entry_of(alice, server, db_path(d))
    return d, abs_url(server, entry.href)


def test_deleted_folder_is_gone_with_its_members(alice, deleted_folder):
    d, _ = deleted_folder
    assert_status(dav(alice, "GET", join(d, "a.txt")), 404)
    assert_status(dav(alice, "PROPFIND", d, headers={"Depth": "0"}), 404)


def test_deleted_folder_is_one_trash_entry_holding_its_members(
        alice, deleted_folder):
    _, entry = deleted_folder
    entry = entry.rstrip("/") + "/"
    names = sorted(last_segment(m.href)
                   for m in members(alice, entry, ["displayname"]))
    assert names == ["a.txt", "sub"], names


def test_restored_folder_brings_back_its_members(alice, deleted_folder):
    d, entry = deleted_folder
    r = dav(alice, "MOVE", entry, headers={"Destination": d})
    assert_status(r, 201, 204)
    assert dav(alice, "GET", join(d, "a.txt")).content == b"a two"
    assert dav(alice, "GET", join(d, "sub", "b.txt")).content == b"b one"


def test_restored_folder_keeps_member_histories(alice, deleted_folder):
    d, entry = deleted_folder
    assert_status(dav(alice, "MOVE", entry, headers={"Destination": d}),
                  201, 204)
    revs = revisions(alice, join(d, "a.txt"))
    assert [text_of(m, p("revision-number")) for m in revs] == ["1", "2"]


# ---------------------------------------------------------------- restore

def test_move_from_the_trash_restores_the_bytes(alice, restored):
    url, _ = restored
    r = dav(alice, "GET", url)
    assert_status(r, 200)
    assert r.content == CONTENTS[2]


def test_restore_answers_201_for_a_free_place(alice, deleted):
    url, entry = deleted
    r = dav(alice, "MOVE", entry, headers={"Destination": url})
    assert_status(r, 201)


def test_restored_file_has_its_whole_history(alice, restored):
    url, _ = restored
    revs = revisions(alice, url)
    assert [text_of(m, p("revision-number")) for m in revs] == \
        ["1", "2", "3"]


def test_restored_history_serves_every_earlier_revision(server, alice,
                                                        restored):
    url, _ = restored
    got = [dav(alice, "GET", abs_url(server, m.href)).content
           for m in revisions(alice, url)]
    assert got == CONTENTS


def test_restored_entry_leaves_the_trash(alice, restored):
    _, entry = restored
    assert_status(dav(alice, "GET", entry), 404)


def test_restored_file_loses_its_trash_properties(alice, restored):
    url, _ = restored
    r = propfind(alice, url, "0", "prop", [p("trashed-from")])
    (me,) = parse_multistatus(r.content)
    assert me.props[p("trashed-from")][0] == 404, r.text


def test_restore_to_another_name(alice, coll, deleted):
    _, entry = deleted
    dst = join(coll, "plan-recovered.odt")
    assert_status(dav(alice, "MOVE", entry, headers={"Destination": dst}),
                  201)
    assert dav(alice, "GET", dst).content == CONTENTS[2]
    assert len(revisions(alice, dst)) == 3


def test_restore_onto_a_new_file_with_overwrite_f_is_412(alice, deleted):
    url, entry = deleted
    put(alice, url, b"a new file in its place")
    r = dav(alice, "MOVE", entry,
            headers={"Destination": url, "Overwrite": "F"})
    assert_status(r, 412)
    assert dav(alice, "GET", url).content == b"a new file in its place"
    assert_status(dav(alice, "GET", entry), 200)


def test_overwriting_move_sends_the_replaced_folder_to_the_trash(
        server, alice, coll):
    """A folder replaced by a MOVE goes to the trash, as a DELETE would
    take it (a file replaced by a file is its next revision instead:
    test_history.py)."""
    target = join(coll, "target", collection=True)
    other = join(coll, "other", collection=True)
    for folder, body in ((target, b"target two"), (other, b"other")):
        assert_status(dav(alice, "MKCOL", folder), 201)
        assert_status(put(alice, folder + "f.txt", body), 201)
    assert_status(dav(alice, "MOVE", other, headers={"Destination": target}),
                  204)
    assert dav(alice, "GET", target + "f.txt").content == b"other"
    m = entry_of(alice, server, db_path(target).rstrip("/"))
    assert dav(alice, "GET", abs_url(server, m.href).rstrip("/") +
               "/f.txt").content == b"target two"


# ------------------------------------------------------------------ purge

def test_editor_cannot_purge_a_trash_entry(alice, deleted):
    _, entry = deleted
    assert_status(dav(alice, "DELETE", entry), 403)
    assert_status(dav(alice, "GET", entry), 200)


def test_manager_purges_a_trash_entry(alice, mgr, deleted):
    _, entry = deleted
    assert_status(dav(mgr, "DELETE", entry), 204)
    assert_status(dav(alice, "GET", entry), 404)


def test_purged_entry_takes_its_revisions_along(cluster, mgr, deleted):
    _, entry = deleted
    rid = cluster.psql(
        "select r.id from resources r join spaces s on s.id = r.space_id "
        "where s.slug = 's1' and r.id = parvis_resolve(s.id, %s)"
        % sql_str("/.trash/" + last_segment(entry)))[0][0]
    assert_status(dav(mgr, "DELETE", entry), 204)
    rows = cluster.psql("select count(*) from revisions where resource_id = %s"
                        % rid)
    assert rows[0][0] == "0"


@pytest.fixture
def approved_deleted(server, alice, mgr, coll):
    """A file approved by mgr, then deleted: (URL, trash entry URL)."""
    url = join(coll, "contract.txt")
    put(alice, url, b"the approved contract")
    assert approve(mgr, url).status_code == 207
    put(alice, url, b"a later draft")
    assert_status(dav(alice, "DELETE", url), 204)
    return url, abs_url(server, entry_of(alice, server, db_path(url)).href)


def test_entry_with_an_approved_revision_is_never_purged(alice, mgr,
                                                         approved_deleted):
    _, entry = approved_deleted
    r = dav(mgr, "DELETE", entry)
    assert_status(r, 403)
    assert "{http://parvis.org/ns}approved-kept" in error_elements(r.content)
    assert_status(dav(alice, "GET", entry), 200)


def test_folder_entry_holding_an_approved_file_is_never_purged(
        server, alice, mgr, coll):
    d = join(coll, "approved-dir", collection=True)
    assert_status(dav(alice, "MKCOL", d), 201)
    put(alice, join(d, "x.txt"), b"x")
    assert approve(mgr, join(d, "x.txt")).status_code == 207
    assert_status(dav(alice, "DELETE", d), 204)
    entry = abs_url(server, entry_of(alice, server, db_path(d)).href)
    assert_status(dav(mgr, "DELETE", entry), 403)
    assert_status(dav(alice, "GET", entry.rstrip("/") + "/x.txt"), 200)


def test_overwriting_an_approved_entry_never_destroys_it(cluster, alice, mgr,
                                                        coll,
                                                        approved_deleted):
    # DELETE of the entry is refused (approved-kept); a MOVE onto it must
    # not purge it either, even for a manager.
    _, entry = approved_deleted
    (rev,) = cluster.psql(
        "select r.approved_rev from resources r join spaces s on "
        "s.id = r.space_id where s.slug = 's1' and "
        "r.id = parvis_resolve(s.id, %s)"
        % sql_str("/.trash/" + last_segment(entry)))[0]
    other = join(coll, "other.txt")
    put(alice, other, b"other")
    dav(mgr, "MOVE", other, headers={"Destination": entry})
    rows = cluster.psql("select count(*) from revisions where id = %s" % rev)
    assert rows[0][0] == "1", "the approved revision was destroyed"


@pytest.fixture
def trash_space(server, ctl, seed, session_for):
    """A fresh space (alice editor, mgr manager) whose trash holds two
    plain entries and one with an approved revision."""
    slug = add_space(ctl, {"alice": "editor", "mgr": "manager"})
    alice, mgr = session_for("alice"), session_for("mgr")
    base = server.space_url(slug)
    for name in ("one.txt", "two.txt", "kept.txt"):
        put(alice, base + name, name.encode())
    assert approve(mgr, base + "kept.txt").status_code == 207
    for name in ("one.txt", "two.txt", "kept.txt"):
        assert_status(dav(alice, "DELETE", base + name), 204)
    assert len(trash_entries(alice, server, slug)) == 3
    return slug


def test_manager_empties_the_trash(server, mgr, trash_space):
    r = dav(mgr, "DELETE", trash_url(server, trash_space))
    assert_status(r, 204)
    left = [text_of(m, "{DAV:}displayname")
            for m in trash_entries(mgr, server, trash_space)]
    assert "one.txt" not in left and "two.txt" not in left, left


def test_emptying_the_trash_keeps_approved_entries(server, mgr, trash_space):
    assert_status(dav(mgr, "DELETE", trash_url(server, trash_space)), 204)
    left = [text_of(m, "{DAV:}displayname")
            for m in trash_entries(mgr, server, trash_space)]
    assert left == ["kept.txt"], left


def test_emptying_the_trash_keeps_the_trash_itself(server, mgr, trash_space):
    assert_status(dav(mgr, "DELETE", trash_url(server, trash_space)), 204)
    r = propfind(mgr, trash_url(server, trash_space), "0", "prop",
                 ["resourcetype"])
    assert_status(r, 207)


def test_editor_cannot_empty_the_trash(server, alice, trash_space):
    assert_status(dav(alice, "DELETE", trash_url(server, trash_space)), 403)
    assert len(trash_entries(alice, server, trash_space)) == 3


def test_emptying_one_space_trash_leaves_the_other(server, alice, mgr,
                                                   trash_space, deleted):
    _, entry = deleted   # in s1
    assert_status(dav(mgr, "DELETE", trash_url(server, trash_space)), 204)
    assert_status(dav(alice, "GET", entry), 200)


# ------------------------------------------------- the trash is not a folder

def test_put_of_a_new_file_into_the_trash_is_refused(server, alice):
    url = trash_url(server) + "planted-%s.txt" % uuid.uuid4().hex[:8]
    r = put(alice, url, b"not deleted from anywhere")
    assert_status(r, 403)


def test_mkcol_in_the_trash_is_refused(server, alice):
    url = trash_url(server) + "planted-%s/" % uuid.uuid4().hex[:8]
    r = dav(alice, "MKCOL", url)
    assert r.status_code in (403, 405), r.status_code


def test_put_onto_a_trash_entry_is_refused(alice, deleted):
    _, entry = deleted
    r = put(alice, entry, b"rewritten in the trash")
    assert_status(r, 403)
    assert dav(alice, "GET", entry).content == CONTENTS[2]


def test_editor_cannot_purge_an_entry_by_moving_a_file_onto_it(
        alice, coll, deleted):
    # Purging is for managers: overwriting an entry would purge it.
    _, entry = deleted
    other = join(coll, "other.txt")
    put(alice, other, b"other")
    r = dav(alice, "MOVE", other, headers={"Destination": entry})
    assert_status(r, 403)
    assert dav(alice, "GET", entry).content == CONTENTS[2]


def test_editor_cannot_purge_an_entry_by_copying_a_file_onto_it(
        alice, coll, deleted):
    _, entry = deleted
    other = join(coll, "other.txt")
    put(alice, other, b"other")
    r = dav(alice, "COPY", other, headers={"Destination": entry})
    assert_status(r, 403)
    assert dav(alice, "GET", entry).content == CONTENTS[2]


# -------------------------------------------------------------- calendars

def _event(uid):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Parvis tests//EN\r\n"
            "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240105T100000Z\r\nDTEND:20240105T110000Z\r\n"
            "SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % uid).encode()


def test_calendar_object_is_deleted_for_real(server, cluster, alice):
    cal = "%s/dav/calendars/alice/s1.cal%s/" % (server.url,
                                                 uuid.uuid4().hex[:10])
    assert_status(dav(alice, "MKCALENDAR", cal), 201)
    uid = "trash-" + uuid.uuid4().hex
    obj = cal + uid + ".ics"
    assert_status(put(alice, obj, _event(uid),
                      headers={"Content-Type": "text/calendar"}), 201)
    assert_status(dav(alice, "DELETE", obj), 204)
    assert_status(dav(alice, "GET", obj), 404)
    rows = cluster.psql("select parvis_path(id) from resources where name = %s"
                        % sql_str(uid + ".ics"))
    assert rows == [], rows


def test_emptying_the_trash_skips_entries_hidden_from_the_manager(
        ctl, cluster, server, session_for):
    """DELETE of /dav/trash/SLUG/ empties the trash, keeping what it may
    not purge (approved entries).  One entry deleted from a folder closed
    to the manager (doc: "a denial to space:SLUG hides the folder from the
    space's managers too") makes the whole emptying fail with 403, for
    good: the other entries can then only be purged one by one."""
    from workflow_helpers import add_space
    slug = add_space(ctl, {"alice": "editor", "mgr": "manager"})
    base = server.space_url(slug)
    a, m = session_for("alice"), session_for("mgr")
    assert_status(dav(a, "MKCOL", base + "RH/"), 201)
    assert_status(put(a, base + "RH/dossier-agent.txt", b"personnel\n"), 201)
    assert_status(put(a, base + "brouillon.txt", b"draft\n"), 201)
    ctl("acl", "deny", slug + "/RH", "mgr", "read")
    assert_status(dav(a, "DELETE", base + "RH/dossier-agent.txt"), 204)
    assert_status(dav(a, "DELETE", base + "brouillon.txt"), 204)
    trash = "%s/dav/trash/%s/" % (server.url, slug)
    r = dav(m, "DELETE", trash)
    assert_status(r, 204)
    left = cluster.psql(
        "select r.trashed_from from resources r join spaces s on "
        "s.id = r.space_id where s.slug = %s and r.trashed_from is not null "
        "order by 1" % sql_str(slug))
    assert [x[0] for x in left] == ["/RH/dossier-agent.txt"], left


# ------------------------------------------------------------------ calendars

def _week_event(uid):
    from caldav_helpers import event_ics
    return event_ics(uid, "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z")


def _week_names(sess, url):
    from caldav_helpers import query_names, range_filter
    return query_names(sess, url, range_filter("20260601T000000Z",
                                               "20260608T000000Z"))


def test_a_deleted_calendar_goes_to_the_trash_with_its_events(
        server, alice, mgr, session_for):
    """An editor's DELETE of a space's calendar loses nothing: the
    calendar and its events wait in the trash, and moving the entry back
    makes it the same calendar again, in every member's calendar home."""
    from caldav_helpers import new_calendar, put_ok
    url = new_calendar(server, alice)
    put_ok(alice, url + "e1.ics", _week_event("e1"))
    put_ok(alice, url + "e2.ics", _week_event("e2"))
    assert_status(dav(alice, "DELETE", url), 204)
    assert_status(dav(alice, "GET", url + "e1.ics"), 404)
    name = url.rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]
    entry = entry_of(alice, server, "/.calendars/" + name)
    entry_url = abs_url(server, entry.href)
    r = dav(alice, "GET", entry_url.rstrip("/") + "/e1.ics")
    assert_status(r, 200)
    assert "UID:e1" in r.text
    # A manager may purge it; anyone who may write puts it back.
    r = dav(alice, "MOVE", entry_url, headers={"Destination": url})
    assert_status(r, 201)
    assert _week_names(alice, url) == ["e1.ics", "e2.ics"]
    bob_url = url.replace("/calendars/alice/", "/calendars/bob/")
    assert _week_names(session_for("bob"), bob_url) == ["e1.ics", "e2.ics"]


def test_a_calendar_object_is_still_deleted_for_good(server, alice):
    from caldav_helpers import new_calendar, put_ok
    url = new_calendar(server, alice)
    put_ok(alice, url + "gone.ics", _week_event("gone"))
    assert_status(dav(alice, "DELETE", url + "gone.ics"), 204)
    name = url.rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]
    assert [m for m in trash_entries(alice, server)
            if text_of(m, p("trashed-from")) ==
            "/.calendars/%s/gone.ics" % name] == []


def test_options_of_a_trash_entry_offers_no_write_but_restore_and_purge(
        alice, deleted):
    """What the trash refuses (403) is not in its Allow (RFC 9110
    §10.2.1: the methods the target supports)."""
    _, entry = deleted
    allow = {m.strip() for m in
             dav(alice, "OPTIONS", entry).headers["Allow"].split(",")}
    assert {"GET", "PROPFIND", "MOVE", "DELETE"} <= allow, allow
    assert not allow & {"PUT", "PROPPATCH", "MKCOL", "LOCK", "COPY"}, allow


def test_a_calendar_moved_over_another_sends_that_one_to_the_trash(
        server, alice):
    """A MOVE that overwrites a calendar deletes it as a DELETE would: to
    the trash, events and all."""
    from caldav_helpers import new_calendar, put_ok
    a, b = new_calendar(server, alice), new_calendar(server, alice)
    put_ok(alice, a + "a.ics", _week_event("a"))
    put_ok(alice, b + "b.ics", _week_event("b"))
    r = dav(alice, "MOVE", a, headers={"Destination": b, "Overwrite": "T"})
    assert_status(r, 204)
    assert _week_names(alice, b) == ["a.ics"]
    name = b.rstrip("/").rsplit("/", 1)[1].split(".", 1)[1]
    entry = entry_of(alice, server, "/.calendars/" + name)
    r = dav(alice, "GET", abs_url(server, entry.href).rstrip("/") + "/b.ics")
    assert_status(r, 200)
    assert "UID:b" in r.text


# ------------------------------------------------------- office lock files

def _trashed_from(sess, server):
    return [text_of(m, p("trashed-from")) for m in trash_entries(sess, server)]


@pytest.mark.parametrize("name", ["~$port.docx", ".~lock.report.odt#"])
def test_an_office_lock_file_deleted_leaves_no_trash_entry(server, alice,
                                                          coll, name):
    """Word writes ~$port.docx beside report.docx while it has it open,
    LibreOffice .~lock.report.odt#; each deletes it on closing.  Such a
    file holds who had the document open: removed for good, it does not
    fill the trash at every opening."""
    url = join(coll, name)
    assert_status(put(alice, url, b"c.martin,host,01.12.2026 10:00,\n"), 201)
    assert_status(dav(alice, "DELETE", url), 204)
    assert dav(alice, "GET", url).status_code == 404
    assert db_path(url) not in _trashed_from(alice, server)


@pytest.mark.parametrize("name", ["$report.docx", "~lock.odt#",
                                  "notes~$.txt"])
def test_other_names_still_go_to_the_trash(server, alice, coll, name):
    url = join(coll, name)
    assert_status(put(alice, url, b"a document"), 201)
    assert_status(dav(alice, "DELETE", url), 204)
    assert db_path(url) in _trashed_from(alice, server)


def test_a_lock_file_written_twice_goes_to_the_trash(server, alice, coll):
    """Two revisions: someone kept something in it; it is kept."""
    url = join(coll, "~$kept.docx")
    assert_status(put(alice, url, b"one"), 201)
    assert_status(put(alice, url, b"two"), 204)
    assert_status(dav(alice, "DELETE", url), 204)
    assert db_path(url) in _trashed_from(alice, server)


@pytest.mark.parametrize("name", ["~$contract.pdf", ".~lock.contract.pdf#"])
def test_a_file_renamed_to_a_lock_files_name_still_goes_to_the_trash(
        server, alice, session_for, coll, name):
    """Only a file made under a lock file's name is removed for good: one
    renamed to it (a document, approved or not) goes to the trash as any,
    or an editor could purge what only managers may."""
    mgr = session_for("mgr")
    for approved in (False, True):
        doc = join(coll, "contract-%d.pdf" % approved)
        assert_status(put(mgr, doc, b"the contract"), 201)
        if approved:
            approve(mgr, doc)
        lock = join(coll, name)
        assert_status(dav(alice, "MOVE", doc,
                          headers={"Destination": lock}), 201)
        assert_status(dav(alice, "DELETE", lock), 204)
        assert db_path(lock) in _trashed_from(alice, server), approved
