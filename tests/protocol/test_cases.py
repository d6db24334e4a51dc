"""Replays of documented client request sequences: one case per file in
tests/protocol/cases/, run against the shared parvisd in a fresh collection.

Case file format (file name NNNN-what-it-shows, no extension):

    # source: [S15] sftpgo #614 — ... https://...     (one or more; as in
    #                                                  CLIENTS.md §7)
    # client: Windows Explorer (Microsoft-WebDAV-MiniRedir/10.0)
    # any other comment line

    METHOD target                  target: relative to the fresh collection
    Header-Name: value             ("file.txt"), or absolute ("/", "{coll}")
    @auth: none                    runner directive: send no credentials
                                   (@auth: USER for USER/USER-pw; default
                                   alice)
                                   a blank line, then the body (optional)
    <body lines>
    expect: 200 207                the status must be one of these
    expect-header: Name: regex     header present, re.search(regex, value)
    expect-no-header: Name         header absent
    expect-xpath: XPATH            true / non-empty on the XML body;
                                   prefixes D=DAV:, Z=urn:schemas-microsoft-com:,
                                   O=http://ucb.openoffice.org/dav/props/, S=SAR:
    expect-body-contains: text     substring of the body (after substitution)
    expect-body: text              the whole body (after substitution)
    ---                            next step

Variables, substituted everywhere: {coll} (path of the fresh collection,
trailing slash), {coll_noslash}, {space} (/dav/spaces/s1/), {base}
(http://host:port), {user} (alice), {locktoken} (from the last Lock-Token
response header, without <>), {etag} (the last ETag response header).
A step with "Transfer-Encoding: chunked" sends its body chunked.
On failure the runner reports the case, the source lines, every step run
with its status, and the failing request and response in full.
"""

import os
import re

import pytest
import requests
from lxml import etree

from dav_helpers import TIMEOUT

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
CASE_NAME_RE = re.compile(r"^\d{4}-[a-z0-9][a-z0-9-]*$")
XPATH_NS = {"D": "DAV:", "Z": "urn:schemas-microsoft-com:",
            "O": "http://ucb.openoffice.org/dav/props/", "S": "SAR:"}
EXPECT_KEYS = ("expect", "expect-header", "expect-no-header", "expect-xpath",
               "expect-body-contains", "expect-body")
DEFAULT_USER = "alice"


class CaseSyntaxError(Exception):
    pass


class Step:
    def __init__(self, lineno):
        self.lineno = lineno        # line of the request line in the file
        self.method = None
        self.target = None
        self.headers = []           # [(name, value)]
        self.auth = DEFAULT_USER    # user name or None
        self.body = None            # str or None
        self.expects = []           # [(key, value)]

    def describe(self, subst=lambda s: s):
        out = ["%s %s" % (self.method, subst(self.target))]
        out += ["%s: %s" % (k, subst(v)) for k, v in self.headers]
        if self.auth is None:
            out.append("(no credentials)")
        elif self.auth != DEFAULT_USER:
            out.append("(as %s)" % self.auth)
        if self.body is not None:
            out += ["", subst(self.body)]
        return "\n".join(out)


class Case:
    def __init__(self, name):
        self.name = name
        self.sources = []
        self.clients = []
        self.steps = []


def _is_expect(line):
    key = line.split(":", 1)[0].strip()
    return ":" in line and key in EXPECT_KEYS


def parse_case(name, text):
    case = Case(name)
    lines = text.split("\n")
    i = 0
    # Header: comment and blank lines before the first step.
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        m = re.match(r"#\s*(source|client):\s*(.*\S)\s*$", lines[i])
        if m:
            (case.sources if m.group(1) == "source"
             else case.clients).append(m.group(2))
        i += 1
    block, start = [], i
    blocks = []
    for j in range(i, len(lines)):
        if lines[j].strip() == "---":
            blocks.append((start, block))
            block, start = [], j + 1
        else:
            block.append(lines[j])
    blocks.append((start, block))
    for start, block in blocks:
        step = _parse_step(start, block)
        if step is not None:
            case.steps.append(step)
    return case


def _parse_step(start, block):
    k = 0
    while k < len(block) and (not block[k].strip() or
                              block[k].lstrip().startswith("#")):
        k += 1
    if k == len(block):
        return None
    step = Step(start + k + 1)
    parts = block[k].split()
    if len(parts) != 2 or not re.match(r"^[A-Z][A-Z-]*$", parts[0]):
        raise CaseSyntaxError("line %d: want 'METHOD target', got %r"
                              % (step.lineno, block[k]))
    step.method, step.target = parts
    k += 1
    # Headers and directives, up to a blank line or the first expectation.
    while k < len(block) and block[k].strip() and not _is_expect(block[k]):
        line = block[k]
        if line.lstrip().startswith("#"):
            k += 1
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise CaseSyntaxError("line %d: want 'Name: value', got %r"
                                  % (start + k + 1, line))
        if name.strip() == "@auth":
            v = value.strip()
            step.auth = None if v in ("none", "anonymous") else v
        elif name.startswith("@"):
            raise CaseSyntaxError("line %d: unknown directive %r"
                                  % (start + k + 1, name))
        else:
            step.headers.append((name.strip(), value.strip()))
        k += 1
    # Body: after a blank line, up to the first expectation.
    if k < len(block) and not block[k].strip():
        body = []
        k += 1
        while k < len(block) and not _is_expect(block[k]):
            body.append(block[k])
            k += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if body:
            step.body = "\n".join(body)
    for line in block[k:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not _is_expect(line):
            raise CaseSyntaxError("line %d: expected an expect line, got %r"
                                  % (step.lineno, line))
        key, _, value = line.partition(":")
        step.expects.append((key.strip(), value.strip()))
    if not any(k == "expect" for k, _ in step.expects):
        raise CaseSyntaxError("line %d: step without 'expect: STATUS'"
                              % step.lineno)
    return step


def case_files():
    if not os.path.isdir(CASES_DIR):
        return []
    return sorted(f for f in os.listdir(CASES_DIR) if CASE_NAME_RE.match(f))


def load_case(name):
    with open(os.path.join(CASES_DIR, name), encoding="utf-8") as f:
        return parse_case(name, f.read())


# ------------------------------------------------------------------ runner

class Replay:
    def __init__(self, server, coll_url):
        self.server = server
        coll_path = coll_url[len(server.url):]
        self.vars = {
            "coll": coll_path,
            "coll_noslash": coll_path.rstrip("/"),
            "space": "/dav/spaces/s1/",
            "base": server.url,
            "user": DEFAULT_USER,
            "locktoken": "",
            "etag": "",
        }
        self.sessions = {}
        self.transcript = []

    def subst(self, s):
        return re.sub(r"\{(\w+)\}",
                      lambda m: self.vars.get(m.group(1), m.group(0)), s)

    def session(self, user):
        if user not in self.sessions:
            s = requests.Session()
            s.trust_env = False
            if user is not None:
                s.auth = (user, user + "-pw")
            self.sessions[user] = s
        return self.sessions[user]

    def close(self):
        for s in self.sessions.values():
            s.close()

    def url_of(self, target):
        t = self.subst(target)
        if t.startswith("http://") or t.startswith("https://"):
            return t
        if t.startswith("/"):
            return self.server.url + t
        return self.server.url + self.vars["coll"] + t

    def send(self, step):
        headers = {k: self.subst(v) for k, v in step.headers}
        body = None
        if step.body is not None:
            body = self.subst(step.body).encode("utf-8")
        chunked = any(k.lower() == "transfer-encoding" and
                      "chunked" in v.lower() for k, v in headers.items())
        if chunked:
            headers = {k: v for k, v in headers.items()
                       if k.lower() != "transfer-encoding"}
            data = body or b""
            half = max(1, len(data) // 2)
            body = iter([data[:half], data[half:]] if data else [b""])
        return self.session(step.auth).request(
            step.method, self.url_of(step.target), headers=headers,
            data=body, timeout=TIMEOUT, allow_redirects=False)

    def capture(self, r):
        tok = r.headers.get("Lock-Token")
        if tok:
            self.vars["locktoken"] = tok.strip().strip("<>")
        if r.headers.get("ETag"):
            self.vars["etag"] = r.headers["ETag"]

    def check(self, step, r):
        """Returns the list of failed expectations (strings)."""
        failed = []
        xml = None
        for key, raw in step.expects:
            value = self.subst(raw)
            if key == "expect":
                want = [int(c) for c in value.split()]
                if r.status_code not in want:
                    failed.append("status %d, want %s" % (r.status_code, value))
            elif key == "expect-header":
                name, sep, rx = value.partition(":")
                got = r.headers.get(name.strip())
                if got is None:
                    failed.append("no %s header" % name.strip())
                elif not re.search(rx.strip(), got):
                    failed.append("%s: %r does not match %r"
                                  % (name.strip(), got, rx.strip()))
            elif key == "expect-no-header":
                if value in r.headers:
                    failed.append("unexpected header %s: %s"
                                  % (value, r.headers[value]))
            elif key == "expect-xpath":
                if xml is None:
                    try:
                        xml = etree.fromstring(r.content)
                    except etree.XMLSyntaxError as e:
                        failed.append("body is not XML (%s) for %s"
                                      % (e, value))
                        continue
                res = xml.xpath(value, namespaces=XPATH_NS)
                if not res:
                    failed.append("xpath %s is %r" % (value, res))
            elif key == "expect-body-contains":
                if value not in r.text:
                    failed.append("body lacks %r" % value)
            elif key == "expect-body":
                if r.text != value:
                    failed.append("body is %r, want %r" % (r.text[:200], value))
        return failed

    def report(self, case, step, r, failed):
        out = ["case %s" % case.name]
        out += ["  source: %s" % s for s in case.sources]
        out += ["  client: %s" % c for c in case.clients]
        out.append("steps:")
        out += ["  " + t for t in self.transcript]
        out.append("FAILED step %d (line %d of cases/%s):"
                   % (len(self.transcript), step.lineno, case.name))
        out += ["  - " + f for f in failed]
        out.append("--- request")
        out.append(step.describe(self.subst))
        if r is not None:
            out.append("--- response")
            out.append("%d %s" % (r.status_code, r.reason))
            out += ["%s: %s" % kv for kv in r.headers.items()]
            out += ["", r.text[:4000]]
        return "\n".join(out)

    def run(self, case):
        for n, step in enumerate(case.steps, 1):
            line = "%d. %s %s" % (n, step.method, self.subst(step.target))
            try:
                r = self.send(step)
            except requests.RequestException as e:
                self.transcript.append(line + " -> (no response)")
                pytest.fail(self.report(case, step, None, [repr(e)]),
                            pytrace=False)
            self.transcript.append("%s -> %d" % (line, r.status_code))
            failed = self.check(step, r)
            if failed:
                pytest.fail(self.report(case, step, r, failed), pytrace=False)
            self.capture(r)


# ------------------------------------------------------------------- tests

CASES = case_files()


def test_cases_directory_has_cases():
    assert len(CASES) >= 7, CASES


@pytest.mark.parametrize("name", CASES)
def test_case_file_is_well_formed(name):
    case = load_case(name)
    assert case.sources, "%s: no '# source:' line" % name
    assert case.clients, "%s: no '# client:' line" % name
    assert case.steps, "%s: no steps" % name


@pytest.mark.parametrize("name", CASES)
def test_replay(name, server, seed, coll):
    case = load_case(name)
    replay = Replay(server, coll)
    try:
        replay.run(case)
    finally:
        replay.close()


def test_parser_reads_headers_body_and_expects():
    case = parse_case("x", "# source: [S1] a\n# client: c\n\n"
                           "PUT a.txt\nIf: (<{locktoken}>)\n@auth: none\n\n"
                           "line 1\nline 2\n\nexpect: 201 204\n"
                           "expect-header: ETag: ^\"\n---\n"
                           "GET a.txt\nexpect: 200\nexpect-body: line 1\n")
    assert case.sources == ["[S1] a"] and case.clients == ["c"]
    put, get = case.steps
    assert (put.method, put.target, put.auth) == ("PUT", "a.txt", None)
    assert put.headers == [("If", "(<{locktoken}>)")]
    assert put.body == "line 1\nline 2"
    assert put.expects == [("expect", "201 204"), ("expect-header", 'ETag: ^"')]
    assert (get.body, get.auth) == (None, DEFAULT_USER)


def test_parser_rejects_step_without_expect():
    with pytest.raises(CaseSyntaxError):
        parse_case("x", "# source: s\n# client: c\nGET a\n")
