"""Helpers for the document workflow tests (test_history.py,
test_approval.py, test_trash.py, test_audit.py): the views of a space
(/dav/history/, /dav/published/, /dav/approvals/, /dav/trash/), approval
PROPPATCHes, throwaway users, guests and spaces, and the audit table.
Plain functions, no fixtures."""

import re
import subprocess
import uuid
from urllib.parse import unquote, urlsplit

from lxml import etree

from dav_helpers import (XML_HEADERS, dav, parse_multistatus, propfind,
                         proppatch_body, sql_str)

P_NS = "http://parvis.org/ns"
PNS = {"D": "DAV:", "P": P_NS}


def p(name):
    """Clark name of a Parvis property."""
    return "{%s}%s" % (P_NS, name)


# ------------------------------------------------------------------ views

def view_url(url, area):
    """The URL of a space resource in another area: 'history',
    'published' or 'trash' (…/dav/spaces/s1/x -> …/dav/AREA/s1/x)."""
    assert "/dav/spaces/" in url, url
    return url.replace("/dav/spaces/", "/dav/%s/" % area, 1)


def history_url(file_url):
    """The history collection of a file (trailing slash)."""
    return view_url(file_url.rstrip("/"), "history") + "/"


def published_url(url):
    return view_url(url, "published")


def trash_url(server, slug="s1"):
    return "%s/dav/trash/%s/" % (server.url, slug)


def approvals_url(server, slug="s1"):
    return "%s/dav/approvals/%s/" % (server.url, slug)


def abs_url(server, href):
    """An href (absolute path) as a URL on server."""
    if href.startswith("http"):
        return href
    return server.url + href


def last_segment(href):
    return unquote(urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1])


REV_NAME_RE = re.compile(
    r"^r(\d+) (\d{4})-(\d{2})-(\d{2}) (\d{2})h(\d{2}) (\S+) - (.+)$")


def members(sess, coll_url, props):
    """Depth 1 PROPFIND of a collection: its members (not itself) as
    MSResponse objects, in the server's order."""
    r = propfind(sess, coll_url, "1", "prop", props)
    assert r.status_code == 207, (r.status_code, r.text[:2000])
    me = urlsplit(coll_url).path.rstrip("/")
    return [m for m in parse_multistatus(r.content)
            if m.path.rstrip("/") != unquote(me)]


REV_PROPS = ["displayname", "getcontentlength", "getetag", "getlastmodified",
             "resourcetype", "version-name", "creator-displayname",
             p("revision-number"), p("author"), p("sha256"), p("comment"),
             p("revision-approval")]


def revisions(sess, file_url):
    """The members of a file's history collection, sorted by revision
    number (P:revision-number)."""
    ms = members(sess, history_url(file_url), REV_PROPS)
    return sorted(ms, key=lambda m: int(text_of(m, p("revision-number"))))


def text_of(resp, prop):
    """Text of a property found (200) in an MSResponse; None if absent."""
    el = resp.ok_props().get(prop)
    if el is None:
        return None
    return (el.text or "").strip()


def href_in(resp, prop):
    """The DAV:href inside a property found (200); None if absent."""
    el = resp.ok_props().get(prop)
    if el is None:
        return None
    h = el.find("{DAV:}href")
    return h.text.strip() if h is not None and h.text else None


def one_prop(sess, url, prop):
    """Depth 0 PROPFIND of one property: (status of its propstat, element)."""
    r = propfind(sess, url, "0", "prop", [prop])
    assert r.status_code == 207, (url, r.status_code, r.text[:2000])
    resps = parse_multistatus(r.content)
    assert len(resps) == 1, resps
    return resps[0].props.get(prop, (None, None))


def prop_text(sess, url, prop):
    st, el = one_prop(sess, url, prop)
    assert st == 200, (url, prop, st)
    return (el.text or "").strip()


def principal_href(user):
    return "/dav/principals/users/%s/" % user


def same_href(a, b):
    """Two hrefs naming the same resource (absolute URI or path, escaping
    and a trailing slash aside)."""
    return unquote(urlsplit(a).path).rstrip("/") == \
        unquote(urlsplit(b).path).rstrip("/")


# --------------------------------------------------------------- approval

def approve(sess, url):
    """Submit, then approve (what is approved is what was submitted):
    the answer to the approval."""
    r = set_approval(sess, url, "submitted")
    assert r.status_code == 207 and b"200 OK" in r.content, r.text
    return set_approval(sess, url, "approved")


def set_approval(sess, url, state=None, comment=None):
    """PROPPATCH of P:approval-state (and/or P:approval-comment)."""
    parts = []
    if state is not None:
        parts.append("<P:approval-state>%s</P:approval-state>" % state)
    if comment is not None:
        parts.append("<P:approval-comment>%s</P:approval-comment>" % comment)
    body = proppatch_body("".join(parts), nsdecl='xmlns:P="%s"' % P_NS)
    return dav(sess, "PROPPATCH", url, data=body, headers=XML_HEADERS)


def proppatch_statuses(r):
    """{Clark name: status} of a PROPPATCH multistatus."""
    assert r.status_code == 207, (r.status_code, r.text[:2000])
    (resp,) = parse_multistatus(r.content)
    return {k: st for k, (st, _) in resp.props.items()}


def error_elements(content):
    """Clark names of the children of a DAV:error body."""
    root = etree.fromstring(content)
    assert root.tag == "{DAV:}error", content[:500]
    return [el.tag for el in root]


def approval_state(sess, url):
    return prop_text(sess, url, p("approval-state"))


# ------------------------------------------------------ accounts & spaces

def short(prefix):
    return "%s%s" % (prefix, uuid.uuid4().hex[:8])


def add_user(ctl, name, space=None, role=None):
    """A user with password NAME-pw, member of space with role."""
    ctl("user", "add", name, "--password-stdin", input=name + "-pw\n")
    if space is not None:
        ctl("member", "add", space, name, "--role", role)
    return name


def add_partner(ctl, name, space="s1", expires="2099-12-31"):
    """An outside partner: a guest with the published role in space."""
    ctl("guest", "add", name, "--expires", expires, "--password-stdin",
        input=name + "-pw\n")
    ctl("member", "add", space, name, "--role", "published")
    return name


def add_space(ctl, members):
    """A fresh space; members = {user: role}. Returns its slug."""
    slug = short("w")
    ctl("space", "create", slug, "--title", "Workflow " + slug)
    for user, role in members.items():
        ctl("member", "add", slug, user, "--role", role)
    return slug


def space_chunk_bytes(cluster, slug):
    """Sum of chunks.size of a space: what its content takes."""
    rows = cluster.psql(
        "select coalesce(sum(c.size), 0) from chunks c join spaces s "
        "on s.id = c.space_id where s.slug = %s" % sql_str(slug))
    return int(rows[0][0])


# ------------------------------------------------------------------ audit

AUDIT_COLS = ["id", "at", "principal", "client", "user_agent", "action",
              "space_id", "path", "resource_id", "revision_id", "status",
              "detail"]


def audit_rows(cluster, where="true", args=()):
    """Audit rows matching an SQL condition, as dicts of str, by id."""
    sql = ("select id, at, coalesce(principal, ''), coalesce(client, ''), "
           "coalesce(user_agent, ''), action, coalesce(space_id::text, ''), "
           "coalesce(path, ''), coalesce(resource_id::text, ''), "
           "coalesce(revision_id::text, ''), coalesce(status::text, ''), "
           "coalesce(detail, '') from audit where %s order by id"
           % (where % tuple(sql_str(a) for a in args)))
    return [dict(zip(AUDIT_COLS, row)) for row in cluster.psql(sql)]


def audit_of_path(cluster, path):
    """Audit rows whose path is exactly PATH ('s1/dir/file')."""
    return audit_rows(cluster, "path = %s", (path,))


def max_audit_id(cluster):
    return int(cluster.psql("select coalesce(max(id), 0) from audit")[0][0])


def psql_as_parvis(cluster, sql):
    """Runs SQL as parvisd's role (user parvis) through psql; returns the
    CompletedProcess (check returncode and stderr)."""
    return subprocess.run(
        [cluster.bindir + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
         "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", "parvis",
         "-d", "parvis", "-c", sql],
        capture_output=True, text=True, timeout=120)
