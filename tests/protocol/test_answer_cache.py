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

from class2_helpers import activelocks, take_lock, unlock
from dav_helpers import (assert_status, dav, parse_multistatus, propfind,
                         propfind_body, proppatch_body, put, user_session)

HIT = "answer from the cache"


@pytest.fixture
def node(debug_node):
    return debug_node


@pytest.fixture
def doc(node):
    url = node.space_url("s1") + "ac-" + uuid.uuid4().hex[:10] + ".txt"
    assert_status(put(user_session("alice"), url, b"first content"), 201)
    return url


def hits(node):
    return node.log_text().count(HIT)


def warm(node, sess, url, **kw):
    """PROPFINDs URL until an answer comes from the cache; returns it.
    (The node's own writes, such as the audit sealer's, end transactions
    too: the first reads after a write miss.)"""
    for _ in range(30):
        before = hits(node)
        r = propfind(sess, url, **kw)
        if hits(node) == before + 1:
            assert_status(r, 207)
            return r
        time.sleep(0.1)
    pytest.fail("no PROPFIND of %s came from the cache" % url)


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


def test_each_question_has_its_own_answer(node, doc):
    alice = user_session("alice")
    warm(node, alice, doc)
    before = hits(node)
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
    theirs = other.url + doc[doc.index("/dav/"):]
    body = proppatch_body('<x:mark xmlns:x="urn:ac">from-the-other-node</x:mark>')
    assert_status(dav(alice, "PROPPATCH", theirs, data=body,
                      headers={"Content-Type": "application/xml"}), 207)
    assert b"from-the-other-node" in propfind(alice, doc).content


def test_an_access_change_shows_at_once(node, doc, ctl):
    bob = user_session("bob")
    warm(node, bob, doc)
    ctl("acl", "deny", "s1/" + doc.rsplit("/", 1)[-1], "user:bob", "read")
    assert propfind(bob, doc).status_code in (403, 404)


def test_an_answer_showing_a_lock_is_not_kept(node, doc):
    """Its timeout counts down with the clock, not with a transaction."""
    alice = user_session("alice")
    warm(node, alice, doc)
    token = take_lock(alice, doc, timeout="Second-600")
    body = propfind_body("prop", ("lockdiscovery",))
    before = hits(node)
    answers = []
    for _ in range(3):
        r = propfind(alice, doc, body=body)
        assert_status(r, 207)
        answers.append(r.content)
        time.sleep(0.4)
    assert hits(node) == before
    assert len(activelocks(answers[-1])) == 1
    assert_status(unlock(alice, doc, token), 204)
    r = propfind(alice, doc, body=body)
    assert activelocks(r.content) == []


def test_quota_available_bytes_is_not_kept(node, doc):
    """It follows the disk's free space too, not only the database."""
    alice = user_session("alice")
    folder = doc.rsplit("/", 1)[0] + "/"
    body = propfind_body("prop", ("quota-available-bytes", "quota-used-bytes"))
    before = hits(node)
    for _ in range(4):
        assert_status(propfind(alice, folder, body=body), 207)
        time.sleep(0.1)
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
