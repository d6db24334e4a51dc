"""Streaming: a 1 GiB upload and download go through parvisd without ever
holding the file in memory (peak RSS, VmHWM, stays under 64 MiB)."""

import hashlib
import random

import pytest

from dav_helpers import assert_status, dav, db_path, join, revisions_of

MiB = 1 << 20
GiB = 1 << 30
VMHWM_LIMIT_KIB = 64 * 1024


class HashingSource:
    """Pseudo-random bytes, produced and hashed on the fly."""

    def __init__(self, total, seed, piece=MiB):
        self.total = total
        self.rng = random.Random(seed)
        self.piece = piece
        self.sha = hashlib.sha256()
        self.sent = 0

    def __iter__(self):
        while self.sent < self.total:
            n = min(self.piece, self.total - self.sent)
            data = self.rng.randbytes(n)
            self.sha.update(data)
            self.sent += n
            yield data


@pytest.mark.heavy
def test_1gib_round_trip_streams_under_64mib(cluster, seed, new_server,
                                             session_for):
    srv = new_server()
    sess = session_for("alice")
    coll = srv.space_url("s1") + "mem-%08x/" % random.getrandbits(32)
    assert_status(dav(sess, "MKCOL", coll), 201)
    url = join(coll, "one-gib.bin")

    src = HashingSource(GiB, seed=20240601)
    r = dav(sess, "PUT", url, data=iter(src), timeout=1800)
    assert_status(r, 201)
    assert src.sent == GiB
    up_sha = src.sha.hexdigest()
    hwm_after_upload = srv.vmhwm_kib()

    revs = revisions_of(cluster, db_path(url))
    assert [(x[2], x[3]) for x in revs] == [(GiB, up_sha)]

    down = hashlib.sha256()
    n = 0
    with sess.get(url, stream=True, timeout=1800) as g:
        assert_status(g, 200)
        assert g.headers.get("Content-Length") == str(GiB)
        for piece in g.iter_content(chunk_size=MiB):
            down.update(piece)
            n += len(piece)
    hwm_after_download = srv.vmhwm_kib()

    assert n == GiB
    assert down.hexdigest() == up_sha
    assert hwm_after_upload < VMHWM_LIMIT_KIB, hwm_after_upload
    assert hwm_after_download < VMHWM_LIMIT_KIB, hwm_after_download
