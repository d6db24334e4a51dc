"""Revisions and content-addressed storage, checked in the database:
every PUT is a new revision row; equal bytes share chunks."""

import hashlib
import os
import types
import uuid

import pytest
import requests

from conftest import ParvisServer, _teardown_server, make_ctl, seed_database

from dav_helpers import (assert_status, current_revision_mismatches, dav,
                         db_path, join, put,
                         resource_row, revisions_of, space_id, sql_str)

CHUNK_MAX = 256 * 1024


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def three_versions(alice, coll):
    url = join(coll, "report.odt")
    contents = [b"first draft\n", b"second draft, longer than the first\n",
                os.urandom(300 * 1024)]
    statuses = []
    for body in contents:
        r = put(alice, url, body,
                headers={"Content-Type": "application/vnd.oasis."
                                         "opendocument.text"})
        statuses.append(r.status_code)
    assert statuses[0] == 201 and statuses[1] in (200, 204) \
        and statuses[2] in (200, 204), statuses
    return url, contents


def test_each_put_adds_a_revision_numbered_1_2_3(cluster, three_versions):
    url, _ = three_versions
    revs = revisions_of(cluster, db_path(url))
    assert [r[1] for r in revs] == [1, 2, 3], revs


def test_revision_sizes_match_put_bodies(cluster, three_versions):
    url, contents = three_versions
    revs = revisions_of(cluster, db_path(url))
    assert [r[2] for r in revs] == [len(c) for c in contents]


def test_revision_sha256_match_put_bodies(cluster, three_versions):
    url, contents = three_versions
    revs = revisions_of(cluster, db_path(url))
    assert [r[3] for r in revs] == [hashlib.sha256(c).hexdigest()
                                    for c in contents]


def test_current_rev_points_to_third_revision(cluster, three_versions):
    url, _ = three_versions
    revs = revisions_of(cluster, db_path(url))
    row = resource_row(cluster, db_path(url))
    assert row is not None
    assert str(row[2]) == str(revs[2][0]), (row, revs)


def test_get_serves_current_revision(alice, three_versions):
    url, contents = three_versions
    assert dav(alice, "GET", url).content == contents[2]


def test_revision_author_is_the_putting_user(cluster, three_versions):
    url, _ = three_versions
    assert {r[5] for r in revisions_of(cluster, db_path(url))} == {"alice"}


def test_revision_content_type_is_the_put_content_type(cluster,
                                                       three_versions):
    url, _ = three_versions
    types = {r[4].split(";")[0] for r in revisions_of(cluster, db_path(url))}
    assert types == {"application/vnd.oasis.opendocument.text"}, types


def test_each_revision_has_a_blob(cluster, three_versions):
    url, contents = three_versions
    for body in contents:
        rows = cluster.psql(
            "select b.size from blobs b join spaces s on s.id = b.space_id "
            "where s.slug = 's1' and b.sha256 = decode(%s, 'hex')"
            % sql_str(hashlib.sha256(body).hexdigest()))
        assert [int(x[0]) for x in rows] == [len(body)], rows


# ------------------------------------------------------------ deduplication

def chunk_count(cluster, sid):
    return int(cluster.psql(
        "select count(*) from chunks where space_id = %s" % sid)[0][0])


def blob_chunk_list(cluster, sid, sha_hex):
    rows = cluster.psql(
        "select seq, encode(chunk_sha256, 'hex'), size from blob_chunks "
        "where space_id = %s and blob_sha256 = decode(%s, 'hex') "
        "order by seq" % (sid, sql_str(sha_hex)))
    return [(int(a), b, int(c)) for a, b, c in rows]


@pytest.fixture
def same_bytes_twice(cluster, alice, coll):
    """Two files with the same 600 KiB of random bytes; chunk counts of the
    space before, after the first and after the second PUT."""
    sid = space_id(cluster, "s1")
    data = os.urandom(600 * 1024)
    counts = [chunk_count(cluster, sid)]
    assert_status(put(alice, join(coll, "one.bin"), data), 201)
    counts.append(chunk_count(cluster, sid))
    assert_status(put(alice, join(coll, "two.bin"), data), 201)
    counts.append(chunk_count(cluster, sid))
    return sid, data, counts


def test_first_copy_adds_its_chunks(same_bytes_twice):
    _, data, counts = same_bytes_twice
    need = -(-len(data) // CHUNK_MAX)            # at least 3 for 600 KiB
    assert counts[1] - counts[0] >= need, counts


def test_second_file_with_same_bytes_adds_no_chunk(same_bytes_twice):
    _, _, counts = same_bytes_twice
    assert counts[2] == counts[1], counts


def test_same_bytes_files_share_one_blob(cluster, alice, coll,
                                         same_bytes_twice):
    sid, data, _ = same_bytes_twice
    sha = hashlib.sha256(data).hexdigest()
    revs = (revisions_of(cluster, db_path(join(coll, "one.bin")))
            + revisions_of(cluster, db_path(join(coll, "two.bin"))))
    assert [r[3] for r in revs] == [sha, sha]
    rows = cluster.psql(
        "select count(*) from blobs where space_id = %s "
        "and sha256 = decode(%s, 'hex')" % (sid, sql_str(sha)))
    assert rows[0][0] == "1", rows


def test_blob_chunks_cover_content_in_order(cluster, same_bytes_twice):
    sid, data, _ = same_bytes_twice
    chunks = blob_chunk_list(cluster, sid, hashlib.sha256(data).hexdigest())
    assert chunks, "no blob_chunks rows"
    assert all(0 < size <= CHUNK_MAX for _, _, size in chunks), chunks
    assert sum(size for _, _, size in chunks) == len(data)
    seqs = [s for s, _, _ in chunks]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    offset = 0
    for _, chunk_sha, size in chunks:
        assert chunk_sha == hashlib.sha256(
            data[offset:offset + size]).hexdigest()
        offset += size


def test_blob_chunks_reference_stored_chunks(cluster, same_bytes_twice):
    sid, data, _ = same_bytes_twice
    for _, chunk_sha, size in blob_chunk_list(
            cluster, sid, hashlib.sha256(data).hexdigest()):
        rows = cluster.psql(
            "select size, length(data), encode(sha256(data), 'hex') "
            "from chunks where space_id = %s and sha256 = decode(%s, 'hex')"
            % (sid, sql_str(chunk_sha)))
        assert len(rows) == 1, (chunk_sha, rows)
        assert [int(rows[0][0]), int(rows[0][1])] == [size, size]
        assert rows[0][2] == chunk_sha


def test_both_same_bytes_files_read_back(alice, coll, same_bytes_twice):
    _, data, _ = same_bytes_twice
    assert dav(alice, "GET", join(coll, "one.bin")).content == data
    assert dav(alice, "GET", join(coll, "two.bin")).content == data


def test_new_revision_with_same_bytes_as_old_adds_no_chunk(cluster, alice,
                                                           coll):
    sid = space_id(cluster, "s1")
    url = join(coll, "flipflop.bin")
    a, b = os.urandom(300 * 1024), os.urandom(300 * 1024)
    assert_status(put(alice, url, a), 201)
    assert_status(put(alice, url, b), 200, 204)
    before = chunk_count(cluster, sid)
    assert_status(put(alice, url, a), 200, 204)
    assert chunk_count(cluster, sid) == before
    assert dav(alice, "GET", url).content == a


def test_resources_carry_their_current_revision(cluster, alice, coll):
    """A resource keeps its current revision's number, size, type and hash
    (migration 0010): after PUTs, an overwrite, a COPY of a tree and a
    MOVE, every resource in the database agrees with its revision."""
    folder = join(coll, "tree", collection=True)
    assert_status(dav(alice, "MKCOL", folder), 201)
    for i in range(3):
        assert_status(put(alice, join(folder, f"f{i}.txt"), b"x" * (i + 1),
                          headers={"Content-Type": "text/plain"}), 201)
    assert_status(put(alice, join(folder, "f0.txt"), os.urandom(5000),
                      headers={"Content-Type": "application/pdf"}), 204)
    copy = join(coll, "copy", collection=True)
    assert_status(dav(alice, "COPY", folder,
                      headers={"Destination": copy, "Depth": "infinity"}), 201)
    moved = join(coll, "moved", collection=True)
    assert_status(dav(alice, "MOVE", copy, headers={"Destination": moved}),
                  201)
    sid = space_id(cluster)
    rows = cluster.psql(
        f"SELECT r.name, r.cur_num, r.cur_size, r.cur_type "
        f"FROM resources r WHERE r.space_id = {sid} AND r.parent_id = "
        f"parvis_resolve({sid}, {sql_str(db_path(moved).rstrip('/'))}) "
        f"ORDER BY r.name")
    assert [tuple(str(c) for c in row) for row in rows] == [
        ("f0.txt", "1", "5000", "application/pdf"),
        ("f1.txt", "1", "2", "text/plain"),
        ("f2.txt", "1", "3", "text/plain")], rows
    assert current_revision_mismatches(cluster) == []


def test_migration_0010_fills_in_existing_resources(bins, cluster):
    """A database written before migration 0010 gets each resource's
    current revision values filled in when it is migrated."""
    db = "currev_" + uuid.uuid4().hex[:8]
    cluster.psql(f"CREATE DATABASE {db} OWNER parvis", db="postgres")
    dsn = cluster.dsn.replace("dbname=parvis", "dbname=" + db)
    ctl = make_ctl(bins, dsn)
    seed_database(ctl, spaces={"s1": "Space one"},
                  users={"alice": ("s1", "editor")})
    srv = ParvisServer(bins, types.SimpleNamespace(dsn=dsn))
    srv.start()
    try:
        http = requests.Session()
        http.trust_env = False
        http.auth = ("alice", "alice-pw")
        base = srv.space_url("s1")
        assert_status(http.request("MKCOL", base + "old/"), 201)
        for name, body in (("a.txt", b"one"), ("b.bin", os.urandom(7000)),
                           ("a.txt", b"one, then two")):
            assert http.put(base + "old/" + name, data=body).status_code \
                in (201, 204)
    finally:
        _teardown_server(srv)
    # Back to the schema before 0010 (and 0011, which needs it), the data
    # kept.
    cluster.psql("DROP TRIGGER resources_current_revision_copy ON resources; "
                 "DROP TRIGGER resources_current_revision_insert ON resources; "
                 "DROP FUNCTION parvis_current_revision_copy(); "
                 "ALTER TABLE resources DROP COLUMN cur_num, "
                 "DROP COLUMN cur_size, DROP COLUMN cur_type, "
                 "DROP COLUMN cur_sha256; "
                 "DELETE FROM schema_version WHERE version IN (10, 11)", db=db)
    ctl("migrate")
    rows = cluster.psql(
        "SELECT name, cur_num, cur_size, encode(cur_sha256, 'hex') "
        "FROM resources WHERE parent_id = parvis_resolve(space_id, '/old') "
        "ORDER BY name", db=db)
    assert [tuple(str(c) for c in row) for row in rows] == [
        ("a.txt", "2", "13", hashlib.sha256(b"one, then two").hexdigest()),
        (rows[1][0], "1", "7000", rows[1][3])], rows
    assert rows[1][0] == "b.bin" and len(rows[1][3]) == 64, rows
    assert current_revision_mismatches(cluster, db) == []
    cluster.psql(f"DROP DATABASE {db}", db="postgres")


def test_writer_setting_current_rev_alone_gets_the_copy_filled(
        cluster, alice, coll):
    """A server older than migration 0010 (during a rolling upgrade) sets
    current_rev without the copy of the revision's values: the guard of
    migration 0011 fills it in, for a new revision of an existing file and
    for a file it creates, and GET then reports the revision it wrote."""
    url = join(coll, "by-an-old-server.txt")
    assert_status(put(alice, url, b"written by this version\n",
                      headers={"Content-Type": "text/plain"}), 201)
    sid = space_id(cluster)
    path = sql_str(db_path(url))
    # A new revision as an old server wrote it: same content, another type.
    cluster.psql(
        f"WITH rev AS (INSERT INTO revisions (space_id, resource_id, num, "
        f"size, content_type, sha256) SELECT v.space_id, r.id, 2, v.size, "
        f"'text/x-old-server', v.sha256 FROM resources r JOIN revisions v "
        f"ON v.id = r.current_rev WHERE r.space_id = {sid} AND "
        f"r.id = parvis_resolve({sid}, {path}) "
        f"RETURNING id, resource_id) "
        f"UPDATE resources SET current_rev = rev.id, modified_at = now() "
        f"FROM rev WHERE resources.id = rev.resource_id")
    # A file an old server copied: the row first, then its revision.
    copy = join(coll, "copied-by-an-old-server.txt")
    cpath = sql_str(db_path(copy))
    parent = sql_str(db_path(coll))
    cluster.psql(
        f"INSERT INTO resources (space_id, parent_id, name, kind) "
        f"VALUES ({sid}, parvis_resolve({sid}, {parent}), "
        f"'copied-by-an-old-server.txt', 1); "
        f"WITH rev AS (INSERT INTO revisions (space_id, resource_id, num, "
        f"size, content_type, sha256) SELECT v.space_id, n.id, 1, v.size, "
        f"v.content_type, v.sha256 FROM resources o JOIN revisions v "
        f"ON v.id = o.current_rev JOIN resources n ON n.space_id = o.space_id "
        f"AND n.id = parvis_resolve({sid}, {cpath}) WHERE o.space_id = {sid} "
        f"AND o.id = parvis_resolve({sid}, {path}) "
        f"RETURNING id, resource_id) "
        f"UPDATE resources SET current_rev = rev.id FROM rev "
        f"WHERE resources.id = rev.resource_id")
    rows = cluster.psql(
        f"SELECT name, cur_num, cur_size, cur_type FROM resources "
        f"WHERE space_id = {sid} AND id IN (parvis_resolve({sid}, {path}), "
        f"parvis_resolve({sid}, {cpath})) ORDER BY name")
    size = str(len(b"written by this version\n"))
    assert [tuple(str(c) for c in row) for row in rows] == [
        ("by-an-old-server.txt", "2", size, "text/x-old-server"),
        ("copied-by-an-old-server.txt", "1", size, "text/x-old-server")], rows
    assert current_revision_mismatches(cluster) == []
    r = alice.get(url)
    assert r.status_code == 200 and r.content == b"written by this version\n"
    assert r.headers["Content-Type"].startswith("text/x-old-server"), r.headers
