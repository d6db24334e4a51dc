"""PROPFIND Depth 0 answers kept while the database is unchanged (decision
0029, docs/admin.md listing_cache_size).

Desktop clients ask for the properties of one file or folder again and
again (Finder, GNOME Files and the Windows redirector on every window,
refresh and stat).  A node keeps the whole answer of a PROPFIND Depth 0
in a space, named by the login, the URL, the Depth header and the body
asked, under the number of the database's state its target was found in
(decision 0027); a later PROPFIND with the same name and the same number
gets the kept answer without a statement.  These tests run their own
nodes at log level debug, where such an answer logs "answer from the
cache", and check both sides: repeats come from the cache byte for byte,
and every change (a property, the content, a lock, an access rule,
through this node or another) shows in the very next answer."""

import time
import uuid

import pytest

from cache_helpers import (cache_hits, cache_warm, new_file,  # noqa: F401
                           node, on)  # node: a fixture
from class2_helpers import activelocks, take_lock, unlock
from dav_helpers import (assert_status, dav, parse_multistatus, propfind,
                         propfind_body, proppatch_body, put, user_session)

HIT = "answer from the cache"


@pytest.fixture
def doc(node):
    return new_file(node, "ac-")


def hits(node):
    return cache_hits(node, HIT)


def warm(node, sess, url, **kw):
    """PROPFINDs URL until an answer comes from the cache; returns it."""
    r = cache_warm(node, HIT, lambda: propfind(sess, url, **kw),
                   "PROPFIND of " + url)
    assert_status(r, 207)
    return r


def one(r):
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 1, resps
    return resps[0]


def text(resp, name):
    st, el = resp.props["{DAV:}" + name]
    assert st == 200, (name, st)
    return el.text


def test_a_repeated_propfind_is_answered_byte_for_byte(node, doc):
    alice = user_session("alice")
    first = propfind(alice, doc)
    assert_status(first, 207)
    again = warm(node, alice, doc)
    assert again.content == first.content
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    # A folder's own properties too (Depth 0 of a collection).
    folder = doc.rsplit("/", 1)[0] + "/"
    r = warm(node, alice, folder)
    assert one(r).href.endswith("/s1/")


def test_each_question_has_its_own_answer(node, doc, ctl):
    alice = user_session("alice")
    warm(node, alice, doc)
    before = hits(node)
    # Another Depth header: the same properties, asked anew.
    assert_status(propfind(alice, doc, depth="1"), 207)
    # The Windows redirector's answers are its own (CLIENTS.md §4.1).
    win = propfind(alice, doc,
                   headers={"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(win, 207)
    assert b"supportedlock" not in win.content
    # So are an app password's.
    secret = ctl("apppassword", "add", "alice", "--label",
                 "ac-" + uuid.uuid4().hex[:6]).stdout.strip()
    assert_status(propfind(user_session("alice", secret), doc), 207)
    named = one(propfind(alice, doc, kind="prop", props=("getetag",)))
    assert set(named.props) == {"{DAV:}getetag"}
    names = one(propfind(alice, doc, kind="propname"))
    st, el = names.props["{DAV:}getcontentlength"]
    assert st == 200 and len(el) == 0 and not (el.text or "").strip()
    assert hits(node) == before


def test_each_login_has_its_own_answer(node, doc):
    alice = user_session("alice")
    body = propfind_body("prop", ("current-user-privilege-set",))
    mine = warm(node, alice, doc, body=body)
    assert b"<D:write" in mine.content or b":write/>" in mine.content
    before = hits(node)
    bob = user_session("bob")   # reader of s1
    his = propfind(bob, doc, body=body)
    assert_status(his, 207)
    assert hits(node) == before
    assert his.content != mine.content
    assert b"write" not in his.content.split(b"current-user-privilege-set")[1]


def test_every_change_shows_in_the_next_answer(node, doc):
    alice = user_session("alice")
    old = one(warm(node, alice, doc))
    # A dead property.
    body = proppatch_body('<x:colour xmlns:x="urn:ac">green</x:colour>')
    assert_status(dav(alice, "PROPPATCH", doc, data=body,
                      headers={"Content-Type": "application/xml"}), 207)
    r = propfind(alice, doc)
    assert b"green" in r.content
    # New content: its length and ETag.
    warm(node, alice, doc)
    assert_status(put(alice, doc, b"second, longer content"), 204)
    new = one(propfind(alice, doc))
    assert text(new, "getcontentlength") == str(len(b"second, longer content"))
    assert text(new, "getetag") != text(old, "getetag")
    # Gone.
    warm(node, alice, doc)
    assert_status(dav(alice, "DELETE", doc), 204)
    assert_status(propfind(alice, doc), 404)


def test_another_nodes_write_shows_at_once(node, new_server, doc):
    other = new_server()
    alice = user_session("alice")
    warm(node, alice, doc)
    theirs = on(other, doc)
    body = proppatch_body('<x:mark xmlns:x="urn:ac">from-the-other-node</x:mark>')
    assert_status(dav(alice, "PROPPATCH", theirs, data=body,
                      headers={"Content-Type": "application/xml"}), 207)
    assert b"from-the-other-node" in propfind(alice, doc).content


def test_an_access_change_shows_at_once(node, doc, ctl):
    bob = user_session("bob")   # reader of s1
    body = propfind_body("prop", ("current-user-privilege-set",))
    r = warm(node, bob, doc, body=body)
    privs = r.content.split(b"current-user-privilege-set")[1]
    assert b"write" not in privs
    path = "s1/" + doc.rsplit("/", 1)[-1]
    # Still readable, with one right more: the answer changes.
    ctl("acl", "grant", path, "user:bob", "write")
    r = propfind(bob, doc, body=body)
    assert_status(r, 207)
    assert b"write" in r.content.split(b"current-user-privilege-set")[1]
    warm(node, bob, doc, body=body)
    ctl("acl", "deny", path, "user:bob", "read")
    assert propfind(bob, doc, body=body).status_code in (403, 404)


def test_an_answer_showing_a_lock_is_not_kept(node, doc):
    """Its timeout counts down with the clock, not with a transaction."""
    alice = user_session("alice")
    body = propfind_body("prop", ("lockdiscovery",))
    # Kept while there is no lock (the same request, as a control).
    r = warm(node, alice, doc, body=body)
    assert activelocks(r.content) == []
    token = take_lock(alice, doc, timeout="Second-600")
    before = hits(node)
    for _ in range(5):
        r = propfind(alice, doc, body=body)
        assert_status(r, 207)
        assert len(activelocks(r.content)) == 1
        time.sleep(0.3)
    assert hits(node) == before
    assert_status(unlock(alice, doc, token), 204)
    r = propfind(alice, doc, body=body)
    assert activelocks(r.content) == []


def test_an_answer_missing_a_property_is_not_kept(node, doc, cluster):
    """A property whose statement fails is left out of an answer otherwise
    right (404 in its propstat), and a read has no COMMIT to reveal the
    failure: such an answer is not kept, or every client would get it until
    the next write."""
    alice = user_session("alice")
    folder = doc.rsplit("/", 1)[0] + "/"
    body = propfind_body("prop", ("sync-token", "getetag"))
    # Kept while the statements answer (the same request, as a control).
    warm(node, alice, folder, body=body)
    cluster.psql("revoke select on changes from parvis")
    try:
        before = hits(node)
        for _ in range(3):
            r = one(propfind(alice, folder, body=body))
            assert r.props["{DAV:}sync-token"][0] != 200
            time.sleep(0.2)
        assert hits(node) == before
    finally:
        cluster.psql("grant select on changes to parvis")
    r = one(propfind(alice, folder, body=body))
    assert text(r, "sync-token")


def test_quota_available_bytes_is_not_kept(node, doc):
    """It follows the disk's free space too, not only the database."""
    alice = user_session("alice")
    folder = doc.rsplit("/", 1)[0] + "/"
    # Kept without it (as a control).
    warm(node, alice, folder, body=propfind_body("prop", ("quota-used-bytes",)))
    body = propfind_body("prop", ("quota-available-bytes", "quota-used-bytes"))
    before = hits(node)
    for _ in range(5):
        assert_status(propfind(alice, folder, body=body), 207)
        time.sleep(0.2)
    assert hits(node) == before


def test_without_the_cache_nothing_is_kept(new_server, monkeypatch):
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    off = new_server({"listing_cache_size": 0})
    alice = user_session("alice")
    url = off.space_url("s1") + "ac-off-" + uuid.uuid4().hex[:8]
    assert_status(put(alice, url, b"x"), 201)
    for _ in range(5):
        assert_status(propfind(alice, url), 207)
    text = off.log_text()
    assert "debug:" in text and HIT not in text
