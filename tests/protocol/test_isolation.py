"""Isolation matrix: every method, as every kind of actor, on resources of
their own space, of another space, of a folder an access entry denies
them, with Destinations into places they may not write, and with another
user's lock token.

Each case asserts the exact status, that no name or byte of what the
actor may not read appears anywhere in the response (status line,
headers, body), and that a refused write changed nothing in the database.

Invisible means nonexistent (DESIGN.md "Access control"): a request on or
into a denied folder must answer exactly as the same request on a folder
that was never created -- 404 for what addresses the resource, and
RFC 4918's 409 (missing parent collection) for what would create something
inside it (PUT, MKCOL, LOCK on an unmapped URL, COPY/MOVE Destination).

All cases share one set of users, folders and entries (module scope) and a
private parvisd; the disabled and expired actors, whose every request is a
failed login, run against a server restarted before its failed-login
slow-down would start."""

import uuid

import pytest
import requests

from access_helpers import (PRINCIPAL_SEARCH_NOMATCH, AuthFailServer,
                            PsqlPipe, READ_PRIVS, ROLE_CUPS, ace_xml,
                            acl_body,
                            add_guest, add_user, db_snapshot,
                            error_conditions, leaked, principal_href,
                            short_id, start_private_server,
                            stop_private_server)
from class2_helpers import lockinfo, token_of
from dav_helpers import (XML_HEADERS, assert_status, dav, mkcol, propfind,
                         propfind_body, proppatch_body, put)

SUF = short_id()
ZDECL = 'xmlns:Z="http://example.com/ns/parvis-test"'

# Names and bytes that must never reach someone who may not read them.
BASE = "zq-base-" + SUF
SHARED = "zq-shared-" + SUF
HIDDEN = "zq-hidden-" + SUF
SECRET = "zq-secret-" + SUF + ".txt"
SIBLING = "zq-sibling-" + SUF + ".txt"
OUTSIDE = "zq-outside-" + SUF + ".txt"
S2DIR = "zq-s2dir-" + SUF
S2FILE = "zq-s2file-" + SUF + ".txt"
MISSING = "nosuch-" + SUF
HIDDEN_BYTES = "TOPSECRET-" + SUF
OUTSIDE_BYTES = "OUTSIDE-" + SUF
S2_BYTES = "S2SECRET-" + SUF
PUBLIC_BYTES = "PUBLIC-" + SUF

S_HIDDEN = [HIDDEN, SECRET, SIBLING, HIDDEN_BYTES]
S_OUTSIDE = [OUTSIDE, OUTSIDE_BYTES]
S_S2 = [S2DIR, S2FILE, S2_BYTES]
S_S1 = [BASE, SHARED, PUBLIC_BYTES]

ACTORS = ["manager", "validator", "editor", "reader", "guest", "expired",
          "disabled", "carol"]
AUTHFAIL = ("expired", "disabled")
ROLE_OF = {"manager": "manager", "validator": "validator",
           "editor": "editor", "reader": "reader", "disabled": "editor"}

METHODS = ["OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "GET", "HEAD", "PUT",
           "DELETE", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "ACL"]
WRITES = {"PROPPATCH", "MKCOL", "PUT", "DELETE", "COPY", "MOVE", "LOCK",
          "UNLOCK", "ACL"}


def targets_of(method):
    t = ["own", "s2", "hidden"]
    if method in ("COPY", "MOVE"):
        t += ["dest-s2", "dest-hidden"]
    if method in ("PUT", "UNLOCK"):
        t += ["foreign-lock"]
    return t


CASES = [(m, a, t) for m in METHODS for a in ACTORS for t in targets_of(m)]


def user_name(actor):
    if actor == "carol":
        return "carol"
    return "iso%s-%s" % (SUF, actor)


def secrets_of(actor):
    if actor in AUTHFAIL:
        return S_HIDDEN + S_OUTSIDE + S_S2 + S_S1
    if actor == "carol":
        return S_HIDDEN + S_OUTSIDE + S_S1
    if actor == "guest":
        return S_HIDDEN + S_OUTSIDE + S_S2
    return S_HIDDEN + S_S2


# ---------------------------------------------------------------- expected

def privs_of(actor, space):
    """The actor's privileges on the shared folder of s1 (space "s1") or
    on the test folder of s2; None when the place is invisible."""
    if space == "s2":
        return ROLE_CUPS["editor"] if actor == "carol" else None
    if actor == "carol":
        return None
    if actor == "guest":
        # Granted DAV:read; read aggregates read-current-user-privilege-set
        # and CALDAV:read-free-busy.
        return set(READ_PRIVS)
    return ROLE_CUPS[ROLE_OF[actor]]


def on_readable(method, p):
    ok = {
        "PROPFIND": (207, "read"), "GET": (200, "read"),
        "HEAD": (200, "read"), "REPORT": (207, "read"),
        "PROPPATCH": (207, "write-properties"), "MKCOL": (201, "bind"),
        "PUT": (204, "write-content"), "DELETE": (204, "unbind"),
        "COPY": (201, "bind"), "MOVE": (201, "unbind"),
        # One's own lock (taken just before) is always one's to remove.
        "LOCK": (200, "write-content"), "UNLOCK": (204, "write-content"),
        "ACL": (200, "write-acl"),
    }[method]
    if method == "UNLOCK" and "write-content" not in p:
        # Who cannot lock holds no lock: the token matches nothing here.
        return 409
    return ok[0] if ok[1] in p else 403


def expected(method, actor, target):
    if method == "OPTIONS":
        return 200  # answered without authentication (CLIENTS.md §1)
    if actor in AUTHFAIL:
        return 401
    p = privs_of(actor, "s2" if target == "s2" else "s1")
    if p is None:
        return 404
    if target == "hidden":
        # As if the folder did not exist: 404 on the resource, 409 when the
        # request would create it in a missing parent.
        return 409 if method in ("PUT", "MKCOL", "LOCK") else 404
    if target in ("own", "s2"):
        return on_readable(method, p)
    if target == "dest-s2":
        return 403  # another space's URL: not writable (as a missing space)
    if target == "dest-hidden":
        if method == "MOVE" and "unbind" not in p:
            return 403
        return 409
    if target == "foreign-lock":
        if method == "PUT":
            return 423 if "write-content" in p else 403
        # RFC 3744 §3.5: DAV:unlock lets a principal remove a lock it
        # does not own.
        return 204 if "unlock" in p else 403
    raise AssertionError(target)


# ---------------------------------------------------------------- fixtures

class World:
    pass


@pytest.fixture(scope="module")
def world(bins, cluster, seed, ctl):
    w = World()
    for actor in ACTORS:
        name = user_name(actor)
        if actor in ROLE_OF:
            add_user(ctl, name, "s1", ROLE_OF[actor])
        elif actor == "guest":
            add_guest(ctl, name, "2099-12-31")
        elif actor == "expired":
            add_guest(ctl, name, "2001-01-01")
    w.srv = start_private_server(bins, cluster)
    w.authfail = AuthFailServer(bins, cluster)
    w.sessions = {}
    for actor in ACTORS + ["alice"]:
        s = requests.Session()
        s.trust_env = False
        name = "alice" if actor == "alice" else user_name(actor)
        s.auth = (name, name + "-pw")
        w.sessions[actor] = s
    alice, carol = w.sessions["alice"], w.sessions["carol"]
    s1 = "/dav/spaces/s1/"
    w.base = s1 + BASE + "/"
    w.shared = w.base + SHARED + "/"
    w.hidden = w.base + HIDDEN + "/"
    w.missing = w.base + MISSING + "/"
    w.secret = w.hidden + SECRET
    w.s2dir = "/dav/spaces/s2/" + S2DIR + "/"
    w.s2file = w.s2dir + S2FILE
    u = w.srv.url
    for path in (w.base, w.shared, w.hidden):
        assert_status(mkcol(alice, u + path), 201)
    assert_status(put(alice, u + w.secret, HIDDEN_BYTES.encode()), 201)
    assert_status(put(alice, u + w.hidden + SIBLING, HIDDEN_BYTES.encode()),
                  201)
    assert_status(put(alice, u + w.base + OUTSIDE, OUTSIDE_BYTES.encode()),
                  201)
    assert_status(mkcol(carol, u + w.s2dir), 201)
    assert_status(put(carol, u + w.s2file, S2_BYTES.encode()), 201)
    # The guests may read the shared folder; the members of s1 are denied
    # everything in the hidden one.
    for actor in ("guest", "expired"):
        ctl("acl", "grant", "s1/%s/%s" % (BASE, SHARED),
            "user:" + user_name(actor), "read")
    for actor in ROLE_OF:
        ctl("acl", "deny", "s1/%s/%s" % (BASE, HIDDEN),
            "user:" + user_name(actor), "all")
    ctl("user", "disable", user_name("disabled"))
    w.ctl = ctl
    w.psql = PsqlPipe(cluster)
    w.counter = 0
    yield w
    w.psql.close()
    for s in w.sessions.values():
        s.close()
    w.authfail.close()
    stop_private_server(w.srv)


def fresh(w, prefix):
    w.counter += 1
    return "%s-%d-%s" % (prefix, w.counter, uuid.uuid4().hex[:6])


def lock_file(sess, url):
    r = dav(sess, "LOCK", url, data=lockinfo("exclusive"),
            headers=dict(XML_HEADERS, Depth="0", Timeout="Second-3600"))
    assert r.status_code in (200, 201), (url, r.status_code, r.text[:500])
    return token_of(r)


def build(w, method, actor, target, base):
    """(path, headers, body) of the case, after creating what it needs."""
    u = w.srv.url
    alice, carol = w.sessions["alice"], w.sessions["carol"]
    me = w.sessions[actor]
    headers, body = {}, None
    token = None
    if target in ("own", "dest-s2", "dest-hidden", "foreign-lock"):
        path = w.shared + fresh(w, "f") + ".txt"
        assert_status(put(alice, u + path, PUBLIC_BYTES.encode()), 201)
        if target == "foreign-lock":
            token = lock_file(alice, u + path)
        folder = w.shared
    elif target == "s2":
        if actor == "carol":
            path = w.s2dir + fresh(w, "g") + ".txt"
            assert_status(put(carol, u + path, b"carol's own"), 201)
        else:
            path = w.s2file
        folder = w.s2dir
    else:
        path = w.secret
        folder = w.hidden
    if method == "UNLOCK" and token is None:
        can_lock = target in ("own", "s2") and actor not in AUTHFAIL and \
            "write-content" in (privs_of(actor, "s2" if target == "s2"
                                         else "s1") or set())
        token = lock_file(me, u + path) if can_lock else \
            "urn:uuid:" + str(uuid.uuid4())

    if method in ("PROPFIND", "REPORT"):
        headers = dict(XML_HEADERS, Depth="0")
        body = propfind_body("allprop") if method == "PROPFIND" \
            else PRINCIPAL_SEARCH_NOMATCH
    elif method == "PROPPATCH":
        headers = XML_HEADERS
        body = proppatch_body("<Z:note>changed</Z:note>", nsdecl=ZDECL)
    elif method == "MKCOL":
        path = folder + fresh(w, "newdir") + "/"
    elif method == "PUT":
        body = b"OVERWRITTEN"
        if target == "foreign-lock":
            headers = {"If": "(<%s>)" % token}
    elif method in ("COPY", "MOVE"):
        dest_folder = {"own": w.shared, "s2": w.s2dir, "hidden": w.shared,
                       "dest-s2": w.s2dir, "dest-hidden": w.hidden}[target]
        headers = {"Destination": base + dest_folder + fresh(w, "dst") +
                   ".txt", "Overwrite": "F"}
    elif method == "LOCK":
        headers = dict(XML_HEADERS, Depth="0", Timeout="Second-600")
        body = lockinfo("exclusive")
    elif method == "UNLOCK":
        headers = {"Lock-Token": "<%s>" % token}
    elif method == "ACL":
        headers = XML_HEADERS
        body = acl_body(ace_xml(principal_href(user_name("reader")),
                                ["read"]))
    return path, headers, body


@pytest.mark.parametrize("method,actor,target", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_isolation(world, method, actor, target):
    w = world
    if actor in AUTHFAIL:
        base = w.authfail.url(will_fail=method != "OPTIONS")
    else:
        base = w.srv.url
    path, headers, body = build(w, method, actor, target, base)
    sent = path + " " + headers.get("Destination", "")
    forbidden = [tok for tok in secrets_of(actor) if tok not in sent]
    want = expected(method, actor, target)
    check_db = method in WRITES and want >= 400
    before = db_snapshot(w.psql) if check_db else None

    r = dav(w.sessions[actor], method, base + path, headers=headers,
            data=body)

    assert r.status_code == want, "%s %s as %s -> %d, want %d\n%s" % (
        method, path, actor, r.status_code, want, r.text[:1500])
    assert leaked(r, forbidden) == [], r.text[:1500]
    if check_db:
        assert db_snapshot(w.psql) == before, \
            "refused %s changed the database" % method
    if want == 401:
        assert r.headers.get("WWW-Authenticate", "").startswith("Basic ")
    if want == 403 and target != "dest-s2":
        # RFC 3744 §7.1.1
        assert "{DAV:}need-privileges" in error_conditions(r.content), \
            r.text[:1000]


# ------------------------------------------------------- beyond the matrix

def test_twin_statuses_for_a_missing_folder(world):
    """The table above says a denied folder answers as a missing one; this
    checks what a missing one answers (RFC 4918 §9.7.1, §9.3.1, §9.8.5,
    §7.3)."""
    w = world
    ed, u = w.sessions["editor"], w.srv.url
    miss = u + w.missing
    assert_status(put(ed, miss + SECRET, b"x"), 409)
    assert_status(mkcol(ed, miss + "newdir/"), 409)
    r = dav(ed, "LOCK", miss + SECRET, data=lockinfo("exclusive"),
            headers=dict(XML_HEADERS, Depth="0"))
    assert_status(r, 409)
    src = u + w.shared + fresh(w, "twin") + ".txt"
    assert_status(put(w.sessions["alice"], src, b"x"), 201)
    for m in ("COPY", "MOVE"):
        assert_status(dav(ed, m, src, headers={"Destination": miss + "x"}),
                      409)
    for m in ("GET", "DELETE", "PROPPATCH"):
        assert_status(dav(ed, m, miss + SECRET), 404)


@pytest.mark.parametrize("method", ["PUT", "MKCOL", "LOCK", "COPY", "MOVE",
                                    "GET", "PROPFIND", "DELETE"])
def test_denied_folder_answers_like_a_missing_one(world, method):
    """The same request on the denied folder and on a never-created one
    must not be told apart (status and body)."""
    w = world
    ed, u = w.sessions["editor"], w.srv.url
    out = []
    for folder in (w.hidden, w.missing):
        target = u + folder + SECRET
        kw = {}
        if method == "MKCOL":
            target = u + folder + "newdir/"
        elif method == "PUT":
            kw["data"] = b"x"
        elif method == "LOCK":
            kw = dict(data=lockinfo("exclusive"),
                      headers=dict(XML_HEADERS, Depth="0"))
        elif method == "PROPFIND":
            kw = dict(data=propfind_body("allprop"),
                      headers=dict(XML_HEADERS, Depth="0"))
        if method in ("COPY", "MOVE"):
            src = u + w.shared + fresh(w, "twin") + ".txt"
            assert_status(put(w.sessions["alice"], src, b"x"), 201)
            r = dav(ed, method, src, headers={"Destination": target})
        else:
            r = dav(ed, method, target, **kw)
        out.append((r.status_code,
                    r.content.replace(folder.encode(), b"FOLDER/")))
    assert out[0] == out[1], "denied folder: %r\nmissing folder: %r" % (
        out[0], out[1])


def test_locked_file_in_denied_folder_is_not_revealed(world):
    """A Destination on a locked file of the denied folder answers as one
    in a missing folder: no 423, no lock root href."""
    w = world
    u = w.srv.url
    alice, ed = w.sessions["alice"], w.sessions["editor"]
    name = "zq-locked-%s.txt" % SUF
    assert_status(put(alice, u + w.hidden + name, b"locked"), 201)
    lock_file(alice, u + w.hidden + name)
    src = u + w.shared + fresh(w, "src") + ".txt"
    assert_status(put(alice, src, b"x"), 201)
    r = dav(ed, "COPY", src, headers={"Destination": u + w.hidden + name,
                                      "Overwrite": "T"})
    twin = dav(ed, "COPY", src, headers={"Destination": u + w.missing + name,
                                         "Overwrite": "T"})
    assert r.status_code == twin.status_code == 409, (r.status_code,
                                                      twin.status_code)
    assert leaked(r, [HIDDEN_BYTES]) == []


def test_if_header_cannot_probe_a_denied_file(world):
    """RFC 4918 §10.4: a tagged If list names a resource by URL. Its state
    (ETag, which is a hash of the content) must not be testable by someone
    who cannot read it: the right and a wrong ETag give the same answer."""
    w = world
    u = w.srv.url
    r = dav(w.sessions["alice"], "HEAD", u + w.secret)
    assert_status(r, 200)
    etag = r.headers["ETag"]
    own = u + w.shared + fresh(w, "probe") + ".txt"
    assert_status(put(w.sessions["alice"], own, b"x"), 201)
    ed = w.sessions["editor"]
    right = dav(ed, "GET", own, headers={"If": "<%s> ([%s])" % (
        u + w.secret, etag)})
    wrong = dav(ed, "GET", own, headers={"If": "<%s> ([\"%s\"])" % (
        u + w.secret, "0" * 32)})
    assert right.status_code == wrong.status_code, (
        "ETag of a denied file is testable: right %d, wrong %d"
        % (right.status_code, wrong.status_code))


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copying_a_tree_does_not_expose_its_denied_folder(world, method):
    """COPY (or MOVE) of a folder that holds a folder the actor may not
    read must not give the actor a readable copy of it."""
    w = world
    u = w.srv.url
    alice, ed = w.sessions["alice"], w.sessions["editor"]
    # A tree like the base folder: one readable and one denied subfolder.
    src = w.base + fresh(w, "tree") + "/"
    assert_status(mkcol(alice, u + src), 201)
    assert_status(mkcol(alice, u + src + "open/"), 201)
    assert_status(mkcol(alice, u + src + HIDDEN + "/"), 201)
    assert_status(put(alice, u + src + HIDDEN + "/" + SECRET,
                      HIDDEN_BYTES.encode()), 201)
    w.ctl("acl", "deny", "s1" + src[len("/dav/spaces/s1"):].rstrip("/")
          + "/" + HIDDEN, "user:" + user_name("editor"), "all")
    assert_status(dav(ed, "GET", u + src + HIDDEN + "/" + SECRET), 404)
    dst = w.shared + fresh(w, "copy") + "/"
    r = dav(ed, method, u + src, headers={"Destination": u + dst,
                                          "Depth": "infinity"})
    assert r.status_code in (201, 207, 403), r.status_code
    assert leaked(r, [HIDDEN, SECRET, HIDDEN_BYTES]) == []
    got = dav(ed, "GET", u + dst + HIDDEN + "/" + SECRET)
    assert got.status_code == 404, "the copy gives away the denied file"
    listing = propfind(ed, u + dst, "1")
    assert leaked(listing, [HIDDEN, SECRET, HIDDEN_BYTES]) == []


@pytest.mark.parametrize("method", ["LOCK", "DELETE", "MOVE"])
def test_lock_inside_denied_folder_is_not_named(world, method):
    """A request on a folder whose denied subfolder holds someone else's
    lock may fail (423), but must not name what is inside (RFC 4918 puts
    the lock roots in the error body)."""
    w = world
    u = w.srv.url
    alice, ed = w.sessions["alice"], w.sessions["editor"]
    top = w.base + fresh(w, "locked-tree") + "/"
    hidden = top + HIDDEN + "/"
    assert_status(mkcol(alice, u + top), 201)
    assert_status(mkcol(alice, u + hidden), 201)
    assert_status(put(alice, u + hidden + SECRET, HIDDEN_BYTES.encode()),
                  201)
    lock_file(alice, u + hidden + SECRET)
    w.ctl("acl", "deny", "s1" + hidden[len("/dav/spaces/s1"):].rstrip("/"),
          "user:" + user_name("editor"), "all")
    kw = {}
    if method == "LOCK":
        kw = dict(data=lockinfo("exclusive"),
                  headers=dict(XML_HEADERS, Depth="infinity"))
    elif method == "MOVE":
        kw = dict(headers={"Destination": u + w.shared + fresh(w, "mv")})
    r = dav(ed, method, u + top, **kw)
    assert leaked(r, [HIDDEN, SECRET, HIDDEN_BYTES]) == [], (r.status_code,
                                                             r.text)


@pytest.mark.parametrize("actor", ["manager", "validator", "editor",
                                   "reader", "guest", "carol"])
def test_listing_of_parent_omits_denied_folder(world, actor):
    w = world
    r = propfind(w.sessions[actor], w.srv.url + w.base, "1")
    if actor in ("guest", "carol"):
        assert_status(r, 404)  # the base folder is invisible to them
    else:
        assert_status(r, 207)
        assert SHARED.encode() in r.content
    assert leaked(r, S_HIDDEN + S_S2 + (S_OUTSIDE if actor in
                                        ("guest", "carol") else [])) == []


@pytest.mark.parametrize("actor", ["manager", "editor", "reader", "guest",
                                   "carol"])
def test_depth1_listing_of_spaces_shows_only_readable_spaces(world, actor):
    w = world
    r = propfind(w.sessions[actor], w.srv.url + "/dav/spaces/", "1")
    assert_status(r, 207)
    body = r.content
    has_s1 = b"/dav/spaces/s1/" in body
    has_s2 = b"/dav/spaces/s2/" in body
    assert has_s1 == (actor in ("manager", "editor", "reader"))
    assert has_s2 == (actor == "carol")
    assert leaked(r, S_HIDDEN + S_S2 + S_OUTSIDE) == []


def test_options_is_the_same_for_hidden_and_missing(world):
    w = world
    ed = w.sessions["editor"]
    a = dav(ed, "OPTIONS", w.srv.url + w.secret)
    b = dav(ed, "OPTIONS", w.srv.url + w.missing + SECRET)
    strip = lambda r: sorted((k, v) for k, v in r.headers.items()
                             if k.lower() != "date")
    assert (a.status_code, strip(a), a.content) == \
        (b.status_code, strip(b), b.content)


def test_archived_space_is_404_for_everyone(world, ctl, cluster):
    w = world
    slug = "arch-" + SUF
    ctl("space", "create", slug, "--title", "Archived " + SUF)
    ctl("member", "add", slug, user_name("manager"), "--role", "manager")
    ctl("member", "add", slug, user_name("editor"), "--role", "editor")
    mgr, ed, u = w.sessions["manager"], w.sessions["editor"], w.srv.url
    url = u + "/dav/spaces/%s/" % slug
    assert_status(put(ed, url + "zq-archived.txt", b"ARCHIVED-BYTES"), 201)
    ctl("space", "archive", slug)
    for sess in (mgr, ed):
        assert_status(dav(sess, "GET", url + "zq-archived.txt"), 404)
        assert_status(propfind(sess, url, "0"), 404)
        assert_status(put(sess, url + "new.txt", b"x"), 404)
        r = propfind(sess, u + "/dav/spaces/", "1")
        assert_status(r, 207)
        assert slug.encode() not in r.content
        r = propfind(sess, u + "/dav/principals/spaces/", "1")
        assert slug.encode() not in r.content
    assert cluster.psql("select count(*) from resources r join spaces s on "
                        "s.id = r.space_id where s.slug = '%s' and "
                        "r.id = parvis_resolve(s.id, '/new.txt')"
                        % slug) == [("0",)]
