"""The node-local cache of large chunks (chunk_cache_dir, decision 0015).

Every server of the protocol tests runs with a cache directory of its own,
as ./dev.sh run does; these tests look into it.  What must hold: the
chunks of a large file are written there as it is uploaded, private to
the server's user, an upload of more than a chunk written whole to one
file named by the content's hash and sent from it; a GET gives the stored bytes whether they come from the
cache or, when the files are gone or the node is another one, from
PostgreSQL (which fills the cache again); the directory is emptied at
start; its size stays under chunk_cache_size; a directory open to others
or used by another parvisd is refused at start with a clear message."""

import hashlib
import os
import re
import socket
import stat
import time
import uuid

import pytest
import requests

from dav_helpers import assert_status, mkcol, put, space_id
from workflow_helpers import trash_url

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


def content_file(cluster, data):
    """The name a content (or chunk) of these bytes has in the cache of
    space s1: its space's id and the SHA-256 of the bytes."""
    return f"c-{int(space_id(cluster, 's1')):016x}-{hashlib.sha256(data).hexdigest()}"


def test_large_file_is_cached_whole_as_uploaded_and_read_back(node, session_for, cluster):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(4 * CHUNK + 1000)
    before = set(cache_files(node))
    assert_status(put(sess, url, data), 201)
    # The upload is written whole to one file, named by the content's hash
    # (its last 1,000 bytes too, although a chunk that small alone would
    # only be kept in memory).
    added = set(cache_files(node)) - before
    assert added == {content_file(cluster, data)}
    d = node.chunk_cache_dir
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    f = os.path.join(d, content_file(cluster, data))
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert os.path.getsize(f) == len(data)
    assert get_bytes(sess, url) == data
    # A range across the boundary of two chunks, and one inside a chunk.
    a, b = CHUNK - 100, 2 * CHUNK + 99
    assert get_bytes(sess, url, headers={"Range": f"bytes={a}-{b}"}) == data[a:b + 1]
    assert get_bytes(sess, url, headers={"Range": "bytes=300000-300009"}) == \
        data[300000:300010]
    r = sess.head(url)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(data))
    assert not [n for n in os.listdir(d) if n.startswith("t-")]


def test_get_is_sent_from_the_whole_file(node, session_for, cluster):
    """No database read: what the node's file holds is what is sent (the
    directory is the server's alone), shown by changing it by hand."""
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(3 * CHUNK + 7)
    assert_status(put(sess, url, data), 201)
    f = os.path.join(node.chunk_cache_dir, content_file(cluster, data))
    marked = b"X" * 16 + data[16:]
    with open(f, "r+b") as fh:
        fh.write(marked[:16])
    assert get_bytes(sess, url) == marked
    assert get_bytes(sess, url, headers={"Range": "bytes=8-23"}) == marked[8:24]
    # Cut short by hand: a miss, and the database gives the stored bytes.
    with open(f, "r+b") as fh:
        fh.truncate(10)
    assert get_bytes(sess, url) == data


def test_upload_not_kept_when_the_put_fails(node, session_for, cluster, ctl):
    """A PUT refused after its body was read (the quota, known only at its
    end for a chunked body) leaves no file: neither a temporary one nor
    one named by its content."""
    sess = session_for("alice")
    base = fresh_dir(node, sess)
    used = int(cluster.psql(
        "SELECT coalesce(sum(v.size), 0) FROM resources r "
        "JOIN revisions v ON v.id = r.current_rev "
        "WHERE r.space_id = %(s)s AND r.id NOT IN (SELECT id FROM "
        "parvis_subtree(parvis_resolve(%(s)s, '/.trash')))"
        % {"s": space_id(cluster, "s1")})[0][0])
    ctl("space", "quota", "s1", str(used + 3 * CHUNK))
    try:
        data = os.urandom(4 * CHUNK)
        r = sess.put(base + "over.bin", data=iter([data[i:i + 65536] for i in
                                                   range(0, len(data), 65536)]))
        assert r.status_code == 507, r.status_code
        names = os.listdir(node.chunk_cache_dir)
        assert content_file(cluster, data) not in names
        assert not [n for n in names if n.startswith("t-")]
    finally:
        ctl("space", "quota", "s1", "none")


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


def test_emptied_at_restart(node, session_for, cluster):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    data = os.urandom(2 * CHUNK)
    assert_status(put(sess, url, data), 201)
    assert cache_files(node) == [content_file(cluster, data)]
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


def test_directory_stays_within_budget_while_an_upload_is_written(
        new_server, session_for):
    """An upload written whole makes room among the copies kept, as it is
    written: the directory never holds more than chunk_cache_size."""
    node = new_server({"chunk_cache_size": "16"})
    sess = session_for("alice")
    base = fresh_dir(node, sess)
    assert_status(put(sess, base + "full.bin", os.urandom(14 * MIB)), 201)
    path = base[len(node.url):]
    s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    try:
        s.sendall(("PUT %sslow.bin HTTP/1.1\r\nHost: x\r\nAuthorization: "
                   "Basic YWxpY2U6YWxpY2UtcHc=\r\nContent-Length: %d\r\n\r\n"
                   % (path, 15 * MIB)).encode())
        s.sendall(os.urandom(14 * MIB))
        time.sleep(1.0)
        d = node.chunk_cache_dir
        total = sum(os.path.getsize(os.path.join(d, n))
                    for n in os.listdir(d) if n[:2] in ("c-", "t-"))
    finally:
        s.close()
    assert total <= 16 * MIB, "%d bytes in the cache directory" % total


def test_head_sent_from_the_node_file_logs_no_body(node, session_for):
    sess = session_for("alice")
    url = fresh_dir(node, sess) + "big.bin"
    assert_status(put(sess, url, os.urandom(4 * CHUNK + 10)), 201)
    r = sess.head(url)
    assert r.status_code == 200 and r.content == b""
    time.sleep(0.3)
    line = [x for x in node.access_log_text().splitlines()
            if " HEAD " in x and "big.bin" in x][-1]
    assert line.split()[6] == "0", line


def test_deleted_file_leaves_the_node_cache(node, session_for, cluster):
    """A file moved to the trash no longer holds room in the node's cache
    (disk and page cache): its content's file is removed at once, as the
    file would be on a plain file server.  Its bytes stay in the database:
    a GET of the trash entry, and of the file once restored, reads them
    from there, chunk by chunk, keeping those chunks in the cache."""
    sess = session_for("alice")
    folder = fresh_dir(node, sess)
    url = folder + "big.bin"
    data = os.urandom(3 * CHUNK + 7)
    assert_status(put(sess, url, data), 201)
    name = content_file(cluster, data)
    assert name in cache_files(node)
    assert_status(sess.request("DELETE", url), 204)
    assert name not in cache_files(node)
    r = sess.request("PROPFIND", trash_url(node), headers={"Depth": "1"})
    assert_status(r, 207)
    entries = [h for h in re.findall(r"<D:href>([^<]*)</D:href>", r.text)
               if re.search(r"/\d+$", h)]
    assert entries, r.text
    # The newest entry is this DELETE's (entries are numbered in order).
    entry = node.url + max(entries, key=lambda h: int(h.rsplit("/", 1)[1]))
    after_delete = set(cache_files(node))
    assert get_bytes(sess, entry) == data
    # Its three whole chunks (the last 7 bytes are kept in memory only).
    assert len(set(cache_files(node)) - after_delete) == 3
    assert_status(sess.request("MOVE", entry, headers={"Destination": url}), 201)
    assert get_bytes(sess, url) == data
    assert get_bytes(sess, url, headers={"Range": "bytes=10-19"}) == data[10:20]


def test_delete_of_one_copy_keeps_the_other_readable(node, session_for, cluster):
    """Two files of one content: deleting one may drop the node's copy,
    never the other file's bytes."""
    sess = session_for("alice")
    folder = fresh_dir(node, sess)
    data = os.urandom(2 * CHUNK + 3)
    assert_status(put(sess, folder + "a.bin", data), 201)
    assert_status(put(sess, folder + "b.bin", data), 201)
    assert_status(sess.request("DELETE", folder + "a.bin"), 204)
    assert get_bytes(sess, folder + "b.bin") == data
    assert get_bytes(sess, folder + "b.bin") == data
