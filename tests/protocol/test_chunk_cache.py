"""The node-local cache of large chunks (chunk_cache_dir, decision 0015).

Every server of the protocol tests runs with a cache directory of its own,
as ./dev.sh run does; these tests look into it.  What must hold: the
chunks of a large file are written there as it is uploaded, private to
the server's user; a GET gives the stored bytes whether they come from the
cache or, when the files are gone or the node is another one, from
PostgreSQL (which fills the cache again); the directory is emptied at
start; its size stays under chunk_cache_size; a directory open to others
or used by another parvisd is refused at start with a clear message."""

import os
import stat
import uuid

import pytest
import requests

from dav_helpers import assert_status, mkcol, put

CHUNK = 256 * 1024
MIB = 1024 * 1024


def cache_files(srv):
    d = srv.chunk_cache_dir
    return sorted(n for n in os.listdir(d) if n.startswith("c-"))


def cache_bytes(srv):
    d = srv.chunk_cache_dir
    return sum(os.path.getsize(os.path.join(d, n)) for n in cache_files(srv))


def fresh_dir(srv, sess):
    url = srv.space_url("s1") + "cc-" + uuid.uuid4().hex[:12] + "/"
    assert_status(mkcol(sess, url), 201)
    return url


def get_bytes(sess, url, **kw):
    r = sess.get(url, **kw)
    assert r.status_code in (200, 206), f"GET {url} -> {r.status_code}"
    return r.content


@pytest.fixture
def node(new_server):
    return new_server()


def test_large_file_is_cached_as_uploaded_and_read_back(node, session_for):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(4 * CHUNK + 1000)
    before = set(cache_files(node))
    assert_status(put(sess, url, data), 201)
    # The four full chunks are cached on disk; the last 1,000 bytes are a
    # small chunk, which the in-memory cache takes.
    added = set(cache_files(node)) - before
    assert len(added) == 4
    d = node.chunk_cache_dir
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    for n in added:
        assert stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) == 0o600
    assert sorted(os.path.getsize(os.path.join(d, n)) for n in added) == [CHUNK] * 4
    assert get_bytes(sess, url) == data
    # A range across the boundary of two chunks, and one inside a chunk.
    a, b = CHUNK - 100, 2 * CHUNK + 99
    assert get_bytes(sess, url, headers={"Range": f"bytes={a}-{b}"}) == data[a:b + 1]
    assert get_bytes(sess, url, headers={"Range": "bytes=300000-300009"}) == \
        data[300000:300010]
    assert not [n for n in os.listdir(d) if n.startswith("t-")]


def test_files_removed_are_read_from_the_database_and_cached_again(node, session_for):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(3 * CHUNK)
    assert_status(put(sess, url, data), 201)
    d = node.chunk_cache_dir
    for n in cache_files(node):
        os.unlink(os.path.join(d, n))
    assert get_bytes(sess, url) == data
    assert len(cache_files(node)) == 3
    # A copy cut short is a miss: the database answers, and the copy is
    # written again whole.
    victim = os.path.join(d, cache_files(node)[0])
    with open(victim, "r+b") as f:
        f.truncate(10)
    assert get_bytes(sess, url) == data
    assert os.path.getsize(victim) == CHUNK


def test_another_node_reads_from_the_database(node, new_server, session_for):
    other = new_server()
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(2 * CHUNK + 5)
    assert_status(put(sess, url, data), 201)
    assert cache_files(other) == []
    there = other.url + url[url.index("/dav/"):]
    assert get_bytes(sess, there) == data
    assert len(cache_files(other)) == 2
    assert get_bytes(sess, there) == data


def test_emptied_at_restart(node, session_for):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(2 * CHUNK)
    assert_status(put(sess, url, data), 201)
    assert len(cache_files(node)) == 2
    node.stop()
    # What a crash could leave: a torn copy under a chunk's name.
    torn = os.path.join(node.chunk_cache_dir, "c-" + "0" * 16 + "-" + "ab" * 32)
    with open(torn, "wb") as f:
        f.write(b"torn")
    node.start()
    assert cache_files(node) == []
    assert get_bytes(sess, url) == data


def test_budget_bounds_the_directory(new_server, session_for):
    srv = new_server({"chunk_cache_size": 16})
    sess = session_for("alice")
    base = fresh_dir(srv, sess)
    files = {}
    for i in range(3):
        files[i] = os.urandom(8 * MIB)
        assert_status(put(sess, f"{base}f{i}.bin", files[i]), 201)
        assert cache_bytes(srv) <= 16 * MIB
    assert len(cache_files(srv)) < 3 * 32
    for i in range(3):
        assert get_bytes(sess, f"{base}f{i}.bin") == files[i]
        assert cache_bytes(srv) <= 16 * MIB


def test_directory_open_to_others_is_refused(new_server, tmp_path):
    d = tmp_path / "shared-cache"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    srv = new_server({"chunk_cache_dir": str(d)}, start=False)
    with pytest.raises(RuntimeError) as e:
        srv.start()
    assert "chunk_cache_dir" in str(e.value) and "0700" in str(e.value)


def test_directory_of_another_node_is_refused(node, new_server):
    srv = new_server({"chunk_cache_dir": node.chunk_cache_dir}, start=False)
    with pytest.raises(RuntimeError) as e:
        srv.start()
    assert "in use by another process" in str(e.value)
    # The first node still serves.
    assert requests.get(node.url + "/healthz", timeout=5).status_code == 200
