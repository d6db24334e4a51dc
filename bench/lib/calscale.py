"""--calendars --scaling: the one-week calendar-query (C2) against calendar size.

For each size (1,000, 10,000 and 100,000 events by default, the calgen data
set of that size, whose query answer grows with the calendar), every server
gets a fresh calendar: Parvis by PUT over LOAD_CONNS keep-alive connections
(If-None-Match: *, every answer must be 201; loading, not measured),
Radicale and Xandikos written straight into their storage (bulk_load in
servers.py: their PUTs are O(N) in the collection size). Then the query of
C2 (VEVENT time-range of the query week, getetag) is sent sequentially on
one connection per server, the servers taking turns (A B C A B C ...):
first one guard query per server (its time is reported apart: a peer
builds its caches there), then timed queries until a server has MAX_QUERIES
of them, or at least MIN_QUERIES and BUDGET_S seconds of them. Every answer
is checked like C2's (the hit names must match the model): a wrong answer is
FAIL and is not timed. A query taking longer than --query-timeout seconds
(the first one: --first-timeout, since Radicale builds its item cache
there) is a "timeout"; that server is then left out of the larger sizes.

Per size and server: p50 (min, max) latency, server CPU per query (Meter
around each query), first-query time, response size, peak RSS, and the
same divided by the hit count, so that cost can be compared with the size
of the answer.
"""

import copy
import http.client
import statistics
import sys
import time

import caldav
import calgen
import client
from client import Fail
from procstat import Meter
from report import fmt, fmt_ratio, table
from servers import pid_alive

SIZES = (1000, 10000, 100000)
QUICK_SIZES = (200, 1000)
LOAD_CONNS = 4
MAX_QUERIES = 20
MIN_QUERIES = 3
BUDGET_S = 30.0
QUICK_MAX, QUICK_BUDGET = 5, 3.0
IDLE_S = 20.0  # a connection idle for longer is replaced before the next query


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Timeout(Fail):
    """A query that took longer than the cap: shown as 'timeout', not FAIL."""


class View:
    """What caldav.Query.guard needs: the calendar path and the expected hits."""

    def __init__(self, cal, want):
        self.cal = cal
        self._want = want

    def expected(self):
        return self._want


def parse_sizes(text):
    try:
        sizes = sorted({int(x.replace("_", "").replace(",", "")) for x in text.split(",")})
    except ValueError:
        raise SystemExit(f"--sizes: not a list of integers: {text!r}") from None
    if not sizes or sizes[0] < 100:
        raise SystemExit("--sizes: every size must be at least 100")
    return sizes


def put_events(cl, cal, names, bodies, nconn):
    """PUT of every event (If-None-Match: *) over NCONN connections; raises
    Fail on any answer other than 201. Returns the elapsed seconds."""
    secs, fails = client.put_batch(cl, cal, names, bodies, nconn,
                                   headers={"If-None-Match": "*",
                                            "Content-Type": caldav.ICAL_CT},
                                   ok=(201,))
    if fails:
        raise Fail(f"load: {client.describe_failures(fails, len(names))}")
    return secs


def load(s, n, names, bodies):
    """A fresh calendar of N events on server S; returns (path, seconds, how)."""
    cal = s.new_calendar(f"scale-{n}")
    t0 = time.perf_counter()
    if hasattr(s, "bulk_load"):
        s.bulk_load(cal, list(zip(names, bodies)))
        return cal, time.perf_counter() - t0, "written into its storage"
    secs = put_events(s.client, cal, names, bodies, LOAD_CONNS)
    return cal, secs, f"PUT over {LOAD_CONNS} connections"


class Col:
    """One server at one size: its connection, its queries so far."""

    def __init__(self, s, cal, want):
        self.s = s
        self.view = View(cal, want)
        self.cl = copy.copy(s.client)
        self.conn = None
        self.used = 0.0
        self.lat, self.cpu, self.rss = [], [], []
        self.spent = 0.0
        self.first = None
        self.size = None
        self.result = None   # Fail or Timeout when it ended early

    def query(self, cap):
        """One checked query, given CAP seconds; returns (seconds, Meter).
        Raises Fail, or Timeout past CAP."""
        # A connection left idle while the other servers answered (Parvis
        # closes one after 60 s idle) is replaced before the clock starts.
        if self.conn is not None and time.monotonic() - self.used > IDLE_S:
            self.close()
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = self.cl.connect()
            # http.client reconnects by itself after a "Connection: close"
            # (Radicale): the cap goes to the connection and its socket.
            self.conn.timeout = cap
            if self.conn.sock is not None:
                self.conn.sock.settimeout(cap)
            try:
                with Meter(self.s) as m:
                    t0 = time.perf_counter()
                    st, _, data = self.cl.request(self.conn, "REPORT", self.view.cal,
                                                  body=caldav.QUERY_BODY,
                                                  headers={"Depth": "1"})
                    secs = time.perf_counter() - t0
                self.used = time.monotonic()
                break
            except TimeoutError:
                self.close()
                raise Timeout(f"timeout: a query took more than {cap:g} s") from None
            except (BrokenPipeError, ConnectionResetError) as e:
                # The server closed the keep-alive connection anyway: once
                # more on a new one.
                self.close()
                if fresh or attempt == 2:
                    raise Fail(f"{type(e).__name__}: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise Fail(f"{type(e).__name__}: {e}") from None
        caldav.Query().guard(self.view, st, data)
        self.size = len(data)
        return secs, m

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def measure_size(ctx, cols, max_q, min_q, budget, cap, first_cap):
    """The guard query on every column, then timed queries in turns."""
    for c in cols:
        try:
            secs, _ = c.query(first_cap)
            c.first = secs
            log(f"  first query {c.s.name}: {secs * 1000:,.0f} ms, right answer "
                f"({len(c.view.expected())} hits)")
        except Fail as e:
            c.result = e
            log(f"  first query {c.s.name}: {e}")
    active = [c for c in cols if c.result is None]
    while active:
        for c in list(active):
            try:
                secs, m = c.query(cap)
            except Fail as e:
                c.result = e
                log(f"  query {len(c.lat) + 1} {c.s.name}: {e}")
                active.remove(c)
                continue
            c.lat.append(secs)
            c.cpu.append(m.cpu)
            c.rss.append(m.rss)
            c.spent += secs
            if len(c.lat) >= max_q or (len(c.lat) >= min_q and c.spent >= budget):
                active.remove(c)
    for c in cols:
        c.close()


def summary(c, hits):
    if c.result is not None:
        return c.result
    lat = [x * 1000 for x in c.lat]
    cpu = sum(c.cpu) * 1000 / len(c.cpu)
    p50 = statistics.median(lat)
    return {"hits": hits, "queries": len(lat), "p50": p50, "min": min(lat), "max": max(lat),
            "first": c.first * 1000, "cpu_ms": cpu, "p50_hit": p50 / hits if hits else None,
            "cpu_hit": cpu / hits if hits else None, "kib": c.size / 1024,
            "rss": max(c.rss) if c.rss else None}


def run(ctx, servers, args):
    """Returns (sizes, results, data lines, load lines); results[n][key] is
    a dict, a Fail, a Timeout, or None (left out after a timeout)."""
    sizes = parse_sizes(args.sizes) if args.sizes else list(QUICK_SIZES if args.quick
                                                            else SIZES)
    max_q = args.queries or (QUICK_MAX if args.quick else MAX_QUERIES)
    min_q = min(MIN_QUERIES, max_q)
    budget = QUICK_BUDGET if args.quick else BUDGET_S
    ctx.cal_scaling = (max_q, min_q, budget)
    results = {n: {} for n in sizes}
    data_lines, load_lines = [], []
    out = {}  # server key -> why it is left out of larger sizes
    for n in sizes:
        log(f"{n:,} events: generating")
        evs = calgen.generate(n)
        t0 = time.monotonic()
        probs = calgen.crosscheck(evs)
        if probs:
            raise RuntimeError(f"generated data inconsistent ({len(probs)} problems), e.g. "
                               + "; ".join(probs[:3]))
        log(f"{n:,} events: cross-checked with icalendar + dateutil "
            f"({time.monotonic() - t0:.0f} s)")
        data_lines += caldav.data_description([(n, evs)])
        want = calgen.expected_hits(evs)
        names = [e.name for e in evs]
        bodies = [e.ics() for e in evs]
        cols = []
        for s in servers:
            if s.key in ctx.dead:
                results[n][s.key] = Fail(f"server dead ({ctx.dead[s.key]})")
                continue
            if s.key in out:
                results[n][s.key] = None
                continue
            t0 = time.monotonic()
            try:
                cal, secs, how = load(s, n, names, bodies)
            except (Fail, OSError, http.client.HTTPException, RuntimeError) as e:
                results[n][s.key] = e if isinstance(e, Fail) else Fail(f"load: {e}")
                log(f"{n:,} events on {s.name}: load FAIL {e}")
                continue
            log(f"{n:,} events on {s.name}: loaded in {secs:.1f} s ({how})")
            load_lines.append(f"{n:,} events on {s.name}: {how} in {secs:,.1f} s"
                              + (f" ({n / secs:,.0f} events/s)" if "PUT" in how else ""))
            cols.append(Col(s, cal, want))
        del bodies, names, evs
        log(f"{n:,} events: queries ({len(want)} hits expected)")
        measure_size(ctx, cols, max_q, min_q, budget, args.query_timeout, args.first_timeout)
        for c in cols:
            r = summary(c, len(want))
            results[n][c.s.key] = r
            if isinstance(r, Timeout):
                out[c.s.key] = f"left out after a timeout at {n:,} events"
            log(f"{n:,} events {c.s.name}: "
                + (str(r) if isinstance(r, Fail) else
                   f"p50 {fmt(r['p50'])} ms over {r['queries']} queries, "
                   f"CPU {fmt(r['cpu_ms'])} ms/query, first {fmt(r['first'])} ms"))
        for s in servers:
            if s.key not in ctx.dead:
                for pid in s.cpu_roots():
                    if not pid_alive(pid):
                        ctx.dead[s.key] = f"{n:,} events"
                        ctx.note(f"{s.name}: process {pid} died during the {n:,}-event "
                                 "measurement")
    return sizes, results, data_lines, load_lines


# ------------------------------------------------------------------ report

COLUMNS = ["events", "server", "hits", "queries", "p50_ms", "min_ms", "max_ms", "first_ms",
           "cpu_ms_per_query", "p50_ms_per_hit", "cpu_ms_per_hit", "kib_per_response",
           "peak_rss_mib", "parvis_ratio_p50", "parvis_ratio_cpu", "status"]


def _status(r):
    if r is None:
        return "not run (a smaller size timed out)"
    if isinstance(r, Timeout):
        return str(r)
    if isinstance(r, Fail):
        return f"FAIL: {r}"
    return "ok"


def _cell(r, key, f=fmt):
    if r is None:
        return "-"
    if isinstance(r, Timeout):
        return "timeout"
    if isinstance(r, Fail):
        return "FAIL"
    return f(r[key]) if r.get(key) is not None else "-"


def _ratio(a, b, key):
    if isinstance(a, dict) and isinstance(b, dict) and a.get(key) and b.get(key):
        return a[key] / b[key]
    return None


def render(header, sizes, servers, results, notes, data_lines, load_lines, params):
    max_q, min_q, budget = params
    hits = {}
    for n in sizes:
        for r in results[n].values():
            if isinstance(r, dict):
                hits[n] = r["hits"]
    out = list(header) + ["data (deterministic, bench/lib/calgen.py):"] + data_lines
    out += ["",
            "C2's calendar-query (VEVENT time-range of the query week, getetag) on one "
            "connection, sequential, the servers taking turns;",
            f"per size and server: one guard query (\"first\"), then up to {max_q} timed "
            f"queries (at least {min_q}, stopping after {budget:g} s of them); every answer "
            "checked (hit names).",
            "p50 over the timed queries (min-max); server CPU = user+sys of the server's "
            "process tree per query (Parvis: parvisd + PostgreSQL).",
            "per hit = the figure divided by the number of events in the answer: flat "
            "when the cost grows as the answer does."]
    parvis = next((s for s in servers if s.key == "parvis"), None)
    peers = [s for s in servers if s is not parvis]

    def block(title, key, ratio=False, f=fmt):
        out.append("")
        out.append(title)
        rows = [["events", "hits"] + [s.name for s in servers]
                + ([f"Parvis/{s.name}" for s in peers] if ratio and parvis else [])]
        for n in sizes:
            row = [f"{n:,}", str(hits.get(n, "-"))]
            for s in servers:
                r = results[n].get(s.key)
                if key in ("p50",) and isinstance(r, dict) and r["queries"] > 1:
                    row.append(f"{fmt(r['p50'])} ({fmt(r['min'])}-{fmt(r['max'])})")
                else:
                    row.append(_cell(r, key, f))
            if ratio and parvis:
                for s in peers:
                    v = _ratio(results[n].get(parvis.key), results[n].get(s.key), key)
                    row.append(fmt_ratio(v))
            rows.append(row)
        out.extend(table(rows))

    block("p50 ms, one connection (min-max)", "p50", ratio=True)
    block("server CPU ms/query", "cpu_ms", ratio=True)
    block("first query ms (the guard query, right after the load)", "first")
    block("p50 ms per hit", "p50_hit")
    block("server CPU ms per hit", "cpu_hit")
    block("timed queries", "queries", f=str)
    block("KiB/response (body)", "kib")
    block("server peak RSS MiB (during the queries)", "rss")
    # Growth from one size to the next: the answer's and each server's.
    if len(sizes) > 1:
        out.append("")
        out.append("growth from one size to the next (x): hits, then each server's p50 "
                   "and server CPU per query")
        rows = [["sizes", "hits"] + [f"{s.name} p50" for s in servers]
                + [f"{s.name} CPU" for s in servers]]
        for a, b in zip(sizes, sizes[1:]):
            row = [f"{a:,} -> {b:,}",
                   f"{hits[b] / hits[a]:.3g}" if hits.get(a) and hits.get(b) else "-"]
            for key in ("p50", "cpu_ms"):
                for s in servers:
                    v = _ratio(results[b].get(s.key), results[a].get(s.key), key)
                    row.append(f"{v:.3g}" if v else "-")
            rows.append(row)
        out.extend(table(rows))
    bad = [(n, s, results[n].get(s.key)) for n in sizes for s in servers
           if results[n].get(s.key) is None or isinstance(results[n].get(s.key), Fail)]
    if bad:
        out.append("")
        for n, s, r in bad:
            out.append(f"  {s.name}, {n:,} events: {_status(r)}")
    if load_lines:
        out.append("")
        out.append("Loads (not measured)")
        out.extend(f"  - {x}" for x in load_lines)
    if notes:
        out.append("")
        out.append("Notes")
        out.extend(f"  - {x}" for x in notes)

    tsv = ["\t".join(COLUMNS)]
    for n in sizes:
        for s in servers:
            r = results[n].get(s.key)
            d = r if isinstance(r, dict) else {}

            def g(k):
                v = d.get(k)
                return "" if v is None else "%.6g" % v
            rp = _ratio(results[n].get(parvis.key), r, "p50") if parvis and s is not parvis \
                else None
            rc = _ratio(results[n].get(parvis.key), r, "cpu_ms") if parvis and s is not parvis \
                else None
            tsv.append("\t".join([
                str(n), s.name, str(hits.get(n, "")), str(d.get("queries", "")),
                g("p50"), g("min"), g("max"), g("first"), g("cpu_ms"), g("p50_hit"),
                g("cpu_hit"), g("kib"), g("rss"),
                "" if rp is None else "%.4g" % rp, "" if rc is None else "%.4g" % rc,
                _status(r).replace("\t", " ").replace("\n", " ")]))
    return "\n".join(out) + "\n", "\n".join(tsv) + "\n"
