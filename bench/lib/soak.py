"""--soak: sustained mixed load on Parvis, checking every answer and watching
parvisd's memory.

Set-up (not timed): a collection soak/ of MEMBERS 4 KiB files and a calendar
of calgen events (weekly and biweekly series among them). Then CONNS threads,
each with its own keep-alive connection (http.client), send requests back to
back for the whole duration, each request's kind drawn at random from the
mix (by default 50 % GET, 20 % PROPFIND, 20 % PUT, 10 % REPORT):

GET       one of the files nobody writes; 200 and exactly its bytes
PROPFIND  Depth:1 allprop of soak/; 207 with MEMBERS + 1 responses
PUT       overwrite of the connection's own file of soak/ with new random
          4 KiB (PostgreSQL commits it durably); 200 or 204
REPORT    calendar-query of the query week (getetag); 207 with the number
          of responses of the checked answer (the hits computed by calgen)

Anything else (another status, a wrong count or body, a connection error,
a timeout) is an error. No request is started after the deadline and every
started one is completed. After the load, a final check reads back every
overwritten file (it must hold the last body its PUT was acknowledged with),
lists soak/ and runs the query once more with their full guards.

A sampler thread records, every SAMPLE seconds from the start of the load,
parvisd's VmRSS, threads and open files, and PostgreSQL's memory (PSS
summed over the cluster's processes, which counts shared buffers once, and
the plain sum of their VmRSS). Memory growth is measured from the sample at
the end of the warm-up to the one taken when the load ends.
"""

import http.client
import os
import random
import re
import threading
import time
from array import array
from collections import Counter

import calgen
import caldav
import procstat
import report
from client import ALLPROP, Fail, check_listing

KINDS = ("GET", "PROPFIND", "PUT", "REPORT")
DEFAULT_MIX = "get=50,propfind=20,put=20,report=10"
COLL = "soak/"
RSS_LIMIT_PCT = 10.0
RESPONSE_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?response[\s/>]")
MAX_MESSAGES = 10


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        k, _, v = part.partition("=")
        k = k.strip().upper()
        if k not in KINDS or not v.strip():
            raise SystemExit(f"--mix: {part!r} is not KIND=WEIGHT with KIND one of "
                             + ", ".join(x.lower() for x in KINDS))
        mix[k] = float(v)
    if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise SystemExit("--mix: weights must be >= 0 and not all 0")
    return {k: mix.get(k, 0.0) for k in KINDS}


def status_mib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def pss_mib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024.0


def count_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, int(round(p / 100 * (len(sorted_vals) - 1))))]


class Worker:
    """One connection's thread; its counters are read by the sampler (ints
    and array lengths only: safe under the GIL)."""

    def __init__(self, soak, i):
        self.soak = soak
        self.i = i
        self.rnd = random.Random(f"parvis-soak-{i}")
        self.lat = {k: array("f") for k in KINDS}
        self.errors = {k: 0 for k in KINDS}
        self.reconnects = 0
        self.put_path = soak.coll + soak.pool[i]
        self.last_put = soak.bodies[soak.pool[i]]

    def run(self):
        s = self.soak
        cl = s.server.client
        kinds, cum = s.kinds, s.cum
        get_names = s.get_names
        conn = None
        while not s.stop.is_set():
            kind = self.rnd.choices(kinds, cum_weights=cum)[0]
            body = None
            if kind == "GET":
                name = get_names[self.rnd.randrange(len(get_names))]
                req = ("GET", s.coll + name, None, None)
            elif kind == "PROPFIND":
                req = ("PROPFIND", s.coll, ALLPROP, {"Depth": "1"})
            elif kind == "PUT":
                body = self.rnd.randbytes(4096)
                req = ("PUT", self.put_path, body, {"Content-Type": "application/octet-stream"})
            else:
                req = ("REPORT", s.cal, caldav.QUERY_BODY, {"Depth": "1"})
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = cl.connect()
                st, r, data = cl.request(conn, *req)
            except (OSError, http.client.HTTPException) as e:
                self.errors[kind] += 1
                s.error(kind, type(e).__name__, f"{req[0]} {req[1]}: {type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                    conn = None
                s.stop.wait(0.05)  # no hot loop against a server that is gone
                continue
            self.lat[kind].append(time.perf_counter() - t0)
            problem = None
            if kind == "GET":
                if st != 200:
                    problem = f"status {st}"
                elif data != s.bodies[name]:
                    problem = f"{len(data)} bytes, not the file's content"
            elif kind == "PUT":
                if st in (200, 204):
                    self.last_put = body
                else:
                    problem = f"status {st}"
            elif st != 207:
                problem = f"status {st}"
            else:
                n = len(RESPONSE_RE.findall(data))
                want = s.want_propfind if kind == "PROPFIND" else s.want_report
                if n != want:
                    problem = f"{n} responses, expected {want}"
            if problem:
                self.errors[kind] += 1
                short = problem if problem.startswith("status") else \
                    re.sub(r"\d+", "N", problem)
                s.error(kind, short, f"{req[0]} {req[1]}: {problem} ({data[:120]!r})")
            if r.will_close:
                self.reconnects += 1
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


class Soak:
    def __init__(self, ctx, server, args):
        self.ctx = ctx
        self.server = server
        self.args = args
        self.conns = args.connections
        self.duration = args.soak * 60.0
        self.warmup = float(args.warmup)
        self.interval = float(args.sample)
        self.mix = parse_mix(args.mix)
        self.kinds = [k for k in KINDS if self.mix[k] > 0]
        acc, self.cum = 0.0, []
        for k in self.kinds:
            acc += self.mix[k]
            self.cum.append(acc)
        self.members = max(200, self.conns + 100)
        self.coll = server.base + COLL
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.err_kinds = Counter()
        self.messages = []
        self.samples = []
        self.seen = {}   # (worker, kind) -> latencies already looked at by sample()
        self.t0 = None

    # ------------------------------------------------------------ set-up
    def setup(self, log):
        cl = self.server.client
        names, bodies = self.ctx.files("SOAK", self.members)
        self.names = names
        self.bodies = dict(zip(names, bodies))
        self.pool = names[:self.conns]          # one overwritten file per connection
        self.get_names = names[self.conns:]     # read-only
        st, _, data = cl.once("MKCOL", self.coll)
        if st != 201:
            raise Fail(f"MKCOL {self.coll}: status {st} {data[:200]!r}")
        c = cl.connect()
        try:
            for nm, b in zip(names, bodies):
                st, _, data = cl.request(c, "PUT", self.coll + nm, body=b,
                                         headers={"Content-Type": "application/octet-stream"})
                if st != 201:
                    raise Fail(f"set-up PUT {nm}: status {st} {data[:200]!r}")
        finally:
            c.close()
        check_listing(cl, self.coll, names)
        self.want_propfind = self.members + 1
        log(f"set-up: {self.coll} with {self.members} files of 4 KiB")

        self.events = calgen.generate(self.args.events, prefix="soak")
        t = caldav.Target(self.server, len(self.events), self.events, "parvis", "Parvis")
        self.target = t
        t.cal = self.server.new_calendar("soak")
        self.cal = t.cal
        c = cl.connect()
        try:
            for ev in self.events:
                st, _, data = cl.request(c, "PUT", t.cal + ev.name, body=ev.ics(),
                                         headers={"If-None-Match": "*",
                                                  "Content-Type": caldav.ICAL_CT})
                if st != 201:
                    raise Fail(f"set-up PUT {ev.name}: status {st} {data[:200]!r}")
        finally:
            c.close()
        t.model = {e.name: e for e in self.events}
        self.want_report = self.check_report()
        self.stats = calgen.stats(self.events)
        log(f"set-up: calendar {t.cal} with {len(self.events)} events "
            f"({self.stats['series']} series), {self.want_report} hits in the query week")

    def check_report(self):
        """The query with caldav's full guard (names compared with the model);
        returns the number of DAV:response elements of the answer."""
        st, _, data = self.server.client.once("REPORT", self.cal, body=caldav.QUERY_BODY,
                                              headers={"Depth": "1"})
        caldav.Query().guard(self.target, st, data)
        return len(RESPONSE_RE.findall(data))

    # ------------------------------------------------------------ errors
    def error(self, kind, short, full):
        with self.lock:
            self.err_kinds[f"{kind}: {short}"] += 1
            if len(self.messages) < MAX_MESSAGES:
                t = time.monotonic() - self.t0 if self.t0 else 0.0
                self.messages.append(f"t={t:.1f}s {full}")

    # ------------------------------------------------------------ sampling
    def sample(self, t):
        s = self.server
        pid = s.proc.pid
        pg_pids, _ = procstat.tree(s.db_roots())
        pg_rss = sum(status_mib(p, "VmRSS:") or 0 for p in pg_pids)
        done, worst = 0, 0.0
        for w in self.workers:
            for k, a in w.lat.items():
                n = len(a)
                seen = self.seen.get((w.i, k), 0)
                if n > seen:
                    worst = max(worst, max(a[seen:n]))
                    self.seen[(w.i, k)] = n
                done += n
        errs = sum(sum(w.errors.values()) for w in self.workers)
        threads = status_mib(pid, "Threads:")
        row = {"t": t, "requests": done, "errors": errs, "max_ms": worst * 1000,
               "rss": status_mib(pid, "VmRSS:"),
               "threads": int(threads * 1024) if threads is not None else None,
               "fds": count_fds(pid), "pg_pss": pss_mib(pg_pids), "pg_rss": pg_rss,
               "pg_procs": len(pg_pids)}
        self.samples.append(row)
        return row

    def sampler(self, log):
        k = 1
        while True:
            due = self.t0 + k * self.interval
            if due >= self.deadline - 0.5:
                return
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            row = self.sample(due - self.t0)
            prev = self.samples[-2]
            rate = (row["requests"] - prev["requests"]) / (row["t"] - prev["t"])
            alive = srv_alive(self.server)
            log(f"soak {row['t']:.0f}/{self.duration:.0f} s: {rate:,.0f} req/s "
                f"(slowest {row['max_ms']:,.0f} ms), errors {row['errors']}, "
                f"parvisd {fmt_mib(row['rss'])} MiB "
                f"({row['threads']} threads, {row['fds']} fds), PostgreSQL "
                f"{fmt_mib(row['pg_pss'])} MiB PSS ({row['pg_procs']} processes)"
                + ("" if alive else "; parvisd is gone"))
            if not alive:
                self.died = row["t"]
                self.stop.set()
                return
            k += 1

    # ------------------------------------------------------------ the run
    def run(self, log):
        self.workers = [Worker(self, i) for i in range(self.conns)]
        self.died = None
        threads = [threading.Thread(target=w.run, daemon=True) for w in self.workers]
        cpu0 = procstat.cpu_seconds(self.server.cpu_roots())
        own0 = os.times()
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.duration
        self.sample(0.0)
        for th in threads:
            th.start()
        sm = threading.Thread(target=self.sampler, args=(log,), daemon=True)
        sm.start()
        self.stop.wait(max(0.0, self.deadline - time.monotonic()))
        # The end sample is taken under load, every connection still open, as
        # the warm-up one was; a last one once the connections are closed.
        if self.died is None and srv_alive(self.server):
            self.sample(time.monotonic() - self.t0)
        self.stop.set()
        for th in threads:
            th.join()
        self.elapsed = time.monotonic() - self.t0
        sm.join()
        if self.died is None and not srv_alive(self.server):
            self.died = self.elapsed
        self.after = None
        if self.died is None:
            time.sleep(1.0)  # parvisd's connection threads exit
            self.after = self.sample(time.monotonic() - self.t0)
            self.samples.pop()
        own1 = os.times()
        self.server_cpu = procstat.cpu_seconds(self.server.cpu_roots()) - cpu0
        self.client_cpu = (own1.user - own0.user) + (own1.system - own0.system)
        self.final_check(log)

    def final_check(self, log):
        """Every overwritten file holds its last acknowledged body; the listing
        and the query answer right (full guards)."""
        if self.died is not None:
            return
        cl = self.server.client
        bad = 0
        c = cl.connect()
        try:
            for w in self.workers:
                st, _, data = cl.request(c, "GET", w.put_path)
                if st != 200 or data != w.last_put:
                    bad += 1
                    self.error("final", "PUT not read back",
                               f"final GET {w.put_path}: status {st}, {len(data)} bytes, "
                               "not the last body acknowledged")
        finally:
            c.close()
        for what, fn in (("listing", lambda: check_listing(cl, self.coll, self.names)),
                         ("query", self.check_report)):
            try:
                fn()
            except Fail as e:
                bad += 1
                self.error("final", f"{what} wrong", f"final {what}: {e}")
        self.final_bad = bad
        log(f"final check: {len(self.workers)} overwritten files read back, listing and query "
            + ("right" if not bad else f"{bad} wrong"))

    # ------------------------------------------------------------ report
    def results(self):
        lat = {k: sorted(x for w in self.workers for x in w.lat[k]) for k in KINDS}
        errs = {k: sum(w.errors[k] for w in self.workers) for k in KINDS}
        final_bad = getattr(self, "final_bad", 0)
        total_req = sum(len(v) for v in lat.values())
        total_err = sum(errs.values()) + final_bad + (1 if self.died is not None else 0)
        after = [r for r in self.samples if r["t"] >= self.warmup - 1e-6]
        start = after[0] if after else None
        end = self.samples[-1] if self.samples else None
        growth = None
        if start and end and start is not end and start["rss"]:
            growth = 100.0 * (end["rss"] - start["rss"]) / start["rss"]
        return lat, errs, total_req, total_err, start, end, growth, final_bad

    def render(self, header):
        lat, errs, total_req, total_err, start, end, growth, final_bad = self.results()
        reasons = []
        if self.died is not None:
            reasons.append(f"parvisd died at t={self.died:.0f} s ({self.server.exit_status()})")
        if total_err:
            reasons.append(f"{total_err:,} errors")
        if growth is None:
            reasons.append("no RSS growth figure (no sample after the warm-up)")
        elif growth >= RSS_LIMIT_PCT:
            reasons.append(f"parvisd RSS grew {growth:+.1f} % (limit {RSS_LIMIT_PCT:.0f} %)")
        self.passed = not reasons
        el = self.elapsed
        mix = " / ".join(f"{k} {self.mix[k] / sum(self.mix.values()) * 100:.0f} %"
                         for k in KINDS if self.mix[k] > 0)
        st = self.stats
        lines = list(header)
        lines += [
            f"load: {self.conns} keep-alive connections (Python http.client, one thread each), "
            f"closed loop, {self.duration / 60:g} min, warm-up {self.warmup:.0f} s, "
            f"sample every {self.interval:.0f} s; mix {mix}",
            f"data: {self.coll} with {self.members} x 4 KiB: {self.conns} overwritten by PUT "
            f"(one per connection, new random content each time), {len(self.get_names)} "
            f"read by GET, PROPFIND Depth:1 allprop expects {self.want_propfind} responses; "
            f"calendar {self.cal} with {len(self.events)} events ({st['series']} series, "
            f"{st['with_exdate']} with EXDATE, {st['allday']} all-day), calendar-query of "
            f"{calgen.QUERY_START:%Y-%m-%d} to {calgen.QUERY_END:%Y-%m-%d} expects "
            f"{self.want_report} responses",
            "",
            f"result: {'PASS' if self.passed else 'FAIL: ' + '; '.join(reasons)}",
            "",
            f"duration {el:.1f} s; {total_req:,} requests, {total_req / el:,.1f} req/s; "
            f"errors {total_err:,}",
        ]
        rows = [["kind", "requests", "share %", "req/s", "p50 ms", "p99 ms", "max ms",
                 "errors"]]
        for k in KINDS:
            v = lat[k]
            rows.append([k, f"{len(v):,}", f"{100 * len(v) / total_req:.1f}" if total_req
                         else "-", report.fmt(len(v) / el),
                         report.fmt(pct(v, 50) * 1000 if v else None),
                         report.fmt(pct(v, 99) * 1000 if v else None),
                         report.fmt(v[-1] * 1000 if v else None), f"{errs[k]:,}"])
        every = sorted(x for v in lat.values() for x in v)
        rows.append(["all", f"{total_req:,}", "100", report.fmt(total_req / el),
                     report.fmt(pct(every, 50) * 1000 if every else None),
                     report.fmt(pct(every, 99) * 1000 if every else None),
                     report.fmt(every[-1] * 1000 if every else None),
                     f"{sum(errs.values()):,}"])
        lines += [""] + report.table(rows)
        lines.append("")
        if start and end:
            lines.append(
                f"parvisd VmRSS: {fmt_mib(start['rss'])} MiB after the warm-up "
                f"(t={start['t']:.0f} s) -> {fmt_mib(end['rss'])} MiB at the end "
                f"(t={end['t']:.0f} s): "
                + (f"{growth:+.1f} %" if growth is not None else "-")
                + f" (limit {RSS_LIMIT_PCT:.0f} %); at the start of the load "
                f"{fmt_mib(self.samples[0]['rss'])} MiB, highest sample "
                f"{fmt_mib(max(r['rss'] or 0 for r in self.samples))} MiB"
                + (f", 1 s after the load (connections closed) {fmt_mib(self.after['rss'])} MiB"
                   if self.after else ""))
            pg_growth = (100.0 * (end["pg_pss"] - start["pg_pss"]) / start["pg_pss"]
                         if start["pg_pss"] else None)
            lines.append(
                f"PostgreSQL (PSS over the cluster's processes): {fmt_mib(start['pg_pss'])} -> "
                f"{fmt_mib(end['pg_pss'])} MiB"
                + (f" ({pg_growth:+.1f} %)" if pg_growth is not None else "")
                + f"; sum of VmRSS {fmt_mib(start['pg_rss'])} -> {fmt_mib(end['pg_rss'])} MiB; "
                f"processes {start['pg_procs']} -> {end['pg_procs']}")
            lines.append(f"parvisd threads {start['threads']} -> {end['threads']}, open files "
                         f"{start['fds']} -> {end['fds']}"
                         + (f"; after the load {self.after['threads']} threads, "
                            f"{self.after['fds']} open files" if self.after else ""))
        if total_req:
            lines.append(
                f"server CPU (parvisd + PostgreSQL): {self.server_cpu:.1f} s, "
                f"{self.server_cpu * 1000 / total_req:.3f} ms/req, "
                f"{self.server_cpu / el:.2f} cores on average; client CPU "
                f"{self.client_cpu:.1f} s ({100 * self.client_cpu / el:.0f} % of a core)")
        recon = sum(w.reconnects for w in self.workers)
        lines.append(f"connections closed by the server (Connection: close): {recon}; "
                     f"final check: {len(self.workers)} overwritten files read back, listing "
                     f"and query with full guards: "
                     + ("right" if self.died is None and not final_bad else
                        "not run" if self.died is not None else f"{final_bad} wrong"))
        if self.err_kinds:
            lines.append("errors by kind: " + ", ".join(f"{k} x{n:,}" for k, n in
                                                       self.err_kinds.most_common()))
            lines.append("first errors:")
            lines += [f"  {m}" for m in self.messages]
        for n in self.ctx.notes:
            lines.append(f"note: {n}")
        lines += ["", f"series (every {self.interval:.0f} s from the start of the load; "
                      "req/s and the slowest request over the interval ending there; "
                      "PostgreSQL PSS summed over "
                      "its processes; the last row: 1 s after the load, connections "
                      "closed):"]
        rows = [["t s", "req/s", "max ms", "errors", "parvisd RSS MiB", "threads", "fds",
                 "PostgreSQL PSS MiB", "PostgreSQL procs"]]
        prev = None
        for r in self.samples + ([self.after] if self.after else []):
            rate = ((r["requests"] - prev["requests"]) / (r["t"] - prev["t"])
                    if prev and r["t"] > prev["t"] else None)
            label = f"{r['t']:.0f}" + (" (after)" if r is self.after else "")
            if r is self.after:
                rate = None
            rows.append([label, report.fmt(rate) if rate is not None else "-",
                         report.fmt(r["max_ms"]) if rate is not None else "-",
                         f"{r['errors']:,}", fmt_mib(r["rss"]), str(r["threads"]),
                         str(r["fds"]), fmt_mib(r["pg_pss"]), str(r["pg_procs"])])
            prev = r
        lines += report.table(rows)
        return "\n".join(lines) + "\n"


def fmt_mib(v):
    return "-" if v is None else f"{v:.1f}"


def srv_alive(server):
    import servers
    return all(servers.pid_alive(p) for p in server.cpu_roots())
