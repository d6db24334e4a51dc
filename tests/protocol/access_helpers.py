"""Helpers for the access control tests (test_isolation, test_acl,
test_login, test_tls): a private parvisd per module, a persistent psql
pipe for cheap "nothing changed" snapshots, leak checks, principal and
ACL XML bodies.  Plain functions and classes; the fixtures stay in the
test modules."""

import base64
import subprocess
import uuid

from lxml import etree

import conftest
from dav_helpers import XML_HEADERS, dav, sql_str

CALDAV_NS = "urn:ietf:params:xml:ns:caldav"

# Every privilege of RFC 3744 §3 the server knows, by local name.
# "approve" is Parvis's own privilege (http://parvis.org/ns).
FREE_BUSY = "{urn:ietf:params:xml:ns:caldav}read-free-busy"
ALL_PRIVS = {"all", "read", "write", "write-properties", "write-content",
             "bind", "unbind", "unlock", "read-acl",
             "read-current-user-privilege-set", "write-acl",
             "{http://parvis.org/ns}approve", FREE_BUSY}
# DAV:read aggregates DAV:read-current-user-privilege-set and (RFC 4791
# §6.1.1) CALDAV:read-free-busy.
READ_PRIVS = {"read", "read-current-user-privilege-set", FREE_BUSY}
WRITE_PRIVS = {"write", "write-properties", "write-content", "bind",
               "unbind"}
# RFC 3744 §5.4: aggregate privileges and the privileges they contain are
# both listed in DAV:current-user-privilege-set.
# DAV:unlock (removing others' locks, RFC 3744 §3.5) is the managers';
# validators approve.
ROLE_CUPS = {
    "manager": set(ALL_PRIVS),
    "validator": READ_PRIVS | {"read-acl", "{http://parvis.org/ns}approve"}
    | WRITE_PRIVS,
    "editor": READ_PRIVS | WRITE_PRIVS,
    "reader": set(READ_PRIVS),
}


def short_id():
    return uuid.uuid4().hex[:8]


# ------------------------------------------------------------- servers

def start_private_server(bins, cluster, extra_conf=None):
    """A parvisd of its own for one module (its failed-login table and
    credential cache are not shared with other modules' tests)."""
    srv = conftest.ParvisServer(bins, cluster, extra_conf)
    try:
        srv.start()
    except BaseException:
        srv.kill()
        srv.cleanup()
        raise
    return srv


def stop_private_server(srv):
    conftest._teardown_server(srv)


class AuthFailServer:
    """A parvisd for requests that fail authentication on purpose.

    Failed logins are counted per user and per client address, and past
    ACL_FAIL_FREE (5) each further attempt from 127.0.0.1 waits.  This
    wrapper restarts its server (which forgets the counters) before the
    sixth failure, so that every refused request answers at once."""

    FREE = 5

    def __init__(self, bins, cluster):
        self.srv = start_private_server(bins, cluster)
        self.failures = 0

    def url(self, will_fail=True):
        if will_fail:
            if self.failures >= self.FREE:
                self.srv.stop()
                self.srv.start()
                self.failures = 0
            self.failures += 1
        return self.srv.url

    def close(self):
        stop_private_server(self.srv)


# ------------------------------------------------------------- database

class PsqlPipe:
    """One long-lived psql process: a query costs a round trip, not a
    process start (the isolation matrix takes hundreds of snapshots)."""

    END = "__parvis_psql_end__"

    def __init__(self, cluster):
        self.proc = subprocess.Popen(
            [cluster._bin("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=0",
             "-h", cluster.socket_dir, "-p", str(cluster.port),
             "-U", "postgres", "-d", "parvis"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)

    def query(self, sql):
        """Rows of the result as a list of '|'-joined strings."""
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo "
                              + self.END + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise RuntimeError("psql exited: " + "".join(out))
            line = line.rstrip("\n")
            if line == self.END:
                break
            if line.startswith("ERROR:"):
                raise RuntimeError(line + "\n" + sql)
            out.append(line)
        return out

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


SNAPSHOT_SQL = """
select md5(coalesce((select string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s',
         id, space_id, parent_id, name, kind, current_rev, modified_at,
         created_by), ',' order by id) from resources), '')
  || coalesce((select string_agg(format('%s|%s|%s', id, resource_id,
         encode(sha256, 'hex')), ',' order by id) from revisions), '')
  || coalesce((select string_agg(format('%s|%s|%s|%s', resource_id, ns,
         name, md5(value)), ',' order by resource_id, ns, name)
         from props), '')
  || coalesce((select string_agg(format('%s|%s|%s|%s|%s', token,
         root_path, principal_id, expires_at, space_id), ','
         order by token) from locks), '')
  || coalesce((select string_agg(format('%s|%s|%s|%s|%s|%s', id,
         resource_id, principal_kind, principal_id, is_grant, privileges),
         ',' order by id) from aces), '')
  || coalesce((select string_agg(format('%s|%s|%s', space_id, user_id,
         role), ',' order by space_id, user_id) from members), ''))
"""


def db_snapshot(pipe):
    """A digest of everything a WebDAV request could change."""
    return pipe.query(SNAPSHOT_SQL)[0]


def member_role(cluster, slug, user):
    rows = cluster.psql(
        "select m.role from members m join spaces s on s.id = m.space_id "
        "join users u on u.id = m.user_id where s.slug = %s and u.name = %s"
        % (sql_str(slug), sql_str(user)))
    return rows[0][0] if rows else None


# ------------------------------------------------------------- accounts

def add_user(ctl, name, space=None, role=None, email=None, display=None,
             password=None):
    args = ["user", "add", name, "--password-stdin"]
    if email:
        args += ["--email", email]
    if display:
        args += ["--display-name", display]
    ctl(*args, input=(password or name + "-pw") + "\n")
    if space:
        ctl("member", "add", space, name, "--role", role)
    return name


def add_guest(ctl, name, expires, password=None):
    ctl("guest", "add", name, "--expires", expires, "--password-stdin",
        input=(password or name + "-pw") + "\n")
    return name


# ------------------------------------------------------------- leaks

def response_bytes(r):
    """Status line, headers and body of a requests response, as bytes."""
    head = "HTTP %d %s\r\n" % (r.status_code, r.reason or "")
    head += "".join("%s: %s\r\n" % (k, v) for k, v in r.headers.items())
    return head.encode("utf-8", "replace") + b"\r\n" + (r.content or b"")


def leaked(r, tokens):
    """The tokens (str) found anywhere in the response, also %-encoded
    or XML-escaped forms."""
    from urllib.parse import quote
    data = response_bytes(r)
    found = []
    for tok in tokens:
        forms = {tok, quote(tok, safe="/"), quote(tok, safe="")}
        if any(f.encode() in data for f in forms):
            found.append(tok)
    return found


def basic_b64(user, password):
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


# ------------------------------------------------------------- XML

def principal_href(name, space=False):
    return "/dav/principals/%s/%s/" % ("spaces" if space else "users", name)


def ace_xml(principal, privs, grant=True, extra=""):
    """One DAV:ace; principal is the inner XML of DAV:principal (an
    href string is wrapped in DAV:href)."""
    if not principal.startswith("<"):
        principal = "<D:href>%s</D:href>" % principal
    gd = "grant" if grant else "deny"
    plist = "".join("<D:privilege><D:%s/></D:privilege>" % p
                    if not p.startswith("<") else
                    "<D:privilege>%s</D:privilege>" % p for p in privs)
    return ("<D:ace><D:principal>%s</D:principal><D:%s>%s</D:%s>%s</D:ace>"
            % (principal, gd, plist, gd, extra))


def acl_body(*aces, nsdecl=""):
    return ('<?xml version="1.0" encoding="utf-8"?><D:acl xmlns:D="DAV:" %s>'
            '%s</D:acl>' % (nsdecl, "".join(aces))).encode()


def acl_request(sess, url, *aces, nsdecl=""):
    return dav(sess, "ACL", url, data=acl_body(*aces, nsdecl=nsdecl),
               headers=XML_HEADERS)


def error_conditions(content):
    """Clark names of the children of a DAV:error body (empty if the body
    is not one)."""
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError:
        return set()
    if root.tag != "{DAV:}error":
        return set()
    return {el.tag for el in root}


def privilege_names(prop_el):
    """{local name} of the DAV:privilege children of a property element
    (current-user-privilege-set, grant, deny)."""
    out = set()
    for p in prop_el.findall("{DAV:}privilege"):
        for child in p:
            name = etree.QName(child)
            out.add(name.localname if name.namespace == "DAV:"
                    else child.tag)
    return out


def hrefs(el):
    return [h.text.strip() for h in el.iter("{DAV:}href")]


PRINCIPAL_SEARCH_NOMATCH = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:principal-property-search xmlns:D="DAV:">'
    '<D:property-search><D:prop><D:displayname/></D:prop>'
    '<D:match>zz-no-principal-has-this-name</D:match></D:property-search>'
    '<D:prop><D:displayname/></D:prop>'
    '<D:apply-to-principal-collection-set/>'
    '</D:principal-property-search>').encode()
