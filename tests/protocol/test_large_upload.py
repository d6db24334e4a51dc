"""A large upload's chunks go to PostgreSQL as they arrive: each is sent
ahead, stored while the next ones are read from the client, and the
results are read once three are in flight, or before the revision is
written (db/pg_store.c, send_ahead).  A chunk that fails may so be known
only after the next ones were sent.  What must
hold (RFC 9110 §9.3.4 PUT; "No data loss" of the brief): whichever chunk
fails, the PUT fails as a whole, the previous content, its ETag and its
history are untouched, and the server's connections to PostgreSQL go on
serving; a client that goes away mid-upload leaves the old content too."""

import os
import socket
import time
import uuid

import pytest

from dav_helpers import assert_status, basic_auth, mkcol, put

CHUNK = 256 * 1024
CHUNKS = 8
MAGIC = b"parvis-test-fail-this-chunk:"

FAIL_TRIGGER = f"""
CREATE OR REPLACE FUNCTION parvis_test_fail_chunk() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF substr(NEW.data, 1, {len(MAGIC)}) = '\\x{MAGIC.hex()}'::bytea THEN
    RAISE EXCEPTION 'chunk refused by the test';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER parvis_test_fail_chunk BEFORE INSERT ON chunks
FOR EACH ROW EXECUTE FUNCTION parvis_test_fail_chunk();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS parvis_test_fail_chunk ON chunks;
DROP FUNCTION IF EXISTS parvis_test_fail_chunk();
"""


@pytest.fixture
def failing_chunks(cluster):
    """Chunks that start with MAGIC fail to be stored (a trigger)."""
    cluster.psql(FAIL_TRIGGER)
    yield
    cluster.psql(DROP_TRIGGER)


@pytest.fixture
def target(server, session_for):
    sess = session_for("alice")
    base = server.space_url("s1") + "up-" + uuid.uuid4().hex[:12] + "/"
    assert_status(mkcol(sess, base), 201)
    url = base + "big.bin"
    old = os.urandom(CHUNKS * CHUNK - 7)
    assert_status(put(sess, url, old), 201)
    return sess, url, old


def revisions_of(cluster, url):
    path = url[url.index("/dav/spaces/s1") + len("/dav/spaces/s1"):].rstrip("/")
    return cluster.psql(
        "SELECT count(*) FROM revisions v JOIN resources r ON r.id = v.resource_id "
        "JOIN spaces s ON s.id = r.space_id "
        f"WHERE s.slug = 's1' AND r.id = parvis_resolve(s.id, '{path}')")[0][0]


def assert_untouched(sess, url, old, etag):
    r = sess.get(url)
    assert r.status_code == 200
    assert r.content == old
    assert r.headers["ETag"] == etag


def assert_pool_serves(sess, url, prefix):
    """Every pooled connection still works: more uploads of several chunks
    than the pool has connections, each read back."""
    for i in range(10):
        data = os.urandom(3 * CHUNK + i)
        other = url.replace("big.bin", f"{prefix}-{i}.bin")
        assert_status(put(sess, other, data), 201)
        assert sess.get(other).content == data


def start_raw_put(server, url, total, first):
    """A PUT of 'total' bytes on a socket of its own, its first 'first'
    bytes sent; returns the socket, to send the rest or to drop."""
    path = url[len(server.url):]
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall((f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: {basic_auth('alice')}\r\n"
               f"Content-Length: {total}\r\n\r\n").encode())
    s.sendall(os.urandom(first))
    return s


def test_large_put_round_trip(target):
    sess, url, old = target
    new = os.urandom(CHUNKS * CHUNK + 12345)
    assert_status(put(sess, url, new), 204)
    r = sess.get(url)
    assert r.status_code == 200 and r.content == new


@pytest.mark.parametrize("bad", [0, 1, 2, 4, CHUNKS - 2, CHUNKS - 1])
def test_a_failed_chunk_fails_the_put_and_keeps_the_old_content(
        server, target, failing_chunks, cluster, bad):
    sess, url, old = target
    etag = sess.head(url).headers["ETag"]
    before = revisions_of(cluster, url)
    pieces = [bytearray(os.urandom(CHUNK)) for _ in range(CHUNKS)]
    pieces[bad][:len(MAGIC)] = MAGIC
    logged = len(server.log_text())
    r = put(sess, url, b"".join(pieces))
    assert 500 <= r.status_code < 600, r.status_code
    # The log gives the chunk's own error, not only the aborted
    # transaction of the statements sent after it.
    assert "chunk refused by the test" in server.log_text()[logged:], \
        server.log_tail()
    assert_untouched(sess, url, old, etag)
    assert revisions_of(cluster, url) == before
    assert_pool_serves(sess, url, "after")


def test_client_gone_mid_upload_keeps_the_old_content(server, target, cluster):
    sess, url, old = target
    etag = sess.head(url).headers["ETag"]
    before = revisions_of(cluster, url)
    s = start_raw_put(server, url, CHUNKS * CHUNK, 3 * CHUNK + 1000)
    time.sleep(0.5)
    s.close()
    # The server sees the connection end, rolls back and gives the
    # database connection back.
    time.sleep(1.0)
    assert_untouched(sess, url, old, etag)
    assert revisions_of(cluster, url) == before
    assert_pool_serves(sess, url, "gone")
    assert_untouched(sess, url, old, etag)


def test_backend_gone_mid_upload_keeps_the_old_content(server, target,
                                                        cluster):
    """PostgreSQL's backend ends (terminated) while groups of chunks are in
    flight: the PUT fails, the old content and its history stay, and the
    pool's connections serve again (the lost one is opened anew)."""
    sess, url, old = target
    etag = sess.head(url).headers["ETag"]
    before = revisions_of(cluster, url)
    total = 12 * CHUNK
    s = start_raw_put(server, url, total, 5 * CHUNK)
    # The backend storing this upload: in a transaction that wrote, its
    # last statement a chunk's.
    killed = []
    for _ in range(50):
        killed = cluster.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE backend_xid IS NOT NULL "
            "AND query LIKE 'INSERT INTO chunks%'")
        if killed:
            break
        time.sleep(0.1)
    assert killed == [("t",)], killed
    s.settimeout(30)
    answer = b""
    try:
        s.sendall(os.urandom(total - 5 * CHUNK))
        while b"\r\n\r\n" not in answer:
            got = s.recv(65536)
            if not got:
                break
            answer += got
    except OSError:
        pass        # the server may close before the body is all sent
    finally:
        s.close()
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b""
    assert status in (b"", b"503"), answer[:200]
    assert_untouched(sess, url, old, etag)
    assert revisions_of(cluster, url) == before
    assert_pool_serves(sess, url, "backend-gone")
