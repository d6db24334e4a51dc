#!/usr/bin/env python3
"""Build the seed corpora of tests/fuzz/ from the requests the protocol
tests send, plus the edge cases listed below.

The requests are recorded by harvest_plugin.py while the protocol tests
run (needs the protocol tier: PostgreSQL and a built parvisd):

    PYTHONPATH=tests/fuzz PARVIS_HARVEST=/tmp/requests.jsonl \\
        /usr/bin/python3 -m pytest -p harvest_plugin -m "not heavy" tests/protocol
    /usr/bin/python3 tests/fuzz/harvest.py /tmp/requests.jsonl

Each target's corpus directory tests/fuzz/corpus/fuzz_<name>/ receives
harvest-<sha1> files (replaced on every run: older ones are removed) and
edge-<name> files, but for inputs of open bugs (in tests/fuzz/crashes/);
any other file (crash-*: inputs that once crashed a target) is left alone.  Inputs follow each target's format (see
the comment at the top of tests/fuzz/fuzz_<name>.c): a selector byte
first for headers, xml and filter.  The protocol tests' names are mapped
onto the fuzz store of harness.h (space s1 -> team, s2 -> other, the
host -> example.org), and lock tokens and ETags onto the placeholders of
fuzz_headers.c.
"""

import base64
import hashlib
import json
import os
import re
import sys
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
PER_TARGET = {"fuzz_path": 40, "fuzz_headers": 40, "fuzz_xml": 60,
              "fuzz_ical": 40, "fuzz_filter": 40}

SPACE = "/dav/spaces/team"
CAL = "/dav/calendars/alice/team.work"


# ------------------------------------------------------------ normalising

# The fresh collection of a protocol test (dav_helpers.unique()).
TEST_COLL_RE = r"[a-z][a-z0-9]*-[0-9a-f]{12}"


def norm_path(path):
    path = re.sub(r"^(/dav/spaces/s[12])/%s(?=/|$)" % TEST_COLL_RE, r"\1", path)
    path = re.sub(r"^/dav/spaces/s1(?=/|$)", SPACE, path)
    path = re.sub(r"^/dav/spaces/s2(?=/|$)", "/dav/spaces/other", path)
    path = re.sub(r"^/dav/calendars/([^/]+)/s1\.cal[0-9a-f]{10}(?=/|$)",
                  r"/dav/calendars/\1/team.work", path)
    path = re.sub(r"^/dav/calendars/([^/]+)/s1\.", r"/dav/calendars/\1/team.", path)
    path = re.sub(r"^/dav/calendars/([^/]+)/s2\.", r"/dav/calendars/\1/other.", path)
    for view in ("history", "published", "approvals", "trash"):
        path = re.sub(r"^/dav/%s/s1(?=/|$)" % view, "/dav/%s/team" % view, path)
    path = re.sub(r"^/dav/principals/spaces/s1(?=/|$)", "/dav/principals/spaces/team", path)
    return path


def norm_url(url):
    """Absolute URLs of the test server -> http://example.org/<path>."""
    def repl(m):
        return "http://example.org" + norm_path(m.group(2))
    return re.sub(r"(https?://(?:127\.0\.0\.1|localhost)(?::\d+)?)(/[^\s\"<>]*)?",
                  lambda m: repl(m) if m.group(2) else "http://example.org", url)


def norm_text(s):
    s = re.sub(r"(/dav/spaces/s[12])/%s(?=/|<|\"|$)" % TEST_COLL_RE, r"\1", s)
    s = norm_url(s)
    s = re.sub(r"/dav/spaces/s1/", SPACE + "/", s)
    s = re.sub(r"/dav/calendars/([^/<\s]+)/s1\.cal[0-9a-f]{10}(?=/|<|\"|$)",
               r"/dav/calendars/\1/team.work", s)
    s = re.sub(r"/dav/calendars/([^/<\s]+)/s1\.", r"/dav/calendars/\1/team.", s)
    s = re.sub(r"/dav/principals/spaces/s1/", "/dav/principals/spaces/team/", s)
    return s


def url_path(url):
    return norm_path(urlsplit(url).path)


# ------------------------------------------------------------ selection

def pick(cands, n):
    """One candidate per shape (the shortest), then n spread over the
    shapes in order."""
    best = {}
    for shape, data in cands:
        if shape not in best or len(data) < len(best[shape]):
            best[shape] = data
    items = [best[k] for k in sorted(best)]
    if len(items) <= n:
        return items
    step = len(items) / float(n)
    return [items[int(i * step)] for i in range(n)]


def xml_shape(body):
    names = re.findall(rb"<([A-Za-z][\w.-]*:)?([A-Za-z][\w.-]*)", body)
    attrs = re.findall(rb"\s([\w:-]+)=\"", body)
    return b" ".join(n[1] for n in names[:40]) + b"|" + b",".join(sorted(set(attrs)))


def ics_shape(body):
    names = re.findall(rb"^([A-Z][A-Z0-9-]*)[;:]", body.replace(b"\r", b""), re.M)
    params = re.findall(rb";([A-Z-]+)=", body)
    values = re.findall(rb"^(?:BEGIN|RRULE|DTSTART[^:]*)[:;]([^\r\n]*)",
                        body.replace(b"\r", b""), re.M)
    return b",".join(sorted(set(names))) + b"|" + b",".join(sorted(set(params))) + \
        b"|" + b"/".join(re.sub(rb"\d", b"0", v)[:30] for v in values[:8])


# ------------------------------------------------------------ per target

HEADER_NAMES = ["If", "Depth", "Timeout", "Destination", "Overwrite", "Range",
                "If-Range", "If-Match", "If-None-Match", "If-Modified-Since",
                "If-Unmodified-Since", "Lock-Token"]

# fuzz_headers.c's request table: method -> selector (low four bits)
HEADER_SEL = {"GET": 0, "HEAD": 1, "PROPFIND": 3, "COPY": 5, "MOVE": 6,
              "LOCK": 7, "UNLOCK": 9, "DELETE": 10, "PUT": 11,
              "PROPPATCH": 12, "MKCOL": 15}

TOKEN_RE = re.compile(r"(?:urn:uuid|opaquelocktoken):[0-9a-fA-F-]{36}")
ETAG_RE = re.compile(r'"[0-9a-f]{32,64}"')


def header_seed(rec):
    method = rec["method"]
    if method not in HEADER_SEL:
        return None
    hdrs = {k: v for k, v in rec["headers"].items()}
    wanted = [(k, hdrs[k]) for k in HEADER_NAMES if k in hdrs]
    if not wanted:
        return None
    sel = HEADER_SEL[method]
    if method == "LOCK" and not rec.get("body"):
        sel = 8
    if method == "PROPFIND" and not url_path(rec["url"]).endswith("/"):
        sel = 4
    if method == "DELETE" and url_path(rec["url"]).endswith("/"):
        sel = 13
    lines = []
    for k, v in wanted:
        v = TOKEN_RE.sub("{token}", v)
        v = ETAG_RE.sub("{etag}", v)
        v = norm_url(v)
        if k == "Destination" and v.startswith("/"):
            v = norm_path(v)
        lines.append("%s: %s" % (k, v))
    text = "\n".join(lines) + "\n"
    shape = (method, tuple(sorted(k for k, _ in wanted)),
             re.sub(r"\d", "0", re.sub(r"/[\w.-]+", "/x", text))[:80])
    return repr(shape), bytes([sel]) + text.encode("utf-8")


def xml_selector(rec, root):
    method, path = rec["method"], url_path(rec["url"])
    cal = path.startswith("/dav/calendars/")
    depth = {"0": 1, "1": 2, "infinity": 3}.get(
        rec["headers"].get("Depth", "").strip().lower(), 0)
    if method == "PROPFIND":
        if path.startswith("/dav/principals/"):
            sel = 2
        elif cal:
            sel = 3
        else:
            sel = 0 if path.endswith("/") else 1
    elif method == "PROPPATCH":
        sel = 5 if cal else 4
    elif method == "LOCK":
        sel = 6
    elif method == "REPORT":
        if root in (b"principal-property-search", b"principal-search-property-set"):
            sel = 9
        elif root == b"version-tree":
            sel = 15
        elif root in (b"calendar-query", b"calendar-multiget", b"free-busy-query"):
            sel = 10
        else:
            sel = 10 if cal else 8
    elif method == "ACL":
        sel = 11 | 0x40   # as mgr, who may change ACLs
    elif method == "MKCALENDAR":
        sel = 13
    elif method == "MKCOL":
        sel = 14
    else:
        return None
    return sel | depth << 4


def root_of(body):
    m = re.search(rb"<([A-Za-z][\w.-]*:)?([A-Za-z][\w.-]*)[\s>/]",
                  re.sub(rb"<\?.*?\?>", b"", body, flags=re.S))
    return m.group(2) if m else b""


def harvest(recs):
    out = {t: [] for t in PER_TARGET}
    for rec in recs:
        body = base64.b64decode(rec["body"]) if "body" in rec else b""
        path = urlsplit(rec["url"]).path
        out["fuzz_path"].append((re.sub(r"[0-9a-f]{8,}", "H", norm_path(path)),
                                 norm_path(path).encode("utf-8")))
        dest = rec["headers"].get("Destination")
        if dest:
            d = norm_url(dest)
            out["fuzz_path"].append(("D" + re.sub(r"[0-9a-f]{8,}", "H", d), d.encode()))
        h = header_seed(rec)
        if h is not None:
            out["fuzz_headers"].append(h)
        if body.lstrip().startswith(b"<"):
            body_n = norm_text(body.decode("utf-8", "replace")).encode("utf-8")
            root = root_of(body_n)
            sel = xml_selector(rec, root)
            if sel is not None:
                out["fuzz_xml"].append((rec["method"].encode() + b" " + xml_shape(body_n),
                                        bytes([sel]) + body_n))
            if root == b"calendar-query":
                m = re.search(rb"<C:filter>(.*)</C:filter>", body_n, re.S)
                if m:
                    prop = re.search(rb"<D:prop>(.*?)</D:prop>", body_n, re.S)
                    p = prop.group(1) if prop else b""
                    s = 2 if b"expand" in p else (3 if b"<C:comp" in p else 1)
                    if rec["headers"].get("Depth") == "0":
                        s |= 4
                    out["fuzz_filter"].append((b"F" + xml_shape(m.group(1)),
                                               bytes([s]) + m.group(1)))
            if root in (b"calendar-query", b"calendar-multiget", b"free-busy-query"):
                out["fuzz_filter"].append((b"R" + root + xml_shape(body_n)[:60],
                                           bytes([0]) + body_n))
        if rec["method"] == "PUT" and b"BEGIN:V" in body:
            out["fuzz_ical"].append((ics_shape(body), body))
    return {t: pick(c, PER_TARGET[t]) for t, c in out.items()}


# ------------------------------------------------------------ edge cases

def xml(sel, body):
    return bytes([sel]) + body.encode("utf-8")


PF = '<?xml version="1.0" encoding="utf-8"?>'
VCAL = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"


def ev(*lines, uid="e@fuzz", kind="VEVENT"):
    return ("BEGIN:%s\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n" % (kind, uid)
            + "".join(l + "\r\n" for l in lines) + "END:%s\r\n" % kind)


def ics(*comps, extra=""):
    return (VCAL + extra + "".join(comps) + "END:VCALENDAR\r\n").encode("utf-8")


EDGES = {
    "fuzz_path": {
        "root": b"/", "dav": b"/dav/", "empty": b"", "relative": b"dav/spaces/team/",
        "dotdot": b"/dav/spaces/team/../other/", "dot-encoded": b"/dav/spaces/team/%2e%2e/x",
        "slash-encoded": b"/dav/spaces/team/a%2Fb", "backslash-encoded": b"/dav/spaces/team/a%5Cb",
        "backslash": b"/dav/spaces/team/a\\b", "nul-encoded": b"/dav/spaces/team/a%00b",
        "ctl-encoded": b"/dav/spaces/team/a%0d%0ab", "percent-short": b"/dav/spaces/team/a%2",
        "percent-bad": b"/dav/spaces/team/a%zz", "overlong": b"/dav/spaces/team/%C0%AF",
        "surrogate": b"/dav/spaces/team/%ED%A0%80", "nfd": b"/dav/spaces/team/Cafe%CC%81.txt",
        "nfc-raw": "/dav/spaces/team/Café/ñ.txt".encode(), "bad-utf8": b"/dav/spaces/team/\xff\xfe",
        "double-slash": b"//dav//spaces//team//a.txt//", "trash": b"/dav/trash/team/old/x.txt",
        "history": b"/dav/history/team/a.txt/2", "published": b"/dav/published/team/doc.odt",
        "approvals": b"/dav/approvals/team/a.txt/extra", "principal": b"/dav/principals/users/alice/",
        "principal-space": b"/dav/principals/spaces/team/", "principal-deep": b"/dav/principals/users/a/b/",
        "cal-home": b"/dav/calendars/alice/", "cal-object": b"/dav/calendars/alice/team.work/e%20v.ics",
        "cal-personal": b"/dav/calendars/alice/team/", "cal-dot": b"/dav/calendars/alice/./x",
        "dest-abs": b"http://example.org:8080/dav/spaces/team/b.txt",
        "dest-https-userinfo": b"https://u:p@example.org:8080/dav/spaces/team/b%20c.txt?q=1",
        "dest-ipv6": b"http://[::1]:8080/dav/spaces/team/", "dest-other": b"http://evil.example/dav/spaces/team/x",
        "dest-noslash": b"http://example.org:8080", "dest-badport": b"http://example.org:80a/x",
        "dest-query": b"/dav/spaces/team/x?y=/../z", "long-segments": b"/dav/spaces/team/" + b"a/" * 600,
    },
    "fuzz_headers": {
        "if-tagged": b"\x00If: <http://example.org/dav/spaces/team/locked.txt> (<{token}> [{etag}])\n",
        "if-not": b"\x0bIf: (Not <urn:uuid:00000000-0000-0000-0000-000000000000>) (<{token}>)\n",
        "if-etag-weak": b"\x0bIf: ([W/{etag}])\n",
        "if-mixed": b"\x00If: (<a>) <http://example.org/x> (<b>)\n",
        "if-unclosed": b"\x00If: (<{token}>\n", "if-empty-list": b"\x00If: ()\n",
        "if-tag-relative": b"\x0aIf: </dav/spaces/team/locked.txt> (<{token}>)\n",
        "if-many": b"\x0aIf: " + b"(<x>) " * 40 + b"(<{token}>)\n",
        "if-token2": b"\x0dDepth: infinity\nIf: </dav/spaces/team/dir/b.txt> (<{token2}>)\n",
        "range-first": b"\x00Range: bytes=0-4\n", "range-suffix": b"\x00Range: bytes=-3\n",
        "range-open": b"\x00Range: bytes=5-\n", "range-multi": b"\x00Range: bytes=0-1,3-4\n",
        "range-unsat": b"\x00Range: bytes=100-200\n", "range-zero-suffix": b"\x00Range: bytes=-0\n",
        "range-huge": b"\x00Range: bytes=18446744073709551615-18446744073709551616\n",
        "range-if-range": b"\x00Range: bytes=1-2\nIf-Range: {etag}\n",
        "range-if-range-date": b"\x00Range: bytes=1-2\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\n",
        "if-match-list": b"\x00If-Match: \"x\", W/{etag}, {etag}\n", "if-none-match-star": b"\x0bIf-None-Match: *\n",
        "ims-rfc850": b"\x00If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\n",
        "ims-asctime": b"\x00If-Modified-Since: Sun Nov  6 08:49:37 1994\n",
        "ius-future": b"\x0bIf-Unmodified-Since: Fri, 31 Dec 9999 23:59:59 GMT\n",
        "ims-negative": b"\x00If-Modified-Since: Sun, 06 Nov 1994 -1:49:37 GMT\n",
        "timeout-list": b"\x07Timeout: Infinite, Second-4100000000\n",
        "timeout-zero": b"\x07Timeout: Second-0\nDepth: 0\n",
        "timeout-overflow": b"\x07Timeout: Second-18446744073709551616\n",
        "lock-refresh": b"\x08If: (<{token}>)\nTimeout: Second-60\n",
        "unlock": b"\x09Lock-Token: <{token}>\n", "unlock-bare": b"\x09Lock-Token: {token}\n",
        "copy-abs": b"\x05Destination: http://example.org/dav/spaces/team/c.txt\nOverwrite: F\nDepth: 0\n",
        "copy-other-host": b"\x05Destination: http://other.example/dav/spaces/team/c.txt\n",
        "copy-onto-locked": b"\x05Destination: /dav/spaces/team/locked.txt\nOverwrite: T\nIf: </dav/spaces/team/locked.txt> (<{token}>)\n",
        "move-into-self": b"\x06Destination: /dav/spaces/team/dir/sub/\n",
        "move-to-trash": b"\x06Destination: /dav/trash/team/dir/\n",
        "move-host-port": b"\x06Host: example.org:8080\nDestination: http://example.org:8080/dav/spaces/other/dir/\n",
        "depth-bad": b"\x03Depth: 2\n", "depth-infinity": b"\x03Depth: Infinity\n",
        "bob-delete": b"\x1a\n", "nobody": b"\x30If: (<{token}>)\n",
    },
    "fuzz_xml": {
        "propfind-empty": xml(0x20, ""),
        "propfind-allprop-include": xml(0x20, PF + '<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:supported-report-set/><D:acl/></D:include></D:propfind>'),
        "propfind-propname": xml(0x11, PF + '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'),
        "propfind-default-ns": xml(0x11, PF + '<propfind xmlns="DAV:"><prop><getetag/><x xmlns=""/><y xmlns="urn:a&amp;b"/></prop></propfind>'),
        "propfind-weird-ns": xml(0x11, PF + '<D:propfind xmlns:D="DAV:"><D:prop><Q:p xmlns:Q="urn:x&amp;y%3C&apos;"/><R:x-y.z xmlns:R="http://a/b?c=d&amp;e"/></D:prop></D:propfind>'),
        "propfind-doctype": xml(0x10, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'),
        "propfind-deep": xml(0x10, PF + '<D:propfind xmlns:D="DAV:"><D:prop>' + "<D:x>" * 300 + "</D:x>" * 300 + "</D:prop></D:propfind>"),
        "propfind-latin1": bytes([0x11]) + b'<?xml version="1.0" encoding="ISO-8859-1"?><D:propfind xmlns:D="DAV:"><D:prop><Z:caf\xe9 xmlns:Z="urn:z"/></D:prop></D:propfind>',
        "propfind-bad-utf8": bytes([0x11]) + b'<D:propfind xmlns:D="DAV:"><D:prop><Z:a\xff xmlns:Z="urn:z"/></D:prop></D:propfind>',
        "propfind-cal": xml(0x13, PF + '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:resourcetype/><C:supported-calendar-component-set/><CS:getctag/><D:sync-token/><D:current-user-privilege-set/></D:prop></D:propfind>'),
        "propfind-principal": xml(0x12, PF + '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/><D:principal-URL/><D:group-membership/><C:calendar-user-address-set/></D:prop></D:propfind>'),
        "proppatch-cdata-comment": xml(0x04, PF + '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:a><![CDATA[<x>&]]><!-- c --><?pi x?><Z:child attr="1">t</Z:child></Z:a></D:prop></D:set><D:remove><D:prop><Z:color xmlns:Z="urn:example:z"/></D:prop></D:remove></D:propertyupdate>'),
        "proppatch-protected": xml(0x04, PF + '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag><D:displayname>n</D:displayname></D:prop></D:set></D:propertyupdate>'),
        "proppatch-win32": xml(0x04, PF + '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>Mon, 02 Jan 2023 08:00:00 GMT</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>'),
        "proppatch-xmllang": xml(0x04, PF + '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:t xml:lang="fr" xmlns:Q="urn:q"><Q:inner/></Z:t></D:prop></D:set></D:propertyupdate>'),
        "proppatch-cal-color": xml(0x05, PF + '<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><A:calendar-color>#FF0000FF</A:calendar-color><C:calendar-description>d</C:calendar-description><C:calendar-timezone>BEGIN:VCALENDAR</C:calendar-timezone></D:prop></D:set></D:propertyupdate>'),
        "lock-shared-owner-xml": xml(0x16, PF + '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><Z:person xmlns:Z="urn:z" a="&lt;"><D:href>mailto:a@b</D:href>text &amp; more</Z:person></D:owner></D:lockinfo>'),
        "lock-new": xml(0x37, PF + '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>'),
        "lock-bad-type": xml(0x06, PF + '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>'),
        "report-unknown": xml(0x08, PF + '<Z:nope xmlns:Z="urn:z"/>'),
        "report-sync-initial": xml(0x28, PF + '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/><D:displayname/></D:prop></D:sync-collection>'),
        "report-sync-infinite": xml(0x08, PF + '<D:sync-collection xmlns:D="DAV:"><D:sync-token>http://parvis.org/ns/sync/3</D:sync-token><D:sync-level>infinite</D:sync-level><D:limit><D:nresults>1</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>'),
        "report-sync-bad-token": xml(0x08, PF + '<D:sync-collection xmlns:D="DAV:"><D:sync-token>http://parvis.org/ns/sync/99999999999999999999</D:sync-token><D:sync-level>1</D:sync-level><D:prop/></D:sync-collection>'),
        "report-pps": xml(0x09, PF + '<D:principal-property-search xmlns:D="DAV:" test="anyof"><D:property-search><D:prop><D:displayname/></D:prop><D:match match-type="starts-with">al</D:match></D:property-search><D:property-search><D:prop><C:calendar-user-address-set xmlns:C="urn:ietf:params:xml:ns:caldav"/></D:prop><D:match>mailto:</D:match></D:property-search><D:prop><D:displayname/></D:prop></D:principal-property-search>'),
        "report-psps": xml(0x09, PF + '<D:principal-search-property-set xmlns:D="DAV:"/>'),
        "report-version-tree": xml(0x1f, PF + '<D:version-tree xmlns:D="DAV:"><D:prop><D:version-name/><D:getcontentlength/></D:prop></D:version-tree>'),
        "report-multiget": xml(0x2a, PF + '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/dav/calendars/alice/team.work/weekly.ics</D:href><D:href>http://example.org/dav/calendars/alice/team.work/todo.ics</D:href><D:href>/dav/calendars/alice/team.work/../x</D:href><D:href>%zz</D:href></C:calendar-multiget>'),
        "report-freebusy": xml(0x2a, PF + '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20240101T000000Z" end="20240401T000000Z"/></C:free-busy-query>'),
        "acl-grant-deny": xml(0x4b, PF + '<D:acl xmlns:D="DAV:"><D:ace><D:principal><D:href>/dav/principals/users/bob/</D:href></D:principal><D:grant><D:privilege><D:write/></D:privilege><D:privilege><D:read/></D:privilege></D:grant></D:ace><D:ace><D:principal><D:href>/dav/principals/spaces/team/</D:href></D:principal><D:deny><D:privilege><D:all/></D:privilege></D:deny></D:ace></D:acl>'),
        "acl-bad-principal": xml(0x4c, PF + '<D:acl xmlns:D="DAV:"><D:ace><D:principal><D:all/></D:principal><D:grant><D:privilege><Z:x xmlns:Z="urn:z"/></D:privilege></D:grant></D:ace><D:ace><D:principal><D:href>http://other.example/dav/principals/users/x/</D:href></D:principal><D:grant/></D:ace></D:acl>'),
        "mkcalendar": xml(0x0d, PF + '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>New</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/><C:comp name="VBOGUS"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>'),
        "mkcol-extended": xml(0x0e, PF + '<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>x</D:displayname></D:prop></D:set></D:mkcol>'),
        "mgr-proppatch": xml(0x44, PF + '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>bob</D:displayname></D:prop></D:set></D:propertyupdate>'),
        "pieces-propfind": xml(0x90, PF + '<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:lockdiscovery/><D:supportedlock/><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>'),
    },
    "fuzz_ical": {
        "minimal": ics(ev("DTSTART:20240105T100000Z")),
        "no-dtstart": ics(ev("SUMMARY:x")),
        "method": ics(ev("DTSTART:20240105T100000Z"), extra="METHOD:REQUEST\r\n"),
        "two-uids": ics(ev("DTSTART:20240105T100000Z"), ev("DTSTART:20240105T100000Z", uid="other")),
        "two-kinds": ics(ev("DTSTART:20240105T100000Z"), ev(kind="VTODO")),
        "no-uid": (VCAL + "BEGIN:VEVENT\r\nDTSTART:20240105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode(),
        "not-vcalendar": ev("DTSTART:20240105T100000Z").encode(),
        "unterminated": (VCAL + "BEGIN:VEVENT\r\nUID:x\r\nBEGIN:VALARM\r\n").encode(),
        "empty-vcalendar": ics(),
        "vfreebusy": ics(ev("DTSTART:20240101T000000Z", "DTEND:20240102T000000Z", "FREEBUSY:20240101T100000Z/PT1H", kind="VFREEBUSY")),
        "valarm-only": ics("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n"),
        "windows-zone": ics(ev("DTSTART;TZID=Pacific Standard Time:20240301T090000", "DTEND;TZID=Pacific Standard Time:20240301T100000", "RRULE:FREQ=WEEKLY;COUNT=10")),
        "unknown-zone": ics(ev("DTSTART;TZID=Mars/Olympus:20240301T090000", "RRULE:FREQ=DAILY;UNTIL=20240320T000000Z")),
        "iana-zone-until": ics(ev("DTSTART;TZID=America/New_York:20240101T090000", "RRULE:FREQ=DAILY;UNTIL=20240110T140000Z", "EXDATE;TZID=America/New_York:20240103T090000,20240105T090000")),
        "date-until": ics(ev("DTSTART;VALUE=DATE:20240101", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20241231")),
        "bysetpos": ics(ev("DTSTART:20240101T090000Z", "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")),
        "count-huge-secondly": ics(ev("DTSTART:19000101T000000Z", "RRULE:FREQ=SECONDLY;COUNT=20000")),
        "yearly-leap": ics(ev("DTSTART:20000229T120000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")),
        "rdate-period": ics(ev("DTSTART:20240101T090000Z", "DTEND:20240101T100000Z", "RDATE;VALUE=PERIOD:20240110T090000Z/PT2H,20240120T090000Z/20240120T120000Z")),
        "override-without-master": ics(ev("RECURRENCE-ID:20240108T100000Z", "DTSTART:20240108T120000Z")),
        "override-no-dtstart": ics(ev("DTSTART:20240101T100000Z", "RRULE:FREQ=WEEKLY"), ev("RECURRENCE-ID:20240108T100000Z")),
        "negative-duration": ics(ev("DTSTART:20240105T100000Z", "DURATION:-P1D")),
        "dtend-before-dtstart": ics(ev("DTSTART:20240105T100000Z", "DTEND:20240101T100000Z")),
        "floating-date-mix": ics(ev("DTSTART;VALUE=DATE:20240105", "DTEND:20240106T100000")),
        "todo-due-only": ics(ev("DUE:20240115T100000Z", kind="VTODO")),
        "todo-completed-created": ics(ev("CREATED:20231201T000000Z", "COMPLETED:20240301T000000Z", kind="VTODO")),
        "todo-start-due": ics(ev("DTSTART:20240110T000000Z", "DUE:20240105T000000Z", "RRULE:FREQ=DAILY;COUNT=3", kind="VTODO")),
        "journal-date": ics(ev("DTSTART;VALUE=DATE:20240115", kind="VJOURNAL")),
        "year-edges": ics(ev("DTSTART:99991231T235959Z", "DTEND:00010101T000000Z", "RRULE:FREQ=YEARLY")),
        "leap-second": ics(ev("DTSTART:20161231T235960Z")),
        "folded": (VCAL + "BEGIN:VEVENT\r\nUID:fo\r\n lded@fuzz\r\nDTSTART:2024\r\n 0105T100000Z\r\nSUMMARY:a\r\n\tb\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode(),
        "lf-only": ics(ev("DTSTART:20240105T100000Z")).replace(b"\r\n", b"\n"),
        "bad-utf8": ics(ev("DTSTART:20240105T100000Z", "SUMMARY:\xff\xfe")).replace("\xff\xfe".encode(), b"\xff\xfe"),
        "vtimezone-custom": ics(ev("DTSTART;TZID=Fuzz/Zone:20240310T013000", "RRULE:FREQ=HOURLY;COUNT=4"),
                                extra="BEGIN:VTIMEZONE\r\nTZID:Fuzz/Zone\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:-0500\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"),
        "many-attendees": ics(ev("DTSTART:20240105T100000Z", *["ATTENDEE:mailto:a%d@x" % i for i in range(30)])),
        "exdate-all": ics(ev("DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20240101T100000Z,20240102T100000Z,20240103T100000Z")),
        "bad-rrule": ics(ev("DTSTART:20240101T100000Z", "RRULE:FREQ=FOO;INTERVAL=0;BYHOUR=99")),
    },
    "fuzz_filter": {
        "all": b"\x01<C:comp-filter name=\"VCALENDAR\"/>",
        "not-defined-top": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:is-not-defined/></C:comp-filter>",
        "vevent-range": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20240101T000000Z\" end=\"20240201T000000Z\"/></C:comp-filter></C:comp-filter>",
        "open-start": b"\x02<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20240301T000000Z\"/></C:comp-filter></C:comp-filter>",
        "open-end": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:time-range end=\"20240115T000000Z\"/></C:comp-filter></C:comp-filter>",
        "empty-range": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20240201T000000Z\" end=\"20240101T000000Z\"/></C:comp-filter></C:comp-filter>",
        "bad-range": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"2024-01-01\"/></C:comp-filter></C:comp-filter>",
        "no-range-attrs": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range/></C:comp-filter></C:comp-filter>",
        "valarm-range": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:comp-filter name=\"VALARM\"><C:time-range start=\"20240101T000000Z\" end=\"20250101T000000Z\"/></C:comp-filter></C:comp-filter></C:comp-filter>",
        "summary-casemap": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"SUMMARY\"><C:text-match collation=\"i;ascii-casemap\">REVIEW</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>",
        "summary-unicode": "\x03<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"SUMMARY\"><C:text-match collation=\"i;unicode-casemap\">CAFÉ DÍA äöü</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>".encode("utf-8"),
        "summary-octet-negate": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"SUMMARY\"><C:text-match collation=\"i;octet\" negate-condition=\"yes\">Weekly</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>",
        "bad-collation": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"SUMMARY\"><C:text-match collation=\"i;klingon\">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>",
        "description-escaped": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"LOCATION\"><C:text-match>Room 1, east</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>",
        "param-partstat": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"ATTENDEE\"><C:text-match>bob@</C:text-match><C:param-filter name=\"PARTSTAT\"><C:text-match>ACCEPTED</C:text-match></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>",
        "param-unknown-currency": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"X-PARVIS-COST\"><C:param-filter name=\"CURRENCY\"><C:text-match>EUR</C:text-match></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>",
        "param-not-defined": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"ORGANIZER\"><C:param-filter name=\"CN\"><C:is-not-defined/></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>",
        "prop-not-defined": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:prop-filter name=\"DUE\"><C:is-not-defined/></C:prop-filter></C:comp-filter></C:comp-filter>",
        "prop-time-range": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:prop-filter name=\"COMPLETED\"><C:time-range start=\"20240101T000000Z\" end=\"20240201T000000Z\"/></C:prop-filter></C:comp-filter></C:comp-filter>",
        "x-prop": b"\x01<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:prop-filter name=\"X-APPLE-SORT-ORDER\"><C:text-match>3</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>",
        "no-names": b"\x01<C:comp-filter><C:prop-filter><C:param-filter/></C:prop-filter></C:comp-filter>",
        "vjournal": b"\x07<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VJOURNAL\"><C:time-range start=\"20240105T000000Z\" end=\"20240106T000000Z\"/></C:comp-filter></C:comp-filter>",
        "one-object": b"\x06<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20240122T000000Z\" end=\"20240123T000000Z\"/></C:comp-filter></C:comp-filter>",
        "expand-long": b"\x02<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"/></C:comp-filter>",
        "raw-no-filter": b"\x00<?xml version=\"1.0\"?><C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/></D:prop></C:calendar-query>",
        "raw-expand-bad": b"\x00<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><C:calendar-data><C:expand start=\"20240301T000000Z\" end=\"20240101T000000Z\"/></C:calendar-data></D:prop><C:filter><C:comp-filter name=\"VCALENDAR\"/></C:filter></C:calendar-query>",
        "raw-allprop": b"\x00<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:allprop/><C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"/></C:comp-filter></C:filter></C:calendar-query>",
        "own-param-raw": b"\x09" + ics(ev("DTSTART:20240110T100000Z", "X-COST;CURRENCY=USD;X-Q=\"a;b:c\";EMPTY=:5", "ATTENDEE;CN=;PARTSTAT=:mailto:x@y", "X-COST;CURRENCY")) + b"\x00<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"X-COST\"><C:param-filter name=\"CURRENCY\"><C:text-match>USD</C:text-match></C:param-filter></C:prop-filter><C:prop-filter name=\"ATTENDEE\"><C:param-filter name=\"PARTSTAT\"><C:is-not-defined/></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>",
        "own-param-folded": b"\x0d" + (VCAL + "BEGIN:VEVENT\r\nUID:f@fuzz\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nX-COST;CURR\r\n ENCY=EUR\r\n ;X=1:3\r\nX-COST;\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode() + b"\x00<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:prop-filter name=\"X-COST\"><C:param-filter name=\"CURRENCY\"/></C:prop-filter></C:comp-filter></C:comp-filter>",
        "own-expand": b"\x0a" + ics(ev("DTSTART;TZID=Europe/Paris:20240101T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=40", "EXDATE;TZID=Europe/Paris:20240103T100000"), ev("RECURRENCE-ID;TZID=Europe/Paris:20240105T100000", "DTSTART;TZID=Europe/Paris:20240105T150000", "SUMMARY:moved")) + b"\x00<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20240104T000000Z\" end=\"20240106T000000Z\"/></C:comp-filter></C:comp-filter>",
        "own-todo-comp": b"\x0b" + ics(ev("DUE:20240120T000000Z", "BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER;RELATED=END:-PT1H", "END:VALARM", kind="VTODO")) + b"\x00<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:comp-filter name=\"VALARM\"/></C:comp-filter></C:comp-filter>",
        "own-invalid": b"\x09" + ics(ev("DTSTART:20240110T100000Z"), extra="METHOD:PUBLISH\r\n") + b"\x00<C:comp-filter name=\"VCALENDAR\"/>",
        "own-no-filter": b"\x09" + ics(ev("DTSTART:20240110T100000Z", "SUMMARY:x")),
        "raw-freebusy": b"\x00<C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><C:time-range start=\"20231201T000000Z\" end=\"20240601T000000Z\"/></C:free-busy-query>",
    },
}


CRASHES = os.path.join(HERE, "crashes")


def open_bug_inputs(target):
    d = os.path.join(CRASHES, target)
    out = set()
    for name in os.listdir(d) if os.path.isdir(d) else ():
        with open(os.path.join(d, name), "rb") as f:
            out.add(f.read())
    return out


def write(target, name, data):
    # An input of an open bug stays in crashes/ until the bug is fixed.
    if data in open_bug_inputs(target):
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: harvest.py REQUESTS.jsonl")
    recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
    seeds = harvest(recs)
    for target in PER_TARGET:
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith("harvest-") or name.startswith("edge-"):
                os.unlink(os.path.join(d, name))
        for data in seeds[target]:
            write(target, "harvest-" + hashlib.sha1(data).hexdigest()[:12], data)
        for name, data in EDGES[target].items():
            write(target, "edge-" + name, data)
        print("%s: %d harvested, %d edge cases" % (target, len(seeds[target]),
                                                   len(EDGES[target])))


if __name__ == "__main__":
    main()
