"""Crash safety: a parvisd killed in the middle of an upload leaves the old
content and no new revision; a PostgreSQL restart under a running parvisd
is survived without restarting parvisd."""

import hashlib
import os
import socket
import time

import pytest

from dav_helpers import (assert_status, basic_auth, dav, db_path, host_port,
                         join, propfind, put, raw_path_of, resource_row,
                         revisions_of)

MiB = 1 << 20


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


def _interrupted_put(srv, url, declared, send_before_kill):
    """PUT `declared` bytes (Content-Length) to url on srv, SIGKILL srv after
    `send_before_kill` bytes went out.  Returns whatever the socket read
    (must not be a final 2xx)."""
    host, port = host_port(srv.url)
    sock = socket.create_connection((host, port), timeout=60)
    got = b""
    try:
        head = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\n"
                "Content-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\n\r\n"
                % (raw_path_of(url), host, port, basic_auth("alice"),
                   declared)).encode()
        sock.sendall(head)
        rnd = os.urandom(MiB)
        sent = 0
        while sent < send_before_kill:
            # different bytes per MiB so that no chunk deduplicates
            piece = hashlib.sha256(sent.to_bytes(8, "big")).digest() + rnd[32:]
            sock.sendall(piece)
            sent += len(piece)
            time.sleep(0.002)
        time.sleep(1.0)        # let the server consume what is in flight
        srv.kill()
        sock.settimeout(5)
        try:
            while True:
                d = sock.recv(65536)
                if not d:
                    break
                got += d
        except OSError:
            pass
    finally:
        sock.close()
    return got


def _kill_mid_put(cluster, srv, sess, coll, declared, send_before_kill):
    url = join(coll, "big-overwritten.bin")
    old = os.urandom(3 * MiB + 123)
    assert_status(put(sess, url, old), 201)
    revs_before = revisions_of(cluster, db_path(url))
    row_before = resource_row(cluster, db_path(url))
    assert len(revs_before) == 1

    got = _interrupted_put(srv, url, declared, send_before_kill)
    assert not got.startswith(b"HTTP/1.1 2"), got[:200]

    srv.start()
    r = dav(sess, "GET", url)
    assert_status(r, 200)
    return {
        "old_sha": hashlib.sha256(old).hexdigest(),
        "got_sha": hashlib.sha256(r.content).hexdigest(),
        "got_len": len(r.content), "old_len": len(old),
        "revs_before": revs_before,
        "revs_after": revisions_of(cluster, db_path(url)),
        "row_before": row_before,
        "row_after": resource_row(cluster, db_path(url)),
        "url": url,
    }


@pytest.fixture
def killed_small(cluster, seed, new_server, session_for):
    """An 8 MiB-into-24 MiB PUT over a 3 MiB file, parvisd SIGKILLed, then
    started again (small enough for sanitizer builds)."""
    srv = new_server()
    sess = session_for("alice")
    coll = srv.space_url("s1") + "crash-%s/" % os.urandom(4).hex()
    assert_status(dav(sess, "MKCOL", coll), 201)
    return _kill_mid_put(cluster, srv, sess, coll, 24 * MiB, 8 * MiB), srv


def test_sigkill_mid_put_keeps_old_content(killed_small):
    res, _ = killed_small
    assert res["got_len"] == res["old_len"]
    assert res["got_sha"] == res["old_sha"]


def test_sigkill_mid_put_adds_no_revision(killed_small):
    res, _ = killed_small
    assert res["revs_after"] == res["revs_before"]


def test_sigkill_mid_put_keeps_current_rev(killed_small):
    res, _ = killed_small
    assert res["row_after"] == res["row_before"]


def test_put_works_after_restart_following_sigkill(killed_small,
                                                   session_for):
    res, _ = killed_small
    sess = session_for("alice")
    assert_status(put(sess, res["url"], b"fresh after crash"), 200, 204)
    assert dav(sess, "GET", res["url"]).content == b"fresh after crash"


@pytest.mark.heavy
def test_sigkill_mid_200mib_put_keeps_old_content_and_revisions(
        cluster, seed, new_server, session_for):
    srv = new_server()
    sess = session_for("alice")
    coll = srv.space_url("s1") + "crash-big-%s/" % os.urandom(4).hex()
    assert_status(dav(sess, "MKCOL", coll), 201)
    res = _kill_mid_put(cluster, srv, sess, coll, 200 * MiB, 50 * MiB)
    assert res["got_sha"] == res["old_sha"]
    assert res["revs_after"] == res["revs_before"]
    assert res["row_after"] == res["row_before"]


# ------------------------------------------------------ PostgreSQL restart

@pytest.fixture
def pg_file(alice, coll):
    url = join(coll, "survivor.txt")
    assert_status(put(alice, url, b"still here\n"), 201)
    return url


def test_reads_succeed_right_after_postgres_restart(cluster, server, alice,
                                                    pg_file):
    # warm every pooled connection first
    for _ in range(10):
        assert_status(dav(alice, "GET", pg_file), 200)
    pid = server.pid
    cluster.restart()
    # more requests than db_pool_size (8): every pooled connection is stale
    for i in range(20):
        r = dav(alice, "GET", pg_file)
        assert r.status_code == 200, (i, r.status_code, r.text[:300])
        assert r.content == b"still here\n"
    assert server.pid == pid


def test_propfind_succeeds_right_after_postgres_restart(cluster, server,
                                                        alice, coll, pg_file):
    cluster.restart()
    for i in range(12):
        r = propfind(alice, coll, "1")
        assert r.status_code == 207, (i, r.status_code, r.text[:300])


def test_write_succeeds_right_after_postgres_restart(cluster, server, alice,
                                                     pg_file):
    cluster.restart()
    r = put(alice, pg_file, b"written after restart\n")
    assert_status(r, 200, 204)
    assert dav(alice, "GET", pg_file).content == b"written after restart\n"


def test_healthz_ok_right_after_postgres_restart(cluster, server, alice):
    cluster.restart()
    r = dav(alice, "GET", server.url.rstrip("/") + "/healthz")
    assert_status(r, 200)


def test_postgres_down_gives_503_then_recovers(cluster, server, alice,
                                               pg_file):
    pid = server.pid
    cluster.stop()
    try:
        h = dav(alice, "GET", server.url.rstrip("/") + "/healthz")
        g = dav(alice, "GET", pg_file)
    finally:
        cluster.start()
    assert h.status_code == 503, h.status_code
    assert g.status_code >= 500, g.status_code
    r = dav(alice, "GET", pg_file)
    assert_status(r, 200)
    assert r.content == b"still here\n"
    assert_status(dav(alice, "GET", server.url.rstrip("/") + "/healthz"), 200)
    assert server.pid == pid
