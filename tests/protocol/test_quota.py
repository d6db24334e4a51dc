"""RFC 4331 quota: DAV:quota-used-bytes / DAV:quota-available-bytes on the
collections of a space, `parvisctl space quota`, and PUT over quota -> 507
with DAV:quota-not-exceeded and nothing stored (CLIENTS.md §1 item 7)."""

import os

import pytest

from class2_helpers import error_conditions
from dav_helpers import (assert_status, dav, db_path, join, mkcol,
                         ms_by_path, propfind, propfind_one, put,
                         resource_row, revisions_of, sha256_hex, space_id,
                         sql_str, url_path)

QUOTA_PROPS = ["quota-used-bytes", "quota-available-bytes"]
CHUNK = 256 * 1024  # DAV_CHUNK_SIZE (dav/dav_store.h)


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def set_quota(ctl, seed):
    """set_quota(size) runs `parvisctl space quota s1 SIZE`; the quota of
    s1 (shared by every test) is back to none afterwards."""
    def run(size):
        return ctl("space", "quota", "s1", size)
    yield run
    ctl("space", "quota", "s1", "none")


def quota_props(sess, url):
    """(used, available) as ints (None when not 200)."""
    one = propfind_one(sess, url, "prop", QUOTA_PROPS)
    ok = one.ok_props()
    vals = []
    for p in QUOTA_PROPS:
        el = ok.get("{DAV:}" + p)
        vals.append(int(el.text.strip()) if el is not None else None)
    return tuple(vals)


def used_bytes(sess, url):
    used, _ = quota_props(sess, url)
    assert used is not None
    return used


def db_used(cluster, slug="s1"):
    """Bytes of the current revisions of every file of the space, the
    trash excepted (it does not count against the quota)."""
    rows = cluster.psql(
        "select coalesce(sum(v.size), 0) from resources r "
        "join revisions v on v.id = r.current_rev "
        "where r.space_id = %(s)s and r.id not in (select id from "
        "parvis_subtree(parvis_resolve(%(s)s, '/.trash')))"
        % {"s": space_id(cluster, slug)})
    return int(rows[0][0])


def space_root(server):
    return server.space_url("s1")


def chunked(data, piece=8192):
    """A generator body: requests sends it with Transfer-Encoding: chunked."""
    def gen():
        for i in range(0, len(data), piece):
            yield data[i:i + piece]
    return gen()


def assert_507_quota(r):
    assert r.status_code == 507, "%s %s -> %d (want 507)\n%s" % (
        r.request.method, r.request.url, r.status_code, r.text[:2000])
    assert "{DAV:}quota-not-exceeded" in error_conditions(r.content), r.text


def chunk_rows(cluster, data):
    """Rows of the chunks table holding exactly these bytes."""
    rows = cluster.psql(
        "select count(*) from chunks where sha256 = decode(%s, 'hex')"
        % sql_str(sha256_hex(data)))
    return int(rows[0][0])


# ------------------------------------------------------------- properties

def test_quota_used_bytes_on_space_root_grows_by_uploaded_sizes(
        server, coll, alice, cluster):
    root = space_root(server)
    before = used_bytes(alice, root)
    sizes = [100, 2000, 30000]
    for i, n in enumerate(sizes):
        assert_status(put(alice, join(coll, "f%d.bin" % i), os.urandom(n)),
                      201)
    after = used_bytes(alice, root)
    assert after - before == sum(sizes)
    assert after == db_used(cluster)


def test_quota_used_bytes_on_sub_collection_equals_space_total(
        server, coll, alice, cluster):
    assert_status(put(alice, join(coll, "a.bin"), os.urandom(1234)), 201)
    sub = join(coll, "sub", collection=True)
    assert_status(mkcol(alice, sub), 201)
    assert_status(put(alice, join(sub, "b.bin"), os.urandom(4321)), 201)
    total = db_used(cluster)
    assert used_bytes(alice, sub) == total
    assert used_bytes(alice, coll) == total
    assert used_bytes(alice, space_root(server)) == total


def test_quota_used_bytes_counts_overwrite_once(server, coll, alice):
    url = join(coll, "a.bin")
    assert_status(put(alice, url, os.urandom(5000)), 201)
    before = used_bytes(alice, coll)
    assert_status(put(alice, url, os.urandom(3000)), 204)
    assert used_bytes(alice, coll) == before - 2000


def test_quota_used_bytes_drops_after_delete(server, coll, alice):
    url = join(coll, "a.bin")
    assert_status(put(alice, url, os.urandom(7000)), 201)
    before = used_bytes(alice, coll)
    assert_status(dav(alice, "DELETE", url), 204)
    assert used_bytes(alice, coll) == before - 7000


def test_quota_available_is_quota_minus_used(server, coll, alice,
                                              set_quota):
    used = used_bytes(alice, coll)
    set_quota(str(used + 1_000_000))
    for url in (space_root(server), coll):
        assert quota_props(alice, url) == (used, 1_000_000)


def test_quota_available_shrinks_after_upload(server, coll, alice,
                                              set_quota):
    used = used_bytes(alice, coll)
    set_quota(str(used + 1_000_000))
    assert_status(put(alice, join(coll, "a.bin"), os.urandom(250_000)), 201)
    assert quota_props(alice, coll) == (used + 250_000, 750_000)


def test_quota_available_is_zero_when_over_quota(server, coll, alice,
                                                 set_quota):
    used = used_bytes(alice, coll)
    assert used > 1
    set_quota("1")
    assert quota_props(alice, coll) == (used, 0)


def test_quota_available_without_quota_is_a_number(server, coll, alice):
    # No quota: free disk space (or no value); never negative.
    _, avail = quota_props(alice, coll)
    assert avail is None or avail >= 0


def test_quota_props_not_in_allprop(coll, alice):
    # RFC 4331 §3: the quota properties are not returned by allprop.
    one = propfind_one(alice, coll, "allprop")
    assert "{DAV:}quota-used-bytes" not in one.props
    assert "{DAV:}quota-available-bytes" not in one.props


def test_quota_props_listed_in_depth_1_for_member_collections(coll, alice):
    sub = join(coll, "sub", collection=True)
    assert_status(mkcol(alice, sub), 201)
    r = propfind(alice, coll, "1", "prop", QUOTA_PROPS)
    assert_status(r, 207)
    resp = ms_by_path(r.content)[url_path(sub).rstrip("/")]
    assert "{DAV:}quota-used-bytes" in resp.ok_props()


def test_ctl_space_quota_accepts_size_suffix(set_quota, cluster):
    set_quota("3M")
    rows = cluster.psql("select quota_bytes from spaces where slug = 's1'")
    assert rows == [("3145728",)]


def test_ctl_space_quota_rejects_garbage(ctl, seed, cluster):
    p = ctl("space", "quota", "s1", "lots", check=False)
    assert p.returncode != 0
    rows = cluster.psql("select coalesce(quota_bytes, -1) from spaces "
                        "where slug = 's1'")
    assert rows == [("-1",)]


# ----------------------------------------------------------- PUT over quota

def test_put_over_quota_with_content_length_is_507_and_stores_nothing(
        coll, alice, set_quota, cluster):
    used = used_bytes(alice, coll)
    set_quota(str(used + 10_000))
    url = join(coll, "big.bin")
    data = os.urandom(10_001)
    assert_507_quota(put(alice, url, data))
    assert resource_row(cluster, db_path(url)) is None
    assert revisions_of(cluster, db_path(url)) == []
    assert used_bytes(alice, coll) == used
    assert dav(alice, "GET", url).status_code == 404


def test_put_into_a_space_over_its_quota_is_507(coll, alice, set_quota,
                                                cluster):
    # The quota lowered below what the space holds: no room at all, not
    # "no limit".
    assert_status(put(alice, join(coll, "there.bin"), b"x" * 100), 201)
    used = used_bytes(alice, coll)
    set_quota(str(used - 1))
    url = join(coll, "more.bin")
    assert_507_quota(put(alice, url, b"y" * 10))
    assert_507_quota(put(alice, url, chunked(b"y" * 10)))
    assert resource_row(cluster, db_path(url)) is None
    assert used_bytes(alice, coll) == used


def test_put_exactly_filling_quota_is_201(coll, alice, set_quota):
    used = used_bytes(alice, coll)
    set_quota(str(used + 10_000))
    assert_status(put(alice, join(coll, "fits.bin"), os.urandom(10_000)), 201)
    assert quota_props(alice, coll) == (used + 10_000, 0)


def test_put_chunked_over_quota_is_507_and_stores_nothing(coll, alice,
                                                          set_quota, cluster):
    used = used_bytes(alice, coll)
    set_quota(str(used + 50_000))
    url = join(coll, "big-chunked.bin")
    data = os.urandom(200_000)
    r = put(alice, url, chunked(data))
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_507_quota(r)
    assert resource_row(cluster, db_path(url)) is None
    assert revisions_of(cluster, db_path(url)) == []
    assert used_bytes(alice, coll) == used


def test_put_chunked_over_quota_leaves_no_chunk_rows(coll, alice, set_quota,
                                                     cluster):
    # The body is streamed into the chunks table (DAV_CHUNK_SIZE = 256 KiB
    # pieces) inside the request's transaction: a refused upload must not
    # leave its bytes behind.
    used = used_bytes(alice, coll)
    set_quota(str(used + 50_000))
    data = os.urandom(600_000)
    assert_507_quota(put(alice, join(coll, "big.bin"), chunked(data)))
    pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    assert [chunk_rows(cluster, p) for p in pieces] == [0] * len(pieces)


def test_put_chunked_over_quota_is_stopped_before_its_end(coll, alice,
                                                          set_quota, cluster):
    """A chunked body is refused once it passes the room left, not written
    whole to the database first: 32 MiB sent into 1 MB of room writes far
    less than 32 MiB of WAL."""
    used = used_bytes(alice, coll)
    set_quota(str(used + 1_000_000))

    def body():
        for i in range(512):
            yield os.urandom(64) + bytes(65472)

    lsn = cluster.psql("select pg_current_wal_lsn()")[0][0]
    r = put(alice, join(coll, "huge-chunked.bin"), body())
    assert_507_quota(r)
    wal = int(cluster.psql("select pg_wal_lsn_diff(pg_current_wal_lsn(), "
                           "'%s')" % lsn)[0][0])
    assert wal < 8 * 2 ** 20, wal
    assert used_bytes(alice, coll) == used


def test_put_overwrite_over_quota_is_507_and_keeps_old_content(
        coll, alice, set_quota, cluster):
    url = join(coll, "a.bin")
    old = os.urandom(1000)
    assert_status(put(alice, url, old), 201)
    used = used_bytes(alice, coll)
    set_quota(str(used + 500))
    assert_507_quota(put(alice, url, os.urandom(1501)))
    assert dav(alice, "GET", url).content == old
    assert len(revisions_of(cluster, db_path(url))) == 1


def test_put_overwrite_same_size_when_quota_full_is_allowed(coll, alice,
                                                            set_quota):
    # The old content's bytes are released by the overwrite (RFC 4331
    # counts the storage the request adds).
    url = join(coll, "a.bin")
    assert_status(put(alice, url, os.urandom(1000)), 201)
    set_quota(str(used_bytes(alice, coll)))
    assert_status(put(alice, url, os.urandom(1000)), 204)


def test_put_after_quota_back_to_none_works(coll, alice, set_quota):
    used = used_bytes(alice, coll)
    set_quota(str(used + 100))
    url = join(coll, "a.bin")
    assert_507_quota(put(alice, url, os.urandom(5000)))
    set_quota("none")
    assert_status(put(alice, url, os.urandom(5000)), 201)


def test_copy_over_quota_is_507(coll, alice, set_quota, cluster):
    # RFC 4331 §6: DAV:quota-not-exceeded holds for any request that adds
    # to the space's usage, COPY included; usage counts every file's
    # bytes, so a copy adds its size.
    src = join(coll, "a.bin")
    assert_status(put(alice, src, os.urandom(20_000)), 201)
    used = used_bytes(alice, coll)
    set_quota(str(used + 1000))
    dst = join(coll, "b.bin")
    assert_507_quota(dav(alice, "COPY", src, headers={"Destination": dst}))
    assert resource_row(cluster, db_path(dst)) is None
    assert used_bytes(alice, coll) == used


# ------------------------------------------------------ moves across spaces

MOVER = "quotamover"


@pytest.fixture(scope="module")
def mover(seed, ctl):
    """A user who edits both s1 and s2 (password NAME-pw), made once."""
    if MOVER not in ctl("user", "list").stdout.split():
        ctl("user", "add", MOVER, "--password-stdin", input=MOVER + "-pw\n")
        ctl("member", "add", "s1", MOVER, "--role", "editor")
        ctl("member", "add", "s2", MOVER, "--role", "editor")
    return MOVER


@pytest.fixture
def s2_quota(ctl, seed):
    def run(size):
        return ctl("space", "quota", "s2", size)
    yield run
    ctl("space", "quota", "s2", "none")


def test_move_to_other_space_over_its_quota_is_507(server, coll, mover,
                                                   session_for, s2_quota,
                                                   cluster):
    sess = session_for(mover)
    src = join(coll, "a.bin")
    assert_status(put(sess, src, os.urandom(20_000)), 201)
    s2 = server.space_url("s2")
    s2_quota(str(used_bytes(sess, s2) + 1000))
    dst = join(s2, "moved-" + os.urandom(4).hex() + ".bin")
    assert_507_quota(dav(sess, "MOVE", src, headers={"Destination": dst}))
    assert resource_row(cluster, db_path(src)) is not None
    assert resource_row(cluster, db_path(dst, "s2"), "s2") is None


def test_move_within_space_when_quota_full_is_allowed(coll, alice,
                                                      set_quota):
    # A rename adds no bytes.
    src = join(coll, "a.bin")
    assert_status(put(alice, src, os.urandom(20_000)), 201)
    set_quota(str(used_bytes(alice, coll)))
    assert_status(dav(alice, "MOVE", src,
                      headers={"Destination": join(coll, "b.bin")}), 201)
