"""Several parvisd nodes on one database behave as one server
(docs/scaling.md, issue: hardening).

Two parvisd processes share the test cluster; one client per node races
the other on the same files and locks, the threads released together by a
barrier, several rounds each: conditional PUTs, LOCK, sync tokens, the
quota, app-password revocation and the audit chain."""

import json
import threading
import time
import uuid

import pytest

from caldav_helpers import sync_collection
from class2_helpers import activelocks, if_token, lock, token_of, unlock
from dav_helpers import (user_session, assert_status, dav, db_path, mkcol, propfind, put,
                         space_id)
from psql_helpers import wait_sealed
from workflow_helpers import audit_rows, max_audit_id

ROUNDS = 8


session = user_session


@pytest.fixture
def nodes(new_server):
    """Two further parvisd nodes on the shared database."""
    return new_server(), new_server()


def on(node, url):
    """URL as served by NODE (same path, that node's address)."""
    return node.url + url[url.index("/dav/"):]


def race(*calls):
    """Runs each callable in its own thread, released at once by a
    barrier; returns their results in order (an exception is re-raised)."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait(timeout=30)
            out[i] = fn()
        except BaseException as e:  # re-raised in the test's thread
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, fn))
               for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a racing request did not finish"
    for r in out:
        if isinstance(r, BaseException):
            raise r
    return out


def new_folder(node, sess, slug="s1"):
    url = node.space_url(slug) + "nodes-" + uuid.uuid4().hex[:12] + "/"
    assert_status(mkcol(sess, url), 201)
    return url


def etag(sess, url):
    r = dav(sess, "HEAD", url)
    assert_status(r, 200)
    return r.headers["ETag"]


# ------------------------------------------------------ conditional PUTs

def test_if_match_puts_racing_through_two_nodes_one_wins(nodes):
    a, b = nodes
    sa, sb = session("alice"), session("alice")
    url = new_folder(a, sa) + "contended.txt"
    ua, ub = on(a, url), on(b, url)
    assert_status(put(sa, ua, b"round -1\n"), 201)
    for rnd in range(ROUNDS):
        seen = etag(sa, ua)
        assert etag(sb, ub) == seen, rnd
        body_a = b"round %d from node A\n" % rnd
        body_b = b"round %d from node B\n" % rnd
        ra, rb = race(
            lambda: put(sa, ua, body_a, headers={"If-Match": seen}),
            lambda: put(sb, ub, body_b, headers={"If-Match": seen}))
        codes = sorted((ra.status_code, rb.status_code))
        assert codes == [204, 412], (rnd, ra.status_code, rb.status_code,
                                     ra.text, rb.text)
        winner, body = (ra, body_a) if ra.status_code != 412 else (rb, body_b)
        for sess, u in ((sa, ua), (sb, ub)):
            g = dav(sess, "GET", u)
            assert_status(g, 200)
            assert g.content == body, rnd
        new = etag(sa, ua)
        assert new != seen and etag(sb, ub) == new, rnd
        assert winner.headers["ETag"] == new, rnd


def test_creating_puts_racing_through_two_nodes(nodes):
    a, b = nodes
    sa, sb = session("alice"), session("alice")
    folder = new_folder(a, sa)
    for rnd in range(ROUNDS):
        # If-None-Match: * -- exactly one creates, the other is refused.
        url = folder + "only-once-%d.txt" % rnd
        ua, ub = on(a, url), on(b, url)
        body_a, body_b = b"A%d" % rnd, b"B%d" % rnd
        ra, rb = race(
            lambda: put(sa, ua, body_a, headers={"If-None-Match": "*"}),
            lambda: put(sb, ub, body_b, headers={"If-None-Match": "*"}))
        codes = sorted((ra.status_code, rb.status_code))
        assert codes == [201, 412], (rnd, ra.status_code, rb.status_code,
                                     ra.text, rb.text)
        body = body_a if ra.status_code == 201 else body_b
        assert dav(sa, "GET", ua).content == body
        assert dav(sb, "GET", ub).content == body
        assert etag(sa, ua) == etag(sb, ub)
        # Unconditional -- one creates, the other overwrites it.
        url = folder + "last-wins-%d.txt" % rnd
        ua, ub = on(a, url), on(b, url)
        ra, rb = race(lambda: put(sa, ua, body_a),
                      lambda: put(sb, ub, body_b))
        codes = sorted((ra.status_code, rb.status_code))
        assert codes == [201, 204], (rnd, ra.status_code, rb.status_code,
                                     ra.text, rb.text)
        got = dav(sa, "GET", ua).content
        assert got in (body_a, body_b) and dav(sb, "GET", ub).content == got
        assert etag(sa, ua) == etag(sb, ub)


# ------------------------------------------------------------------ locks

def lockdiscovery_tokens(sess, url):
    r = propfind(sess, url, "0", "prop", ["lockdiscovery"])
    assert_status(r, 207)
    return [al.findtext("{DAV:}locktoken/{DAV:}href").strip()
            for al in activelocks(r.content)]


def test_lock_taken_through_one_node_is_enforced_by_the_other(nodes):
    a, b = nodes
    sa, sb = session("alice"), session("alice")
    url = new_folder(a, sa) + "locked.txt"
    ua, ub = on(a, url), on(b, url)
    assert_status(put(sa, ua, b"v1"), 201)
    r = lock(sa, ua)
    assert_status(r, 200)
    token = token_of(r)
    # Node B refuses a write without the token, and shows the lock.
    assert_status(put(sb, ub, b"no token"), 423)
    assert_status(dav(sb, "DELETE", ub), 423)
    assert lockdiscovery_tokens(sb, ub) == [token]
    assert dav(sb, "GET", ub).content == b"v1"
    # With the token, node B writes; then it releases the lock.
    assert_status(put(sb, ub, b"v2", headers=if_token(token)), 204)
    assert_status(unlock(sb, ub, token), 204)
    assert lockdiscovery_tokens(sa, ua) == []
    assert_status(put(sa, ua, b"v3"), 204)
    assert dav(sb, "GET", ub).content == b"v3"


def test_lock_racing_through_two_nodes_one_wins(nodes):
    a, b = nodes
    sa, sb = session("alice"), session("alice")
    folder = new_folder(a, sa)
    url = folder + "race-lock.txt"
    ua, ub = on(a, url), on(b, url)
    assert_status(put(sa, ua, b"x"), 201)
    for rnd in range(ROUNDS):
        ra, rb = race(lambda: lock(sa, ua), lambda: lock(sb, ub))
        codes = sorted((ra.status_code, rb.status_code))
        assert codes == [200, 423], (rnd, ra.status_code, rb.status_code,
                                     ra.text, rb.text)
        won, won_sess, lost_sess, lost_url = (
            (ra, sa, sb, ub) if ra.status_code == 200 else (rb, sb, sa, ua))
        token = token_of(won)
        assert lockdiscovery_tokens(sa, ua) == [token], rnd
        assert lockdiscovery_tokens(sb, ub) == [token], rnd
        # The loser's node enforces the winner's lock ...
        assert_status(put(lost_sess, lost_url, b"no token"), 423)
        # ... and releases it when given the token.
        assert_status(unlock(lost_sess, lost_url, token), 204)
        assert lockdiscovery_tokens(won_sess, ua) == [], rnd
    # Racing on a new name: one lock makes the (empty) resource, the other
    # is refused; never two resources or two locks.
    for rnd in range(ROUNDS):
        url = folder + "race-new-%d.txt" % rnd
        ua, ub = on(a, url), on(b, url)
        ra, rb = race(lambda: lock(sa, ua), lambda: lock(sb, ub))
        codes = sorted((ra.status_code, rb.status_code))
        assert codes == [201, 423], (rnd, ra.status_code, rb.status_code,
                                     ra.text, rb.text)
        won = ra if ra.status_code == 201 else rb
        assert lockdiscovery_tokens(sb, ub) == [token_of(won)], rnd
        assert_status(unlock(sa, ua, token_of(won)), 204)


# ------------------------------------------------------------ sync tokens

def test_sync_token_from_one_node_is_good_on_the_other(nodes, cluster):
    a, b = nodes
    sa, sb = session("alice"), session("alice")
    folder = new_folder(a, sa)
    fa, fb = on(a, folder), on(b, folder)
    for n in ("keep", "edit", "gone"):
        assert_status(put(sa, fa + n + ".txt", n.encode()), 201)
    token = sync_collection(sa, fa, "").token
    # Changes through A, read through B with A's token.
    assert_status(put(sa, fa + "edit.txt", b"edited"), 204)
    assert_status(put(sa, fa + "new.txt", b"new"), 201)
    assert_status(dav(sa, "DELETE", fa + "gone.txt"), 204)
    res = sync_collection(sb, fb, token)
    assert sorted(res.changed()) == ["edit.txt", "new.txt"]
    assert res.removed() == ["gone.txt"]
    for name, resp in res.changed().items():
        assert resp.ok_props()["{DAV:}getetag"].text == \
            etag(sa, fa + name)
    # Both nodes hand out the same token for the same state.
    assert sync_collection(sa, fa, token).token == res.token
    # Writes racing through both nodes: a token from either node then
    # reports every one of them, on either node.
    token = res.token
    for rnd in range(ROUNDS):
        race(lambda: assert_status(put(sa, fa + "a%d.txt" % rnd, b"a"), 201),
             lambda: assert_status(put(sb, fb + "b%d.txt" % rnd, b"b"), 201))
    want = sorted(["a%d.txt" % i for i in range(ROUNDS)] +
                  ["b%d.txt" % i for i in range(ROUNDS)])
    wait_sealed(cluster)    # ra's token is then good for an empty sync
    ra, rb = sync_collection(sa, fa, token), sync_collection(sb, fb, token)
    assert sorted(ra.changed()) == want and sorted(rb.changed()) == want
    assert ra.token == rb.token
    assert sync_collection(sb, fb, ra.token).responses == []


# ------------------------------------------------------------------ quota

@pytest.fixture
def s2_quota(ctl, seed):
    """set(size) runs `parvisctl space quota s2 SIZE`; none again after."""
    yield lambda size: ctl("space", "quota", "s2", str(size))
    ctl("space", "quota", "s2", "none")


def s2_used(cluster):
    """Bytes of the current revisions of s2's files, the trash excepted."""
    rows = cluster.psql(
        "select coalesce(sum(v.size), 0) from resources r "
        "join revisions v on v.id = r.current_rev "
        "where r.space_id = %(s)s and r.id not in (select id from "
        "parvis_subtree(parvis_resolve(%(s)s, '/.trash')))"
        % {"s": space_id(cluster, "s2")})
    return int(rows[0][0])


def test_quota_holds_against_writes_racing_through_two_nodes(
        nodes, cluster, s2_quota):
    a, b = nodes
    size = 100_000
    per_node = 3
    sess = {a: [session("carol") for _ in range(per_node)],
            b: [session("carol") for _ in range(per_node)]}
    folder = new_folder(a, sess[a][0], "s2")
    for rnd in range(4):
        used = s2_used(cluster)
        fits = 1 + rnd % 3          # whole files that fit, < 2 * per_node
        quota = used + fits * size + size // 2
        s2_quota(quota)
        calls, urls = [], []
        for node in (a, b):
            for i, s in enumerate(sess[node]):
                u = on(node, folder) + "r%d-%s-%d.bin" % (rnd, node.port, i)
                urls.append(u)
                calls.append(lambda s=s, u=u: put(s, u, b"q" * size))
        codes = [r.status_code for r in race(*calls)]
        assert sorted(codes) == [201] * fits + [507] * (len(codes) - fits), \
            (rnd, codes)
        assert s2_used(cluster) == used + fits * size <= quota, rnd
        for u, code in zip(urls, codes):
            assert dav(sess[a][0], "HEAD", on(a, u)).status_code == \
                (200 if code == 201 else 404), (rnd, u, code)
    # Copies take room too: the same with COPYs racing through both nodes,
    # each from a source of its own (a COPY locks its source).
    s2_quota("none")
    srcs = [folder + "src-%d.bin" % i for i in range(2 * per_node)]
    for u in srcs:
        assert_status(put(sess[a][0], on(a, u), b"c" * size), 201)
    for rnd in range(3):
        used = s2_used(cluster)
        fits = 1 + rnd
        quota = used + fits * size + size // 2
        s2_quota(quota)
        calls = []
        for j, (node, s) in enumerate((n, s) for n in (a, b)
                                      for s in sess[n]):
            dst = on(node, folder) + "c%d-%d.bin" % (rnd, j)
            calls.append(lambda s=s, src=on(node, srcs[j]), dst=dst: dav(
                s, "COPY", src, headers={"Destination": dst}))
        codes = [r.status_code for r in race(*calls)]
        assert sorted(codes) == [201] * fits + [507] * (len(codes) - fits), \
            (rnd, codes)
        assert s2_used(cluster) == used + fits * size <= quota, rnd


# ----------------------------------------------------------- app passwords

def test_revoked_app_password_is_refused_at_once_by_both_nodes(
        nodes, ctl):
    a, b = nodes
    user = "nodes-" + uuid.uuid4().hex[:8]
    ctl("user", "add", user, "--password-stdin", input=user + "-pw\n")
    ctl("member", "add", "s1", user, "--role", "editor")
    out = json.loads(ctl("--json", "apppassword", "add", user, "--label",
                         "phone").stdout)
    secret = out["password"]
    # Both nodes have verified (and cached) the app password.
    for node in (a, b):
        for _ in range(2):
            assert_status(propfind(session(user, secret),
                                   node.space_url("s1"), "0"), 207)
    # One client per node keeps asking while the password is revoked, and
    # stops after AFTER requests sent once revocation returned (fewer than
    # the failed logins a node lets through before slowing down).
    AFTER = 3
    revoked = threading.Event()
    seen = {a: [], b: []}

    def hammer(node):
        s = session(user, secret)
        after = 0
        while after < AFTER:
            late = revoked.is_set()
            seen[node].append((late, propfind(s, node.space_url("s1"),
                                              "0").status_code))
            after += late

    threads = [threading.Thread(target=hammer, args=(n,)) for n in (a, b)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while not all(len(seen[n]) >= 2 for n in (a, b)):
            assert time.monotonic() < deadline, "the clients are stuck"
            time.sleep(0.01)
        ctl("apppassword", "revoke", user, "phone")
    finally:
        revoked.set()
        for t in threads:
            t.join(120)
            assert not t.is_alive(), "a client is stuck"
    for node in (a, b):
        before = [c for late, c in seen[node] if not late]
        after = [c for late, c in seen[node] if late]
        # In flight while parvisctl ran: either answer.
        assert len(before) >= 2 and set(before) <= {207, 401}, (node, before)
        assert before[:2] == [207, 207], (node, before)
        assert after == [401] * AFTER, (node, after)
    # The account password still works on both.
    for node in (a, b):
        assert_status(propfind(session(user), node.space_url("s1"), "0"),
                      207)


# ------------------------------------------------------------------ audit

def test_writes_through_both_nodes_form_one_audit_chain(nodes, cluster,
                                                        ctl):
    a, b = nodes
    # Two clients per node, named by their User-Agent in the audit rows.
    agent = {a: "nodes-test via A", b: "nodes-test via B"}
    sess = {}
    for node in (a, b):
        sess[node] = [session("alice"), session("alice")]
        for s in sess[node]:
            s.headers["User-Agent"] = agent[node]
    folder = new_folder(a, sess[a][0])
    mark = max_audit_id(cluster)
    sent = []    # (path, status, user agent) of every write answered
    shared = folder + "both.txt"
    assert_status(put(sess[a][0], on(a, shared), b"0"), 201)
    sent.append((shared, 201, agent[a]))
    for rnd in range(ROUNDS):
        seen = etag(sess[a][0], on(a, shared))
        calls, what = [], []
        for node, tag in ((a, "a"), (b, "b")):
            own = folder + "%s%d.txt" % (tag, rnd)
            calls.append(lambda node=node, own=own:
                         put(sess[node][0], on(node, own), b"own"))
            calls.append(lambda node=node, tag=tag:
                         put(sess[node][1], on(node, shared),
                             b"%s%d" % (tag.encode(), rnd),
                             headers={"If-Match": seen}))
            what += [(own, agent[node]), (shared, agent[node])]
        rs = race(*calls)
        for (u, ua), r in zip(what, rs):
            sent.append((u, r.status_code, ua))
        assert sorted(r.status_code for r in rs) == [201, 201, 204, 412], rnd
    rows = [r for r in audit_rows(cluster, "id > %d" % mark)
            if r["action"] == "PUT"]
    prefix = "s1" + db_path(folder) + "/"
    got = sorted((r["path"], int(r["status"]), r["user_agent"])
                 for r in rows if r["path"].startswith(prefix))
    want = sorted(("s1" + db_path(u), st, ua) for u, st, ua in sent)
    assert got == want
    # One chain, every row linked, whichever node wrote it.
    pr = ctl("audit", "verify", check=False)
    assert pr.returncode == 0, pr.stdout + pr.stderr
    n = int(cluster.psql("select count(*) from audit")[0][0])
    assert "audit chain intact: %d rows" % n in pr.stdout, (pr.stdout, n)
