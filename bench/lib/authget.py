"""--auth: the cost of HTTP Basic authentication in Parvis.

Two parvisd processes on the same PostgreSQL cluster and database: the
normal one (Basic authentication, Argon2id with its credential cache) and a
second one with `anonymous_user = bench` (requests without an Authorization
header act as user bench). Both serve the same 4 KiB file; wrk GETs it over
8 connections, with the header from the first and without it from the
second, in alternating rounds (A B, A B, ...).
"""

import client
from client import Fail, check_wrk, run_wrk
from files import DB, RSS, Metric
from procstat import Meter

PATH_NAME = "auth-4k.bin"


class AuthGet:
    id = "A1"
    title = "GET of one 4 KiB file, 8 connections: Basic auth vs anonymous_user (no header)"
    kind = "auth"
    metrics = [Metric("req_s", "req/s", "+"), Metric("p50", "p50 ms", "-"),
               Metric("p99", "p99 ms", "-"), Metric("cpu_ms", "server CPU ms/req", "-"),
               DB, RSS]

    def __init__(self, primary, anon):
        self.primary, self.anon = primary, anon
        self.noauth = client.Client(anon.host, anon.port, None, None)
        self.wire = {}

    def setup(self, ctx):
        """PUTs the file through the authenticated server, then checks both
        answers; returns notes."""
        notes = []
        names, bodies = ctx.files("AUTH", 1)
        self.body = bodies[0]
        self.path = self.primary.base + PATH_NAME
        st, _, data = self.primary.client.once("PUT", self.path, body=self.body,
                                               headers={"Content-Type":
                                                        "application/octet-stream"})
        if st not in (201, 204):
            raise Fail(f"PUT {self.path}: status {st} {data[:200]!r}")
        for key, cl in ((self.primary.key, self.primary.client), (self.anon.key, self.noauth)):
            st, r, data = cl.once("GET", self.path)
            if st != 200 or data != self.body:
                raise Fail(f"GET {self.path} ({key}): status {st}, {len(data)} bytes"
                           + (" (wrong content)" if len(data) == len(self.body) else ""))
            self.wire[key] = cl.wire_size(r, data)
        # the authenticated server must really ask for credentials
        st, _, _ = client.Client(self.primary.host, self.primary.port, None, None).once(
            "GET", self.path)
        if st != 401:
            notes.append(f"the authenticated parvisd answers {st}, not 401, to a GET "
                         "without credentials")
        return notes

    def run(self, ctx, s, rnd):
        anon = s is self.anon
        cl = self.noauth if anon else s.client
        with Meter(s) as m:
            res = run_wrk(cl, self.path, "get.lua", 2, 8, ctx.duration, auth=not anon)
        check_wrk(res, self.wire[s.key])
        n = res["requests"]
        return {"req_s": n / (res["duration_us"] / 1e6), "p50": res["p50_us"] / 1000,
                "p99": res["p99_us"] / 1000, "cpu_ms": m.cpu * 1000 / n,
                "db_pct": m.db_pct(), "rss": m.rss, "requests": n}
