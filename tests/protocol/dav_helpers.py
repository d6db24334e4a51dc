"""Small helpers shared by the protocol tests (not fixtures: see conftest.py).

Everything here talks plain HTTP: requests for ordinary calls, a raw socket
sender for requests a client library would normalise (paths with `..`,
`%2f`, `%00`, ...), and lxml to read multistatus bodies.
"""

import base64
import hashlib
import re
import socket
import threading
import uuid
from urllib.parse import quote, unquote, urlsplit

from lxml import etree

DAV_NS = "DAV:"
NS = {"D": DAV_NS}
TIMEOUT = 60

XML_HEADERS = {"Content-Type": 'application/xml; charset="utf-8"'}

RFC1123_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
    re.IGNORECASE)

LIVE_PROPS = ["creationdate", "displayname", "getcontentlength",
              "getcontenttype", "getetag", "getlastmodified", "resourcetype"]


def dav(sess, method, url, **kw):
    """One request, never following redirects, always with a timeout."""
    kw.setdefault("timeout", TIMEOUT)
    kw.setdefault("allow_redirects", False)
    return sess.request(method, url, **kw)


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def url_path(url):
    """Decoded path of a URL or of an href (absolute URI or absolute path)."""
    return unquote(urlsplit(url).path)


def join(base, *names, collection=False):
    """base must end with '/'; names are raw (unencoded) segments."""
    assert base.endswith("/"), base
    url = base + "/".join(quote(n, safe="") for n in names)
    if collection:
        url += "/"
    return url


def db_path(url, slug="s1"):
    """resources.path of a URL in space `slug` ('' for the space root)."""
    path = url_path(url)
    prefix = "/dav/spaces/%s" % slug
    assert path == prefix or path.startswith(prefix + "/"), (path, prefix)
    rest = path[len(prefix):]
    return rest.rstrip("/")


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def user_session(user="alice", password=None):
    """A requests.Session with Basic auth (user, user-pw unless given) that
    ignores proxies of the environment."""
    import requests
    s = requests.Session()
    s.trust_env = False
    s.auth = (user, password if password is not None else user + "-pw")
    return s


def basic_auth(user, password=None):
    if password is None:
        password = user + "-pw"
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return "Basic " + token


# ---------------------------------------------------------------- XML bodies

def propfind_body(kind="allprop", props=()):
    """kind: 'allprop', 'propname' or 'prop' (then props = DAV: local names
    or '{ns}name' Clark names)."""
    if kind in ("allprop", "propname"):
        inner = "<D:%s/>" % kind
    else:
        parts = []
        for i, p in enumerate(props):
            if p.startswith("{"):
                ns, name = p[1:].split("}", 1)
                parts.append('<X%d:%s xmlns:X%d="%s"/>' % (i, name, i, ns))
            else:
                parts.append("<D:%s/>" % p)
        inner = "<D:prop>%s</D:prop>" % "".join(parts)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:propfind xmlns:D="DAV:">%s</D:propfind>' % inner).encode()


def proppatch_body(set_xml="", remove_xml="", nsdecl=""):
    """set_xml / remove_xml are the inner contents of <D:prop> (may be empty)."""
    parts = []
    if set_xml:
        parts.append("<D:set><D:prop>%s</D:prop></D:set>" % set_xml)
    if remove_xml:
        parts.append("<D:remove><D:prop>%s</D:prop></D:remove>" % remove_xml)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:propertyupdate xmlns:D="DAV:" %s>%s</D:propertyupdate>'
            % (nsdecl, "".join(parts))).encode()


def status_code(text):
    """'HTTP/1.1 200 OK' -> 200."""
    return int(text.strip().split()[1])


class MSResponse:
    def __init__(self, href, status, props, errors):
        self.href = href                 # as sent by the server
        self.path = url_path(href)       # decoded path
        self.status = status             # response-level status or None
        self.props = props               # Clark name -> (status, element)
        self.errors = errors             # list of D:error elements

    def ok_props(self):
        return {k: el for k, (st, el) in self.props.items() if st == 200}

    def is_collection(self):
        el = self.ok_props().get("{DAV:}resourcetype")
        return el is not None and el.find("{DAV:}collection") is not None

    def __repr__(self):
        return "<MSResponse %s %s %s>" % (self.href, self.status,
                                          {k: v[0] for k, v in self.props.items()})


def parse_multistatus(content):
    root = etree.fromstring(content)
    assert root.tag == "{DAV:}multistatus", root.tag
    out = []
    for resp in root.findall("{DAV:}response"):
        hrefs = resp.findall("{DAV:}href")
        assert hrefs, etree.tostring(resp)
        st_el = resp.find("{DAV:}status")
        status = status_code(st_el.text) if st_el is not None else None
        props = {}
        for ps in resp.findall("{DAV:}propstat"):
            st = status_code(ps.find("{DAV:}status").text)
            prop = ps.find("{DAV:}prop")
            for el in prop:
                props[el.tag] = (st, el)
        errors = resp.findall("{DAV:}error")
        # A response may list several hrefs (status form); report each.
        for h in hrefs:
            out.append(MSResponse(h.text.strip(), status, props, errors))
    return out


def ms_by_path(content):
    """Multistatus as {decoded path without trailing slash: MSResponse}."""
    return {r.path.rstrip("/"): r for r in parse_multistatus(content)}


def propfind(sess, url, depth="0", kind="allprop", props=(), body=None, **kw):
    if body is None:
        body = propfind_body(kind, props)
    headers = dict(XML_HEADERS)
    if depth is not None:
        headers["Depth"] = depth
    headers.update(kw.pop("headers", {}))
    return dav(sess, "PROPFIND", url, data=body, headers=headers, **kw)


def propfind_one(sess, url, kind="allprop", props=()):
    """Depth 0 PROPFIND, asserts 207 and a single response; returns it."""
    r = propfind(sess, url, "0", kind, props)
    assert r.status_code == 207, (r.status_code, r.text[:2000])
    resps = parse_multistatus(r.content)
    assert len(resps) == 1, resps
    return resps[0]


def put(sess, url, data, **kw):
    return dav(sess, "PUT", url, data=data, **kw)


def mkcol(sess, url, **kw):
    return dav(sess, "MKCOL", url, **kw)


def assert_status(r, *codes):
    assert r.status_code in codes, "%s %s -> %d (want %s)\n%s" % (
        r.request.method, r.request.url, r.status_code, codes, r.text[:2000])


# -------------------------------------------------------------- raw sockets

class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers      # list of (name lower-cased, value)
        self.body = body
        self.raw = raw

    def header(self, name):
        vals = self.all(name)
        return vals[0] if vals else None

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def __repr__(self):
        return "<RawResponse %d %r %r>" % (self.status, self.headers,
                                           self.body[:200])


def host_port(url):
    parts = urlsplit(url)
    return parts.hostname, parts.port or 80


def parse_head(head):
    lines = head.decode("iso-8859-1").split("\r\n")
    status_line = lines[0]
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)$", status_line)
    assert m, "bad status line %r" % status_line
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(":")
        headers.append((k.strip().lower(), v.strip()))
    return int(m.group(1)), m.group(2), headers


def dechunk(data):
    out = bytearray()
    while True:
        line, sep, rest = data.partition(b"\r\n")
        if not sep:
            raise AssertionError("truncated chunked body")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        data = rest[size + 2:]


def recv_all(sock, limit=64 << 20):
    buf = bytearray()
    while len(buf) < limit:
        try:
            d = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        buf += d
    return bytes(buf)


def parse_raw_response(raw, head_request=False):
    """Parse everything read from a connection closed after one response
    (interim 1xx responses are skipped)."""
    while True:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, "no complete response head in %r" % raw[:500]
        status, reason, headers = parse_head(head)
        if 100 <= status < 200:
            raw = rest
            continue
        break
    body = rest
    hd = dict(headers)
    if not head_request and "chunked" in hd.get("transfer-encoding", "").lower():
        body = dechunk(rest)
    return RawResponse(status, reason, headers, body, raw)


def raw_request(url_or_hostport, request_line, headers=(), body=b"",
                timeout=TIMEOUT, head_request=False, send_body_in_thread=False):
    """Send one request on a fresh connection, exactly as given, and read the
    response until the server closes.  `request_line` is e.g.
    'GET /dav/spaces/s1/%2e%2e/x HTTP/1.1'.  Host and Connection: close are
    added.  With send_body_in_thread the body is written concurrently with
    reading, for servers that answer (e.g. 413) before reading it all."""
    if isinstance(url_or_hostport, tuple):
        host, port = url_or_hostport
    else:
        host, port = host_port(url_or_hostport)
    lines = [request_line, "Host: %s:%d" % (host, port)]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(head)

        def send_body():
            try:
                if isinstance(body, (bytes, bytearray)):
                    if body:
                        sock.sendall(body)
                else:
                    for piece in body:
                        sock.sendall(piece)
            except OSError:
                pass  # the server may close early (413, 4xx): fine

        if send_body_in_thread:
            t = threading.Thread(target=send_body, daemon=True)
            t.start()
            raw = recv_all(sock)
            t.join(timeout)
        else:
            send_body()
            raw = recv_all(sock)
    finally:
        sock.close()
    return parse_raw_response(raw, head_request=head_request)


def raw_path_of(url):
    """The path part of a URL exactly as written (no decoding)."""
    return urlsplit(url).path


# ----------------------------------------------------------------- database

def space_id(cluster, slug="s1"):
    rows = cluster.psql("select id from spaces where slug = %s" % sql_str(slug))
    assert len(rows) == 1, rows
    return rows[0][0]


def resource_row(cluster, path, slug="s1"):
    """(id, kind, current_rev) of a resource, or None."""
    rows = cluster.psql(
        "select r.id, r.kind, r.current_rev from resources r "
        "join spaces s on s.id = r.space_id "
        "where s.slug = %s and r.id = parvis_resolve(s.id, %s)"
        % (sql_str(slug), sql_str(path)))
    assert len(rows) <= 1, rows
    return tuple(rows[0]) if rows else None


def count_resources_under(cluster, path, slug="s1"):
    rows = cluster.psql(
        "select count(*) from spaces s "
        "cross join parvis_subtree(parvis_resolve(s.id, %s)) t "
        "where s.slug = %s" % (sql_str(path), sql_str(slug)))
    return int(rows[0][0])


def revisions_of(cluster, path, slug="s1"):
    """[(id, num, size, sha256 hex, content_type, author name)] by num."""
    rows = cluster.psql(
        "select v.id, v.num, v.size, encode(v.sha256, 'hex'), "
        "coalesce(v.content_type, ''), coalesce(u.name, '') "
        "from revisions v join resources r on r.id = v.resource_id "
        "join spaces s on s.id = r.space_id "
        "left join users u on u.id = v.author_id "
        "where s.slug = %s and r.id = parvis_resolve(s.id, %s) order by v.num"
        % (sql_str(slug), sql_str(path)))
    return [(int(a), int(b), int(c), d, e, f) for a, b, c, d, e, f in rows]


# The current revision's values kept on each resource (migration 0010)
# against the revision itself: rows where they differ.
CURRENT_REVISION_MISMATCH_SQL = """
    SELECT r.space_id, r.id
      FROM resources r LEFT JOIN revisions v ON v.id = r.current_rev
     WHERE (r.cur_num, r.cur_size, r.cur_type, r.cur_sha256)
           IS DISTINCT FROM (v.num, v.size, v.content_type, v.sha256)
     ORDER BY 1, 2"""


def current_revision_mismatches(cluster, db="parvis"):
    return cluster.psql(CURRENT_REVISION_MISMATCH_SQL, db=db)
