"""The node's cache of Depth 1 listings (decision 0026, docs/admin.md
listing_cache_size).

A PROPFIND Depth 1 answered once is answered again from the node's
memory while no transaction has ended in the database since.  These
tests run their own nodes at log level debug, where each answer from the
cache logs "listing from the cache", and check both sides: the repeat is
served from the cache, byte for byte the same, and every kind of change
(by this node, by another node on the same database, or by parvisctl)
shows in the very next listing.  Writes of the nodes' own (the audit
sealer's) also set entries aside, so "warm" repeats a listing until one
answer comes from the cache: the entry is then there, and would be
served, when the change under test is made."""

import re
import time
import uuid

import pytest

from access_helpers import ace_xml, acl_request, principal_href
from cache_helpers import (cache_hits, cache_warm,  # noqa: F401
                           node, on)  # node: a fixture
from caldav_helpers import event_ics, new_calendar, put_ics
from class2_helpers import lock, token_of, unlock
from dav_helpers import (assert_status, dav, mkcol, parse_multistatus, propfind,
                         proppatch_body, put, user_session)

HIT = "listing from the cache"


@pytest.fixture
def folder(node):
    sess = user_session("alice")
    url = node.space_url("s1") + "lc-" + uuid.uuid4().hex[:10] + "/"
    assert_status(mkcol(sess, url), 201)
    for name in ("a.txt", "b.txt"):
        assert_status(put(sess, url + name, b"content of " + name.encode()), 201)
    return url


def hits(node):
    return cache_hits(node, HIT)


def listing(sess, url, **kw):
    r = propfind(sess, url, depth="1", **kw)
    assert_status(r, 207)
    return r


def warm(node, sess, url, **kw):
    """Lists URL until an answer comes from the cache; returns it."""
    return cache_warm(node, HIT, lambda: listing(sess, url, **kw),
                      "listing of " + url)


def names(r):
    return sorted(x.href.rstrip("/").rsplit("/", 1)[-1]
                  for x in parse_multistatus(r.content)[1:])


def test_a_repeated_listing_comes_from_the_cache_unchanged(node, folder):
    alice = user_session("alice")
    first = listing(alice, folder)
    again = warm(node, alice, folder)
    assert again.content == first.content
    assert again.headers["Content-Type"].startswith("application/xml")
    assert int(again.headers["Content-Length"]) == len(first.content)
    assert names(again) == ["a.txt", "b.txt"]


def test_every_change_shows_in_the_next_listing(node, folder):
    alice = user_session("alice")
    warm(node, alice, folder)
    # A new member.
    assert_status(put(alice, folder + "c.txt", b"c"), 201)
    assert names(listing(alice, folder)) == ["a.txt", "b.txt", "c.txt"]
    # A changed member: its length and ETag.
    warm(node, alice, folder)
    assert_status(put(alice, folder + "a.txt", b"longer content now"), 204)
    ms = {x.href.rsplit("/", 1)[-1]: x
          for x in parse_multistatus(listing(alice, folder).content)}
    assert ms["a.txt"].ok_props()["{DAV:}getcontentlength"].text == "18"
    # A dead property.
    warm(node, alice, folder)
    body = proppatch_body('<x:colour xmlns:x="urn:lc">blue</x:colour>')
    assert_status(dav(alice, "PROPPATCH", folder + "b.txt", data=body,
                      headers={"Content-Type": "application/xml"}), 207)
    assert b"blue" in listing(alice, folder).content
    # A member gone.
    warm(node, alice, folder)
    assert_status(dav(alice, "DELETE", folder + "c.txt"), 204)
    assert names(listing(alice, folder)) == ["a.txt", "b.txt"]


def test_another_nodes_write_shows_at_once(node, new_server, folder):
    other = new_server()
    alice = user_session("alice")
    warm(node, alice, folder)
    assert_status(put(alice, on(other, folder) + "from-other.txt", b"x"), 201)
    assert "from-other.txt" in names(listing(alice, folder))


def test_an_access_change_by_parvisctl_shows_at_once(node, folder, ctl):
    bob = user_session("bob")   # reader of s1
    assert names(warm(node, bob, folder)) == ["a.txt", "b.txt"]
    path = "s1/" + folder.rstrip("/").rsplit("/", 1)[-1] + "/b.txt"
    ctl("acl", "deny", path, "user:bob", "read")
    assert names(listing(bob, folder)) == ["a.txt"]
    # Alice's listing is her own: b.txt is still hers to see.
    assert names(listing(user_session("alice"), folder)) == ["a.txt", "b.txt"]


def test_an_acl_request_shows_at_once(node, folder):
    alice, mgr = user_session("alice"), user_session("mgr")
    warm(node, alice, folder)
    r = acl_request(mgr, folder + "a.txt",
                    ace_xml(principal_href("alice"), ["read"], grant=False))
    assert_status(r, 200)
    assert names(listing(alice, folder)) == ["b.txt"]


def test_each_user_has_their_own_answer(node, folder):
    alice, bob = user_session("alice"), user_session("bob")
    # Each user sees only their own ._ files (show_apple_files = false).
    assert_status(put(alice, folder + "._a.txt", b"\0\5\26\7"), 201)
    assert "._a.txt" in names(warm(node, alice, folder))
    before = hits(node)
    assert "._a.txt" not in names(listing(bob, folder))
    assert hits(node) == before


def test_the_request_is_part_of_the_key(node, folder):
    alice = user_session("alice")
    warm(node, alice, folder)
    before = hits(node)
    named = listing(alice, folder, kind="prop", props=["{DAV:}getetag"])
    assert hits(node) == before
    assert b"getcontentlength" not in named.content
    assert b"getetag" in named.content
    # The Windows Mini-Redirector gets its compact answer, not another's.
    win = listing(alice, folder,
                  headers={"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19041"})
    assert hits(node) == before
    assert b"supportedlock" not in win.content
    assert b"supportedlock" in warm(node, alice, folder).content


def test_a_listing_showing_a_lock_is_not_kept(node, folder):
    alice = user_session("alice")
    warm(node, alice, folder)
    r = lock(alice, folder + "a.txt")
    assert_status(r, 200)
    token = token_of(r)
    time.sleep(0.5)   # the audit rows sealed: nothing else sets it aside
    before = hits(node)
    for _ in range(3):
        assert b"activelock" in listing(alice, folder).content
    assert hits(node) == before, "a lock's timeout counts down: never kept"
    assert_status(unlock(alice, folder + "a.txt", token), 204)
    assert b"activelock" not in listing(alice, folder).content


def test_quota_available_bytes_is_not_kept(node, folder):
    alice = user_session("alice")
    warm(node, alice, folder)
    props = ["{DAV:}quota-available-bytes"]
    before = hits(node)
    for _ in range(3):
        listing(alice, folder, kind="prop", props=props)
    assert hits(node) == before
    # The same with quota-used-bytes alone, which the database holds, is.
    warm(node, alice, folder, kind="prop", props=["{DAV:}quota-used-bytes"])


def test_a_disabled_account_is_refused_though_its_listing_is_kept(
        node, folder, ctl):
    name = "lc" + uuid.uuid4().hex[:8]
    ctl("user", "add", name, "--password-stdin", input=name + "-pw\n")
    ctl("member", "add", "s1", name, "--role", "reader")
    sess = user_session(name)
    warm(node, sess, folder)
    ctl("user", "disable", name)
    assert_status(propfind(sess, folder, depth="1"), 401)


@pytest.mark.parametrize("slug", ["s1", None], ids=["space", "personal"])
def test_a_calendar_listing_is_kept_until_an_event_changes(node, slug):
    alice = user_session("alice")
    # The personal space exists before (made on first use, that first
    # listing is not kept).
    new_calendar(node, alice, slug=slug)
    cal = new_calendar(node, alice, slug=slug)
    for n in (1, 2):
        r = put_ics(alice, cal + "e%d.ics" % n,
                    event_ics("lc-%d-%s" % (n, uuid.uuid4().hex),
                              "DTSTART:20261201T100000Z",
                              "DTEND:20261201T110000Z"))
        assert_status(r, 201)
    assert names(warm(node, alice, cal)) == ["e1.ics", "e2.ics"]
    assert_status(dav(alice, "DELETE", cal + "e1.ics"), 204)
    assert names(listing(alice, cal)) == ["e2.ics"]


def test_without_the_cache_nothing_is_kept(new_server, monkeypatch):
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    off = new_server({"listing_cache_size": 0})
    alice = user_session("alice")
    url = off.space_url("s1")
    first = listing(alice, url)
    for _ in range(3):
        assert listing(alice, url).content == first.content
    text = off.log_text()
    assert re.search(r"PROPFIND /dav/spaces/s1/ 207", off.access_log_text())
    assert "debug:" in text and HIT not in text
