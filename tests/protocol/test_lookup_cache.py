"""The targets of reads kept while the database is unchanged (decision
0027, docs/admin.md listing_cache_size).

A GET, a HEAD or a PROPFIND Depth 0 finds its account, space and resource
with one statement; a node keeps what that statement returned and, for
the next read of the same target by the same login, asks PostgreSQL only
for the name of its state now (one statement for all the reads that
asked meanwhile): the same name, no transaction has ended, and the kept
answer stands for the statement.  These tests run their own nodes at log
level debug, where each such read logs "target from the cache", and check
both sides: repeats come from the cache with the same answer, and every
change (through this node, another node, parvisctl, the passing of an
account's expiry) shows in the very next request."""

import time
import uuid

import pytest

from cache_helpers import (cache_hits, cache_warm, new_file,  # noqa: F401
                           node, on)  # node: a fixture
from dav_helpers import (assert_status, dav, parse_multistatus, propfind,
                         proppatch_body, put, sql_str, user_session)

HIT = "target from the cache"


@pytest.fixture
def doc(node):
    return new_file(node, "tc-")


def hits(node):
    return cache_hits(node, HIT)


def warm(node, sess, url, method="GET", **kw):
    """Reads URL until a read comes from the cache; returns that answer."""
    return cache_warm(node, HIT, lambda: dav(sess, method, url, **kw),
                      "%s of %s" % (method, url))


def new_account(ctl, role="reader"):
    name = "tc" + uuid.uuid4().hex[:8]
    ctl("user", "add", name, "--password-stdin", input=name + "-pw\n")
    ctl("member", "add", "s1", name, "--role", role)
    return name, user_session(name)


def test_a_repeated_read_comes_from_the_cache_unchanged(node, doc):
    alice = user_session("alice")
    first = dav(alice, "GET", doc)
    assert_status(first, 200)
    again = warm(node, alice, doc)
    assert_status(again, 200)
    assert again.content == b"first content"
    for h in ("ETag", "Last-Modified", "Content-Type", "Content-Length"):
        assert again.headers[h] == first.headers[h]
    head = warm(node, alice, doc, method="HEAD")
    assert_status(head, 200)
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(b"first content"))
    assert head.headers["ETag"] == first.headers["ETag"]
    ranged = warm(node, alice, doc, headers={"Range": "bytes=6-12"})
    assert_status(ranged, 206)
    assert ranged.content == b"content"


def test_a_missing_target_is_kept_missing_until_made(node, doc):
    alice = user_session("alice")
    url = doc + ".later"
    assert_status(warm(node, alice, url), 404)
    assert_status(put(alice, url, b"made"), 201)
    r = dav(alice, "GET", url)
    assert_status(r, 200)
    assert r.content == b"made"


def test_every_change_shows_in_the_next_read(node, doc):
    alice = user_session("alice")
    old = warm(node, alice, doc)
    # New content: its bytes, length and ETag.
    assert_status(put(alice, doc, b"second, longer content"), 204)
    r = dav(alice, "GET", doc)
    assert r.content == b"second, longer content"
    assert r.headers["ETag"] != old.headers["ETag"]
    # A dead property, read with PROPFIND Depth 0.
    warm(node, alice, doc, method="PROPFIND", headers={"Depth": "0"})
    body = proppatch_body('<x:colour xmlns:x="urn:tc">green</x:colour>')
    assert_status(dav(alice, "PROPPATCH", doc, data=body,
                      headers={"Content-Type": "application/xml"}), 207)
    r = propfind(alice, doc, depth="0")
    assert_status(r, 207)
    assert b"green" in r.content
    # Moved away, then gone.
    warm(node, alice, doc)
    assert_status(dav(alice, "MOVE", doc,
                      headers={"Destination": doc + ".moved"}), 201)
    assert_status(dav(alice, "GET", doc), 404)
    assert dav(alice, "GET", doc + ".moved").content == b"second, longer content"
    warm(node, alice, doc + ".moved")
    assert_status(dav(alice, "DELETE", doc + ".moved"), 204)
    assert_status(dav(alice, "GET", doc + ".moved"), 404)


def test_another_nodes_write_shows_at_once(node, new_server, doc):
    other = new_server()
    alice = user_session("alice")
    warm(node, alice, doc)
    assert_status(put(alice, on(other, doc), b"from the other node"), 204)
    assert dav(alice, "GET", doc).content == b"from the other node"


def test_an_access_change_by_parvisctl_shows_at_once(node, doc, ctl):
    bob = user_session("bob")   # reader of s1
    assert_status(warm(node, bob, doc), 200)
    path = "s1/" + doc.rsplit("/", 1)[-1]
    ctl("acl", "deny", path, "user:bob", "read")
    assert dav(bob, "GET", doc).status_code in (403, 404)
    # Alice's reads are her own: still allowed.
    assert_status(dav(user_session("alice"), "GET", doc), 200)


def test_a_removed_member_is_refused_at_once(node, doc, ctl):
    name, sess = new_account(ctl)
    assert_status(warm(node, sess, doc), 200)
    ctl("member", "remove", "s1", name)
    assert dav(sess, "GET", doc).status_code in (403, 404)


def test_a_disabled_account_is_refused_at_once(node, doc, ctl):
    name, sess = new_account(ctl)
    assert_status(warm(node, sess, doc), 200)
    ctl("user", "disable", name)
    assert_status(dav(sess, "GET", doc), 401)
    assert_status(dav(sess, "HEAD", doc), 401)


def test_a_revoked_app_password_is_refused_at_once(node, doc, ctl):
    name, _ = new_account(ctl)
    label = "tc-" + uuid.uuid4().hex[:6]
    secret = ctl("apppassword", "add", name, "--label", label).stdout.strip()
    app = user_session(name, secret)
    assert_status(warm(node, app, doc), 200)
    ctl("apppassword", "revoke", name, label)
    assert_status(dav(app, "GET", doc), 401)
    # The account's own password still works.
    assert_status(dav(user_session(name), "GET", doc), 200)


def test_an_account_expiring_is_refused_from_that_second(node, doc, ctl,
                                                         cluster):
    name, sess = new_account(ctl)
    cluster.psql("update users set expires_at = now() + interval '3 s' "
                 "where name = %s" % sql_str(name))
    assert_status(warm(node, sess, doc), 200)
    until = float(cluster.psql(
        "select extract(epoch from expires_at) from users where name = %s"
        % sql_str(name))[0][0])
    # No write in between: only the clock says the account has expired.
    time.sleep(max(0.0, until - time.time()) + 1.1)
    before = hits(node)
    assert_status(dav(sess, "GET", doc), 401)
    assert hits(node) == before


def test_each_login_has_its_own_answer(node, doc, ctl):
    alice = user_session("alice")
    warm(node, alice, doc)
    # Carol is no member of s1: what alice's read found is not hers.
    before = hits(node)
    assert dav(user_session("carol"), "GET", doc).status_code in (403, 404)
    assert hits(node) == before


def test_a_listing_after_a_read_from_the_cache_is_right(node, doc):
    alice = user_session("alice")
    folder = doc.rsplit("/", 1)[0] + "/"
    warm(node, alice, folder, method="PROPFIND", headers={"Depth": "0"})
    r = propfind(alice, folder, depth="1")
    assert_status(r, 207)
    hrefs = [x.href for x in parse_multistatus(r.content)]
    assert any(h.endswith(doc.rsplit("/", 1)[-1]) for h in hrefs)


def test_without_the_cache_nothing_is_kept(new_server, monkeypatch):
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    off = new_server({"listing_cache_size": 0})
    alice = user_session("alice")
    url = off.space_url("s1") + "tc-off-" + uuid.uuid4().hex[:8]
    assert_status(put(alice, url, b"x"), 201)
    for _ in range(5):
        assert dav(alice, "GET", url).content == b"x"
    text = off.log_text()
    assert "debug:" in text and HIT not in text
