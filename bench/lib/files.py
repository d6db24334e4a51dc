"""File workloads F1-F6 of docs BENCH.md, each with its correctness guard.

A workload's run(ctx, server, round) returns {metric key: value} or raises
client.Fail when the server answered wrongly; the table then shows FAIL.
"""

import statistics
import time

from client import (ALLPROP, Fail, check_listing, check_wrk, describe_failures,
                    expect_status, get_stream,
                    parse_multistatus, put_batch, put_file, run_wrk)
from procstat import Meter, cpu_seconds, peak_rss_mib, reset_peak_rss


class Metric:
    """VERSUS names the peers' metric that the ratio row divides by (by
    default the metric itself); an OPTIONAL metric, taken only on request,
    is left out of the table when no server has it."""

    def __init__(self, key, label, better, note="", versus=None, optional=False):
        self.key, self.label, self.better, self.note = key, label, better, note
        self.versus, self.optional = versus, optional


RSS = Metric("rss", "server peak RSS MiB", "-")
DB = Metric("db_pct", "of server CPU in PostgreSQL %", "", "Parvis only")
PUT_FILES = 1000  # F1, F2
F3_COLL = "f3/"
F3_FILES = 1000


def f3_dataset(ctx, server):
    """The 1,000-member collection F3, F4 and F6 read: created once per server."""
    done = ctx.state.setdefault("f3", {})
    if server.key in done:
        if isinstance(done[server.key], Fail):
            raise done[server.key]
        return
    try:
        cl = server.client
        coll = server.base + F3_COLL
        expect_status(cl, "MKCOL", coll, (201,))
        names, bodies = ctx.files("F3", F3_FILES)
        _, fails = put_batch(cl, coll, names, bodies, 16)
        if fails:
            raise Fail(f"set-up of {coll}: {len(fails)} failed PUTs, first: {fails[0]}")
        check_listing(cl, coll, names)
        done[server.key] = True
    except Fail as e:
        done[server.key] = Fail(f"set-up of the 1,000-member collection failed: {e}")
        raise done[server.key] from None


class Workload:
    id = "?"
    title = "?"
    kind = "files"
    metrics = []

    def setup(self, ctx, server):
        pass

    def run(self, ctx, server, rnd):
        raise NotImplementedError


def delete_tree(cl, path):
    """Clean-up (not measured); a failure is only logged."""
    try:
        st, _, _ = cl.once("DELETE", path, headers={"Depth": "infinity"})
        return st in (200, 204)
    except OSError:
        return False


# ------------------------------------------------------------------ F1 F2

class PutBatches(Workload):
    def __init__(self, wid, nconn):
        self.id = wid
        self.nconn = nconn
        conns = "1 connection" if nconn == 1 else f"{nconn} connections"
        self.title = (f"PUT 1,000 x 4 KiB into a fresh collection, {conns} "
                      "(median of the batches of a round)")
        self.metrics = [Metric("files_s", "files/s", "+"),
                        Metric("cpu_ms", "server CPU ms/file", "-"), DB, RSS,
                        Metric("wal_kib", "WAL KiB/file", "", "Parvis only"),
                        Metric("commit_ms", "durable commit ms/file", "",
                               "Parvis only: against a batch with synchronous_commit off")]

    def batch(self, ctx, server, rnd, b, wal=None):
        """One batch of 1,000 PUTs into a fresh collection: (files/s, Meter,
        WAL bytes written or None)."""
        cl = server.client
        coll = f"{server.base}{self.id.lower()}-r{rnd}-b{b}/"
        expect_status(cl, "MKCOL", coll, (201,))
        names, bodies = ctx.files(f"{self.id}-{rnd}-{b}", PUT_FILES)
        lsn = server.wal_position() if wal else None
        with Meter(server) as m:
            elapsed, fails = put_batch(cl, coll, names, bodies, self.nconn)
        walled = server.wal_since(lsn) if wal else None
        if fails:
            raise Fail(describe_failures(fails, len(names)))
        check_listing(cl, coll, names)
        if not delete_tree(cl, coll):
            ctx.note(f"{server.name}: DELETE of {coll} (clean-up) failed")
        return len(names) / elapsed, m, walled

    def run(self, ctx, server, rnd):
        rates, cpus, rss, dbs, wals = [], [], [], [], []
        wal = hasattr(server, "wal_position")
        for b in range(ctx.batches):
            rate, m, walled = self.batch(ctx, server, rnd, b, wal)
            rates.append(rate)
            cpus.append(m.cpu * 1000 / PUT_FILES)
            rss.append(m.rss)
            dbs.append(m.db_pct())
            if walled is not None:
                wals.append(walled / 1024 / PUT_FILES)
        out = {"files_s": statistics.median(rates), "cpu_ms": statistics.median(cpus),
               "db_pct": None if None in dbs else statistics.median(dbs), "rss": max(rss),
               "wal_kib": statistics.median(wals) if wals else None, "commit_ms": None}
        # The commit's cost: one more batch whose commits do not wait for
        # the WAL to reach the disk (Parvis alone; every other batch is
        # durable).  Time per file durable minus time per file not.
        if hasattr(server, "durable_commit"):
            server.durable_commit(False)
            try:
                rate, _, _ = self.batch(ctx, server, rnd, "nosync")
            finally:
                server.durable_commit(True)
            out["commit_ms"] = 1000 / out["files_s"] - 1000 / rate
        return out


# ------------------------------------------------------------------ F3 F4

class WrkWorkload(Workload):
    conns = 8
    threads = 2

    def setup(self, ctx, server):
        f3_dataset(ctx, server)

    def metrics_for(self):
        return [Metric("req_s", "req/s", "+"), Metric("p50", "p50 ms", "-"),
                Metric("p99", "p99 ms", "-"), Metric("cpu_ms", "server CPU ms/req", "-"),
                Metric("kib", "KiB/response (body)", "", "size, not a score"), DB, RSS]

    def measure(self, ctx, server, path, script, env, wire, body_len):
        with Meter(server) as m:
            res = run_wrk(server.client, path, script, self.threads, self.conns,
                          ctx.duration, env=env)
        check_wrk(res, wire)
        n = res["requests"]
        return {"req_s": n / (res["duration_us"] / 1e6), "p50": res["p50_us"] / 1000,
                "p99": res["p99_us"] / 1000, "cpu_ms": m.cpu * 1000 / n,
                "kib": body_len / 1024, "db_pct": m.db_pct(), "rss": m.rss}


class PropfindD1(WrkWorkload):
    id = "F3"
    title = "PROPFIND Depth:1 allprop of the 1,000-member collection, 8 connections"

    def __init__(self):
        self.metrics = self.metrics_for()

    def run(self, ctx, server, rnd):
        path = server.base + F3_COLL
        names, _ = ctx.files("F3", F3_FILES)
        wire, body_len = check_listing(server.client, path, names)
        return self.measure(ctx, server, path, "propfind.lua", {"BENCH_DEPTH": "1"},
                            wire, body_len)


class PropfindD0(WrkWorkload):
    id = "F4a"
    title = "PROPFIND Depth:0 allprop of one 4 KiB file, 8 connections"

    def __init__(self):
        self.metrics = self.metrics_for()

    def run(self, ctx, server, rnd):
        names, _ = ctx.files("F3", F3_FILES)
        path = server.base + F3_COLL + names[0]
        st, r, data = server.client.once("PROPFIND", path, body=ALLPROP, headers={"Depth": "0"})
        if st != 207:
            raise Fail(f"PROPFIND Depth:0 {path}: status {st}, expected 207")
        hrefs = parse_multistatus(data)
        if len(hrefs) != 1 or not hrefs[0].endswith("/" + names[0]):
            raise Fail(f"PROPFIND Depth:0 {path}: responses {hrefs[:3]}")
        if b"4096</" not in data:
            raise Fail(f"PROPFIND Depth:0 {path}: no getcontentlength 4096")
        return self.measure(ctx, server, path, "propfind.lua", {"BENCH_DEPTH": "0"},
                            server.client.wire_size(r, data), len(data))


class Get4k(WrkWorkload):
    id = "F4b"
    title = "GET of one 4 KiB file, 8 connections"

    def __init__(self):
        self.metrics = [m for m in self.metrics_for() if m.key != "kib"]

    def run(self, ctx, server, rnd):
        names, bodies = ctx.files("F3", F3_FILES)
        path = server.base + F3_COLL + names[0]
        st, r, data = server.client.once("GET", path)
        if st != 200 or data != bodies[0]:
            raise Fail(f"GET {path}: status {st}, {len(data)} bytes"
                       + (" (wrong content)" if len(data) == 4096 else ""))
        return self.measure(ctx, server, path, "get.lua", {}, server.client.wire_size(r, data),
                            len(data))


# --------------------------------------------------------------------- F5

class BigFile(Workload):
    id = "F5"
    title = "PUT then GET of a 200 MiB incompressible file (MB = 10^6 bytes)"
    metrics = [Metric("put_mb_s", "PUT MB/s", "+"), Metric("get_mb_s", "GET MB/s", "+"),
               Metric("put_cpu", "server CPU s, PUT", "-"),
               Metric("get_cpu", "server CPU s, GET", "-"),
               Metric("db_pct", "of PUT CPU in PostgreSQL %", ""), RSS,
               Metric("floor_mb_s", "PostgreSQL alone storing the same file, MB/s", "+",
                      versus="put_mb_s", optional=True),
               Metric("floor_cpu", "PostgreSQL alone, CPU s", "-", versus="put_cpu",
                      optional=True)]

    def run(self, ctx, server, rnd):
        cl = server.client
        fname, size, sha = ctx.big_file(rnd)
        path = f"{server.base}f5-r{rnd}.bin"
        roots = server.rss_roots()
        reset_peak_rss(roots)
        c0 = cpu_seconds(server.cpu_roots())
        d0 = cpu_seconds(server.db_roots())
        st, put_s = put_file(cl, path, fname, size)
        c1 = cpu_seconds(server.cpu_roots())
        d1 = cpu_seconds(server.db_roots())
        if st not in (201, 204):
            raise Fail(f"PUT {path}: status {st}")
        st, n, get_s, _ = get_stream(cl, path)
        c2 = cpu_seconds(server.cpu_roots())
        rss = peak_rss_mib(roots)
        if st != 200 or n != size:
            raise Fail(f"GET {path}: status {st}, {n} of {size} bytes")
        # The guard reads it once more, hashing (outside the measurements).
        st, n, _, digest = get_stream(cl, path, digest=True)
        if st != 200 or digest != sha:
            raise Fail(f"GET {path}: SHA-256 of the body differs ({n} bytes)")
        if not delete_tree(cl, path):
            ctx.note(f"{server.name}: DELETE of {path} (clean-up) failed")
        out = {"put_mb_s": size / put_s / 1e6, "get_mb_s": size / get_s / 1e6,
               "put_cpu": c1 - c0, "get_cpu": c2 - c1,
               "db_pct": (100.0 * (d1 - d0) / (c1 - c0)) if server.db_roots() and c1 > c0
               else None, "rss": rss}
        if server.key == "parvis" and ctx.args.pg_floor:
            # The same bytes stored by PostgreSQL alone, the way an upload
            # is (bench/lib/pgfloor.c): what the design's storage costs on
            # this machine, with no HTTP server around it.
            # A failure of the floor leaves Parvis' own figures standing.
            f0 = cpu_seconds(server.db_roots())
            try:
                secs = server.pg_floor(fname, rnd)
            except (OSError, RuntimeError, ValueError) as e:
                ctx.note(f"--pg-floor failed in round {rnd}: "
                         + str(e).strip().splitlines()[-1][:200])
            else:
                out["floor_mb_s"] = size / secs / 1e6
                out["floor_cpu"] = cpu_seconds(server.db_roots()) - f0
        return out


# --------------------------------------------------------------------- F6

class CopyMoveDelete(Workload):
    id = "F6"
    title = "COPY (Depth: infinity) of the 1,000-member collection, MOVE of the copy, DELETE"
    metrics = [Metric("copy_s", "COPY s", "-"), Metric("move_s", "MOVE s", "-"),
               Metric("delete_s", "DELETE s", "-"),
               Metric("cpu_s", "server CPU s, all three", "-"), DB, RSS]

    def setup(self, ctx, server):
        f3_dataset(ctx, server)

    def run(self, ctx, server, rnd):
        names, _ = ctx.files("F3", F3_FILES)
        return copy_move_delete(ctx, server, server.base + F3_COLL, names, f"f6-r{rnd}")


def copy_move_delete(ctx, server, src, names, tag):
    """COPY (Depth: infinity) of the collection SRC holding NAMES to a new
    collection, MOVE of the copy, DELETE of the moved copy, on one
    connection, each timed alone; the guards between the steps (the
    destination lists NAMES, the MOVE source and the deleted tree answer
    404) are not counted in the server CPU."""
    cl = server.client
    copy = f"{server.base}{tag}-copy/"
    moved = f"{server.base}{tag}-moved/"
    times = {}
    with Meter(server) as m:
        c = cl.connect()
        try:
            for key, method, path, hdrs, ok in (
                    ("copy_s", "COPY", src, {"Destination": cl.url(copy), "Depth": "infinity",
                                             "Overwrite": "F"}, (201, 200, 204)),
                    ("move_s", "MOVE", copy, {"Destination": cl.url(moved),
                                              "Overwrite": "F"}, (201, 200, 204)),
                    ("delete_s", "DELETE", moved, {"Depth": "infinity"}, (200, 204))):
                t0 = time.perf_counter()
                st, _, data = cl.request(c, method, path, headers=hdrs)
                times[key] = time.perf_counter() - t0
                if st not in ok:
                    raise Fail(f"{method} {path}: status {st}, expected "
                               f"{'/'.join(map(str, ok))} {data[:200]!r}")
                if method in ("COPY", "MOVE") and st != 201:
                    # The guard is the tree at the destination; a 2xx other
                    # than 201 Created (RFC 4918 9.8.5, 9.9.4) is only noted.
                    ctx.note(f"{server.name} answers {st} instead of 201 to a {method} "
                             "of a collection to a new destination")
                # Guards between the steps; their cost is subtracted below.
                g0 = cpu_seconds(server.cpu_roots())
                d0 = cpu_seconds(server.db_roots())
                if method == "COPY":
                    check_listing(cl, copy, names)
                elif method == "MOVE":
                    check_listing(cl, moved, names)
                    gone(cl, copy)
                else:
                    gone(cl, moved)
                m.c0 += cpu_seconds(server.cpu_roots()) - g0
                m.d0 += cpu_seconds(server.db_roots()) - d0
        finally:
            c.close()
    times["cpu_s"] = m.cpu
    times["db_pct"] = m.db_pct()
    times["rss"] = m.rss
    return times


def gone(cl, path):
    st, _, _ = cl.once("PROPFIND", path, body=ALLPROP, headers={"Depth": "0"})
    if st != 404:
        raise Fail(f"PROPFIND {path} after MOVE/DELETE: status {st}, expected 404")


def workloads():
    return [PutBatches("F1", 1), PutBatches("F2", 16), PropfindD1(), PropfindD0(), Get4k(),
            BigFile(), CopyMoveDelete()]


# ---------------------------------------------------------------- scaling

SCALING_SIZES = (100, 1000, 10000)


def scaling_dataset(ctx, server, n):
    cl = server.client
    coll = f"{server.base}scale-{n}/"
    expect_status(cl, "MKCOL", coll, (201,))
    names, bodies = ctx.files(f"S{n}", n)
    _, fails = put_batch(cl, coll, names, bodies, 16)
    if fails:
        raise Fail(f"set-up of {coll}: {len(fails)} failed PUTs, first: {fails[0]}")
    return coll, names


def scaling_measure(ctx, server, coll, names, rnd):
    """PROPFIND Depth:1 allprop of COLL on one connection (latency, not
    load), then COPY of COLL, MOVE of the copy and DELETE of it (F6 at this
    size)."""
    wire, body_len = check_listing(server.client, coll, names)
    with Meter(server) as m:
        res = run_wrk(server.client, coll, "propfind.lua", 1, 1, ctx.duration, timeout=120,
                      env={"BENCH_DEPTH": "1"})
    check_wrk(res, wire)
    n = res["requests"]
    out = {"p50": res["p50_us"] / 1000, "p99": res["p99_us"] / 1000,
           "req_s": n / (res["duration_us"] / 1e6), "cpu_ms": m.cpu * 1000 / n,
           "kib": body_len / 1024, "requests": n}
    tree = copy_move_delete(ctx, server, coll, names, f"scale-{len(names)}-r{rnd}")
    for k in ("copy_s", "move_s", "delete_s"):
        out[k] = tree[k]
    return out
