"""CalDAV workloads C1-C5 of BENCH.md, each with its correctness guard.

A Target is one calendar size on one server ("Parvis" and the peers at the
common size, 2,000 events by default; "Parvis 10k" at the large size). C1
loads a fresh calendar of the target's events (MKCALENDAR, then one PUT per
event with If-None-Match: *) in round 1 (in every round with
--c1-every-round), and C2-C5 of every round read the current calendar; C4
changes it (6 modified, 2 new, 2 deleted) before its measurement. The
calendar is deleted at the end (not measured).

The model of what each calendar holds (name -> calgen.Event) follows the
changes, and every guard compares the server's answer with it: the C2 hit
list is recomputed from the model (calgen.expected_hits) each time.

Load: wrk (2 threads, 8 connections, Lua script lua/dav.lua) when one
request of the workload took less than SLOW_S on the idle server the first
time it was measured on that column; otherwise client.closed_loop (8 Python
threads, no request abandoned in flight), since wrk drops the requests in
flight at the end of its run, whose server CPU would then be charged to the
requests counted.
"""

import copy
import os
import random
import re
import statistics
import time
import urllib.parse
import xml.etree.ElementTree as ET

import calgen
from client import Fail, check_wrk, closed_loop, run_wrk
from files import Metric, RSS, DB
from procstat import Meter

DAV = "{DAV:}"
CAL = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
ICAL_CT = "text/calendar; charset=utf-8"
CONNS = 8
SLOW_S = 0.05      # single-request time above which closed_loop replaces wrk
MULTIGET = 100


class Target:
    """A server at one calendar size; delegates everything else to the server."""

    def __init__(self, server, n, events, key, name):
        self.server = server
        self.n = n
        self.base_events = events
        self.key = key
        self.name = name
        self.cal = None       # path of the current calendar
        self.model = {}       # name -> Event held by the current calendar
        self.broken = None    # Fail: the round's calendar is not usable

    def __getattr__(self, attr):
        return getattr(self.server, attr)

    def expected(self):
        return calgen.expected_hits(self.model.values())


def q_time(d):
    return d.strftime("%Y%m%dT%H%M%SZ")


QUERY_BODY = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{q_time(calgen.QUERY_START)}" end="{q_time(calgen.QUERY_END)}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>
""".encode()

PROPFIND_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <D:prop><D:getetag/><CS:getctag/><D:resourcetype/><D:getcontenttype/><D:sync-token/></D:prop>
</D:propfind>
"""

TOKEN_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>
"""


def multiget_body(hrefs):
    h = "\n".join(f"  <D:href>{urllib.parse.quote(x)}</D:href>" for x in hrefs)
    return (f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
{h}
</C:calendar-multiget>
""").encode()


def sync_body(token):
    return (f"""<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>{token}</D:sync-token>
  <D:sync-level>1</D:sync-level>
  <D:prop><D:getetag/></D:prop>
</D:sync-collection>
""").encode()


# ---------------------------------------------------------------- parsing

class Resp:
    """One DAV:response: href (path, unquoted), status (of the response, or
    None), and props {clark name: (status code, element)}."""

    def __init__(self, el):
        href = el.findtext(DAV + "href") or ""
        self.href = urllib.parse.unquote(urllib.parse.urlsplit(href.strip()).path)
        self.name = self.href.rstrip("/").rsplit("/", 1)[-1]
        self.status = _code(el.findtext(DAV + "status"))
        self.props = {}
        for ps in el.findall(DAV + "propstat"):
            code = _code(ps.findtext(DAV + "status"))
            prop = ps.find(DAV + "prop")
            for p in (prop if prop is not None else []):
                self.props[p.tag] = (code, p)

    def ok(self, tag):
        """The element of property TAG if it came with status 200."""
        c, el = self.props.get(tag, (None, None))
        return el if c == 200 else None


def _code(line):
    if not line:
        return None
    m = re.search(r"\s(\d{3})(\s|$)", line)
    return int(m.group(1)) if m else None


def multistatus(st, data, what):
    if st != 207:
        raise Fail(f"{what}: status {st}, expected 207 ({data[:200]!r})")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise Fail(f"{what}: multistatus is not well-formed XML: {e}") from None
    if root.tag != DAV + "multistatus":
        raise Fail(f"{what}: root element {root.tag}, not DAV:multistatus")
    return root, [Resp(r) for r in root.findall(DAV + "response")]


def differ(got, want, what):
    """Fail text for two sets of names, or None."""
    got, want = set(got), set(want)
    if got == want:
        return None
    miss, extra = sorted(want - got), sorted(got - want)
    s = f"{what}: {len(got & want)} of {len(want)} expected"
    if miss:
        s += f", {len(miss)} missing (e.g. {', '.join(miss[:3])})"
    if extra:
        s += f", {len(extra)} unexpected (e.g. {', '.join(extra[:3])})"
    return s


def unfold(text):
    return re.sub(r"\r?\n[ \t]", "", text)


# ------------------------------------------------------------- workloads

class Workload:
    id = "?"
    title = "?"
    kind = "caldav"
    metrics = []


def load_metrics():
    return [Metric("ev_s", "events/s", "+"), Metric("cpu_ms", "server CPU ms/event", "-"),
            Metric("first_s", "events/s, first 1,000", "+"),
            Metric("last_s", "events/s, last 1,000", "+"), DB, RSS]


def load_metrics_req():
    return [Metric("req_s", "req/s", "+"), Metric("p50", "p50 ms", "-"),
            Metric("p99", "p99 ms", "-"), Metric("cpu_ms", "server CPU ms/req", "-"),
            Metric("kib", "KiB/response (body)", "", "size, not a score"), DB, RSS]


# With --bulk-peers, the events a peer receives by PUT in C1.
BULK_PUT = 2000


class Load(Workload):
    id = "C1"

    def __init__(self, n, n_large=None, rounds=1, bulk=False):
        self.metrics = load_metrics()
        k = min(1000, n // 2)
        if k != 1000:
            self.metrics[2].label = f"events/s, first {k:,}"
            self.metrics[3].label = f"events/s, last {k:,}"
        self.title = (f"PUT of {n:,} events into a fresh calendar with If-None-Match: *, "
                      "1 connection" + (f" ({n_large:,} for the large Parvis column)"
                                        if n_large else "")
                      + ("; round 1 only" if rounds == 1 else "")
                      + (f"; Radicale and Xandikos: the first {min(n, BULK_PUT):,} by PUT"
                         " (their figures), the rest written into their storage"
                         if bulk and n > BULK_PUT else ""))

    def run(self, ctx, t, rnd):
        t.broken = None
        t.model = {}
        t.cal = None
        try:
            t.cal = t.server.new_calendar(f"c{t.n}-r{rnd}")
            cl = t.client
            evs = t.base_events
            bodies = [e.ics() for e in evs]
            times = []
            # --bulk-peers: a peer gets the first BULK_PUT events by PUT (the
            # figures), the rest written straight into its storage.
            n_put = len(evs)
            if ctx.args.bulk_peers and hasattr(t.server, "bulk_load"):
                n_put = min(len(evs), BULK_PUT)
            c = cl.connect()
            fails = []
            with Meter(t) as m:
                t0 = time.perf_counter()
                for e, body in zip(evs[:n_put], bodies[:n_put]):
                    st, _, data = cl.request(c, "PUT", t.cal + e.name, body=body,
                                             headers={"If-None-Match": "*",
                                                      "Content-Type": ICAL_CT})
                    times.append(time.perf_counter())
                    if st != 201:
                        fails.append(f"PUT {e.name}: status {st} {data[:200]!r}")
                        if len(fails) >= 10:
                            break
            c.close()
            if n_put < len(evs) and not fails:
                t.server.bulk_load(t.cal, [(e.name, b) for e, b in
                                           zip(evs[n_put:], bodies[n_put:])])
            if fails:
                raise Fail(f"{len(fails)}{'+' if len(fails) >= 10 else ''} PUTs not 201, "
                           f"first: {fails[0]}")
            t.model = {e.name: e for e in evs}
            names = listing(t)
            err = differ(names, t.model, "PROPFIND Depth:1 after the load")
            if err:
                raise Fail(err)
            check_events(t, [evs[0].name, evs[len(evs) // 2].name, evs[-1].name])
        except Fail as e:
            t.broken = Fail(f"C1 failed in this round: {e}")
            raise
        n = len(times)
        k = min(1000, n // 2)
        total = times[-1] - t0
        return {"ev_s": n / total, "cpu_ms": m.cpu * 1000 / n,
                "first_s": k / (times[k - 1] - t0),
                "last_s": k / (times[-1] - times[-k - 1]),
                "db_pct": m.db_pct(), "rss": m.rss}


def listing(t):
    """Names of the calendar's members (PROPFIND Depth:1 getetag), each with a
    non-empty ETag."""
    st, _, data = t.client.once("PROPFIND", t.cal, body=PROPFIND_BODY, headers={"Depth": "1"})
    _, rs = multistatus(st, data, f"PROPFIND Depth:1 {t.cal}")
    names = []
    for r in rs:
        if r.href.rstrip("/") == t.cal.rstrip("/"):
            continue
        et = r.ok(DAV + "getetag")
        if et is None or not (et.text or "").strip():
            raise Fail(f"PROPFIND Depth:1: no getetag for {r.name}")
        names.append(r.name)
    if len(names) != len(set(names)):
        raise Fail("PROPFIND Depth:1: a member listed twice")
    return names


def check_events(t, names):
    for nm in names:
        st, _, data = t.client.once("GET", t.cal + nm)
        uid = t.model[nm].uid
        if st != 200 or f"UID:{uid}" not in unfold(data.decode("utf-8", "replace")):
            raise Fail(f"GET {nm}: status {st}, UID {uid} {'not ' if st == 200 else ''}found")


class Measured(Workload):
    """A REPORT/PROPFIND measured under load after a guard."""
    method = "REPORT"
    depth = "1"

    def __init__(self):
        self.metrics = load_metrics_req()

    def body(self, ctx, t, rnd):
        raise NotImplementedError

    def guard(self, t, st, data):
        """Raises Fail if the answer is wrong."""
        raise NotImplementedError

    def prepare(self, ctx, t, rnd):
        pass

    def run(self, ctx, t, rnd):
        if t.broken:
            raise t.broken
        self.prepare(ctx, t, rnd)
        body = self.body(ctx, t, rnd)
        cl = t.client
        hdrs = {"Depth": self.depth} if self.depth else {}
        # The guard, on the idle server; also times one request.
        t0 = time.perf_counter()
        st, r, data = cl.once(self.method, t.cal, body=body, headers=hdrs)
        single = time.perf_counter() - t0
        self.guard(t, st, data)
        wire = cl.wire_size(r, data)
        size = len(data)
        # The choice is made once per workload and column (the first round
        # that gets here) and kept, so that all rounds use the same tool.
        tool = ctx.tools.setdefault((self.id, t.key),
                                    "wrk" if single < SLOW_S else "closed-loop")
        if tool == "wrk":
            path = os.path.join(ctx.tmp, f"body-{self.id}-{t.key}.xml")
            with open(path, "wb") as f:
                f.write(body)
            env = {"BENCH_METHOD": self.method, "BENCH_DEPTH": self.depth or "-",
                   "BENCH_BODY_FILE": path}
            with Meter(t) as m:
                res = run_wrk(cl, t.cal, "dav.lua", 2, CONNS, ctx.duration, timeout=60,
                              env=env)
            check_wrk(res, wire)
            n = res["requests"]
            secs = res["duration_us"] / 1e6
        else:
            def check(st2, data2):
                if st2 != st or not (0.8 * size - 64 <= len(data2) <= 1.25 * size + 64):
                    return (f"status {st2}, {len(data2)} bytes (the checked answer: "
                            f"{st}, {size} bytes)")
                return None
            with Meter(t) as m:
                res = closed_loop(cl, self.method, t.cal, body, hdrs, CONNS, ctx.duration,
                                  check)
            n = res["requests"]
            secs = res["elapsed"]
        return {"req_s": n / secs, "p50": res["p50_us"] / 1000, "p99": res["p99_us"] / 1000,
                "cpu_ms": m.cpu * 1000 / n, "kib": size / 1024, "db_pct": m.db_pct(),
                "rss": m.rss, "requests": n}


class Query(Measured):
    id = "C2"
    title = ("calendar-query, VEVENT time-range of one week, asking getetag, 8 connections "
             "(hits checked against the count computed from the data)")

    def body(self, ctx, t, rnd):
        return QUERY_BODY

    def guard(self, t, st, data):
        _, rs = multistatus(st, data, "calendar-query")
        want = t.expected()
        got = [r.name for r in rs if r.href.rstrip("/") != t.cal.rstrip("/")]
        for r in rs:
            if r.ok(DAV + "getetag") is None:
                raise Fail(f"calendar-query: no getetag for {r.name}")
        if len(got) != len(set(got)):
            raise Fail("calendar-query: an event listed twice")
        err = differ(got, want, "calendar-query hits")
        if err:
            raise Fail(f"wrong answer ({len(got)} hits, expected {len(want)}): {err}")


class Multiget(Measured):
    id = "C3"
    title = "calendar-multiget of 100 hrefs with calendar-data, 8 connections"

    def pick(self, t):
        names = sorted(t.model)
        step = len(names) / MULTIGET
        return [names[int(i * step)] for i in range(MULTIGET)]

    def body(self, ctx, t, rnd):
        return multiget_body([t.cal + nm for nm in self.pick(t)])

    def guard(self, t, st, data):
        _, rs = multistatus(st, data, "calendar-multiget")
        want = self.pick(t)
        err = differ([r.name for r in rs], want, "calendar-multiget responses")
        if err or len(rs) != MULTIGET:
            raise Fail(err or f"calendar-multiget: {len(rs)} responses for {MULTIGET} hrefs")
        for r in rs:
            cd = r.ok(CAL + "calendar-data")
            text = unfold(cd.text or "") if cd is not None else ""
            if "BEGIN:VEVENT" not in text or f"UID:{t.model[r.name].uid}" not in text:
                raise Fail(f"calendar-multiget: {r.name} without its VEVENT data")
            if r.ok(DAV + "getetag") is None:
                raise Fail(f"calendar-multiget: {r.name} without getetag")


class Sync(Measured):
    id = "C4"
    title = ("sync-collection from the token taken before 10 changes (6 modified, 2 new, "
             "2 deleted), 8 connections")

    def prepare(self, ctx, t, rnd):
        """Takes the token, then makes the 10 changes (not measured)."""
        cl = t.client
        st, _, data = cl.once("PROPFIND", t.cal, body=TOKEN_BODY, headers={"Depth": "0"})
        _, rs = multistatus(st, data, "PROPFIND sync-token")
        tok = rs[0].ok(DAV + "sync-token") if rs else None
        if tok is None or not (tok.text or "").strip():
            raise Fail("no DAV:sync-token on the calendar")
        self.token = tok.text.strip()
        r = random.Random(f"C4-{t.n}-{rnd}")
        pick = r.sample(sorted(t.model), 8)
        mod, gone = pick[:6], pick[6:]
        new = []
        for j in range(2):
            nm = f"new-r{rnd}-{j}.ics"
            new.append(calgen.new_event(100000 + 10 * rnd + j, nm,
                                        f"new-r{rnd}-{j}-{t.n}@bench.parvis.example",
                                        f"new-{t.n}-{rnd}-{j}"))
        c = cl.connect()
        try:
            for nm in mod:
                ev = copy.copy(t.model[nm])
                ev.seq += 1
                ev.summary_extra = f" (modifié, tour {rnd})"
                st, _, data = cl.request(c, "PUT", t.cal + nm, body=ev.ics(),
                                         headers={"Content-Type": ICAL_CT})
                if st not in (201, 204):
                    raise Fail(f"C4 change: PUT {nm}: status {st} {data[:200]!r}")
                t.model[nm] = ev
            for ev in new:
                st, _, data = cl.request(c, "PUT", t.cal + ev.name, body=ev.ics(),
                                         headers={"If-None-Match": "*", "Content-Type": ICAL_CT})
                if st != 201:
                    raise Fail(f"C4 change: PUT {ev.name}: status {st} {data[:200]!r}")
                t.model[ev.name] = ev
            for nm in gone:
                st, _, data = cl.request(c, "DELETE", t.cal + nm)
                if st not in (200, 204):
                    raise Fail(f"C4 change: DELETE {nm}: status {st} {data[:200]!r}")
                del t.model[nm]
        finally:
            c.close()
        self.changed = set(mod) | {e.name for e in new}
        self.deleted = set(gone)

    def body(self, ctx, t, rnd):
        return sync_body(self.token)

    def guard(self, t, st, data):
        _, rs = multistatus(st, data, "sync-collection")
        changed = [r.name for r in rs if r.status is None]
        deleted = [r.name for r in rs if r.status == 404]
        other = [f"{r.name} ({r.status})" for r in rs if r.status not in (None, 404)]
        if other:
            raise Fail(f"sync-collection: unexpected statuses: {', '.join(other[:3])}")
        for r in rs:
            if r.status is None and r.ok(DAV + "getetag") is None:
                raise Fail(f"sync-collection: {r.name} without getetag")
        errs = [e for e in (differ(changed, self.changed, "changed members"),
                            differ(deleted, self.deleted, "deleted members (404)")) if e]
        if errs or len(changed) != 8 or len(deleted) != 2:
            raise Fail(f"sync-collection: {len(changed)} changed + {len(deleted)} deleted, "
                       f"expected 8 + 2" + (": " + "; ".join(errs) if errs else
                                            " (duplicates)"))


class Listing(Measured):
    id = "C5"
    title = ("PROPFIND Depth:1 of the calendar (getetag, getctag, resourcetype, "
             "getcontenttype, sync-token), 8 connections")
    method = "PROPFIND"

    def body(self, ctx, t, rnd):
        return PROPFIND_BODY

    def guard(self, t, st, data):
        _, rs = multistatus(st, data, "PROPFIND Depth:1")
        coll = [r for r in rs if r.href.rstrip("/") == t.cal.rstrip("/")]
        members = [r for r in rs if r.href.rstrip("/") != t.cal.rstrip("/")]
        if len(coll) != 1:
            raise Fail(f"PROPFIND Depth:1: {len(coll)} responses for the calendar itself")
        rt = coll[0].ok(DAV + "resourcetype")
        if rt is None or rt.find(CAL + "calendar") is None:
            raise Fail("PROPFIND Depth:1: the calendar's resourcetype lacks C:calendar")
        for tag, label in ((CS + "getctag", "getctag"), (DAV + "sync-token", "sync-token")):
            el = coll[0].ok(tag)
            if el is None or not (el.text or "").strip():
                raise Fail(f"PROPFIND Depth:1: no {label} on the calendar")
        etags = set()
        for r in members:
            et = r.ok(DAV + "getetag")
            if et is None or not (et.text or "").strip():
                raise Fail(f"PROPFIND Depth:1: no getetag for {r.name}")
            ct = r.ok(DAV + "getcontenttype")
            if ct is None or "text/calendar" not in (ct.text or ""):
                raise Fail(f"PROPFIND Depth:1: getcontenttype of {r.name} is not text/calendar")
            etags.add(et.text.strip())
        names = [r.name for r in members]
        err = differ(names, t.model, "PROPFIND Depth:1 members")
        if err or len(names) != len(set(names)):
            raise Fail(err or "PROPFIND Depth:1: a member listed twice")
        if len(etags) != len(names):
            raise Fail(f"PROPFIND Depth:1: {len(etags)} distinct ETags for {len(names)} events")


def workloads(n, n_large=None, c1_rounds=1, bulk=False):
    return [Load(n, n_large, c1_rounds, bulk), Query(), Multiget(), Sync(), Listing()]


def cleanup(ctx, t):
    """DELETE of the round's calendar (not measured; a failure is a note)."""
    if not t.cal:
        return
    try:
        st, _, _ = t.client.once("DELETE", t.cal)
        if st not in (200, 204):
            ctx.note(f"{t.name}: DELETE of the calendar {t.cal} (clean-up) answered {st}")
    except OSError as e:
        ctx.note(f"{t.name}: DELETE of the calendar {t.cal} (clean-up) failed: {e}")
    t.cal = None
    t.model = {}


def data_description(sets):
    lines = []
    for n, evs in sets:
        s = calgen.stats(evs)
        lines.append(
            f"  {n:,} events ({s['bytes'] / 1048576:.1f} MiB of iCalendar): {s['series']} series "
            f"({s['count']} COUNT, {s['until']} UNTIL, {s['open']} open-ended; "
            f"{s['with_exdate']} with EXDATE, {s['exdate_in_query_week']} of them cancelling "
            f"the query-week instance), {s['allday']} all-day, {s['duration']} with DURATION, "
            f"{s['attendees']} with attendees, {s['alarms']} with alarms; "
            f"expected C2 hits {s['hits']}")
    return lines


def median(xs):
    return statistics.median(xs) if xs else None
