"""Helpers for the WebDAV class 2 tests (locks, quota, desktop clients):
LOCK/UNLOCK requests, lock tokens, DAV:error bodies and the locks table.
Plain functions, no fixtures (those stay in conftest.py and the tests)."""

from lxml import etree

from dav_helpers import XML_HEADERS, dav, sql_str

LOCK_OWNER_HREF = "http://example.org/~alice/contact"


def lockinfo(scope="exclusive", owner=None):
    """A DAV:lockinfo body; owner is the inner XML of DAV:owner (None: no
    owner element)."""
    own = "" if owner is None else "<D:owner>%s</D:owner>" % owner
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:lockinfo xmlns:D="DAV:">'
            '<D:lockscope><D:%s/></D:lockscope>'
            '<D:locktype><D:write/></D:locktype>%s</D:lockinfo>'
            % (scope, own)).encode()


def lock(sess, url, scope="exclusive", depth="0", timeout="Second-600",
         owner="<D:href>%s</D:href>" % LOCK_OWNER_HREF, headers=None,
         body=None):
    """LOCK url; depth None sends no Depth header, timeout None no Timeout.
    Returns the response."""
    h = dict(XML_HEADERS)
    if depth is not None:
        h["Depth"] = depth
    if timeout is not None:
        h["Timeout"] = timeout
    h.update(headers or {})
    if body is None:
        body = lockinfo(scope, owner)
    return dav(sess, "LOCK", url, data=body, headers=h)


def token_of(r):
    """The lock token (without angle brackets) of a LOCK response."""
    h = r.headers.get("Lock-Token")
    assert h, "LOCK %s -> %d without Lock-Token header\n%s" % (
        r.request.url, r.status_code, r.text[:2000])
    h = h.strip()
    assert h.startswith("<") and h.endswith(">"), h
    return h[1:-1]


def take_lock(sess, url, **kw):
    """LOCK that must succeed (200 or 201); returns the token."""
    r = lock(sess, url, **kw)
    assert r.status_code in (200, 201), "LOCK %s -> %d\n%s" % (
        url, r.status_code, r.text[:2000])
    return token_of(r)


def if_token(token):
    return {"If": "(<%s>)" % token}


def refresh(sess, url, token, timeout=None):
    """A lock refresh: LOCK with no body and If: (<token>)."""
    h = if_token(token)
    if timeout is not None:
        h["Timeout"] = timeout
    return dav(sess, "LOCK", url, headers=h)


def unlock(sess, url, token):
    return dav(sess, "UNLOCK", url, headers={"Lock-Token": "<%s>" % token})


def error_conditions(content):
    """{Clark name of each precondition element in a DAV:error body:
    [href texts inside it]}."""
    root = etree.fromstring(content)
    assert root.tag == "{DAV:}error", etree.tostring(root)
    return {el.tag: [h.text.strip() for h in el.findall("{DAV:}href")]
            for el in root}


def activelocks(prop_content):
    """The DAV:activelock elements of a LOCK response body or a
    lockdiscovery PROPFIND response."""
    root = etree.fromstring(prop_content)
    return root.findall(".//{DAV:}activelock")


def activelock_timeout(al):
    return al.findtext("{DAV:}timeout").strip()


def lock_rows(cluster, token):
    """[(root_path, depth, exclusive, timeout_s)] of a token (0 or 1 row),
    expired or not."""
    return cluster.psql(
        "select root_path, depth, exclusive, timeout_s from locks "
        "where token = %s" % sql_str(token))


def live_lock_count(cluster, token):
    rows = cluster.psql("select count(*) from locks where token = %s "
                        "and expires_at > now()" % sql_str(token))
    return int(rows[0][0])
