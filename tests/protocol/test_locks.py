"""WebDAV class 2 locking (RFC 4918 §6, §7, §9.10, §9.11, §10.4): 423 for
requests without the token, shared/exclusive conflicts, depth, LOCK on
unmapped URLs, refresh, timeouts, locks shared by two parvisd processes,
UNLOCK permissions and the parvisctl lock commands."""

import json
import time

from workflow_helpers import add_user, short

import pytest

from class2_helpers import (LOCK_OWNER_HREF, activelock_timeout, activelocks,
                            error_conditions, if_token, lock, lock_rows,
                            live_lock_count, refresh, take_lock, token_of,
                            unlock)
from dav_helpers import (XML_HEADERS, assert_status, dav, db_path, join,
                         mkcol, parse_multistatus, propfind, propfind_one,
                         proppatch_body, put, raw_path_of, resource_row,
                         url_path)

ZNS = "http://example.com/ns/parvis-test"

# A second editor of s1, so that "another user" can hold write rights.
EDITOR2 = "lockdave"


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture(scope="module")
def editor2(seed, ctl):
    """Name of a second editor of s1 (password NAME-pw), made once."""
    if EDITOR2 not in ctl("user", "list").stdout.split():
        ctl("user", "add", EDITOR2, "--password-stdin",
            input=EDITOR2 + "-pw\n")
        ctl("member", "add", "s1", EDITOR2, "--role", "editor")
    return EDITOR2


@pytest.fixture
def file_url(coll, alice):
    url = join(coll, "doc.txt")
    assert_status(put(alice, url, b"original\n"), 201)
    return url


@pytest.fixture
def locked_file(file_url, alice):
    """(url, token): doc.txt exclusively locked by alice, Depth 0."""
    return file_url, take_lock(alice, file_url, depth="0")


def get_bytes(sess, url):
    r = dav(sess, "GET", url)
    assert_status(r, 200)
    return r.content


def exists(sess, url):
    r = propfind(sess, url, "0", "prop", ["resourcetype"])
    assert r.status_code in (207, 404), (r.status_code, r.text[:500])
    return r.status_code == 207


def assert_423_names_root(r, root_url):
    """423 with DAV:lock-token-submitted naming the lock root (RFC 4918
    §16)."""
    assert r.status_code == 423, "%s %s -> %d (want 423)\n%s" % (
        r.request.method, r.request.url, r.status_code, r.text[:2000])
    conds = error_conditions(r.content)
    assert "{DAV:}lock-token-submitted" in conds, r.text
    hrefs = [raw_path_of(h) for h in conds["{DAV:}lock-token-submitted"]]
    assert hrefs == [raw_path_of(root_url)], (hrefs, r.text)


def modify(sess, method, url, coll, headers=None):
    """One modifying request on url; headers are added."""
    h = dict(headers or {})
    if method == "PUT":
        return put(sess, url, b"changed\n", headers=h)
    if method == "DELETE":
        return dav(sess, "DELETE", url, headers=h)
    if method == "MOVE":
        h["Destination"] = join(coll, "moved.txt")
        return dav(sess, "MOVE", url, headers=h)
    if method == "PROPPATCH":
        h.update(XML_HEADERS)
        body = proppatch_body('<Z:color>red</Z:color>',
                              nsdecl='xmlns:Z="%s"' % ZNS)
        return dav(sess, "PROPPATCH", url, data=body, headers=h)
    raise AssertionError(method)


MODIFYING = ["PUT", "DELETE", "MOVE", "PROPPATCH"]


# ------------------------------------------------------- exclusive locks

@pytest.mark.parametrize("method", MODIFYING)
def test_exclusive_lock_blocks_request_without_token(method, locked_file,
                                                     coll, alice):
    url, _ = locked_file
    r = modify(alice, method, url, coll)
    assert_423_names_root(r, url)
    assert get_bytes(alice, url) == b"original\n"
    assert not exists(alice, join(coll, "moved.txt"))


@pytest.mark.parametrize("method", MODIFYING)
def test_exclusive_lock_allows_request_with_token(method, locked_file, coll,
                                                  alice):
    url, token = locked_file
    r = modify(alice, method, url, coll, if_token(token))
    want = {"PUT": 204, "DELETE": 204, "MOVE": 201, "PROPPATCH": 207}[method]
    assert_status(r, want)
    if method == "PUT":
        assert get_bytes(alice, url) == b"changed\n"
    elif method in ("DELETE", "MOVE"):
        assert not exists(alice, url)
    else:
        assert "HTTP/1.1 200" in r.text, r.text


def test_token_of_another_principal_does_not_unlock(locked_file, editor2,
                                                    session_for):
    # RFC 4918 §6.4: a lock token is bound to the principal that created it.
    url, token = locked_file
    other = session_for(editor2)
    r = put(other, url, b"stolen\n", headers=if_token(token))
    assert_status(r, 423)
    assert get_bytes(other, url) == b"original\n"


def test_423_href_of_file_locked_without_depth_has_no_trailing_slash(
        file_url, alice):
    # Windows sends LOCK without Depth (infinity) on files [S12]: the
    # lock root in the 423 body is still the file's URL, not "file/".
    take_lock(alice, file_url, depth=None, timeout="Second-3600")
    r = put(alice, file_url, b"changed\n")
    assert_423_names_root(r, file_url)


# ---------------------------------------------------------- shared locks

def test_shared_locks_coexist(file_url, alice, session_for):
    t1 = take_lock(alice, file_url, scope="shared")
    t2 = take_lock(session_for("mgr"), file_url, scope="shared")
    assert t1 != t2
    one = propfind_one(alice, file_url, "prop", ["lockdiscovery"])
    tokens = sorted(al.findtext("{DAV:}locktoken/{DAV:}href").strip()
                    for al in one.ok_props()["{DAV:}lockdiscovery"]
                    .findall("{DAV:}activelock"))
    assert tokens == sorted([t1, t2])


@pytest.mark.parametrize("first,second", [("shared", "exclusive"),
                                          ("exclusive", "shared"),
                                          ("exclusive", "exclusive")])
def test_exclusive_conflicts_with_any_lock(first, second, file_url, alice,
                                           session_for):
    take_lock(alice, file_url, scope=first)
    r = lock(session_for("mgr"), file_url, scope=second)
    assert_status(r, 423)
    assert "{DAV:}no-conflicting-lock" in error_conditions(r.content), r.text


# ------------------------------------------------------------ lock depth

def test_depth_infinity_collection_lock_blocks_new_member_without_token(
        coll, alice):
    take_lock(alice, coll, depth="infinity")
    r = put(alice, join(coll, "new.txt"), b"x")
    assert_423_names_root(r, coll)
    assert not exists(alice, join(coll, "new.txt"))


def test_depth_infinity_collection_lock_allows_new_member_with_token(
        coll, alice):
    token = take_lock(alice, coll, depth="infinity")
    r = put(alice, join(coll, "new.txt"), b"x", headers=if_token(token))
    assert_status(r, 201)


def test_depth_infinity_collection_lock_covers_existing_member(coll, alice):
    url = join(coll, "a.txt")
    assert_status(put(alice, url, b"a"), 201)
    take_lock(alice, coll, depth="infinity")
    r = put(alice, url, b"b")
    assert_423_names_root(r, coll)


def test_depth_0_collection_lock_blocks_adding_members(coll, alice):
    take_lock(alice, coll, depth="0")
    r = put(alice, join(coll, "new.txt"), b"x")
    assert_423_names_root(r, coll)
    r = mkcol(alice, join(coll, "sub", collection=True))
    assert_423_names_root(r, coll)
    assert not exists(alice, join(coll, "new.txt"))


def test_depth_0_collection_lock_leaves_member_content_writable(coll, alice):
    # RFC 4918 §7.5: a depth-0 lock on a collection protects its
    # membership, not the content of its members.
    url = join(coll, "a.txt")
    assert_status(put(alice, url, b"a"), 201)
    take_lock(alice, coll, depth="0")
    assert_status(put(alice, url, b"b"), 204)
    assert get_bytes(alice, url) == b"b"


# ----------------------------------------------- LOCK on an unmapped URL

def test_lock_unmapped_url_creates_empty_resource_201(coll, alice, cluster):
    url = join(coll, "new.odt")
    r = lock(alice, url, depth="0")
    assert_status(r, 201)
    token_of(r)
    g = dav(alice, "GET", url)
    assert_status(g, 200)
    assert g.content == b""
    assert resource_row(cluster, db_path(url)) is not None


def test_lockdiscovery_of_lock_on_unmapped_url_lists_owner(coll, alice):
    url = join(coll, "new.odt")
    token = take_lock(alice, url, depth="0")
    one = propfind_one(alice, url, "prop", ["lockdiscovery"])
    als = one.ok_props()["{DAV:}lockdiscovery"].findall("{DAV:}activelock")
    assert len(als) == 1
    al = als[0]
    assert al.findtext("{DAV:}locktoken/{DAV:}href").strip() == token
    assert al.find("{DAV:}lockscope/{DAV:}exclusive") is not None
    assert al.findtext("{DAV:}depth").strip() == "0"
    assert al.findtext("{DAV:}owner/{DAV:}href").strip() == LOCK_OWNER_HREF
    assert raw_path_of(al.findtext("{DAV:}lockroot/{DAV:}href").strip()) == \
        raw_path_of(url)


def test_lock_without_owner_shows_user_name(file_url, alice):
    take_lock(alice, file_url, owner=None)
    one = propfind_one(alice, file_url, "prop", ["lockdiscovery"])
    al = one.ok_props()["{DAV:}lockdiscovery"].find("{DAV:}activelock")
    assert "".join(al.find("{DAV:}owner").itertext()).strip() == "alice"


# --------------------------------------------------------------- timeouts

def test_lock_response_timeout_is_requested_value(file_url, alice):
    r = lock(alice, file_url, timeout="Second-600")
    assert_status(r, 200)
    assert [activelock_timeout(a) for a in activelocks(r.content)] == \
        ["Second-600"]


def test_lock_timeout_is_capped_at_lock_timeout_max(file_url, alice):
    # Default lock_timeout_max is 3600 s.
    r = lock(alice, file_url, timeout="Second-99999")
    assert_status(r, 200)
    assert [activelock_timeout(a) for a in activelocks(r.content)] == \
        ["Second-3600"]


def test_lock_infinite_timeout_is_capped_at_lock_timeout_max(file_url,
                                                            alice):
    r = lock(alice, file_url, timeout="Infinite, Second-4100000000")
    assert_status(r, 200)
    assert [activelock_timeout(a) for a in activelocks(r.content)] == \
        ["Second-3600"]


def test_refresh_returns_granted_timeout_not_remaining(file_url, alice):
    # neon/LibreOffice shrink their refresh period when the server answers
    # with the time left [S56]: the refresh must echo the granted value.
    token = take_lock(alice, file_url, timeout="Second-600")
    time.sleep(1.2)
    r = refresh(alice, file_url, token, timeout="Second-300")
    assert_status(r, 200)
    assert [activelock_timeout(a) for a in activelocks(r.content)] == \
        ["Second-300"]
    assert "Second-300" in r.text


def test_refresh_without_timeout_header_is_200(file_url, alice):
    # Office 2013 sends a bare refresh (no body, If only) [S61].
    token = take_lock(alice, file_url, timeout="Second-600")
    r = refresh(alice, file_url, token)
    assert_status(r, 200)
    assert len(activelocks(r.content)) == 1


def test_refresh_extends_expiry_in_db(file_url, alice, cluster):
    token = take_lock(alice, file_url, timeout="Second-60")
    assert_status(refresh(alice, file_url, token, timeout="Second-900"), 200)
    left = cluster.psql("select extract(epoch from expires_at - now())::int "
                        "from locks where token = '%s'" % token)
    assert 880 <= int(left[0][0]) <= 900, left


def test_refresh_with_unknown_token_is_412(file_url, alice):
    take_lock(alice, file_url)
    r = refresh(alice, file_url, "urn:uuid:00000000-0000-0000-0000-000000000000")
    assert_status(r, 412)


def test_expired_lock_no_longer_blocks(file_url, alice):
    take_lock(alice, file_url, timeout="Second-2")
    time.sleep(3)
    assert_status(put(alice, file_url, b"after expiry\n"), 204)
    one = propfind_one(alice, file_url, "prop", ["lockdiscovery"])
    assert len(one.ok_props()["{DAV:}lockdiscovery"]) == 0


# -------------------------------------------------- two parvisd processes

def test_lock_taken_on_one_server_is_enforced_by_another(locked_file,
                                                         new_server,
                                                         session_for):
    url, token = locked_file
    other = new_server()
    url2 = other.url + raw_path_of(url)
    alice = session_for("alice")
    r = put(alice, url2, b"via server 2\n")
    assert_423_names_root(r, url)
    assert_status(put(alice, url2, b"via server 2\n",
                      headers=if_token(token)), 204)


# ------------------------------------------------------------------ UNLOCK

def test_unlock_by_owner_is_204_and_frees_resource(locked_file, alice,
                                                   cluster):
    url, token = locked_file
    assert_status(unlock(alice, url, token), 204)
    assert live_lock_count(cluster, token) == 0
    assert_status(put(alice, url, b"free\n"), 204)


def test_unlock_by_another_editor_is_403(locked_file, editor2, session_for,
                                         cluster):
    url, token = locked_file
    r = unlock(session_for(editor2), url, token)
    assert_status(r, 403)
    assert live_lock_count(cluster, token) == 1


def test_unlock_by_manager_is_204(locked_file, session_for, cluster):
    url, token = locked_file
    assert_status(unlock(session_for("mgr"), url, token), 204)
    assert live_lock_count(cluster, token) == 0


def test_unlock_by_user_of_another_space_is_404(locked_file, session_for,
                                                cluster):
    url, token = locked_file
    assert_status(unlock(session_for("carol"), url, token), 404)
    assert live_lock_count(cluster, token) == 1


def test_unlock_with_wrong_token_is_409(locked_file, alice, cluster):
    url, token = locked_file
    r = unlock(alice, url, "urn:uuid:00000000-0000-0000-0000-000000000000")
    assert_status(r, 409)
    assert "{DAV:}lock-token-matches-request-uri" in \
        error_conditions(r.content), r.text
    assert live_lock_count(cluster, token) == 1


def test_reader_cannot_lock(file_url, session_for):
    assert_status(lock(session_for("bob"), file_url), 403)


# ------------------------------------------------------------- parvisctl

def test_ctl_lock_list_shows_lock_with_owner_name(locked_file, ctl):
    url, token = locked_file
    rows = [line.split("\t") for line in
            ctl("lock", "list", "s1").stdout.splitlines()]
    mine = [row for row in rows if row[0] == token]
    assert len(mine) == 1, rows
    tok, space, path, depth, scope, owner, expires = mine[0]
    assert (space, path, depth, scope, owner) == \
        ("s1", db_path(url), "0", "exclusive", "alice")
    assert expires.endswith("Z") and "T" in expires, expires


def test_ctl_lock_list_json(locked_file, ctl):
    url, token = locked_file
    locks = json.loads(ctl("--json", "lock", "list").stdout)
    mine = [lk for lk in locks if lk["token"] == token]
    assert len(mine) == 1, locks
    assert mine[0]["owner"] == "alice"
    assert mine[0]["path"] == db_path(url)


def test_ctl_lock_list_other_space_does_not_show_it(locked_file, ctl):
    _, token = locked_file
    assert token not in ctl("lock", "list", "s2").stdout


def test_ctl_lock_break_removes_lock_and_put_succeeds(locked_file, ctl,
                                                      alice, cluster):
    url, token = locked_file
    ctl("lock", "break", token)
    assert lock_rows(cluster, token) == []
    assert token not in ctl("lock", "list").stdout
    assert_status(put(alice, url, b"after break\n"), 204)


def test_ctl_lock_break_unknown_token_fails(ctl, seed):
    p = ctl("lock", "break", "urn:uuid:00000000-0000-0000-0000-000000000000",
            check=False)
    assert p.returncode != 0


def test_delete_of_locked_file_with_token_removes_lock_row(locked_file,
                                                           alice, cluster):
    url, token = locked_file
    assert_status(dav(alice, "DELETE", url, headers=if_token(token)), 204)
    assert lock_rows(cluster, token) == []


# ----------------------------------------------------------- more conflicts

def test_no_conflicting_lock_href_of_file_locked_without_depth_has_no_slash(
        file_url, alice, session_for):
    # RFC 4918 §16: no-conflicting-lock MAY name the root of the
    # conflicting lock; when it does, a file's href has no trailing slash.
    take_lock(alice, file_url, depth=None, timeout="Second-3600")
    r = lock(session_for("mgr"), file_url)
    assert_status(r, 423)
    hrefs = error_conditions(r.content)["{DAV:}no-conflicting-lock"]
    assert [raw_path_of(h) for h in hrefs] in ([], [raw_path_of(file_url)]), \
        r.text


def test_lock_with_depth_1_is_400(file_url, alice):
    # RFC 4918 §9.10.3: LOCK takes Depth 0 or infinity only.
    assert_status(lock(alice, file_url, depth="1"), 400)


def test_lock_unmapped_url_in_locked_collection_without_token_is_423(
        coll, alice, session_for):
    take_lock(alice, coll, depth="infinity")
    url = join(coll, "new.odt")
    r = lock(session_for("mgr"), url)
    assert_status(r, 423)
    assert not exists(alice, url)


def test_shared_lock_holder_may_write_with_own_token(file_url, alice,
                                                    session_for):
    # RFC 4918 §6.2/§7: a write lock stops "a principal without the lock";
    # with shared locks every holder has a lock, so submitting its own
    # token is enough (Apache mod_dav: one matching token suffices).
    mine = take_lock(alice, file_url, scope="shared")
    take_lock(session_for("mgr"), file_url, scope="shared")
    r = put(alice, file_url, b"shared write\n", headers=if_token(mine))
    assert_status(r, 204)
    assert get_bytes(alice, file_url) == b"shared write\n"


def test_shared_lock_blocks_writer_without_token(file_url, alice,
                                                 session_for):
    take_lock(session_for("mgr"), file_url, scope="shared")
    r = put(alice, file_url, b"x")
    assert_423_names_root(r, file_url)


@pytest.mark.parametrize("method", ["DELETE", "MOVE"])
def test_shared_lock_elsewhere_in_the_tree_does_not_satisfy_another(
        coll, alice, session_for, method):
    """A set of shared locks is satisfied by any one of them (§6.2): a
    shared lock on one member does not stand for another principal's
    shared lock on a sibling, nor a depth-0 lock for a depth-infinity one."""
    mgr = session_for("mgr")
    a = join(coll, "a", collection=True)
    assert_status(mkcol(alice, a), 201)
    b, c = join(a, "b.txt"), join(a, "c.txt")
    assert_status(put(alice, b, b"b"), 201)
    assert_status(put(alice, c, b"c"), 201)
    take_lock(mgr, b, scope="shared", depth="0")
    mine = take_lock(alice, c, scope="shared", depth="0")
    hdrs = {"If": "<%s> (<%s>)" % (c, mine)}
    if method == "MOVE":
        hdrs["Destination"] = join(coll, "z", collection=True)
    r = dav(alice, method, a, headers=hdrs)
    assert_423_names_root(r, b)
    assert get_bytes(alice, b) == b"b"
    # alice's shared depth-0 lock on a/ does not cover mgr's shared
    # depth-infinity lock there either: it covers a/ but not its members.
    d = join(coll, "d", collection=True)
    assert_status(mkcol(alice, d), 201)
    assert_status(put(alice, join(d, "e.txt"), b"e"), 201)
    take_lock(mgr, d, scope="shared", depth="infinity")
    mine = take_lock(alice, d, scope="shared", depth="0")
    r = dav(alice, "DELETE", d, headers=if_token(mine))
    assert_423_names_root(r, d)
    assert get_bytes(alice, join(d, "e.txt")) == b"e"
    # A shared depth-infinity lock of alice's on a/ covers mgr's on b.txt.
    mine = take_lock(alice, a, scope="shared", depth="infinity")
    r = dav(alice, "DELETE", a, headers=if_token(mine))
    assert r.status_code == 204, r.status_code


def test_lock_owner_and_shared_lock_count_are_bounded(file_url, alice,
                                                     session_for):
    """Each lock discovery and listing repeats every lock's owner: a 1 MB
    owner, or thousands of shared locks, would make every PROPFIND of the
    tree that large."""
    r = lock(alice, file_url, scope="shared", owner="v" * 5000)
    assert_status(r, 400)
    assert lock(alice, file_url, scope="shared",
                owner="v" * 4000).status_code == 200
    for _ in range(63):
        assert lock(alice, file_url, scope="shared").status_code == 200
    r = lock(session_for("mgr"), file_url, scope="shared")
    assert_status(r, 403)
    r = propfind(alice, file_url, "0", "prop", ["lockdiscovery"])
    assert r.content.count(b"activelock>") // 2 == 64


def test_if_header_on_two_lines_is_one_header(file_url, alice):
    """RFC 9110 §5.3: lines of one field are one value; for If (RFC 4918
    §10.4) its lists follow one another, satisfied if any is."""
    from dav_helpers import raw_path_of, raw_request
    tok = take_lock(alice, file_url)
    r = raw_request(file_url, "PUT %s HTTP/1.1" % raw_path_of(file_url),
                    [("Authorization", "Basic YWxpY2U6YWxpY2UtcHc="),
                     ("If", "(<urn:uuid:00000000-0000-0000-0000-000000000000>)"),
                     ("If", "(<%s>)" % tok), ("Content-Length", "3")],
                    body=b"two")
    assert r.status in (200, 204), r
    assert get_bytes(alice, file_url) == b"two"


# ------------------------------------------ collections and moving members

def test_copy_into_depth_0_locked_collection_without_token_is_423(
        coll, alice, session_for):
    src = join(coll, "src.txt")
    assert_status(put(alice, src, b"s"), 201)
    target = join(coll, "target", collection=True)
    assert_status(mkcol(alice, target), 201)
    take_lock(session_for("mgr"), target, depth="0")
    r = dav(alice, "COPY", src, headers={"Destination": join(target, "c.txt")})
    assert_423_names_root(r, target)
    assert not exists(alice, join(target, "c.txt"))


def test_move_out_of_depth_infinity_locked_collection_without_token_is_423(
        coll, alice):
    sub = join(coll, "locked", collection=True)
    assert_status(mkcol(alice, sub), 201)
    src = join(sub, "a.txt")
    assert_status(put(alice, src, b"a"), 201)
    take_lock(alice, sub, depth="infinity")
    r = dav(alice, "MOVE", src, headers={"Destination": join(coll, "a.txt")})
    assert_423_names_root(r, sub)
    assert exists(alice, src)


def test_delete_collection_with_locked_member_without_token_keeps_member(
        coll, alice, session_for):
    sub = join(coll, "sub", collection=True)
    assert_status(mkcol(alice, sub), 201)
    member = join(sub, "a.txt")
    assert_status(put(alice, member, b"a"), 201)
    take_lock(session_for("mgr"), member)
    r = dav(alice, "DELETE", sub)
    # RFC 4918 §9.6.1: 423 for the whole request, or a 207 naming the member.
    assert r.status_code in (423, 207), (r.status_code, r.text)
    if r.status_code == 207:
        assert "423" in r.text, r.text
    assert exists(alice, member)


def test_copy_of_locked_file_needs_no_token_and_copy_is_unlocked(
        locked_file, coll, alice):
    # RFC 4918 §7.6: COPY MUST NOT duplicate the source's write locks.
    url, _ = locked_file
    dst = join(coll, "copy.txt")
    assert_status(dav(alice, "COPY", url, headers={"Destination": dst}), 201)
    assert_status(put(alice, dst, b"copy changed\n"), 204)


def test_move_with_token_leaves_no_lock_at_either_path(locked_file, coll,
                                                       alice, cluster):
    # RFC 4918 §7.6: a MOVE does not move the write lock with the
    # resource; the lock on the source goes away with it.
    url, token = locked_file
    dst = join(coll, "moved.txt")
    assert_status(dav(alice, "MOVE", url, headers=dict(
        if_token(token), Destination=dst)), 201)
    assert live_lock_count(cluster, token) == 0
    assert_status(put(alice, dst, b"moved changed\n"), 204)
    assert_status(put(alice, url, b"new at old path\n"), 201)


def test_member_of_locked_collection_shows_inherited_lock(coll, alice):
    url = join(coll, "a.txt")
    assert_status(put(alice, url, b"a"), 201)
    token = take_lock(alice, coll, depth="infinity")
    one = propfind_one(alice, url, "prop", ["lockdiscovery"])
    al = one.ok_props()["{DAV:}lockdiscovery"].find("{DAV:}activelock")
    assert al is not None
    assert al.findtext("{DAV:}locktoken/{DAV:}href").strip() == token
    assert raw_path_of(al.findtext("{DAV:}lockroot/{DAV:}href").strip()) == \
        raw_path_of(coll)


def test_unlock_through_member_of_locked_collection_is_204(coll, alice,
                                                           cluster):
    # RFC 4918 §9.11: the Request-URI may be any resource in the lock's scope.
    url = join(coll, "a.txt")
    assert_status(put(alice, url, b"a"), 201)
    token = take_lock(alice, coll, depth="infinity")
    assert_status(unlock(alice, url, token), 204)
    assert live_lock_count(cluster, token) == 0


# ---------------------------------------------------------------- If header

def etag_of(sess, url):
    r = dav(sess, "HEAD", url)
    assert_status(r, 200)
    return r.headers["ETag"]


def test_if_token_and_matching_etag_is_allowed(locked_file, alice):
    url, token = locked_file
    h = {"If": "(<%s> [%s])" % (token, etag_of(alice, url))}
    assert_status(put(alice, url, b"x", headers=h), 204)


def test_if_token_and_wrong_etag_is_412(locked_file, alice):
    url, token = locked_file
    h = {"If": '(<%s> ["nope"])' % token}
    assert_status(put(alice, url, b"x", headers=h), 412)
    assert get_bytes(alice, url) == b"original\n"


def test_if_unknown_token_on_unlocked_file_is_412(file_url, alice):
    h = {"If": "(<urn:uuid:00000000-0000-0000-0000-000000000000>)"}
    assert_status(put(alice, file_url, b"x", headers=h), 412)


def test_if_not_unknown_token_on_unlocked_file_is_allowed(file_url, alice):
    h = {"If": "(Not <urn:uuid:00000000-0000-0000-0000-000000000000>)"}
    assert_status(put(alice, file_url, b"x", headers=h), 204)


def test_if_second_list_true_is_enough(locked_file, alice):
    url, token = locked_file
    h = {"If": "(<urn:uuid:00000000-0000-0000-0000-000000000000>) (<%s>)"
         % token}
    assert_status(put(alice, url, b"x", headers=h), 204)


def test_if_not_with_token_still_submits_it_for_the_lock_check(locked_file,
                                                               alice):
    # (Not <token>) is false for the locked resource; with a second,
    # true list the header holds and the token counts as submitted
    # (RFC 4918 §10.4: tokens anywhere in the header are submitted).
    url, token = locked_file
    h = {"If": "(Not <%s>) (<%s>)" % (token, token)}
    assert_status(put(alice, url, b"x", headers=h), 204)


def test_if_tagged_list_names_locked_collection_for_new_member(coll, alice):
    token = take_lock(alice, coll, depth="0")
    h = {"If": "<%s> (<%s>)" % (coll, token)}
    assert_status(put(alice, join(coll, "new.txt"), b"x", headers=h), 201)


def test_if_tagged_list_for_other_resource_with_wrong_token_is_412(
        coll, alice):
    take_lock(alice, coll, depth="0")
    h = {"If": "<%s> (<urn:uuid:00000000-0000-0000-0000-000000000000>)"
         % coll}
    assert_status(put(alice, join(coll, "new.txt"), b"x", headers=h), 412)


def test_malformed_if_header_is_400(file_url, alice):
    assert_status(put(alice, file_url, b"x", headers={"If": "(<urn:x"}), 400)


# ------------------------------------------------------ more on timeouts

def test_lock_timeout_max_from_config_caps_grant(locked_file, new_server,
                                                 session_for, coll):
    srv = new_server({"lock_timeout_max": 120})
    url = srv.url + raw_path_of(join(coll, "other.txt"))
    alice = session_for("alice")
    r = lock(alice, url, timeout="Second-600")
    assert_status(r, 201)
    assert [activelock_timeout(a) for a in activelocks(r.content)] == \
        ["Second-120"]


def test_lock_timeout_max_below_60_is_refused_at_start(new_server):
    srv = new_server({"lock_timeout_max": 30}, start=False)
    with pytest.raises(RuntimeError):
        srv.start()


def test_expired_lock_not_listed_by_ctl(file_url, alice, ctl):
    token = take_lock(alice, file_url, timeout="Second-2")
    assert token in ctl("lock", "list", "s1").stdout
    time.sleep(3)
    assert token not in ctl("lock", "list", "s1").stdout


def test_unlock_of_lock_made_on_unmapped_url_keeps_empty_resource(coll,
                                                                 alice):
    # RFC 4918 §7.3: the resource made by LOCK is a normal one; it stays
    # after UNLOCK (no lock-null semantics).
    url = join(coll, "new.odt")
    token = take_lock(alice, url)
    assert_status(unlock(alice, url, token), 204)
    r = dav(alice, "GET", url)
    assert_status(r, 200)
    assert r.content == b""


# ------------------------------------ locks of those who lost the space

def test_expired_guest_lock_does_not_block_members(ctl, cluster, server,
                                                    alice, coll):
    """From its expiry date a guest has no access; the lock it took on a
    shared document must not go on refusing the members' saves."""
    from dav_helpers import sql_str, user_session
    f = join(coll, "fiche-action.txt")
    assert_status(put(alice, f, b"v1\n"), 201)
    g = short("gst")
    ctl("guest", "add", g, "--expires", "2099-12-31", "--password-stdin",
        input=g + "-pw\n")
    ctl("acl", "grant", "s1" + db_path(coll), g, "read,write-content")
    gs = user_session(g)
    take_lock(gs, f)
    cluster.psql("update users set expires_at = now() - interval '1 second' "
                 "where name = %s" % sql_str(g))
    assert_status(dav(gs, "PROPFIND", f, headers={"Depth": "0"}), 401)
    assert_status(put(alice, f, b"v2 by a member\n"), 204)


def test_removed_member_lock_does_not_block_members(ctl, server, alice, coll):
    from dav_helpers import user_session
    f = join(coll, "plan.txt")
    assert_status(put(alice, f, b"v1\n"), 201)
    u = add_user(ctl, short("leaver"), "s1", "editor")
    take_lock(user_session(u), f)
    ctl("member", "remove", "s1", u)
    assert_status(put(alice, f, b"v2\n"), 204)


def test_depth_infinity_lock_blocked_by_a_member_lock_is_207(coll, alice,
                                                             editor2,
                                                             session_for):
    """RFC 4918 §9.10.3: a lock that cannot be granted on every resource
    answers 207, with a response for the member that prevents it (423)
    and one for the Request-URI (424)."""
    folder = join(coll, short("tree-"), collection=True)
    assert_status(dav(alice, "MKCOL", folder), 201)
    member = join(folder, "b.txt")
    assert_status(put(alice, member, b"b"), 201)
    other = session_for(editor2)
    assert_status(lock(other, member), 200)
    r = lock(alice, folder, depth="infinity")
    assert_status(r, 207)
    got = {url_path(m.href): m.status for m in parse_multistatus(r.content)}
    assert got == {url_path(member): 423, url_path(folder): 424}, r.text
    assert activelocks(propfind(alice, folder, "0", "prop",
                                ["lockdiscovery"]).content) == []
