"""Writes that meet: two requests, through one node or two, each right on
its own, whose transactions overlap.

Every write's audit row goes to PostgreSQL with its COMMIT, so a psql
session holding the audit table (LOCK ... IN EXCLUSIVE MODE) stops each
write at its commit, after all its other statements: the tests start one
request, wait until it is held there, start the other, wait until it is
held too (at its commit, or on a row the first one keeps), then let both
go.  Whatever the order, the outcome must be one a single request at a
time could give: no file left under a folder that is gone, no two
exclusive locks on one resource, no two events with one UID in a
calendar."""

import threading
import uuid

import pytest

from caldav_helpers import (assert_precondition, event_ics, new_calendar,
                            put_ok)
from class2_helpers import lockinfo, take_lock
from dav_helpers import XML_HEADERS, dav
from psql_helpers import PsqlSession, wait_for_waiters


def short():
    return uuid.uuid4().hex[:10]


class CommitStall(PsqlSession):
    """Holds the audit table, so that every write waits at its commit."""

    def __init__(self, cluster):
        super().__init__(cluster)
        self.cluster = cluster
        self.run("begin; lock table audit in exclusive mode;")

    def wait_for(self, n, timeout=15):
        wait_for_waiters(self.cluster, n, timeout)

    def release(self):
        if self.proc.poll() is None:
            self.run("rollback;")
            self.close()


@pytest.fixture
def in_turn(cluster):
    """in_turn(group, group, ...): with the audit table held, starts each
    group of requests (a Request's arguments as a tuple, or a list of
    them) once all those before are held, at their commit or on a lock
    another keeps; then lets them all go.  Their responses, in order."""
    stalls = []

    def run(*groups):
        s = CommitStall(cluster)
        stalls.append(s)
        started = []
        for group in groups:
            for args in group if isinstance(group, list) else [group]:
                sess, method, url, kw = (args + ({},))[:4]
                started.append(Request(sess, method, url, **kw))
            s.wait_for(len(started))
        s.release()
        return [r.result() for r in started]
    yield run
    for s in stalls:
        s.release()


class Request(threading.Thread):
    """One HTTP request in a thread of its own; .response once joined."""

    def __init__(self, sess, method, url, **kw):
        super().__init__(daemon=True)
        self.args = (sess, method, url)
        self.kw = kw
        self.response = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.response = dav(*self.args, timeout=60, **self.kw)
        except Exception as e:  # reported by result()
            self.error = e

    def result(self):
        self.join(60)
        assert not self.is_alive(), "request still running"
        assert self.error is None, self.error
        return self.response


def orphans(cluster):
    """Resources whose parent collection does not exist."""
    return cluster.psql(
        "select r.space_id, r.id, r.name from resources r "
        "where r.parent_id is not null and not exists (select 1 from "
        "resources p where p.space_id = r.space_id and p.id = r.parent_id)")


@pytest.fixture
def editors(session_for):
    """Two users who may write in s1: alice (editor) and mgr (manager)."""
    return session_for("alice"), session_for("mgr")


def test_put_then_delete_of_its_folder(coll, editors, cluster, in_turn):
    """A PUT creating a file in a folder that a DELETE removes at the same
    time: the DELETE waits for the PUT, and takes the new file with the
    folder to the trash."""
    alice, mgr = editors
    folder = coll + "f-%s/" % short()
    name = "new-%s.txt" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    put, delete = in_turn((alice, "PUT", folder + name, {"data": b"late"}),
                          (mgr, "DELETE", folder))
    assert put.status_code == 201
    assert delete.status_code == 204
    assert orphans(cluster) == []
    assert dav(alice, "GET", folder + name).status_code == 404
    trashed = cluster.psql("select count(*) from resources where name = '%s' "
                           "and parvis_path(id) like '/.trash/%%/%s'"
                           % (name, name))
    assert trashed == [("1",)], trashed


def test_delete_then_put_into_the_folder(coll, editors, cluster, in_turn):
    """The other order: the PUT waits for the DELETE, then finds no folder
    (RFC 4918 §9.7.1: 409) instead of creating a file nobody can reach."""
    alice, mgr = editors
    folder = coll + "f-%s/" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    delete, put, mkcol = in_turn(
        (mgr, "DELETE", folder),
        [(alice, "PUT", folder + "new.txt", {"data": b"late"}),
         (alice, "MKCOL", folder + "sub/")])
    assert delete.status_code == 204
    assert put.status_code == 409
    assert mkcol.status_code == 409
    assert orphans(cluster) == []


def test_put_into_a_subfolder_of_a_moved_folder(coll, editors, cluster, in_turn):
    """A MOVE of a folder takes along a file being created two levels
    below it."""
    alice, mgr = editors
    a = coll + "a-%s/" % short()
    assert dav(alice, "MKCOL", a).status_code == 201
    assert dav(alice, "MKCOL", a + "b/").status_code == 201
    moved = coll + "moved-%s/" % short()
    put, move = in_turn((alice, "PUT", a + "b/x.txt", {"data": b"x"}),
                        (mgr, "MOVE", a, {"headers": {"Destination": moved}}))
    assert put.status_code == 201
    assert move.status_code == 201
    assert orphans(cluster) == []
    r = dav(alice, "GET", moved + "b/x.txt")
    assert r.status_code == 200 and r.content == b"x"


def test_crossed_moves(coll, editors, cluster, in_turn):
    """MOVE /a into /b and /b into /a at once: one of them wins, the other
    finds its destination's parent gone (409); no tree is left detached."""
    alice, mgr = editors
    a, b = coll + "a-%s/" % short(), coll + "b-%s/" % short()
    for u in (a, b):
        assert dav(alice, "MKCOL", u).status_code == 201
        assert dav(alice, "PUT", u + "f.txt", data=b"f").status_code == 201
    m1, m2 = in_turn((alice, "MOVE", a, {"headers": {"Destination": b + "a2/"}}),
                     (mgr, "MOVE", b, {"headers": {"Destination": a + "b2/"}}))
    got = sorted([m1.status_code, m2.status_code])
    assert got == [201, 409], got
    assert orphans(cluster) == []


def test_overlapping_exclusive_locks(coll, editors, in_turn):
    """An exclusive depth-infinity LOCK of a folder and an exclusive LOCK
    of a file in it, by two users at once: one is granted, the other
    answers 423 (RFC 4918 §7, §9.10)."""
    alice, mgr = editors
    folder = coll + "l-%s/" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    assert dav(alice, "PUT", folder + "f.txt", data=b"f").status_code == 201
    body = lockinfo()
    l1, l2 = in_turn(
        (alice, "LOCK", folder,
         {"data": body, "headers": dict(XML_HEADERS, Depth="infinity")}),
        (mgr, "LOCK", folder + "f.txt",
         {"data": body, "headers": dict(XML_HEADERS, Depth="0")}))
    got = sorted([l1.status_code, l2.status_code])
    assert got == [200, 423], got


def test_lock_then_write_in_the_tree(coll, editors, in_turn):
    """A PUT below a folder being locked by someone else either commits
    before the LOCK is granted or is refused with 423, never after."""
    alice, mgr = editors
    folder = coll + "l-%s/" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    assert dav(alice, "PUT", folder + "f.txt", data=b"v1").status_code == 201
    lock, put = in_turn(
        (alice, "LOCK", folder,
         {"data": lockinfo(), "headers": dict(XML_HEADERS, Depth="infinity")}),
        (mgr, "PUT", folder + "f.txt", {"data": b"v2"}))
    assert lock.status_code == 200
    assert put.status_code == 423
    assert dav(alice, "GET", folder + "f.txt").content == b"v1"


def test_delete_waits_for_a_lock_below(coll, editors, cluster, in_turn):
    """A LOCK of a file committed while its folder is being deleted by
    another user: the DELETE sees it and answers 423, rather than
    deleting a file someone holds a lock on."""
    alice, mgr = editors
    folder = coll + "l-%s/" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    assert dav(alice, "PUT", folder + "f.txt", data=b"f").status_code == 201
    lock, delete = in_turn(
        (alice, "LOCK", folder + "f.txt",
         {"data": lockinfo(), "headers": dict(XML_HEADERS, Depth="0")}),
        (mgr, "DELETE", folder))
    assert lock.status_code == 200
    assert delete.status_code == 423
    assert dav(alice, "GET", folder + "f.txt").status_code == 200


def test_copy_onto_a_destination_changed_meanwhile(coll, editors, in_turn):
    """A COPY whose If header asks for the destination's ETag, while a PUT
    changing that destination is about to commit: the COPY sees the new
    ETag and answers 412 (RFC 4918 §10.4) instead of replacing what it
    has not seen."""
    alice, mgr = editors
    src, dst = coll + "src-%s.txt" % short(), coll + "dst-%s.txt" % short()
    assert dav(alice, "PUT", src, data=b"source").status_code == 201
    assert dav(alice, "PUT", dst, data=b"v1").status_code == 201
    etag = dav(alice, "HEAD", dst).headers["ETag"]
    put, copy = in_turn(
        (mgr, "PUT", dst, {"data": b"v2"}),
        (alice, "COPY", src, {"headers": {
            "Destination": dst, "If": "<%s> ([%s])" % (dst, etag)}}))
    assert put.status_code == 204
    assert copy.status_code == 412
    assert dav(alice, "GET", dst).content == b"v2"


def test_uploads_into_a_locked_folder_naming_it_in_if(server, session_for,
                                                      coll, cluster):
    """Two PUTs into a folder locked with Depth: infinity, each naming the
    folder's lock in a tagged If header (RFC 4918 §10.4): both write,
    neither waits for the other's commit, no deadlock.  Their rows are
    held by psql first, so that both have taken their path locks when they
    read their If header."""
    alice = session_for("alice")
    folder = coll + "f-%s/" % short()
    assert dav(alice, "MKCOL", folder).status_code == 201
    for n in ("x", "y"):
        assert dav(alice, "PUT", folder + n, data=b"v1").status_code == 201
    token = take_lock(alice, folder, depth="infinity")
    hdr = {"If": "<%s> (<%s>)" % (folder, token)}
    holder = PsqlSession(cluster)
    path = "/" + folder.split("/dav/spaces/s1/", 1)[1].rstrip("/")
    holder.run("begin; select id from resources where id in ("
               "parvis_resolve((select id from spaces where slug = 's1'), "
               "'%s/x'), parvis_resolve((select id from spaces where "
               "slug = 's1'), '%s/y')) for update;" % (path, path))
    since = len(server.log_text())
    p1 = Request(session_for("alice"), "PUT", folder + "x", data=b"v2",
                 headers=hdr)
    p2 = Request(session_for("alice"), "PUT", folder + "y", data=b"v2",
                 headers=hdr)
    wait_for_waiters(cluster, 2)
    holder.run("commit;")
    holder.close()
    assert p1.result().status_code == 204
    assert p2.result().status_code == 204
    assert "deadlock" not in server.log_text()[since:]


def test_two_events_given_one_uid(server, session_for, in_turn):
    """Two objects of one calendar created at once with the same UID (two
    devices of one user): one is stored, the other refused with
    CALDAV:no-uid-conflict (RFC 4791 §5.3.2.1), so that neither is left
    unable to be updated."""
    alice, other = session_for("alice"), session_for("alice")
    cal = new_calendar(server, alice)
    ev = event_ics("race-" + short(), "DTSTART:20240110T100000Z")
    r1, r2 = in_turn(
        (alice, "PUT", cal + "one.ics",
         {"data": ev.encode(), "headers": {"Content-Type": "text/calendar"}}),
        (other, "PUT", cal + "two.ics",
         {"data": ev.encode(), "headers": {"Content-Type": "text/calendar"}}))
    assert sorted([r1.status_code, r2.status_code]) == [201, 403], \
        (r1.status_code, r2.status_code)
    loser = r1 if r1.status_code == 403 else r2
    assert_precondition(loser, 403, "urn:ietf:params:xml:ns:caldav",
                        "no-uid-conflict")
    winner = "one.ics" if r1.status_code == 201 else "two.ics"
    put_ok(alice, cal + winner, ev.replace("END:VEVENT",
                                           "SUMMARY:again\r\nEND:VEVENT"))


def test_path_locks_take_any_name(coll, editors, cluster):
    """The path locks name every folder above a write, whatever characters
    their names hold (quotes, backslashes, commas, braces, spaces,
    non-ASCII): a write there succeeds, and a DELETE of such a folder
    takes what was written in it."""
    from urllib.parse import quote
    alice, _ = editors
    names = ['q"uote', "back\\slash", "com,ma", "{brace}", "sp ace",
             "été", "NULL"]
    url = coll
    for n in names:
        url += quote(n) + "/"
        assert dav(alice, "MKCOL", url).status_code == 201, n
    assert dav(alice, "PUT", url + "f.txt", data=b"deep").status_code == 201
    assert dav(alice, "GET", url + "f.txt").content == b"deep"
    top = coll + quote(names[0]) + "/"
    assert dav(alice, "DELETE", top).status_code == 204
    assert dav(alice, "GET", url + "f.txt").status_code == 404
    assert orphans(cluster) == []
