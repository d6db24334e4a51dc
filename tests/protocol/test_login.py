"""Logging in: app passwords, disabled accounts, guests and their expiry,
user transfer, the slow-down of failed logins, Basic refused over plain
HTTP from another machine, anonymous_user, and no secret in the logs.

Failed logins are counted per client address, and every test connects
from 127.0.0.1 unless it binds another loopback address (127.0.0.x) on
purpose: tests that fail logins on purpose use a server of their own
(new_server), so that the slow-down never reaches other tests."""

import json
import socket
import time

import pytest
import requests

from access_helpers import (add_guest, add_user, basic_b64, member_role,
                            principal_href, short_id, start_private_server,
                            stop_private_server)
from class2_helpers import if_token, take_lock, unlock
from conftest import free_port
from dav_helpers import (user_session, assert_status, dav, db_path, mkcol,
                         parse_multistatus, propfind, propfind_one, put,
                         recv_all, revisions_of)

SUF = short_id()


@pytest.fixture(scope="module")
def srv(bins, cluster, seed):
    s = start_private_server(bins, cluster)
    yield s
    stop_private_server(s)


session = user_session


def fresh_user(ctl, tag, space="s1", role="editor"):
    return add_user(ctl, "lg%s-%s-%s" % (SUF, tag, short_id()[:4]), space,
                    role)


def new_folder(srv, owner="mgr"):
    url = srv.space_url("s1") + "lg-" + short_id() + "/"
    assert_status(mkcol(session(owner), url), 201)
    return url


def add_app_password(ctl, user, label, json_out=False):
    if json_out:
        out = ctl("--json", "apppassword", "add", user, "--label", label)
        return json.loads(out.stdout)
    out = ctl("apppassword", "add", user, "--label", label)
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout
    return lines[0].strip()


def app_list(ctl, user):
    return json.loads(ctl("--json", "apppassword", "list", user).stdout)


# ------------------------------------------------------------ app passwords

def test_app_password_works_for_propfind_and_put(srv, ctl, cluster):
    user = fresh_user(ctl, "app")
    secret = add_app_password(ctl, user, "phone")
    assert len(secret) >= 20 and secret != user + "-pw"
    s = session(user, secret)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)
    url = new_folder(srv) + "from-phone.txt"
    assert_status(put(s, url, b"sent from the phone"), 201)
    assert dav(s, "GET", url).content == b"sent from the phone"
    # The revision is the user's, not some "app" principal's.
    assert revisions_of(cluster, db_path(url))[-1][5] == user
    # The account password still works alongside.
    assert_status(propfind(session(user), srv.space_url("s1"), "0"), 207)


def test_app_password_json_output(srv, ctl):
    user = fresh_user(ctl, "appjson")
    out = add_app_password(ctl, user, "laptop", json_out=True)
    assert set(out) == {"user", "label", "password"}
    assert out["user"] == user and out["label"] == "laptop"
    assert_status(propfind(session(user, out["password"]),
                           srv.space_url("s1"), "0"), 207)


def test_app_password_is_listed_without_its_secret(ctl):
    user = fresh_user(ctl, "applist")
    secret = add_app_password(ctl, user, "phone")
    add_app_password(ctl, user, "tablet")
    rows = app_list(ctl, user)
    assert [(r["label"], r["status"]) for r in rows] == \
        [("phone", "active"), ("tablet", "active")]
    for r in rows:
        assert set(r) == {"id", "label", "created", "status"}
        assert r["id"].isdigit()
    text = ctl("apppassword", "list", user).stdout
    assert "phone" in text and "tablet" in text
    assert secret not in text


@pytest.mark.parametrize("by", ["label", "id"])
def test_revoked_app_password_is_401_on_the_next_request(srv, ctl, by):
    user = fresh_user(ctl, "revoke")
    secret = add_app_password(ctl, user, "phone")
    keep = add_app_password(ctl, user, "laptop")
    s = session(user, secret)
    # Verified once: the credential is now in the server's cache.
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)
    ident = "phone" if by == "label" else \
        [r["id"] for r in app_list(ctl, user) if r["label"] == "phone"][0]
    ctl("apppassword", "revoke", user, ident)
    r = propfind(s, srv.space_url("s1"), "0")
    assert_status(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Basic ")
    r = put(s, srv.space_url("s1") + "revoked-%s.txt" % short_id(), b"x")
    assert_status(r, 401)
    assert [(r["label"], r["status"]) for r in app_list(ctl, user)] == \
        [("phone", "revoked"), ("laptop", "active")]
    # The other app password and the account password are untouched.
    assert_status(propfind(session(user, keep), srv.space_url("s1"), "0"),
                  207)
    assert_status(propfind(session(user), srv.space_url("s1"), "0"), 207)


def test_revoke_unknown_app_password_fails(ctl):
    user = fresh_user(ctl, "revoke2")
    p = ctl("apppassword", "revoke", user, "no-such-label", check=False)
    assert p.returncode == 1
    assert "no active app password" in p.stderr


# ------------------------------------------------------- disabled accounts

def test_disabled_user_is_401_at_once_and_back_after_enable(srv, ctl):
    user = fresh_user(ctl, "dis")
    s = session(user)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)  # cached now
    assert ctl("user", "disable", user).returncode == 0
    r = propfind(s, srv.space_url("s1"), "0")
    assert_status(r, 401)
    assert_status(dav(s, "GET", srv.space_url("s1")), 401)
    assert "disabled" in [row["status"] for row in json.loads(
        ctl("--json", "user", "list").stdout) if row["name"] == user]
    ctl("user", "enable", user)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)


def test_disabled_user_app_password_is_401_too(srv, ctl):
    user = fresh_user(ctl, "disapp")
    secret = add_app_password(ctl, user, "phone")
    s = session(user, secret)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 207)
    ctl("user", "disable", user)
    assert_status(propfind(s, srv.space_url("s1"), "0"), 401)


@pytest.mark.parametrize("how", ["disable", "revoke"])
def test_cached_login_refused_on_a_space_at_once(srv, ctl, how):
    """Requests on a space check the account in the statement that finds
    the target: still 401 at once, whether the file, or even the space,
    exists; a write changes nothing."""
    user = fresh_user(ctl, "rd" + how[:3])
    secret = add_app_password(ctl, user, "phone")
    s = session(user, secret)
    url = srv.space_url("s1") + "read-%s.txt" % short_id()
    assert_status(put(s, url, b"still here"), 201)
    r = dav(s, "GET", url)
    assert_status(r, 200)                       # cached now
    assert r.content == b"still here"
    if how == "disable":
        ctl("user", "disable", user)
    else:
        ctl("apppassword", "revoke", user, "phone")
    for method, target in (("GET", url), ("HEAD", url),
                           ("GET", url + ".missing"),
                           ("GET", srv.url + "/dav/spaces/no-such-space/f"),
                           ("GET", srv.space_url("s1")),
                           ("PROPFIND", url), ("PROPFIND", url + ".missing"),
                           ("REPORT", srv.space_url("s1"))):
        r = dav(s, method, target, headers={"Depth": "0"})
        assert_status(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Basic ")
        assert b"still here" not in r.content
    # Writes too, and they change nothing.
    for method, target, body in (("PUT", url, b"overwritten"),
                                 ("PUT", url + ".new", b"new"),
                                 ("DELETE", url, None),
                                 ("MKCOL", url + ".d/", None)):
        assert_status(dav(s, method, target, data=body), 401)
    r = dav(session("mgr"), "GET", url)
    assert_status(r, 200)
    assert r.content == b"still here"
    for gone in (url + ".new", url + ".d/"):
        assert_status(dav(session("mgr"), "PROPFIND", gone,
                          headers={"Depth": "0"}), 404)
    if how == "disable":
        ctl("user", "enable", user)
        r = dav(s, "GET", url)
        assert_status(r, 200)
        assert r.content == b"still here"


def test_disabled_user_uncached_is_401(new_server, ctl):
    user = fresh_user(ctl, "dis2")
    ctl("user", "disable", user)
    srv = new_server()
    r = propfind(session(user), srv.space_url("s1"), "0")
    assert_status(r, 401)
    assert user.encode() not in r.content


# ------------------------------------------------------------------ guests

def test_expired_guest_is_401(new_server, ctl):
    srv = new_server()
    folder = new_folder(srv)
    guest = add_guest(ctl, "lg%s-old-guest" % SUF, "2001-01-01")
    ctl("acl", "grant", "s1" + db_path(folder), guest, "read")
    for url in (folder, srv.space_url("s1"), srv.url + "/dav/spaces/"):
        r = propfind(session(guest), url, "0")
        assert_status(r, 401)


@pytest.mark.parametrize("expires", [
    "infinity", "now", "epoch", "tomorrow", "2099-02-30", "2100-02-29",
    "2099-13-01", "0000-01-01", "2099-1-1", "20991231", "2099-12-31 10:00",
    "2099-12-31T00:00:00Z", ""])
def test_guest_expiry_must_be_a_date(ctl, cluster, seed, expires):
    # 'infinity' would make a guest that never expires.
    name = "lg%s-d-%s" % (SUF, short_id())
    pr = ctl("guest", "add", name, "--expires", expires, "--password-stdin",
             input=name + "-pw\n", check=False)
    assert pr.returncode == 2, (pr.returncode, pr.stdout, pr.stderr)
    assert "Usage: parvisctl guest add" in pr.stderr, pr.stderr
    assert not cluster.psql("select 1 from users where name = '%s'" % name)


def test_guest_expiry_takes_a_leap_day(ctl, cluster, seed):
    name = add_guest(ctl, "lg%s-leap-%s" % (SUF, short_id()), "2096-02-29")
    assert cluster.psql("select expires_at::date::text from users "
                        "where name = '%s'" % name) == [("2096-02-29",)]


def test_guest_expiry_applies_to_a_cached_credential(srv, ctl, cluster):
    folder = new_folder(srv)
    guest = add_guest(ctl, "lg%s-soon-guest" % SUF, "2099-12-31")
    ctl("acl", "grant", "s1" + db_path(folder), guest, "read")
    s = session(guest)
    assert_status(propfind(s, folder, "0"), 207)
    cluster.psql("update users set expires_at = now() + interval '1 second' "
                 "where name = '%s'" % guest)
    assert_status(propfind(s, folder, "0"), 207)
    time.sleep(1.3)
    assert_status(propfind(s, folder, "0"), 401)


def test_guest_reaches_only_the_granted_folder(srv, ctl):
    base = new_folder(srv)
    shared, other = base + "shared/", base + "other/"
    m = session("mgr")
    for u in (shared, other):
        assert_status(mkcol(m, u), 201)
    assert_status(put(m, shared + "for-guest.txt", b"GUEST-OK"), 201)
    assert_status(put(m, other + "zq-not-for-guest.txt", b"NOT-FOR-GUEST"),
                  201)
    assert_status(put(m, base + "zq-top.txt", b"TOP-SECRET"), 201)
    guest = add_guest(ctl, "lg%s-guest" % SUF, "2099-12-31")
    ctl("acl", "grant", "s1" + db_path(shared), "user:" + guest, "read")
    g = session(guest)

    r = propfind(g, shared, "1")
    assert_status(r, 207)
    assert b"for-guest.txt" in r.content
    r = dav(g, "GET", shared + "for-guest.txt")
    assert_status(r, 200)
    assert r.content == b"GUEST-OK"
    r = put(g, shared + "by-guest.txt", b"x")
    assert_status(r, 403)
    for url in (srv.space_url("s1"), base, other,
                other + "zq-not-for-guest.txt", base + "zq-top.txt"):
        r = dav(g, "GET", url)
        assert_status(r, 404)
        r = propfind(g, url, "1")
        assert_status(r, 404)
        for secret in (b"zq-not-for-guest", b"NOT-FOR-GUEST", b"zq-top",
                       b"TOP-SECRET"):
            assert secret not in r.content
    assert_status(dav(g, "GET", srv.space_url("s2")), 404)
    # The space list does not show s1 (its root is not readable).
    r = propfind(g, srv.url + "/dav/spaces/", "1")
    assert_status(r, 207)
    assert b"/dav/spaces/s1/" not in r.content
    # Nobody's principal is visible to the guest but its own.
    r = propfind(g, srv.url + "/dav/principals/users/", "1")
    assert_status(r, 207)
    assert {x.path for x in parse_multistatus(r.content)} == \
        {"/dav/principals/users/", principal_href(guest)}


@pytest.fixture
def guest_on_folder(srv, ctl):
    folder = new_folder(srv)
    guest = add_guest(ctl, "lg%s-g-%s" % (SUF, short_id()[:4]), "2099-12-31")
    ctl("acl", "grant", "s1" + db_path(folder), "user:" + guest, "read")
    g = session(guest)
    assert_status(propfind(g, folder, "0"), 207)
    return g


def test_guest_principal_spaces_lists_no_space(srv, guest_on_folder):
    """A guest is a member of no space: a space it reaches through an
    entry is not one of "its" spaces."""
    r = propfind(guest_on_folder, srv.url + "/dav/principals/spaces/", "1")
    assert_status(r, 207)
    assert {x.path for x in parse_multistatus(r.content)} == \
        {"/dav/principals/spaces/"}


def test_guest_cannot_read_the_member_list_of_a_space(srv, guest_on_folder):
    r = propfind(guest_on_folder, srv.url + principal_href("s1", space=True),
                 "0", "prop", ["group-member-set"])
    assert r.status_code in (207, 404), r.status_code
    assert b"/dav/principals/users/mgr/" not in r.content
    assert b"/dav/principals/users/alice/" not in r.content


# ---------------------------------------------------------- user transfer

@pytest.fixture
def transferred(srv, ctl):
    """A (editor of s1) made and locked a file; then user transfer A B."""
    a = fresh_user(ctl, "from")
    b = add_user(ctl, "lg%s-to-%s" % (SUF, short_id()[:4]))
    sa = session(a)
    url = new_folder(srv) + "handed-over.txt"
    assert_status(put(sa, url, b"work of A"), 201)
    token = take_lock(sa, url, depth="0", timeout="Second-3600")
    out = ctl("user", "transfer", a, b)
    assert out.returncode == 0
    return a, b, url, token


def test_transfer_gives_the_roles(transferred, ctl, cluster):
    a, b, url, token = transferred
    assert member_role(cluster, "s1", b) == "editor"
    assert "%s\teditor" % b in ctl("member", "list", "s1").stdout.splitlines()
    assert_status(put(session(b), url.rsplit("/", 1)[0] + "/by-b.txt",
                      b"B writes"), 201)


def test_transfer_moves_the_roles_away_from_the_old_user(transferred, ctl,
                                                         cluster):
    a, b, url, token = transferred
    assert member_role(cluster, "s1", a) is None
    assert_status(dav(session(a), "GET", url), 404)


def test_transfer_moves_the_locks(transferred, srv):
    a, b, url, token = transferred
    sb = session(b)
    assert_status(put(sb, url, b"B edits", headers=if_token(token)), 204)
    assert_status(unlock(sb, url, token), 204)


def test_transfer_moves_authorship(transferred, srv):
    a, b, url, token = transferred
    resp = propfind_one(session("mgr"), url, "prop", ["owner"])
    owner = resp.ok_props()["{DAV:}owner"]
    assert [h.text for h in owner.iter("{DAV:}href")] == [principal_href(b)]


def test_transfer_unknown_user_fails(ctl):
    p = ctl("user", "transfer", "nosuch-" + SUF, "mgr", check=False)
    assert p.returncode == 1


# ----------------------------------------------------- failed-login delays

def timed_propfind(url, user, password):
    t0 = time.monotonic()
    r = propfind(session(user, password), url, "0")
    return r.status_code, time.monotonic() - t0


def test_failed_logins_slow_down(new_server, ctl):
    srv = new_server()
    user = fresh_user(ctl, "slow")
    url = srv.space_url("s1")
    took = []
    for i in range(7):
        status, dt = timed_propfind(url, user, "wrong-%d" % i)
        assert status == 401
        took.append(dt)
    # Five free failures, then 1 s, then 2 s (1, 2, 4, 8 s).
    assert max(took[:5]) < 1.0, took
    assert took[5] >= 1.0, took
    assert took[6] >= 2.0, took


def burst_logins(srv, creds, src="127.0.0.1", head=False):
    """One PROPFIND per (user, password) of creds, all sent from address
    src before any answer is read, on connections opened beforehand; their
    status lines (their heads with head=True)."""
    path = "/dav/spaces/s1/"
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=60,
                                      source_address=(src, 0))
             for _ in creds]
    try:
        for s, (user, password) in zip(socks, creds):
            s.sendall(("PROPFIND %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Authorization: Basic %s\r\nDepth: 0\r\n"
                       "Content-Length: 0\r\nConnection: close\r\n\r\n"
                       % (path, srv.port, basic_b64(user, password))).encode())
        answers = [recv_all(s) for s in socks]
        if head:
            return [a.split(b"\r\n\r\n", 1)[0] for a in answers]
        return [a[:12] for a in answers]
    finally:
        for s in socks:
            s.close()


def burst(srv, user, passwords, src="127.0.0.1"):
    return burst_logins(srv, [(user, p) for p in passwords], src)


def timed_login_from(srv, src, user, password):
    """One PROPFIND of s1 from address src: (status, seconds taken)."""
    t0 = time.monotonic()
    line = burst_logins(srv, [(user, password)], src)[0]
    return int(line.split(b" ")[1]), time.monotonic() - t0


def test_a_burst_of_guesses_cannot_pass_the_limit(new_server, ctl):
    """Guesses sent together are verified two at a time, each after the
    failures of those before: past five failures, sixty wrong passwords at
    once get 25 verifications (401; one more when the last two were
    verified side by side) and 429 for the rest, and the account is then
    refused even the right password from that address, as thirty failures
    one after another would leave it."""
    srv = new_server()
    user = fresh_user(ctl, "burst")
    url = srv.space_url("s1")
    for i in range(5):
        assert timed_propfind(url, user, "wrong-%d" % i)[0] == 401
    got = burst(srv, user, ["bad%d" % i for i in range(60)])
    verified = got.count(b"HTTP/1.1 401")
    assert 25 <= verified <= 26, got
    assert got.count(b"HTTP/1.1 429") == 60 - verified, got
    assert timed_propfind(url, user, user + "-pw")[0] == 429


def test_failed_logins_refused_with_429_after_30(new_server, ctl):
    """Thirty failures sent at once on connections opened beforehand (so
    that none of them waits), then every attempt of that name from that
    address is refused, even with the right password.  (Logins wait for
    their verification holding no database connection: the default pool
    of 8 serves thirty at once.)"""
    srv = new_server()
    user = fresh_user(ctl, "many")
    path = "/dav/spaces/s1/"
    statuses = set(burst(srv, user, ["bad%d" % i for i in range(30)]))
    assert statuses == {b"HTTP/1.1 401"}, statuses
    status, dt = timed_propfind(srv.url + path, user, user + "-pw")
    assert status == 429
    assert dt < 1.0


def test_guesses_from_elsewhere_do_not_lock_a_user_out(new_server, ctl):
    """Thirty-five wrong passwords for a name from one address: that
    address is refused the name (429), but the user, from another address
    with the right password, gets in, only slowed down."""
    srv = new_server()
    user = fresh_user(ctl, "victim")
    got = burst(srv, user, ["guess%d" % i for i in range(35)],
                src="127.0.0.3")
    verified = got.count(b"HTTP/1.1 401")
    assert 30 <= verified <= 31, got
    assert got.count(b"HTTP/1.1 429") == 35 - verified, got
    status, dt = timed_login_from(srv, "127.0.0.3", user, user + "-pw")
    assert status == 429 and dt < 1.0, (status, dt)
    status, dt = timed_login_from(srv, "127.0.0.2", user, user + "-pw")
    assert status == 207, status
    assert 1.0 <= dt < 30, dt


def test_failed_logins_from_a_shared_address_lock_nobody_out(new_server):
    """Behind a reverse proxy or a NAT every client has one address:
    thirty-five wrong logins for made-up names from it are all verified
    (no 429), the next ones from it are slowed down, and alice's right
    password from it is accepted."""
    srv = new_server()
    got = burst_logins(srv, [("nobody-%s-%d" % (short_id(), i), "x")
                             for i in range(35)], src="127.0.0.5")
    assert got.count(b"HTTP/1.1 401") == 35, got
    status, dt = timed_login_from(srv, "127.0.0.5",
                                  "nobody-" + short_id(), "x")
    assert status == 401 and dt >= 1.0, (status, dt)
    status, dt = timed_login_from(srv, "127.0.0.5", "alice", "alice-pw")
    assert status == 207, status
    assert dt < 30, dt


def test_slowed_down_logins_do_not_stall_other_users(new_server, ctl):
    """The wait imposed on a failed login must not hold one of the
    server's database connections: two slowed-down attempts on a pool of
    two must not stall another user's (already verified) requests."""
    import threading
    srv = new_server(extra_conf={"db_pool_size": 2})
    url = srv.space_url("s1")
    alice = session("alice")
    assert_status(propfind(alice, url, "0"), 207)  # cached from now on
    user = fresh_user(ctl, "stall")
    for i in range(6):  # five free failures, the sixth waits 1 s
        assert timed_propfind(url, user, "bad%d" % i)[0] == 401
    # Each of these two now waits 2 s before answering 401.
    waiters = [threading.Thread(target=timed_propfind,
                                args=(url, user, "worse%d" % i))
               for i in range(2)]
    for t in waiters:
        t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    r = propfind(alice, url, "0")
    took = time.monotonic() - t0
    for t in waiters:
        t.join()
    assert_status(r, 207)
    assert took < 1.0, "alice waited %.1f s for another user's slow-down" \
        % took


def test_bad_passwords_do_not_delay_cached_logins(new_server):
    """Wrong passwords for made-up names from 120 addresses, four each, on
    a pool of 8 database connections: they wait for the two hashing slots
    holding no connection, so bob's requests (credentials cached) are
    answered without waiting for them; and the line of logins waiting for
    a slot is bounded: past it, 503 with Retry-After at once."""
    import threading
    srv = new_server()
    url = srv.space_url("s1")
    bob = session("bob")
    assert_status(propfind(bob, url, "0"), 207)  # cached from now on
    heads = []

    def attacker(k):
        src = "127.0.%d.%d" % (1 + k // 200, 2 + k % 200)
        for _ in range(4):
            user = "nobody-%s-%d" % (short_id(), k)
            heads.append(burst_logins(srv, [(user, "x")], src, head=True)[0])
    ts = [threading.Thread(target=attacker, args=(k,)) for k in range(120)]
    for t in ts:
        t.start()
    time.sleep(1)
    took = []
    for _ in range(5):
        t0 = time.monotonic()
        r = propfind(bob, url, "0")
        took.append(time.monotonic() - t0)
        assert_status(r, 207)
    for t in ts:
        t.join()
    statuses = [h[:12] for h in heads]
    assert set(statuses) <= {b"HTTP/1.1 401", b"HTTP/1.1 503"}, \
        set(statuses)
    assert max(took) < 1.0, took
    busy = [h for h in heads if h.startswith(b"HTTP/1.1 503")]
    assert busy, "no login refused for a full line"
    assert all(b"\r\nRetry-After: " in h for h in busy), busy[0]


# --------------------------------------------- Basic over plain HTTP, remote

def non_loopback_ipv4():
    for probe in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                ip = s.getsockname()[0]
        except OSError:
            continue
        if not ip.startswith("127.") and ip != "0.0.0.0":
            return ip
    return None


def remote_server(new_server, extra=None):
    ip = non_loopback_ipv4()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address to "
                    "connect from")
    srv = new_server(start=False)
    srv.port = free_port()
    conf = {"listen": "0.0.0.0:%d" % srv.port}
    conf.update(extra or {})
    srv.extra_conf = conf
    srv.start()
    return srv, "http://%s:%d" % (ip, srv.port)


def test_basic_over_plain_http_from_another_address_is_403(new_server):
    srv, remote = remote_server(new_server)
    r = propfind(session("alice"), remote + "/dav/spaces/s1/", "0")
    assert_status(r, 403)
    assert b"alice" not in r.content
    # Without credentials: the usual challenge.
    r = propfind(requests.Session(), remote + "/dav/spaces/s1/", "0")
    assert_status(r, 401)
    # From the machine itself: fine.
    assert_status(propfind(session("alice"), srv.url + "/dav/spaces/s1/",
                           "0"), 207)


def test_trust_proxy_tls_accepts_basic_over_plain_http(new_server):
    srv, remote = remote_server(new_server, {"trust_proxy_tls": "true"})
    assert_status(propfind(session("alice"), remote + "/dav/spaces/s1/",
                           "0"), 207)


# ------------------------------------------------------------ anonymous_user

def test_anonymous_user_acts_as_that_user(new_server):
    srv = new_server(extra_conf={"anonymous_user": "bob"})
    anon = requests.Session()
    anon.trust_env = False
    r = propfind(anon, srv.space_url("s1"), "0", "prop",
                 ["current-user-principal"])
    assert_status(r, 207)
    assert principal_href("bob").encode() in r.content
    assert_status(put(anon, srv.space_url("s1") + "anon.txt", b"x"), 403)
    assert_status(dav(anon, "GET", srv.space_url("s2")), 404)
    # Credentials, when sent, are still checked.
    assert_status(propfind(session("alice", "wrong"), srv.space_url("s1"),
                           "0"), 401)


# ------------------------------------------------------------ logs

def test_no_password_in_the_logs(new_server, ctl):
    srv = new_server()
    user = fresh_user(ctl, "log")
    secret = add_app_password(ctl, user, "phone")
    revoked = add_app_password(ctl, user, "old")
    ctl("apppassword", "revoke", user, "old")
    url = srv.space_url("s1")
    wrong = "Wr0ng-" + short_id()
    assert_status(propfind(session(user), url, "0"), 207)
    assert_status(propfind(session(user, secret), url, "0"), 207)
    assert_status(put(session(user, secret),
                      new_folder(srv) + "x.txt", b"x"), 201)
    assert_status(propfind(session(user, wrong), url, "0"), 401)
    assert_status(propfind(session(user, revoked), url, "0"), 401)
    assert_status(propfind(session("nosuch-" + SUF, wrong), url, "0"), 401)
    srv.stop()
    text = srv.log_text() + srv.access_log_text()
    assert user in text  # the logs are there, and name the user
    for pw in (user + "-pw", secret, revoked, wrong):
        assert pw not in text
        assert basic_b64(user, pw) not in text
    assert basic_b64("nosuch-" + SUF, wrong) not in text


def test_options_with_a_wrong_password_is_no_login_attempt(new_server, ctl):
    """OPTIONS is never refused, and answers for the target only with
    credentials verified lately: a wrong password there checks nothing,
    so it counts no failure (thirty would refuse the right password,
    429) and leaves no LOGIN_FAILED row unexplained."""
    srv = new_server()
    user = fresh_user(ctl, "opt")
    s = requests.Session()
    s.trust_env = False
    s.auth = (user, "wrong")
    for _ in range(31):
        assert s.request("OPTIONS", srv.space_url("s1")).status_code == 200
    assert timed_propfind(srv.space_url("s1"), user, user + "-pw")[0] == 207
    rows = ctl("audit", "--user", user, "--format", "csv").stdout
    assert "LOGIN_FAILED" not in rows, rows
