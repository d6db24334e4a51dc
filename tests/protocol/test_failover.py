"""Database failover: parvisd follows a promoted standby by itself.

The test builds its own pair of PostgreSQL clusters on this machine (not
the session cluster of conftest.py):

- a primary (initdb as in conftest, wal_level = replica, max_wal_senders)
  with role and database parvis;
- a standby copied from it with pg_basebackup -R (streaming replication,
  with a physical slot).  The superuser connects for replication through
  the Unix socket, allowed by initdb's default pg_hba.conf line
  "local replication all trust";
- then, on the primary only, synchronous_standby_names = '*' and
  synchronous_commit = on.  A commit is acknowledged to parvisd only once
  the standby has flushed its WAL, which is the condition for losing no
  acknowledged write when the standby takes over.  (conftest's clusters run
  with synchronous_commit = off, which would make a commit return before
  anything reached the standby: this test overrides it.)  The setting is
  made after the base backup, with ALTER SYSTEM, so the standby does not
  inherit it: once promoted it has no standby of its own and must not wait
  for one.  fsync stays off as in the other tests: the primary's processes
  are stopped, the machine does not crash, so what was written to the OS
  survives.

parvisd gets the conninfo of both clusters with
target_session_attrs=read-write.  Two client threads PUT numbered files
and record each answer.  The primary is stopped, with -m immediate (its
processes are killed, as in a crash: nothing more reaches the standby) or
-m fast (sessions are cut, and the WAL already written is still sent to
the standby), the standby is promoted by hand with pg_ctl promote, and the
threads keep writing.  The test then requires:

- parvisd (the same process, not restarted) acknowledges writes again
  within RECOVERY_BUDGET seconds of the promotion, and answers no write with
  an error after that;
- every acknowledged write, before and after the failover, reads back with
  its content through parvisd and directly in the new primary's tables;
- a write answered with an error was not acknowledged: it answered 503,
  and it is either absent or, when its commit reached the standby just
  before the primary died (a commit whose answer was lost), present with
  exactly the content sent; nothing else is in the folder.

A planned switchover is checked the same way: the old primary is not
stopped but fenced read-only (default_transaction_read_only = on), so
parvisd's pooled connections to it stay up and must be given up all the
same.
"""

import hashlib
import os
import threading
import time
import types
import uuid

import pytest
import requests

from conftest import Cluster, ParvisServer, _teardown_server, make_ctl, seed_database

RECOVERY_BUDGET = 10.0   # seconds from the promotion to the first acknowledged write
WRITERS = 2
FOLDER = "failover"


@pytest.fixture
def clusters():
    """(primary, standby): streaming replication, synchronous on the
    primary; both destroyed at teardown."""
    made = []
    try:
        primary = Cluster()
        made.append(primary)
        primary.init()
        primary.configure({"wal_level": "replica", "max_wal_senders": 4,
                           "synchronous_commit": "on"})
        primary.start()
        primary.psql("CREATE ROLE parvis LOGIN", db="postgres")
        primary.psql("CREATE DATABASE parvis OWNER parvis", db="postgres")

        standby = Cluster()
        made.append(standby)
        standby.init_standby(primary)
        standby.configure({"hot_standby": "on"})
        standby.start()
        _wait_for(lambda: primary.psql(
            "SELECT state FROM pg_stat_replication", db="postgres") == [("streaming",)],
            "the standby to stream from the primary")

        # The standby's copy has no synchronous_standby_names: see above.
        primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'", db="postgres")
        primary.psql("SELECT pg_reload_conf()", db="postgres")
        _wait_for(lambda: primary.psql(
            "SELECT sync_state FROM pg_stat_replication", db="postgres") == [("sync",)],
            "the standby to be synchronous")
        yield primary, standby
    finally:
        for c in reversed(made):
            c.destroy()


def _wait_for(cond, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.1)


class Writer(threading.Thread):
    """PUTs PREFIX-NNNNN.txt into the folder, one after the other, until
    stopped; .attempts lists every PUT with its answer and times."""

    def __init__(self, folder_url, prefix, stop):
        super().__init__(daemon=True)
        self.folder_url = folder_url
        self.prefix = prefix
        self.stop_event = stop
        self.attempts = []

    def run(self):
        http = requests.Session()
        http.trust_env = False
        http.auth = ("alice", "alice-pw")
        n = 0
        try:
            while not self.stop_event.is_set():
                n += 1
                name = f"{self.prefix}-{n:05d}.txt"
                body = f"{self.prefix} write {n} {uuid.uuid4().hex}\n"
                a = types.SimpleNamespace(name=name, body=body, status=None,
                                          error=None, t0=time.monotonic())
                try:
                    r = http.put(self.folder_url + name, data=body.encode(),
                                 headers={"Content-Type": "text/plain"}, timeout=(2, 30))
                    a.status = r.status_code
                except requests.RequestException as e:
                    a.error = repr(e)
                a.t1 = time.monotonic()
                self.attempts.append(a)
                # Do not spin on errors while the database is away.
                time.sleep(0.005 if a.status in (201, 204) else 0.05)
        finally:
            http.close()


def _acked(a):
    return a.status in (201, 204)


def _start_parvisd(bins, primary, standby):
    """parvisd on the conninfo of both clusters, seeded with space s1 and
    its editor alice; -> (server, folder URL)."""
    dsn = (f"host={primary.socket_dir},{standby.socket_dir} "
           f"port={primary.port},{standby.port} dbname=parvis user=parvis "
           f"target_session_attrs=read-write connect_timeout=2")
    srv = ParvisServer(bins, types.SimpleNamespace(dsn=dsn))
    srv.start()   # applies the migrations
    seed_database(make_ctl(bins, dsn), spaces={"s1": "Space one"},
                  users={"alice": ("s1", "editor")})
    folder_url = srv.space_url("s1") + FOLDER + "/"
    with _session() as http:
        r = http.request("MKCOL", folder_url, timeout=10)
    assert r.status_code == 201, f"MKCOL {folder_url} -> {r.status_code}"
    return srv, folder_url


def _session():
    http = requests.Session()
    http.trust_env = False
    http.auth = ("alice", "alice-pw")
    return http


def _write_through(srv, folder_url, take_over):
    """Runs the writers; once 40 writes are acknowledged, calls
    take_over() -> (t_gone, t_promoted): the old primary accepts no more
    writes from t_gone, the standby is promoted at t_promoted.  Waits for
    the first acknowledged write sent after t_gone, then for 40 more.
    Returns (attempts, times)."""
    pid = srv.pid
    stop = threading.Event()
    writers = [Writer(folder_url, f"w{i}", stop) for i in range(WRITERS)]
    for w in writers:
        w.start()

    def attempts():
        return [a for w in writers for a in list(w.attempts)]

    try:
        _wait_for(lambda: sum(_acked(a) for a in attempts()) >= 40,
                  "40 acknowledged writes before the failover")
        t_start = time.monotonic()
        t_gone, t_promoted = take_over()

        # Serving writes again: a PUT sent once the old primary took no
        # more writes can only have been committed on the promoted standby.
        def first_after():
            ok = [a for a in attempts() if _acked(a) and a.t0 > t_gone]
            return min(ok, key=lambda a: a.t1) if ok else None

        deadline = t_promoted + RECOVERY_BUDGET
        while first_after() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first = first_after()
        assert first is not None, (
            f"parvisd acknowledged no write within {RECOVERY_BUDGET:.0f} s "
            f"of the promotion:\n" + srv.log_tail())
        # Keep writing on the new primary for a while.
        _wait_for(lambda: sum(_acked(a) and a.t0 > first.t1 for a in attempts()) >= 40,
                  "40 acknowledged writes after the failover")
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=60)
    assert srv.running and srv.pid == pid, "parvisd did not survive the failover"

    done = attempts()
    last_before = max((a.t1 for a in done if _acked(a) and a.t1 < t_start),
                      default=t_start)
    times = types.SimpleNamespace(start=t_start, gone=t_gone, promoted=t_promoted,
                                  first=first.t1, last_before=last_before)
    acked = sum(_acked(a) for a in done)
    times.text = (
        f"writes: {len(done)} sent, {acked} acknowledged, {len(done) - acked} errors; "
        f"old primary out after {t_gone - t_start:.2f} s; from then, promoted "
        f"(pg_ctl promote returned) at +{t_promoted - t_gone:.2f} s, first "
        f"acknowledged write at +{first.t1 - t_gone:.2f} s; clients saw no "
        f"acknowledgement for {first.t1 - last_before:.2f} s")
    print("\nfailover: " + times.text)
    return done, times


def _check_writes(srv, folder_url, new_primary, done, times):
    """Every acknowledged write is there, through parvisd and in the new
    primary's tables; errors were 503s of the failover window and left
    either nothing or exactly what was sent."""
    acked = [a for a in done if _acked(a)]
    failed = [a for a in done if not _acked(a)]
    assert any(a.t1 < times.start for a in acked)
    assert any(a.t0 > times.first for a in acked)
    # parvisd never dropped a client nor answered anything but 503
    # (database unavailable), and only while the database changed hands.
    for a in failed:
        assert a.error is None, f"PUT {a.name}: {a.error}\n{times.text}"
        assert a.status == 503, f"PUT {a.name} -> {a.status}\n{times.text}"
        assert times.start < a.t1 and a.t0 < times.first, (
            f"PUT {a.name} failed outside the failover window "
            f"({a.t0 - times.start:+.2f} .. {a.t1 - times.start:+.2f} s from "
            f"its start)\n{times.text}\n" + srv.log_tail(200))

    # Through parvisd.
    in_doubt = []
    with _session() as http:
        for a in done:
            r = http.get(folder_url + a.name, timeout=10)
            if _acked(a):
                assert r.status_code == 200, f"acknowledged {a.name}: GET -> {r.status_code}"
                assert r.text == a.body, f"acknowledged {a.name}: content differs"
            elif r.status_code != 404:
                assert r.status_code == 200 and r.text == a.body, (
                    f"failed {a.name}: GET -> {r.status_code} {r.text!r}, sent {a.body!r}")
                in_doubt.append(a.name)

    # Directly in the new primary: each file's current revision, its
    # chunks put back together, and the SHA-256 the revision records.
    assert new_primary.psql("SELECT pg_is_in_recovery()", db="postgres") == [("f",)]
    rows = new_primary.psql(f"""
        SELECT r.name, encode(v.sha256, 'hex'),
               convert_from(string_agg(c.data, ''::bytea ORDER BY bc.seq), 'UTF8')
          FROM resources r
          JOIN spaces s ON s.id = r.space_id
          JOIN revisions v ON v.id = r.current_rev
          JOIN blob_chunks bc ON bc.space_id = v.space_id AND bc.blob_sha256 = v.sha256
          JOIN chunks c ON c.space_id = bc.space_id AND c.sha256 = bc.chunk_sha256
         WHERE s.slug = 's1' AND r.parent_id = parvis_resolve(s.id, '/{FOLDER}')
         GROUP BY r.name, v.sha256""")
    stored = {name: (sha, body) for name, sha, body in rows}
    for a in acked:
        assert a.name in stored, f"acknowledged {a.name} is not in the new primary"
        sha, body = stored[a.name]
        assert body == a.body, f"acknowledged {a.name}: stored content differs"
        assert sha == hashlib.sha256(a.body.encode()).hexdigest()
    sent = {a.name: a for a in done}
    for name, (sha, body) in stored.items():
        assert name in sent, f"{name} in the database was never written"
        assert body == sent[name].body, f"{name}: stored content differs from sent"
    assert sorted(set(stored) - {a.name for a in acked}) == sorted(in_doubt)
    print(f"failover: {len(in_doubt)} write(s) answered 503 but committed "
          f"(answer lost with the primary): {in_doubt}")


def _fail_over(bins, primary, standby, take_over):
    """parvisd on the pair, writes through it while take_over() moves the
    primary role to the standby; then every acknowledged write checked."""
    srv, folder_url = _start_parvisd(bins, primary, standby)
    try:
        done, times = _write_through(srv, folder_url, take_over)
        _check_writes(srv, folder_url, standby, done, times)
    finally:
        _teardown_server(srv)


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_failover_to_promoted_standby_loses_no_acknowledged_write(bins, clusters, mode):
    """The primary stops (immediate: killed as in a crash; fast: its
    sessions are cut, and what WAL it has is still sent to the standby)
    and the standby is promoted by hand."""
    primary, standby = clusters

    def take_over():
        primary.stop(mode=mode)
        t_gone = time.monotonic()
        standby.promote()
        return t_gone, time.monotonic()

    _fail_over(bins, primary, standby, take_over)


def test_switchover_from_primary_fenced_read_only(bins, clusters):
    """A planned switchover: the old primary is fenced but left running
    (default_transaction_read_only = on, reloaded, so its sessions can
    only read), the standby catches up and is promoted.  parvisd's pooled
    connections to the old primary are not broken: they must be given up
    for the new primary all the same."""
    primary, standby = clusters

    def take_over():
        primary.psql("ALTER SYSTEM SET default_transaction_read_only = on",
                     db="postgres")
        primary.psql("SELECT pg_reload_conf()", db="postgres")
        # Past the reload's signals to every session, and with all the
        # primary's WAL on the standby.
        time.sleep(0.2)
        lsn = primary.psql("SELECT pg_current_wal_flush_lsn()", db="postgres")[0][0]
        _wait_for(lambda: standby.psql(
            f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'", db="postgres") == [("t",)],
            "the standby to replay the fenced primary's last WAL")
        t_gone = time.monotonic()
        standby.promote()
        return t_gone, time.monotonic()

    _fail_over(bins, primary, standby, take_over)



def test_a_node_reading_a_standby_keeps_no_listing(bins, clusters, monkeypatch,
                                                   tmp_path):
    """A standby's snapshots do not list the transactions running on the
    primary, so they cannot tell that one ended (decision 0026): a node
    whose connections reach a standby (a conninfo without
    target_session_attrs=read-write allows it) answers each listing
    afresh, and a write on the primary shows once replayed."""
    primary, standby = clusters
    srv, folder_url = _start_parvisd(bins, primary, standby)
    try:
        with _session() as http:
            r = http.put(folder_url + "a.txt", data=b"12345", timeout=10)
            assert r.status_code == 201
    finally:
        _teardown_server(srv)
    # The node reaches PostgreSQL through a socket directory of its own,
    # which leads to the primary while it starts, then to the standby.
    sockdir = tmp_path / "sock"
    sockdir.mkdir()
    sockdir.chmod(0o777)
    link = sockdir / (".s.PGSQL.%d" % primary.port)
    link.symlink_to(os.path.join(primary.socket_dir, ".s.PGSQL.%d" % primary.port))
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    reader = ParvisServer(bins, types.SimpleNamespace(
        dsn=f"host={sockdir} port={primary.port} dbname=parvis user=parvis "
            f"connect_timeout=2"))
    reader.start()
    try:
        link.unlink()
        link.symlink_to(os.path.join(standby.socket_dir, ".s.PGSQL.%d" % standby.port))
        primary.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE usename = 'parvis'", db="postgres")
        url = reader.space_url("s1") + FOLDER + "/"
        with _session() as http:
            def listing():
                r = http.request("PROPFIND", url, headers={"Depth": "1"}, timeout=10)
                return r.content if r.status_code == 207 else b""
            _wait_for(lambda: b"<D:getcontentlength>5<" in listing(),
                      "a listing through the standby")
            for _ in range(3):
                assert b"<D:getcontentlength>5<" in listing()
            assert standby.psql("SELECT pg_is_in_recovery()") == [("t",)]
            primary.psql("UPDATE resources SET cur_size = 6 "
                         "WHERE id = parvis_resolve((SELECT id FROM spaces "
                         "WHERE slug = 's1'), '/%s/a.txt')" % FOLDER)
            _wait_for(lambda: b"<D:getcontentlength>6<" in listing(),
                      "the change to reach the standby's listing")
        assert "listing from the cache" not in reader.log_text()
        assert "debug:" in reader.log_text()
    finally:
        _teardown_server(reader)


def test_reads_after_a_switchover_see_the_new_primary(bins, clusters,
                                                      monkeypatch):
    """A node keeps what its reads found while the database's state is
    unchanged (decision 0027).  A primary fenced for a switchover takes no
    more writes, so its state stays the same while the new primary's
    moves on: its state must count for nothing, and a client reads back
    what it wrote through the new primary at once."""
    primary, standby = clusters
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    dsn = (f"host={primary.socket_dir},{standby.socket_dir} "
           f"port={primary.port},{standby.port} dbname=parvis user=parvis "
           f"target_session_attrs=read-write connect_timeout=2")
    srv = ParvisServer(bins, types.SimpleNamespace(dsn=dsn),
                       {"db_pool_size": 1})
    srv.start()
    try:
        seed_database(make_ctl(bins, dsn), spaces={"s1": "Space one"},
                      users={"alice": ("s1", "editor")})
        url = srv.space_url("s1") + "switched.txt"
        with _session() as http:
            assert http.put(url, data=b"before", timeout=10).status_code == 201

            def cached_read():
                before = srv.log_text().count("target from the cache")
                r = http.get(url, timeout=10)
                assert r.content == b"before"
                return srv.log_text().count("target from the cache") > before
            _wait_for(cached_read, "a read from the cache")
            primary.psql("ALTER SYSTEM SET default_transaction_read_only = on",
                         db="postgres")
            primary.psql("SELECT pg_reload_conf()", db="postgres")
            time.sleep(0.2)
            lsn = primary.psql("SELECT pg_current_wal_flush_lsn()",
                               db="postgres")[0][0]
            _wait_for(lambda: standby.psql(
                f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'",
                db="postgres") == [("t",)], "the standby to catch up")
            standby.promote()
            _wait_for(lambda: http.put(url, data=b"after", timeout=10)
                      .status_code == 204, "a write through the new primary")
            assert standby.psql("SELECT cur_size FROM resources "
                                "WHERE name = 'switched.txt'") == [("5",)]
            for _ in range(5):
                r = http.get(url, timeout=10)
                assert r.status_code == 200
                assert r.content == b"after"
    finally:
        _teardown_server(srv)
