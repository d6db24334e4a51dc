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

import files  # noqa: E402
import procstat  # noqa: E402
import report  # noqa: E402
import servers as srv  # noqa: E402
from client import Fail  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH_DIR)
ALL_SERVERS = ["parvis", "apache", "nginx", "lighttpd"]


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


def machine_header(args, servers, mode):
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
    wrk = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "wrk"], capture_output=True,
                         text=True).stdout.strip()
    lines = [
        f"Parvis benchmark ({mode}) {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM, "
        f"{platform.system()} {platform.release()}, load average at start {' '.join(load)}",
        f"rounds: {args.rounds}; wrk duration {args.duration} s; "
        f"PUT batches per round: {args.batches}; big file {args.big_mib} MiB; "
        f"client: wrk {wrk or '?'}, Python {platform.python_version()}",
        "versions:",
    ]
    for s in servers:
        lines.append(f"  {s.name}: {s.version()}")
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
                r = guarded(ctx, files.scaling_measure, ctx, s, *c)
                results[n][s.key][rnd - 1] = r
                log(f"round {rnd}/{args.rounds} PROPFIND D1 {n} {s.name}: "
                    + (f"FAIL {r}" if isinstance(r, Fail) else short(r)))
                check_alive(ctx, s, f"scaling {n} round {rnd}")
    return sizes, results


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="1 round, 2 s wrk runs, 1 PUT batch: a smoke test, not figures")
    ap.add_argument("--only", metavar="F3,F4", help="run only these workloads")
    ap.add_argument("--rounds", type=int, help="rounds (default 3, 1 with --quick)")
    ap.add_argument("--scaling", action="store_true",
                    help="PROPFIND Depth:1 p50 at 100, 1,000 and 10,000 members instead of F1-F6")
    ap.add_argument("--servers", default=",".join(ALL_SERVERS),
                    help="comma-separated subset of " + ",".join(ALL_SERVERS))
    ap.add_argument("--build", default=os.environ.get("PARVIS_BUILD_DIR",
                                                      os.path.join(ROOT, "build")),
                    help="directory holding parvisd and parvisctl (default build/)")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 5, 2 with --quick)")
    ap.add_argument("--batches", type=int, help="F1/F2 batches per round (default 3, 1 with --quick)")
    ap.add_argument("--big-mib", type=int, default=200, help="F5 file size in MiB (default 200)")
    ap.add_argument("--results", default=os.path.join(BENCH_DIR, "results"),
                    help="directory for the result files (default bench/results)")
    ap.add_argument("--tag", help="suffix for the result file names")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, data)")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
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
    workloads = [] if args.scaling else selected_workloads(args.only)

    tmp = tempfile.mkdtemp(prefix="parvis-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    log(f"temp dir {tmp}")
    ctx = Ctx(args, tmp)
    password = secrets.token_urlsafe(12)
    servers = srv.make_servers(keys, tmp, password, args.build)

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
        mode = "scaling" if args.scaling else ("quick" if args.quick else "files")
        header = machine_header(args, servers, mode)
        if args.scaling:
            sizes, results = run_scaling(ctx, servers, args)
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
        if args.scaling:
            text, tsv = report.render_scaling(header, sizes, servers, results, args.rounds,
                                              ctx.notes)
        else:
            text, tsv = report.render(header, workloads, servers, results, args.rounds,
                                      ctx.notes)
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        parts = [day]
        if args.scaling:
            parts.append("scaling")
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
