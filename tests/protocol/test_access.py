"""Roles and visibility: a reader cannot write, a non-member cannot even see
that a space's resources exist, wrong credentials get 401."""

import pytest
import requests

from dav_helpers import (XML_HEADERS, assert_status, dav, db_path, join,
                         mkcol, propfind, proppatch_body, put, revisions_of,
                         unique)

ZDECL = 'xmlns:Z="http://example.com/ns/parvis-test"'
SECRET_BODY = b"confidential minutes of the steering committee\n"


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def secret(alice, coll):
    """A file in s1 with a distinctive name, made by alice."""
    name = unique("secret-plan") + ".txt"
    url = join(coll, name)
    assert_status(put(alice, url, SECRET_BODY), 201)
    return url, name


def snapshot(cluster, coll):
    """Something that changes if anything under coll changes."""
    rows = cluster.psql(
        "select parvis_path(r.id), r.kind, "
        "coalesce(r.current_rev::text, ''), "
        "(select count(*) from props p where p.resource_id = r.id) "
        "from spaces s cross join parvis_subtree(parvis_resolve(s.id, '%s')) r "
        "where s.slug = 's1' order by 1" % db_path(coll))
    return [tuple(r) for r in rows]


# -------------------------------------------------------------- reader bob

def test_reader_can_read(session_for, secret):
    url, _ = secret
    bob = session_for("bob")
    r = dav(bob, "GET", url)
    assert_status(r, 200)
    assert r.content == SECRET_BODY
    assert_status(propfind(bob, url, "0"), 207)


BOB_WRITES = ["put-new", "put-existing", "mkcol", "delete-file",
              "delete-collection", "proppatch", "move", "copy"]


def _bob_write(kind, bob, coll, url):
    if kind == "put-new":
        return put(bob, join(coll, "bob.txt"), b"bob was here")
    if kind == "put-existing":
        return put(bob, url, b"bob was here")
    if kind == "mkcol":
        return mkcol(bob, join(coll, "bobdir", collection=True))
    if kind == "delete-file":
        return dav(bob, "DELETE", url)
    if kind == "delete-collection":
        return dav(bob, "DELETE", coll)
    if kind == "proppatch":
        return dav(bob, "PROPPATCH", url, headers=XML_HEADERS,
                   data=proppatch_body("<Z:x>bob</Z:x>", nsdecl=ZDECL))
    if kind == "move":
        return dav(bob, "MOVE", url,
                   headers={"Destination": join(coll, "moved-by-bob.txt")})
    if kind == "copy":
        return dav(bob, "COPY", url,
                   headers={"Destination": join(coll, "copied-by-bob.txt")})
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", BOB_WRITES)
def test_reader_write_is_403(kind, session_for, coll, secret):
    r = _bob_write(kind, session_for("bob"), coll, secret[0])
    assert_status(r, 403)


@pytest.mark.parametrize("kind", BOB_WRITES)
def test_reader_write_changes_nothing(kind, cluster, alice, session_for, coll,
                                      secret):
    url, _ = secret
    before = snapshot(cluster, coll)
    revs_before = revisions_of(cluster, db_path(url))
    _bob_write(kind, session_for("bob"), coll, url)
    assert snapshot(cluster, coll) == before
    assert revisions_of(cluster, db_path(url)) == revs_before
    assert dav(alice, "GET", url).content == SECRET_BODY


# ---------------------------------------------------------- non-member carol

CAROL_REQUESTS = ["get", "head", "propfind-file", "propfind-collection",
                  "propfind-space", "put-existing", "put-new", "mkcol",
                  "delete", "proppatch", "move", "copy"]


def _carol_request(kind, carol, server, coll, url):
    if kind == "get":
        return dav(carol, "GET", url)
    if kind == "head":
        return dav(carol, "HEAD", url)
    if kind == "propfind-file":
        return propfind(carol, url, "0")
    if kind == "propfind-collection":
        return propfind(carol, coll, "1")
    if kind == "propfind-space":
        return propfind(carol, server.space_url("s1"), "1")
    if kind == "put-existing":
        return put(carol, url, b"carol was here")
    if kind == "put-new":
        return put(carol, join(coll, "carol.txt"), b"carol was here")
    if kind == "mkcol":
        return mkcol(carol, join(coll, "caroldir", collection=True))
    if kind == "delete":
        return dav(carol, "DELETE", url)
    if kind == "proppatch":
        return dav(carol, "PROPPATCH", url, headers=XML_HEADERS,
                   data=proppatch_body("<Z:x>carol</Z:x>", nsdecl=ZDECL))
    if kind == "move":
        return dav(carol, "MOVE", url,
                   headers={"Destination": join(coll, "moved-by-carol.txt")})
    if kind == "copy":
        return dav(carol, "COPY", url,
                   headers={"Destination": join(coll, "copied-by-carol.txt")})
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", CAROL_REQUESTS)
def test_non_member_gets_404(kind, server, session_for, coll, secret):
    r = _carol_request(kind, session_for("carol"), server, coll, secret[0])
    assert_status(r, 404)


@pytest.mark.parametrize("kind", CAROL_REQUESTS)
def test_non_member_response_does_not_leak_file_name(kind, server,
                                                     session_for, coll,
                                                     secret):
    url, name = secret
    r = _carol_request(kind, session_for("carol"), server, coll, url)
    assert name.encode() not in r.content
    assert b"secret-plan" not in r.content
    assert SECRET_BODY not in r.content


@pytest.mark.parametrize("kind", CAROL_REQUESTS)
def test_non_member_request_changes_nothing(kind, cluster, alice, server,
                                            session_for, coll, secret):
    url, _ = secret
    before = snapshot(cluster, coll)
    _carol_request(kind, session_for("carol"), server, coll, url)
    assert snapshot(cluster, coll) == before
    assert dav(alice, "GET", url).content == SECRET_BODY


def test_non_member_existing_and_missing_look_the_same(session_for, coll,
                                                       secret):
    carol = session_for("carol")
    there = dav(carol, "GET", secret[0])
    missing = dav(carol, "GET", join(coll, "never-existed.txt"))
    assert there.status_code == missing.status_code == 404
    assert there.content.replace(secret[1].encode(), b"") == \
        missing.content.replace(b"never-existed.txt", b"")


def test_member_of_other_space_still_reads_own_space(server, session_for):
    carol = session_for("carol")
    assert_status(propfind(carol, server.space_url("s2"), "0"), 207)


def test_manager_can_write(session_for, coll):
    mgr = session_for("mgr")
    url = join(coll, "by-mgr.txt")
    assert_status(put(mgr, url, b"managed"), 201)
    assert dav(mgr, "GET", url).content == b"managed"


# -------------------------------------------------------------- credentials

@pytest.mark.parametrize("method", ["GET", "PROPFIND", "PUT"])
def test_wrong_password_is_401(method, seed, secret):
    url, _ = secret
    r = dav(requests.Session(), method, url, auth=("alice", "wrong-pw"),
            headers={"Depth": "0"}, data=b"x" if method == "PUT" else None)
    assert_status(r, 401)
    assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic")


def test_wrong_password_put_changes_nothing(cluster, alice, seed, secret):
    url, _ = secret
    dav(requests.Session(), "PUT", url, auth=("alice", "wrong-pw"),
        data=b"overwritten")
    assert dav(alice, "GET", url).content == SECRET_BODY
    assert len(revisions_of(cluster, db_path(url))) == 1


def test_unknown_user_is_401(seed, secret):
    r = dav(requests.Session(), "GET", secret[0],
            auth=("nobody-" + unique(), "whatever"))
    assert_status(r, 401)


def test_password_of_other_user_is_401(seed, secret):
    r = dav(requests.Session(), "GET", secret[0], auth=("alice", "bob-pw"))
    assert_status(r, 401)


def test_no_credentials_is_401(seed, secret):
    r = dav(requests.Session(), "GET", secret[0])
    assert_status(r, 401)


# --------------------------------------- a folder goes with its members

@pytest.mark.parametrize("deny", ["write", "read"])
def test_deleting_a_folder_needs_each_member_deletable(alice, coll, ctl,
                                                       session_for, deny):
    """RFC 4918 §9.6.1: if a member cannot be deleted, none of its
    ancestors is.  A file alice may not delete (or even see) does not go
    to the trash with its folder; nor when a COPY overwrites the folder."""
    sub = join(coll, "sub", collection=True)
    assert_status(mkcol(alice, sub), 201)
    f = join(sub, "keep.txt")
    assert_status(put(alice, f, b"protected"), 201)
    ctl("acl", "deny", "s1" + db_path(f), "user:alice", deny)
    assert dav(alice, "DELETE", f).status_code in (403, 404)
    for target in (sub, coll):
        r = dav(alice, "DELETE", target)
        assert_status(r, 403)
        assert b"keep.txt" not in r.content
    src = join(coll, "other.txt")
    assert_status(put(alice, src, b"o"), 201)
    r = dav(alice, "COPY", src, headers={"Destination": sub, "Overwrite": "T"})
    assert_status(r, 403)
    mgr = session_for("mgr")
    assert dav(mgr, "GET", f).content == b"protected"
    # Once the member is deletable again, so is the folder.
    ctl("acl", "revoke", "s1" + db_path(f), "user:alice")
    assert_status(dav(alice, "DELETE", sub), 204)
