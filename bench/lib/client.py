"""HTTP client side of the benchmark: Debian python3 standard library only.

Client          Basic-auth requests over http.client (keep-alive connections)
put_batch()     N PUTs over C concurrent connections (threads)
listing()       PROPFIND Depth:1 -> hrefs, for the member-count guards
run_wrk()       wrk with a Lua script from bench/lua, parsed summary
"""

import base64
import hashlib
import http.client
import os
import re
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

ALLPROP = (b'<?xml version="1.0" encoding="utf-8"?>\n'
           b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
XML_CT = 'application/xml; charset="utf-8"'
LUA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lua")


class Fail(Exception):
    """A wrong answer: the measurement is replaced by FAIL in the table."""


class Client:
    def __init__(self, host, port, user, password, timeout=600):
        """USER None: requests without an Authorization header."""
        self.host, self.port, self.timeout = host, port, timeout
        self.auth = ("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                     if user is not None else None)

    def url(self, path):
        return f"http://{self.host}:{self.port}{path}"

    def connect(self):
        c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                       blocksize=1 << 20)
        c.connect()
        return c

    def request(self, conn, method, path, body=None, headers=None):
        """One request on CONN; returns (status, response, body bytes)."""
        h = {"Authorization": self.auth} if self.auth else {}
        if body is not None and method in ("PROPFIND", "PROPPATCH", "REPORT"):
            h["Content-Type"] = XML_CT
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, r, data

    def once(self, method, path, body=None, headers=None):
        c = self.connect()
        try:
            return self.request(c, method, path, body, headers)
        finally:
            c.close()

    def wire_size(self, resp, body):
        """Approximate bytes on the wire of a response (status line, headers, body)."""
        n = len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n") + 2 + len(body)
        for k, v in resp.getheaders():
            n += len(k) + len(v) + 4
        return n


def parse_multistatus(data):
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise Fail(f"multistatus is not well-formed XML: {e}") from None
    if root.tag != "{DAV:}multistatus":
        raise Fail(f"root element is {root.tag}, not DAV:multistatus")
    out = []
    for r in root.findall("{DAV:}response"):
        href = r.findtext("{DAV:}href") or ""
        out.append(urllib.parse.unquote(urllib.parse.urlsplit(href).path))
    return out


def basename(href):
    return href.rstrip("/").rsplit("/", 1)[-1]


def check_listing(cl, path, names, depth="1"):
    """PROPFIND Depth:1 allprop of PATH must answer 207 with the collection
    itself plus exactly NAMES. Returns (wire bytes, body bytes)."""
    st, r, data = cl.once("PROPFIND", path, body=ALLPROP, headers={"Depth": depth})
    if st != 207:
        raise Fail(f"PROPFIND Depth:{depth} {path}: status {st}, expected 207")
    hrefs = parse_multistatus(data)
    if len(hrefs) != len(names) + 1:
        raise Fail(f"PROPFIND Depth:{depth} {path}: {len(hrefs)} responses, "
                   f"expected {len(names) + 1}")
    got = {basename(h) for h in hrefs}
    missing = [n for n in names if n not in got]
    if missing:
        raise Fail(f"PROPFIND {path}: {len(missing)} members missing (e.g. {missing[0]})")
    return cl.wire_size(r, data), len(data)


def expect_status(cl, method, path, ok, headers=None, body=None):
    st, _, data = cl.once(method, path, body=body, headers=headers)
    if st not in ok:
        raise Fail(f"{method} {path}: status {st}, expected {'/'.join(map(str, ok))}"
                   + (f" ({data[:200]!r})" if data else ""))
    return st


def put_batch(cl, coll, names, bodies, nconn, headers=None, ok=(201, 204)):
    """PUTs names[i] with bodies[i] into COLL over NCONN keep-alive connections.

    Connections are opened before the clock starts. Returns (elapsed seconds,
    list of failures); a failure is any status not in OK or an error.
    HEADERS default to a Content-Type of application/octet-stream.
    The caller's CPU snapshots bracket this call, so they include connection
    set-up; that costs the servers close to nothing next to 1,000 PUTs."""
    conns = [cl.connect() for _ in range(nconn)]
    lock = threading.Lock()
    state = {"next": 0}
    failures = []
    start = threading.Barrier(nconn + 1)

    def worker(c):
        start.wait()
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(names):
                return
            try:
                st, _, _ = cl.request(c, "PUT", coll + names[i], body=bodies[i],
                                      headers=headers or
                                      {"Content-Type": "application/octet-stream"})
                if st not in ok:
                    failures.append(f"PUT {names[i]}: status {st}")
            except (OSError, http.client.HTTPException) as e:
                failures.append(f"PUT {names[i]}: {type(e).__name__}: {e}")
                try:
                    c.close()
                    c.connect()
                except OSError as e2:
                    with lock:
                        left = max(0, len(names) - state["next"])
                        state["next"] = len(names)
                    failures.append(f"reconnect failed ({e2}); {left} PUTs not sent")
                    return

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conns]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.close()
    return elapsed, failures


def describe_failures(failures, total):
    first = failures[0]
    return f"{len(failures)} errors in {total} PUTs, first: {first}" + (
        f"; last: {failures[-1]}" if len(failures) > 1 else "")


def put_file(cl, path, filename, size):
    """Streams FILENAME (SIZE bytes) as one PUT; returns (status, seconds)."""
    c = cl.connect()
    try:
        with open(filename, "rb") as f:
            t0 = time.perf_counter()
            st, _, _ = cl.request(c, "PUT", path, body=f,
                                  headers={"Content-Length": str(size),
                                           "Content-Type": "application/octet-stream"})
            return st, time.perf_counter() - t0
    finally:
        c.close()


def get_stream(cl, path, digest=False):
    """GETs PATH reading the body into a reused 1 MiB buffer.

    Returns (status, bytes, seconds, sha256 hex or None). With digest=False the
    client does nothing with the bytes, so that a fast server is not capped
    by client-side hashing on this 2-core machine."""
    c = cl.connect()
    try:
        h = hashlib.sha256() if digest else None
        buf = bytearray(1 << 20)
        mv = memoryview(buf)
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Authorization": cl.auth})
        r = c.getresponse()
        n = 0
        while True:
            k = r.readinto(mv)
            if not k:
                break
            n += k
            if h:
                h.update(mv[:k])
        return r.status, n, time.perf_counter() - t0, (h.hexdigest() if h else None)
    finally:
        c.close()


_BENCH_RE = re.compile(r"^BENCH (.*)$", re.M)


def run_wrk(cl, path, script, threads, conns, duration, timeout=30, env=None, auth=True):
    """Runs wrk against PATH with bench/lua/SCRIPT; returns its summary dict:
    requests, duration_us, bytes, connect, read, write, status, timeout,
    p50_us, p90_us, p99_us, mean_us, max_us. auth=False sends no
    Authorization header."""
    e = dict(os.environ, BENCH_LUA_DIR=LUA_DIR)
    e.update(env or {})
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", f"{timeout}s",
            "-s", os.path.join(LUA_DIR, script)]
    if auth and cl.auth:
        argv += ["-H", f"Authorization: {cl.auth}"]
    argv.append(cl.url(path))
    p = subprocess.run(argv, capture_output=True, text=True, env=e, stdin=subprocess.DEVNULL)
    m = _BENCH_RE.search(p.stdout)
    if p.returncode != 0 or not m:
        raise Fail(f"wrk failed (exit {p.returncode}): {p.stdout[-500:]}{p.stderr[-500:]}")
    out = {}
    for kv in m.group(1).split():
        k, v = kv.split("=", 1)
        out[k] = float(v)
    return out


def check_wrk(res, expect_bytes):
    """The wrk run must have no errors, and its bytes per response must match
    the size of the response checked by the guard (so that every response
    was the right one, not a short error page)."""
    if res["requests"] <= 0:
        raise Fail("wrk completed no request")
    errs = {k: int(res[k]) for k in ("connect", "read", "write", "status", "timeout") if res[k]}
    if errs:
        raise Fail("wrk errors: " + ", ".join(f"{k} {v}" for k, v in errs.items())
                   + f" in {int(res['requests'])} requests")
    per = res["bytes"] / res["requests"]
    if not (0.8 * expect_bytes - 64 <= per <= 1.25 * expect_bytes + 64):
        raise Fail(f"wrk read {per:.0f} bytes per response, expected about {expect_bytes}")


def closed_loop(cl, method, path, body, headers, conns, duration, check=None):
    """CONNS threads, each on its own keep-alive connection (opened before the
    clock starts), send the same request back to back; no request is started
    after DURATION seconds, and every request started is completed, so
    that the server CPU measured around this call belongs to the requests
    counted (wrk abandons the requests in flight when its time is up: with
    requests of a second or more that is a large share of the CPU).

    CHECK(status, body) returns an error text or None; the first error stops
    the run with a Fail. Returns {requests, elapsed, p50_us, p99_us, bytes}."""
    conn_list = [cl.connect() for _ in range(conns)]
    lock = threading.Lock()
    lat, errors, nbytes = [], [], [0]
    start = threading.Barrier(conns + 1)
    state = {}

    def worker(c):
        start.wait()
        while time.perf_counter() < state["deadline"] and not errors:
            t0 = time.perf_counter()
            try:
                st, _, data = cl.request(c, method, path, body, headers)
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")
                return
            t1 = time.perf_counter()
            err = check(st, data) if check else None
            with lock:
                if err:
                    errors.append(err)
                lat.append(t1 - t0)
                nbytes[0] += len(data)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conn_list]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    state["deadline"] = t0 + duration
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in conn_list:
        c.close()
    if errors:
        raise Fail(f"during the load: {errors[0]}" + (f" ({len(errors)} errors)"
                                                       if len(errors) > 1 else ""))
    if not lat:
        raise Fail("no request completed")
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1e6

    return {"requests": len(lat), "elapsed": elapsed, "p50_us": pct(50), "p99_us": pct(99),
            "bytes": nbytes[0]}
