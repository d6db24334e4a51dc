#!/usr/bin/python3
"""Parvis benchmark driver; bench/run.sh checks the packages and calls it.

Starts every server once (private, on loopback), sets up the data sets, then
runs the rounds: for each round, for each workload, each server in turn
(A B C D, A B C D, ...), so that the servers of one round see the same
machine conditions and can be compared by pairwise ratios.
"""

import argparse
import datetime
import http.client
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import authget  # noqa: E402
import caldav  # noqa: E402
import calscale  # noqa: E402
import calgen  # noqa: E402
import files  # noqa: E402
import procstat  # noqa: E402
import report  # noqa: E402
import servers as srv  # noqa: E402
import soak  # noqa: E402
from client import Fail  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH_DIR)
ALL_SERVERS = ["parvis", "apache", "nginx", "lighttpd"]
CAL_SERVERS = ["parvis", "radicale", "xandikos", "davical"]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Ctx:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.duration = args.duration
        self.batches = args.batches
        self.state = {}
        self.notes = []
        self.dead = {}
        self.tools = {}
        self._files = {}
        self._big = None

    def note(self, msg):
        log("note: " + msg)
        if msg not in self.notes:
            self.notes.append(msg)

    def files(self, tag, n):
        """N deterministic, distinct, incompressible 4 KiB bodies (the same
        for every server: no server gets content it could deduplicate
        more than another)."""
        if tag not in self._files:
            if len(self._files) > 8:
                self._files.pop(next(k for k in self._files if k != "F3"))
            width = max(4, len(str(n - 1)))
            blob = random.Random(tag).randbytes(4096 * n)
            self._files[tag] = ([f"{i:0{width}d}.bin" for i in range(n)],
                                [blob[i * 4096:(i + 1) * 4096] for i in range(n)])
        return self._files[tag]

    def big_file(self, rnd):
        """(path, size, sha256) of this round's 200 MiB random file."""
        if self._big and self._big[0] == rnd:
            return self._big[1:]
        if self._big:
            os.unlink(self._big[1])
        import hashlib
        size = self.args.big_mib << 20
        path = os.path.join(self.tmp, f"f5-r{rnd}.bin")
        h = hashlib.sha256()
        with open(path, "wb") as f:
            left = size
            while left:
                b = os.urandom(min(left, 8 << 20))
                h.update(b)
                f.write(b)
                left -= len(b)
        self._big = (rnd, path, size, h.hexdigest())
        return self._big[1:]


def machine_header(args, servers, mode, detail=None):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = open("/proc/loadavg").read().split()[:3]
    try:  # caps the send buffer parvisd asks for on uploads (docs/admin.md)
        wmem = open("/proc/sys/net/core/wmem_max").read().strip()
    except OSError:
        wmem = "?"
    wrk = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "wrk"], capture_output=True,
                         text=True).stdout.strip()
    lines = [
        f"Parvis benchmark ({mode}) {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM, "
        f"{platform.system()} {platform.release()}, net.core.wmem_max {wmem}, "
        f"load average at start {' '.join(load)}",
        (detail or f"rounds: {args.rounds}; wrk duration {args.duration} s; "
         f"PUT batches per round: {args.batches}; big file {args.big_mib} MiB")
        + (f"; client: Python {platform.python_version()}" if mode == "soak" else
           f"; client: wrk {wrk or '?'}, Python {platform.python_version()}"),
        "versions:",
    ]
    for s in servers:
        lines.append(f"  {s.name}: {s.version()}")
        if getattr(s, "extra_conf", ""):
            lines.append(f"    configured with: {'; '.join(s.extra_conf.splitlines())}")
    return lines


def selected_workloads(only):
    ws = files.workloads()
    if not only:
        return ws
    want = [x.strip().upper() for x in only.split(",") if x.strip()]
    out = [w for w in ws if any(w.id.upper() == x or w.id.upper().startswith(x) for x in want)]
    unknown = [x for x in want if not any(w.id.upper().startswith(x) for w in ws)]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)} "
                         f"(known: {', '.join(w.id for w in ws)})")
    return out


def guarded(ctx, fn, *a):
    """Runs FN; a wrong answer or an error becomes a Fail (shown as FAIL)."""
    try:
        return fn(*a)
    except Fail as e:
        return e
    except (OSError, http.client.HTTPException) as e:
        return Fail(f"{type(e).__name__}: {e}")
    except Exception as e:  # noqa: BLE001 - any error is a failed measurement
        traceback.print_exc(file=sys.stderr)
        return Fail(f"{type(e).__name__}: {e}")


def check_alive(ctx, s, where):
    if s.key in ctx.dead:
        return False
    for pid in s.cpu_roots():
        if not srv.pid_alive(pid):
            ctx.dead[s.key] = where
            last = ""
            if isinstance(s, srv.Parvis):
                lines = [x for x in srv.tail(s.log, 3).splitlines() if x.strip()]
                last = "; last log lines: " + " | ".join(lines) if lines else "; log empty"
            ctx.note(f"{s.name}: process {pid} died during {where} ({s.exit_status()}{last}); "
                     f"temp dir kept for its logs"
                     + (" and core file" if isinstance(s, srv.Parvis) else ""))
            return False
    return True


def short(d):
    return " ".join(f"{k}={report.fmt(v)}" for k, v in d.items() if k != "requests")


def run_files(ctx, servers, workloads, args):
    results = {w.id: {s.key: [None] * args.rounds for s in servers} for w in workloads}
    setup_fail = {}
    for s in servers:
        for w in workloads:
            r = guarded(ctx, w.setup, ctx, s)
            if isinstance(r, Fail):
                setup_fail[(w.id, s.key)] = r
                log(f"set-up {w.id} {s.name}: FAIL {r}")
    rss0 = {s.key: procstat.rss_mib(s.rss_roots()) for s in servers}
    for rnd in range(1, args.rounds + 1):
        for w in workloads:
            for s in servers:
                if (w.id, s.key) in setup_fail:
                    results[w.id][s.key][rnd - 1] = setup_fail[(w.id, s.key)]
                    continue
                t0 = time.monotonic()
                r = guarded(ctx, w.run, ctx, s, rnd)
                results[w.id][s.key][rnd - 1] = r
                status = f"FAIL {r}" if isinstance(r, Fail) else short(r)
                log(f"round {rnd}/{args.rounds} {w.id} {s.name} "
                    f"({time.monotonic() - t0:.1f}s): {status}")
                check_alive(ctx, s, f"{w.id} round {rnd}")
    ctx.notes.append("resident memory (VmRSS, server processes) after set-up -> at the end: "
                     + ", ".join(f"{s.name} {rss0[s.key]:.1f} -> "
                                 f"{procstat.rss_mib(s.rss_roots()):.1f} MiB"
                                 for s in servers if s.key not in ctx.dead))
    return results


def run_scaling(ctx, servers, args):
    sizes = files.SCALING_SIZES
    results = {n: {s.key: [None] * args.rounds for s in servers} for n in sizes}
    colls = {}
    for s in servers:
        for n in sizes:
            t0 = time.monotonic()
            r = guarded(ctx, files.scaling_dataset, ctx, s, n)
            log(f"set-up {n} members on {s.name} ({time.monotonic() - t0:.1f}s)"
                + (f": FAIL {r}" if isinstance(r, Fail) else ""))
            colls[(s.key, n)] = r
    for rnd in range(1, args.rounds + 1):
        for n in sizes:
            for s in servers:
                c = colls[(s.key, n)]
                if isinstance(c, Fail):
                    results[n][s.key][rnd - 1] = c
                    continue
                r = guarded(ctx, files.scaling_measure, ctx, s, *c, rnd)
                results[n][s.key][rnd - 1] = r
                log(f"round {rnd}/{args.rounds} PROPFIND D1, COPY, MOVE, DELETE {n} {s.name}: "
                    + (f"FAIL {r}" if isinstance(r, Fail) else short(r)))
                check_alive(ctx, s, f"scaling {n} round {rnd}")
    return sizes, results


def run_calendars(ctx, servers, args):
    """C1-C5: round 1 loads a fresh calendar per target (C1), then every
    round reads it (C2, C3), changes it (C4) and lists it (C5); the calendar
    is deleted at the end. With --c1-every-round, every round starts with
    a fresh calendar (and deletes it at its end)."""
    log(f"generating {args.events:,} events"
        + (f" and {args.events_large:,} for Parvis" if args.events_large else ""))
    sets = [(args.events, calgen.generate(args.events))]
    parvis = next((s for s in servers if s.key == "parvis"), None)
    if parvis and args.events_large:
        sets.append((args.events_large, calgen.generate(args.events_large)))
    for n, evs in sets:
        probs = calgen.crosscheck(evs)
        if probs:
            raise RuntimeError(f"generated data inconsistent ({len(probs)} problems), e.g. "
                               + "; ".join(probs[:3]))
    log("data cross-checked (icalendar + dateutil agree with the model)")
    targets = [caldav.Target(s, args.events, sets[0][1], s.key, s.name) for s in servers]
    if len(sets) > 1:
        big = args.events_large
        label = f"{big // 1000}k" if big % 1000 == 0 else f"{big:,}"
        targets.append(caldav.Target(parvis, big, sets[1][1], "parvis-large",
                                     f"Parvis {label}"))
    workloads = caldav.workloads(args.events, args.events_large if len(sets) > 1 else None,
                                 args.rounds if args.c1_every_round else 1,
                                 args.bulk_peers)
    results = {w.id: {t.key: [None] * args.rounds for t in targets} for w in workloads}
    rss0 = {s.key: procstat.rss_mib(s.rss_roots()) for s in servers}
    for rnd in range(1, args.rounds + 1):
        fresh = rnd == 1 or args.c1_every_round
        for w in workloads:
            if w.id == "C1" and not fresh:
                continue
            for t in targets:
                if t.server.key in ctx.dead:
                    results[w.id][t.key][rnd - 1] = Fail(f"server dead ({ctx.dead[t.server.key]})")
                    continue
                t0 = time.monotonic()
                r = guarded(ctx, w.run, ctx, t, rnd)
                results[w.id][t.key][rnd - 1] = r
                status = f"FAIL {r}" if isinstance(r, Fail) else short(r)
                log(f"round {rnd}/{args.rounds} {w.id} {t.name} "
                    f"({time.monotonic() - t0:.1f}s): {status}")
                check_alive(ctx, t.server, f"{w.id} round {rnd}")
        if args.c1_every_round or rnd == args.rounds:
            for t in targets:
                if t.server.key not in ctx.dead:
                    caldav.cleanup(ctx, t)
    slow = [f"{wid} {next(t.name for t in targets if t.key == key)}"
            for (wid, key), tool in sorted(ctx.tools.items()) if tool == "closed-loop"]
    if slow:
        ctx.notes.append(f"one request took more than {caldav.SLOW_S * 1000:.0f} ms on the idle "
                         "server, so the load ran on the Python closed-loop driver (8 "
                         "connections, every request completed; see bench/README.md) for: "
                         + ", ".join(slow) + "; wrk for the others")
    ctx.notes.append("resident memory (VmRSS, server processes) after set-up -> at the end: "
                     + ", ".join(f"{s.name} {rss0[s.key]:.1f} -> "
                                 f"{procstat.rss_mib(s.rss_roots()):.1f} MiB"
                                 for s in servers if s.key not in ctx.dead))
    return workloads, targets, results, caldav.data_description(sets)


def run_auth(ctx, servers, args):
    primary, anon = servers
    w = authget.AuthGet(primary, anon)
    for n in w.setup(ctx):
        ctx.note(n)
    results = {w.id: {s.key: [None] * args.rounds for s in servers}}
    for rnd in range(1, args.rounds + 1):
        for s in servers:
            if s.key in ctx.dead:
                results[w.id][s.key][rnd - 1] = Fail(f"server dead ({ctx.dead[s.key]})")
                continue
            r = guarded(ctx, w.run, ctx, s, rnd)
            results[w.id][s.key][rnd - 1] = r
            log(f"round {rnd}/{args.rounds} {s.name}: "
                + (f"FAIL {r}" if isinstance(r, Fail) else short(r)))
            check_alive(ctx, s, f"auth round {rnd}")
    return [w], results


def run_soak(ctx, servers, args, header):
    """Sustained mixed load on Parvis (lib/soak.py); returns (text, passed)."""
    s = servers[0]
    sk = soak.Soak(ctx, s, args)
    sk.setup(log)
    log(f"soak: {args.connections} connections for {args.soak:g} min "
        f"(warm-up {args.warmup} s)")
    sk.run(log)
    check_alive(ctx, s, "the soak")
    probs = s.log_problems()
    if probs:
        ctx.note(f"parvisd log: {len(probs)} error/warning lines, e.g. " + " | ".join(probs[:3]))
    pg = [x for x in srv.tail(s.pglog, 100000).splitlines()
          if re_pg_problem.search(x)]
    if pg:
        ctx.note(f"PostgreSQL log: {len(pg)} ERROR/FATAL/PANIC lines, e.g. " + " | ".join(pg[:3]))
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    ctx.notes.append(f"load average at the end {load}")
    return sk.render(header), sk.passed


re_pg_problem = re.compile(r"\b(ERROR|FATAL|PANIC):")


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="1 round, 2 s wrk runs, 1 PUT batch: a smoke test, not figures")
    ap.add_argument("--only", metavar="F3,F4", help="run only these workloads")
    ap.add_argument("--rounds", type=int, help="rounds (default 3; 5 with --auth; 1 with --quick)")
    ap.add_argument("--scaling", action="store_true",
                    help="PROPFIND Depth:1 p50, then COPY, MOVE and DELETE of the collection, at "
                         "100, 1,000 and 10,000 members instead of F1-F6; "
                         "with --calendars: calendar-query latency at 1,000, 10,000 and "
                         "100,000 events")
    ap.add_argument("--calendars", action="store_true",
                    help="CalDAV workloads C1-C5 against Radicale, Xandikos and DAViCal "
                         "instead of F1-F6")
    ap.add_argument("--sizes", metavar="N,N,...",
                    help="--calendars --scaling: calendar sizes in events (default "
                         + ",".join(map(str, calscale.SIZES)) + "; "
                         + ",".join(map(str, calscale.QUICK_SIZES)) + " with --quick)")
    ap.add_argument("--queries", type=int,
                    help="--calendars --scaling: timed queries per size and server, at most "
                         f"(default {calscale.MAX_QUERIES}, {calscale.QUICK_MAX} with --quick; "
                         f"at least {calscale.MIN_QUERIES}, fewer after "
                         f"{calscale.BUDGET_S:g} s of them)")
    ap.add_argument("--query-timeout", type=float, default=300,
                    help="--calendars --scaling: a query taking longer is a 'timeout' and "
                         "that server is left out of the larger sizes (default 300 s)")
    ap.add_argument("--first-timeout", type=float, default=1200,
                    help="--calendars --scaling: the same for the first query of a size, "
                         "which builds Radicale's item cache (default 1200 s)")
    ap.add_argument("--events", type=int, default=None,
                    help="--calendars: events per calendar for every server (default 2,000); "
                         "--soak: events of the calendar queried (default 500)")
    ap.add_argument("--events-large", type=int, default=10000,
                    help="--calendars: events of Parvis' second calendar (default 10,000; "
                         "0: none)")
    ap.add_argument("--c1-every-round", action="store_true",
                    help="--calendars: load a fresh calendar (C1) in every round, not only in "
                         "the first (Radicale and Xandikos take ~2-3 min per load)")
    ap.add_argument("--bulk-peers", action="store_true",
                    help="--calendars: Radicale and Xandikos receive the first 2,000 events "
                         "of C1 by PUT (their C1 figures) and the rest written straight into "
                         "their storage: their PUTs slow down as a collection grows, and "
                         "10,000 take each of them over an hour")
    ap.add_argument("--auth", action="store_true",
                    help="GET of a 4 KiB file: Basic auth vs a parvisd with anonymous_user")
    ap.add_argument("--soak", type=float, nargs="?", const=30.0, metavar="MINUTES",
                    help="sustained mixed load on Parvis alone for MINUTES (default 30): "
                         "GET/PROPFIND/PUT/REPORT, every answer checked, parvisd RSS sampled; "
                         "exit status 1 on any error or RSS growth >= 10 %%")
    ap.add_argument("--connections", type=int, default=64,
                    help="--soak: concurrent keep-alive connections (default 64)")
    ap.add_argument("--warmup", type=int, default=60,
                    help="--soak: seconds of load before the RSS reference sample (default 60)")
    ap.add_argument("--sample", type=int, default=10,
                    help="--soak: seconds between memory samples (default 10)")
    ap.add_argument("--mix", default=soak.DEFAULT_MIX,
                    help=f"--soak: request mix, KIND=WEIGHT,... (default {soak.DEFAULT_MIX})")
    ap.add_argument("--servers", default=None,
                    help="comma-separated subset of " + ",".join(ALL_SERVERS)
                    + " (files) or " + ",".join(CAL_SERVERS) + " (--calendars)")
    ap.add_argument("--build", default=os.environ.get("PARVIS_BUILD_DIR",
                                                      os.path.join(ROOT, "build")),
                    help="directory holding parvisd and parvisctl (default build/)")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 5, 2 with --quick)")
    ap.add_argument("--batches", type=int, help="F1/F2 batches per round (default 3, 1 with --quick)")
    ap.add_argument("--big-mib", type=int, default=200, help="F5 file size in MiB (default 200)")
    ap.add_argument("--pg-floor", action="store_true",
                    help="F5: after Parvis in each round, store the same file with PostgreSQL "
                    "alone (bench/lib/pgfloor.c: chunk rows, one durable transaction, no HTTP "
                    "server), and report its MB/s against the peers' PUT")
    ap.add_argument("--results", default=os.path.join(BENCH_DIR, "results"),
                    help="directory for the result files (default bench/results)")
    ap.add_argument("--tag", help="suffix for the result file names")
    ap.add_argument("--parvis-conf", action="append", default=[], metavar="'KEY = VALUE'",
                    help="a line added to parvisd's configuration (repeatable), "
                         "e.g. 'listing_cache_size = 0'")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, data)")
    args = ap.parse_args()
    cal_scaling = args.scaling and args.calendars
    if sum(map(bool, (args.scaling and not cal_scaling, args.calendars, args.auth,
                      args.soak is not None))) > 1:
        raise SystemExit("--scaling, --calendars, --auth and --soak are separate runs "
                         "(but --calendars --scaling is the calendar-query scaling run)")
    if (args.sizes or args.queries) and not cal_scaling:
        raise SystemExit("--sizes and --queries go with --calendars --scaling")
    if args.sizes:
        calscale.parse_sizes(args.sizes)
    if args.queries is not None and args.queries < 1:
        raise SystemExit("--queries must be at least 1")
    if args.query_timeout <= 0 or args.first_timeout <= 0:
        raise SystemExit("--query-timeout and --first-timeout must be positive")
    if args.events is None:
        args.events = 500 if args.soak is not None else 2000
    if args.soak is not None:
        if args.soak <= 0 or args.connections < 1 or args.sample < 1 or args.warmup < 0:
            raise SystemExit("--soak MINUTES, --connections and --sample must be positive")
        if args.warmup + args.sample > args.soak * 60:
            raise SystemExit(f"--soak {args.soak:g} min leaves no sample after the "
                             f"{args.warmup} s warm-up (--warmup)")
        soak.parse_mix(args.mix)
        if args.events < 50:
            raise SystemExit("--soak: --events must be at least 50")
    if args.calendars and args.events < 200:
        raise SystemExit("--events must be at least 200")
    if args.calendars and args.events_large and args.events_large < 200:
        raise SystemExit("--events-large must be 0 or at least 200")
    if args.servers is None:
        # --scaling loads up to 100,000 events: DAViCal takes them by PUT
        # only (about 35 a second), so it runs there when named.
        cal = [k for k in CAL_SERVERS if not (args.scaling and k == "davical")]
        args.servers = ",".join(cal if args.calendars else
                                ["parvis"] if (args.auth or args.soak is not None)
                                else ALL_SERVERS)
    if args.rounds is None:
        args.rounds = 1 if args.quick else (5 if args.auth else 3)
    if args.duration is None:
        args.duration = 2 if args.quick else 5
    if args.batches is None:
        args.batches = 1 if args.quick else 3
    if args.rounds < 1 or args.duration < 1 or args.batches < 1:
        raise SystemExit("--rounds, --duration and --batches must be at least 1")
    if os.geteuid() != 0:
        raise SystemExit("run as root: the peers drop to www-data, PostgreSQL runs as postgres, "
                         "and peak RSS is reset through /proc/PID/clear_refs")
    args.build = os.path.abspath(args.build)
    keys = [k.strip().lower() for k in args.servers.split(",") if k.strip()]
    if args.calendars:
        bad = [k for k in keys if k not in CAL_SERVERS]
        if bad:
            raise SystemExit(f"--calendars: unknown server(s) {', '.join(bad)} "
                             f"(known: {', '.join(CAL_SERVERS)})")
    if args.auth and keys != ["parvis"]:
        raise SystemExit("--auth measures Parvis only (--servers parvis)")
    if args.soak is not None and keys != ["parvis"]:
        raise SystemExit("--soak loads Parvis only (--servers parvis)")
    if args.only and (args.calendars or args.auth or args.soak is not None):
        raise SystemExit("--only applies to the file workloads")
    workloads = [] if (args.scaling or args.calendars or args.auth or
                       args.soak is not None) else \
        selected_workloads(args.only)

    tmp = tempfile.mkdtemp(prefix="parvis-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    log(f"temp dir {tmp}")
    ctx = Ctx(args, tmp)
    password = secrets.token_urlsafe(12)
    servers = srv.make_servers(keys, tmp, password, args.build, args.parvis_conf)
    if args.auth:
        servers[0].name = "Parvis, Basic auth"
        anon = srv.ParvisAnon(servers[0])
        anon.name = "Parvis, anonymous_user"
        servers.append(anon)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = []
    t_start = time.monotonic()
    rc = 0
    try:
        for s in servers:
            log(f"starting {s.name} on 127.0.0.1:{s.port}")
            s.start()
            started.append(s)
        mode = ("calendar scaling" if cal_scaling else
                "scaling" if args.scaling else "calendars" if args.calendars else
                "auth" if args.auth else "soak" if args.soak is not None else "files")
        if args.quick:
            mode += ", quick"
        detail = None
        if cal_scaling:
            detail = (f"calendar-query of the week {calgen.QUERY_START:%Y-%m-%d} to "
                      f"{calgen.QUERY_END:%Y-%m-%d} UTC, one connection, sequential; query "
                      f"timeout {args.query_timeout:g} s (first query of a size: "
                      f"{args.first_timeout:g} s)")
        elif args.calendars:
            detail = (f"rounds: {args.rounds} (C1 in "
                      + ("every round" if args.c1_every_round else "round 1 only") +
                      f"); load duration {args.duration} s "
                      f"(wrk 2 threads / 8 connections, or the closed-loop driver when a "
                      f"request takes > {caldav.SLOW_S * 1000:.0f} ms); query week "
                      f"{calgen.QUERY_START:%Y-%m-%d} to {calgen.QUERY_END:%Y-%m-%d} UTC")
        elif args.auth:
            detail = (f"rounds: {args.rounds} (A B, A B, ...); wrk 2 threads, 8 connections, "
                      f"{args.duration} s")
        elif args.soak is not None:
            detail = f"soak: {args.soak:g} min at {args.connections} connections"
        header = machine_header(args, servers, mode, detail)
        if args.soak is not None:
            text, passed = run_soak(ctx, servers, args, header)
            day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
            parts = [day, "soak"]
            if args.soak != 30:
                parts.append(f"{args.soak:g}min")
            if args.tag:
                parts.append(re.sub(r"[^A-Za-z0-9_.-]", "_", args.tag))
            os.makedirs(args.results, exist_ok=True)
            path = os.path.join(args.results, "-".join(parts) + ".txt")
            with open(path, "w") as f:
                f.write(text)
            sys.stdout.write(text)
            log(f"wrote {path}")
            if not passed:
                rc = 1
            return rc
        legend = None
        if cal_scaling:
            sizes, results, data_lines, load_lines = calscale.run(ctx, servers, args)
        elif args.scaling:
            sizes, results = run_scaling(ctx, servers, args)
        elif args.calendars:
            workloads, targets, results, data_lines = run_calendars(ctx, servers, args)
            header += ["data (deterministic, bench/lib/calgen.py):"] + data_lines
            big = [t for t in targets if t.key == "parvis-large"]
            legend = [
                "Cells: median over the rounds (min-max). '+' higher is better, '-' lower is "
                "better.",
                "Parvis/peer: median (min-max) of the per-round ratios Parvis value / peer "
                f"value at {args.events:,} events, from rounds where both answered right"
                + (f"; {big[0].name} (the same server with a {big[0].n:,}-event calendar) "
                   "has no ratio." if big else "."),
                "Server CPU = user+sys of the server's process tree (Parvis: parvisd and its "
                "PostgreSQL cluster) / operations. A wrong answer is FAIL, not timed."]
        elif args.auth:
            workloads, results = run_auth(ctx, servers, args)
            legend = [
                "Cells: median over the rounds (min-max). '+' higher is better, '-' lower is "
                "better.",
                "authenticated/anonymous: median (min-max) of the per-round ratios, Basic "
                "auth value / anonymous_user value.",
                "Server CPU = user+sys of the parvisd process measured plus its PostgreSQL "
                "cluster (shared by both, idle while the other runs) / requests."]
        else:
            results = run_files(ctx, servers, workloads, args)
        for s in servers:
            if isinstance(s, srv.Parvis):
                probs = s.log_problems()
                if probs:
                    ctx.note(f"parvisd log: {len(probs)} error/warning lines, e.g. "
                             + " | ".join(probs[:3]))
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        ctx.notes.append(f"run time {time.monotonic() - t_start:.0f} s; "
                         f"load average at the end {load}")
        if cal_scaling:
            text, tsv = calscale.render(header, sizes, servers, results, ctx.notes,
                                        data_lines, load_lines, ctx.cal_scaling)
        elif args.scaling:
            text, tsv = report.render_scaling(header, sizes, servers, results, args.rounds,
                                              ctx.notes)
        elif args.calendars:
            text, tsv = report.render(header, workloads, targets, results, args.rounds,
                                      ctx.notes, no_ratio=("parvis-large",), legend=legend)
        elif args.auth:
            text, tsv = report.render(header, workloads, servers, results, args.rounds,
                                      ctx.notes, ratio_label="authenticated/anonymous",
                                      legend=legend)
        else:
            text, tsv = report.render(header, workloads, servers, results, args.rounds,
                                      ctx.notes)
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        parts = [day]
        if cal_scaling:
            parts.append("calendar-scaling")
            if args.sizes:
                parts.append("-".join(map(str, calscale.parse_sizes(args.sizes))))
        elif args.scaling:
            parts.append("scaling")
        elif args.calendars:
            parts.append("calendars")
        if args.auth:
            parts.append("auth")
        if args.calendars and not cal_scaling and (args.events != 2000 or
                                                   args.events_large != 10000):
            parts.append(f"{args.events}-{args.events_large}")
        if args.calendars and args.c1_every_round and not cal_scaling:
            parts.append("c1-every-round")
        if args.pg_floor:
            parts.append("pg-floor")
        if args.quick:
            parts.append("quick")
        if args.only and not args.scaling:
            parts.append("only-" + "-".join(w.id for w in workloads))
        if args.tag:
            parts.append(re.sub(r"[^A-Za-z0-9_.-]", "_", args.tag))
        os.makedirs(args.results, exist_ok=True)
        base = os.path.join(args.results, "-".join(parts))
        with open(base + ".txt", "w") as f:
            f.write(text)
        with open(base + ".tsv", "w") as f:
            f.write("".join(f"# {h}\n" for h in header) + tsv)
        sys.stdout.write(text)
        log(f"wrote {base}.txt and {base}.tsv")
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
        rc = 130
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        for s in servers:
            t = s.log_tails() if hasattr(s, "log_tails") else ""
            if t:
                print(t, file=sys.stderr)
        rc = 1
    finally:
        for s in reversed(servers):
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001
                log(f"stopping {s.name}: {e}")
        for s in servers:
            if isinstance(s, srv.Parvis) and s.stop_rc not in (0, None):
                log(f"parvisd ended with status {s.stop_rc} when stopped")
        if args.keep or ctx.dead:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
