"""RFC 3744 access control: privilege sets per role, the DAV:acl property,
the ACL method and its preconditions, inheritance (nearest level wins,
deny wins at the same level), parvisctl acl, principal properties and the
principal reports."""

import json

import pytest
import requests
from lxml import etree

from access_helpers import (ALL_PRIVS, CALDAV_NS, READ_PRIVS, ROLE_CUPS,
                            PsqlPipe,
                            ace_xml, acl_body, acl_request, add_guest, add_user,
                            error_conditions, hrefs, principal_href,
                            privilege_names, short_id, start_private_server,
                            stop_private_server)
from caldav_helpers import sync_collection
from dav_helpers import (XML_HEADERS, assert_status, dav, mkcol,
                         parse_multistatus, propfind, propfind_one, put,
                         url_path)

SUF = short_id()
CUPS = "current-user-privilege-set"


class Env:
    pass


@pytest.fixture(scope="module")
def env(bins, cluster, seed, ctl):
    e = Env()
    e.suf = SUF
    e.users = {
        "validator": add_user(ctl, "acl%s-val" % SUF, "s1", "validator"),
        "editor": add_user(ctl, "acl%s-ed" % SUF, "s1", "editor",
                           email="Edith.%s@Example.org" % SUF,
                           display="Edith Editor %s" % SUF),
        "editor2": add_user(ctl, "acl%s-ed2" % SUF, "s1", "editor"),
        "reader": add_user(ctl, "acl%s-rd" % SUF, "s1", "reader",
                           email="rita.%s@example.org" % SUF,
                           display="Rita Reader %s" % SUF),
        # No role anywhere: only what entries give.
        "nobody": add_user(ctl, "acl%s-none" % SUF),
        # Same display name stem as editor, but only in s2.
        "outsider": add_user(ctl, "acl%s-out" % SUF, "s2", "editor",
                             email="edith.out.%s@example.org" % SUF,
                             display="Edith Outsider %s" % SUF),
        "guest": add_guest(ctl, "acl%s-guest" % SUF, "2099-12-31"),
        "manager": "mgr",
        "carol": "carol",
    }
    e.srv = start_private_server(bins, cluster)
    e.sessions = {}
    e.psql = PsqlPipe(cluster)
    yield e
    e.psql.close()
    for s in e.sessions.values():
        s.close()
    stop_private_server(e.srv)


def sess(env, who):
    if who not in env.sessions:
        s = requests.Session()
        s.trust_env = False
        name = env.users.get(who, who)
        s.auth = (name, name + "-pw")
        env.sessions[who] = s
    return env.sessions[who]


@pytest.fixture
def tree(env):
    """A fresh folder A with a subfolder B, a file in each, made by the
    manager: returns dict of URLs (a, b, fa, fb) and in-space paths."""
    u = env.srv.url + "/dav/spaces/s1/"
    name = "acl-" + short_id()
    t = {"a": u + name + "/", "b": u + name + "/sub/",
         "fa": u + name + "/fa.txt", "fb": u + name + "/sub/fb.txt",
         "path": "s1/" + name, "subpath": "s1/" + name + "/sub",
         "name": name}
    m = sess(env, "manager")
    assert_status(mkcol(m, t["a"]), 201)
    assert_status(mkcol(m, t["b"]), 201)
    assert_status(put(m, t["fa"], b"file a"), 201)
    assert_status(put(m, t["fb"], b"file b"), 201)
    return t


def uhref(env, who):
    return principal_href(env.users.get(who, who))


def cups(env, who, url):
    r = propfind(sess(env, who), url, "0", "prop", [CUPS])
    assert_status(r, 207)
    resp = parse_multistatus(r.content)[0]
    st, el = resp.props["{DAV:}" + CUPS]
    assert st == 200, r.text
    return privilege_names(el)


def aces_count(env):
    return env.psql.query("select count(*) || '/' || coalesce(sum(id), 0) "
                          "from aces")[0]


# ----------------------------------------------- current-user-privilege-set

@pytest.mark.parametrize("role", ["manager", "validator", "editor", "reader"])
def test_current_user_privilege_set_of_role(env, tree, role):
    # RFC 3744 §5.4: aggregates and what they contain are both listed.
    assert cups(env, role, tree["fb"]) == ROLE_CUPS[role]
    assert cups(env, role, tree["a"]) == ROLE_CUPS[role]


def test_current_user_privilege_set_of_space_root(env):
    assert cups(env, "editor", env.srv.url + "/dav/spaces/s1/") == \
        ROLE_CUPS["editor"]


def test_current_user_privilege_set_of_guest_granted_read(env, tree, ctl):
    ctl("acl", "grant", tree["path"], "user:" + env.users["guest"], "read")
    # DAV:read aggregates DAV:read-current-user-privilege-set and
    # CALDAV:read-free-busy in this server's DAV:supported-privilege-set
    # (RFC 3744 §3.12, RFC 4791 §6.1.1).
    assert cups(env, "guest", tree["fb"]) == READ_PRIVS


def test_current_user_privilege_set_reflects_a_deny(env, tree, ctl):
    ctl("acl", "deny", tree["subpath"], "user:" + env.users["editor"],
        "write-content")
    got = cups(env, "editor", tree["fb"])
    # Without write-content the aggregate DAV:write is not held either.
    assert got == ROLE_CUPS["editor"] - {"write", "write-content"}
    r = put(sess(env, "editor"), tree["fb"], b"changed")
    assert_status(r, 403)
    assert "{DAV:}need-privileges" in error_conditions(r.content)
    # The parent keeps the role's privileges.
    assert cups(env, "editor", tree["fa"]) == ROLE_CUPS["editor"]


def test_supported_privilege_set_lists_every_privilege(env, tree):
    resp = propfind_one(sess(env, "reader"), tree["a"], "prop",
                        ["supported-privilege-set"])
    st, el = resp.props["{DAV:}supported-privilege-set"]
    assert st == 200
    names = set()
    for p in el.iter("{DAV:}privilege"):
        names |= {etree.QName(c).localname
                  if etree.QName(c).namespace == "DAV:" else c.tag
                  for c in p}
    assert names == ALL_PRIVS
    # The tree has a single root, DAV:all.
    tops = el.findall("{DAV:}supported-privilege")
    assert len(tops) == 1
    assert tops[0].find("{DAV:}privilege/{DAV:}all") is not None


def test_acl_restrictions_say_no_invert(env, tree):
    resp = propfind_one(sess(env, "editor"), tree["a"], "prop",
                        ["acl-restrictions"])
    st, el = resp.props["{DAV:}acl-restrictions"]
    assert st == 200
    assert el.find("{DAV:}no-invert") is not None


# ----------------------------------------------------------- DAV:acl

def acl_aces(env, who, url):
    r = propfind(sess(env, who), url, "0", "prop", ["acl"])
    assert_status(r, 207)
    st, el = parse_multistatus(r.content)[0].props["{DAV:}acl"]
    return st, el, r


@pytest.mark.parametrize("role", ["manager", "validator"])
def test_acl_property_readable_with_read_acl(env, tree, role):
    st, el, _ = acl_aces(env, role, tree["a"])
    assert st == 200
    aces = el.findall("{DAV:}ace")
    # The roles of s1 are protected entries.
    protected = {hrefs(a.find("{DAV:}principal"))[0]
                 for a in aces if a.find("{DAV:}protected") is not None}
    assert principal_href("mgr") in protected
    assert uhref(env, "reader") in protected


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_acl_property_refused_without_read_acl(env, tree, role):
    st, el, r = acl_aces(env, role, tree["a"])
    assert st in (403, 404)
    assert el.find("{DAV:}ace") is None
    # Nobody's name leaks through it.
    assert b"/dav/principals/users/mgr/" not in r.content


def test_acl_property_marks_explicit_inherited_and_protected(env, tree):
    m = sess(env, "manager")
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "nobody"), ["read"])), 200)
    assert_status(acl_request(m, tree["b"],
                              ace_xml(uhref(env, "editor"), ["write"],
                                      grant=False)), 200)
    st, el, _ = acl_aces(env, "manager", tree["b"])
    assert st == 200
    rows = []
    for a in el.findall("{DAV:}ace"):
        who = hrefs(a.find("{DAV:}principal"))[0]
        kind = "grant" if a.find("{DAV:}grant") is not None else "deny"
        privs = privilege_names(a.find("{DAV:" + "}" + kind))
        inh = a.find("{DAV:}inherited")
        rows.append((who, kind, frozenset(privs),
                     a.find("{DAV:}protected") is not None,
                     url_path(hrefs(inh)[0]) if inh is not None else None))
    a_path = url_path(tree["a"])
    root = "/dav/spaces/s1/"
    assert rows[0] == (uhref(env, "editor"), "deny",
                       frozenset({"write", "write-properties",
                                  "write-content", "bind", "unbind"}),
                       False, None), rows
    assert (uhref(env, "nobody"), "grant", frozenset({"read"}), False,
            a_path) in rows
    assert (principal_href("mgr"), "grant", frozenset(ALL_PRIVS), True,
            root) in rows
    assert (uhref(env, "reader"), "grant",
            frozenset(ROLE_CUPS["reader"]), True, root) in rows
    # RFC 3744 §5.5: explicit entries come before inherited ones.
    first_inherited = min(i for i, r in enumerate(rows) if r[4] is not None)
    assert all(r[4] is None for r in rows[:first_inherited])
    assert all(r[4] is not None for r in rows[first_inherited:])


def test_inherited_acl_set(env, tree, ctl):
    ctl("acl", "grant", tree["path"], "user:" + env.users["nobody"], "read")
    resp = propfind_one(sess(env, "manager"), tree["fb"], "prop",
                        ["inherited-acl-set"])
    st, el = resp.props["{DAV:}inherited-acl-set"]
    assert st == 200
    got = {url_path(h) for h in hrefs(el)}
    assert got == {url_path(tree["a"]), "/dav/spaces/s1/"}


# ----------------------------------------------------------- ACL method

def test_acl_grant_inherits_to_subfolder(env, tree):
    m, nob = sess(env, "manager"), sess(env, "nobody")
    assert_status(dav(nob, "GET", tree["fb"]), 404)
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "nobody"), ["read"])), 200)
    r = dav(nob, "GET", tree["fb"])
    assert_status(r, 200)
    assert r.content == b"file b"
    assert_status(propfind(nob, tree["b"], "1"), 207)
    r = put(nob, tree["b"] + "new.txt", b"x")
    assert_status(r, 403)
    assert "{DAV:}need-privileges" in error_conditions(r.content)
    # Nothing outside A.
    assert_status(propfind(nob, env.srv.url + "/dav/spaces/s1/", "0"), 404)


def test_acl_deny_inherits_to_subfolder(env, tree):
    m, ed = sess(env, "manager"), sess(env, "editor")
    assert_status(dav(ed, "GET", tree["fb"]), 200)
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "editor"), ["read"],
                                      grant=False)), 200)
    assert_status(dav(ed, "GET", tree["fb"]), 404)
    assert_status(dav(ed, "GET", tree["fa"]), 404)
    r = propfind(ed, env.srv.url + "/dav/spaces/s1/", "1")
    assert_status(r, 207)
    assert tree["name"].encode() not in r.content
    # Another editor is not concerned.
    assert_status(dav(sess(env, "editor2"), "GET", tree["fb"]), 200)


def test_acl_grant_then_deny_replaces_the_entries(env, tree, ctl):
    m, nob = sess(env, "manager"), sess(env, "nobody")
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "nobody"), ["read"])), 200)
    assert_status(dav(nob, "GET", tree["fa"]), 200)
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "editor"), ["write"],
                                      grant=False)), 200)
    # The grant is gone: the ACL replaced the entries of A.
    assert_status(dav(nob, "GET", tree["fa"]), 404)
    out = ctl("--json", "acl", "show", tree["path"]).stdout
    mine = [row for row in json.loads(out) if row["path"] == tree["path"]]
    assert mine == [{"path": tree["path"],
                     "principal": "user:" + env.users["editor"],
                     "type": "deny", "privileges": "write"}]
    r = put(sess(env, "editor"), tree["fa"], b"x")
    assert_status(r, 403)
    # An empty DAV:acl removes every entry of A.
    r = dav(m, "ACL", tree["a"], headers=XML_HEADERS,
            data=b'<?xml version="1.0"?><D:acl xmlns:D="DAV:"/>')
    assert_status(r, 200)
    assert_status(put(sess(env, "editor"), tree["fa"], b"x"), 204)


def test_acl_with_a_false_precondition_changes_nothing(env, tree):
    """RFC 9110 §13.1.1: If-Match that matches nothing stops the ACL
    method (412), and the entries stay as they were."""
    m, nob = sess(env, "manager"), sess(env, "nobody")
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "nobody"), ["read"])), 200)
    r = dav(m, "ACL", tree["a"], headers=dict(XML_HEADERS,
                                              **{"If-Match": '"nope-0000"'}),
            data=acl_body(ace_xml(uhref(env, "nobody"), ["read"],
                                  grant=False)))
    assert_status(r, 412)
    assert_status(dav(nob, "GET", tree["fa"]), 200)


def test_nearest_level_wins_deny_below_grant(env, tree):
    m, nob = sess(env, "manager"), sess(env, "nobody")
    acl_request(m, tree["a"], ace_xml(uhref(env, "nobody"), ["read"]))
    assert_status(acl_request(m, tree["b"],
                              ace_xml(uhref(env, "nobody"), ["read"],
                                      grant=False)), 200)
    assert_status(dav(nob, "GET", tree["fa"]), 200)
    assert_status(dav(nob, "GET", tree["fb"]), 404)
    r = propfind(nob, tree["a"], "1")
    assert_status(r, 207)
    assert b"/sub/" not in r.content


def test_nearest_level_wins_grant_below_deny(env, tree):
    m, ed = sess(env, "manager"), sess(env, "editor")
    acl_request(m, tree["a"], ace_xml(uhref(env, "editor"), ["read"],
                                      grant=False))
    assert_status(acl_request(m, tree["b"],
                              ace_xml(uhref(env, "editor"), ["read"])), 200)
    assert_status(dav(ed, "GET", tree["fa"]), 404)
    assert_status(dav(ed, "GET", tree["fb"]), 200)


def test_entry_widens_a_role_below(env, tree):
    m, rd = sess(env, "manager"), sess(env, "reader")
    assert_status(acl_request(m, tree["b"],
                              ace_xml(uhref(env, "reader"), ["write"])), 200)
    assert_status(put(rd, tree["b"] + "by-reader.txt", b"r"), 201)
    assert_status(put(rd, tree["a"] + "by-reader.txt", b"r"), 403)


def test_deny_wins_at_the_same_level(env, tree):
    m, nob = sess(env, "manager"), sess(env, "nobody")
    assert_status(acl_request(
        m, tree["a"], ace_xml(uhref(env, "nobody"), ["read"]),
        ace_xml(uhref(env, "nobody"), ["read"], grant=False)), 200)
    assert_status(dav(nob, "GET", tree["fa"]), 404)
    # Order does not matter.
    assert_status(acl_request(
        m, tree["a"], ace_xml(uhref(env, "nobody"), ["read"], grant=False),
        ace_xml(uhref(env, "nobody"), ["read"])), 200)
    assert_status(dav(nob, "GET", tree["fa"]), 404)


def test_space_deny_beats_user_grant_at_the_same_level(env, tree):
    m, ed = sess(env, "manager"), sess(env, "editor")
    assert_status(acl_request(
        m, tree["a"], ace_xml(uhref(env, "editor"), ["read"]),
        ace_xml(principal_href("s1", space=True), ["read"], grant=False)),
        200)
    assert_status(dav(ed, "GET", tree["fa"]), 404)
    assert_status(dav(sess(env, "editor2"), "GET", tree["fa"]), 404)
    # The manager denied itself too (a member of s1).
    assert_status(dav(m, "GET", tree["fa"]), 404)


def test_entry_for_members_of_another_space(env, tree):
    m = sess(env, "manager")
    assert_status(acl_request(m, tree["a"],
                              ace_xml(principal_href("s2", space=True),
                                      ["read"])), 200)
    carol = sess(env, "carol")
    try:
        r = dav(carol, "GET", tree["fa"])
        assert_status(r, 200)
        assert r.content == b"file a"
        assert_status(put(carol, tree["a"] + "c.txt", b"c"), 403)
    finally:
        # Other modules count on carol seeing nothing of s1.
        assert_status(acl_request(m, tree["a"], ""), 200)


ACL_PRECONDITIONS = {
    "invert": ("<D:ace><D:invert><D:principal><D:href>%(u)s</D:href>"
               "</D:principal></D:invert><D:grant><D:privilege><D:read/>"
               "</D:privilege></D:grant></D:ace>", "no-invert"),
    "unknown-user": (ace_xml("/dav/principals/users/nosuch-user-x/",
                             ["read"]), "recognized-principal"),
    "unknown-space": (ace_xml("/dav/principals/spaces/nosuch-space-x/",
                              ["read"]), "recognized-principal"),
    "not-a-principal": (ace_xml("/dav/spaces/s1/", ["read"]),
                        "recognized-principal"),
    "unknown-privilege": (ace_xml("%(u)s", ["read-free-beer"]),
                          "not-supported-privilege"),
    "foreign-privilege": (ace_xml("%(u)s", ['<X:read xmlns:X="urn:x"/>']),
                          "not-supported-privilege"),
    "principal-all": (ace_xml("<D:all/>", ["read"]), "allowed-principal"),
    "principal-authenticated": (ace_xml("<D:authenticated/>", ["read"]),
                                "allowed-principal"),
    "principal-unauthenticated": (ace_xml("<D:unauthenticated/>",
                                          ["read"]), "allowed-principal"),
    "principal-self": (ace_xml("<D:self/>", ["read"]), "allowed-principal"),
    "principal-property": (ace_xml("<D:property><D:owner/></D:property>",
                                   ["read"]), "allowed-principal"),
    "protected": (ace_xml("%(u)s", ["read"], extra="<D:protected/>"),
                  "no-protected-ace-conflict"),
    "inherited": (ace_xml("%(u)s", ["read"], extra="<D:inherited><D:href>"
                          "/dav/spaces/s1/</D:href></D:inherited>"),
                  "no-inherited-ace-conflict"),
}


@pytest.mark.parametrize("case", sorted(ACL_PRECONDITIONS))
def test_acl_method_precondition(env, tree, case):
    xml, cond = ACL_PRECONDITIONS[case]
    xml = xml % {"u": uhref(env, "nobody")}
    m = sess(env, "manager")
    # A valid entry first: the whole request must be refused.
    before = aces_count(env)
    r = acl_request(m, tree["a"], ace_xml(uhref(env, "editor2"), ["read"]),
                    xml)
    assert_status(r, 403)
    assert error_conditions(r.content) == {"{DAV:}" + cond}, r.text
    assert aces_count(env) == before


@pytest.mark.parametrize("role", ["validator", "editor", "reader"])
def test_acl_method_needs_write_acl(env, tree, role):
    before = aces_count(env)
    r = acl_request(sess(env, role), tree["a"],
                    ace_xml(uhref(env, "nobody"), ["read"]))
    assert_status(r, 403)
    assert "{DAV:}need-privileges" in error_conditions(r.content)
    assert aces_count(env) == before


def test_write_acl_entry_lets_an_editor_change_the_acl(env, tree):
    m, ed = sess(env, "manager"), sess(env, "editor")
    assert_status(acl_request(m, tree["a"],
                              ace_xml(uhref(env, "editor"), ["write-acl"])),
                  200)
    assert "write-acl" in cups(env, "editor", tree["fb"])
    assert_status(acl_request(ed, tree["b"],
                              ace_xml(uhref(env, "nobody"), ["read"])), 200)
    assert_status(dav(sess(env, "nobody"), "GET", tree["fb"]), 200)
    # Not above the folder the entry is on.
    assert_status(acl_request(ed, env.srv.url + "/dav/spaces/s1/",
                              ace_xml(uhref(env, "nobody"), ["read"])), 403)


def test_acl_method_on_invisible_resource_is_404(env, tree):
    r = acl_request(sess(env, "carol"), tree["a"],
                    ace_xml(principal_href("carol"), ["all"]))
    assert_status(r, 404)
    assert_status(dav(sess(env, "carol"), "GET", tree["fa"]), 404)


def test_acl_method_on_missing_resource_is_404(env, tree):
    r = acl_request(sess(env, "manager"), tree["a"] + "nothing-here/",
                    ace_xml(uhref(env, "nobody"), ["read"]))
    assert_status(r, 404)


# ----------------------------------------------------------- parvisctl acl

def show(ctl, where, json_out=False):
    if json_out:
        return json.loads(ctl("--json", "acl", "show", where).stdout)
    lines = ctl("acl", "show", where).stdout.splitlines()
    return [tuple(line.split("\t")) for line in lines if line]


def test_ctl_acl_grant_show_revoke(env, tree, ctl):
    nobody = env.users["nobody"]
    out = ctl("acl", "grant", tree["path"], nobody, "read,write-content")
    assert out.returncode == 0
    ctl("acl", "deny", tree["subpath"], "user:" + nobody, "write-content")
    rows = show(ctl, tree["subpath"])
    assert (tree["path"], "user:" + nobody, "grant",
            "read,write-content") in rows
    assert (tree["subpath"], "user:" + nobody, "deny",
            "write-content") in rows
    # Takes effect on the next request.
    nob = sess(env, "nobody")
    assert_status(put(nob, tree["fa"], b"by nobody"), 204)
    assert_status(put(nob, tree["fb"], b"by nobody"), 403)
    ctl("acl", "revoke", tree["subpath"], nobody)
    assert_status(put(nob, tree["fb"], b"by nobody"), 204)
    ctl("acl", "revoke", tree["path"], "user:" + nobody)
    assert_status(dav(nob, "GET", tree["fa"]), 404)
    assert [r for r in show(ctl, tree["subpath"])
            if r[1] == "user:" + nobody] == []


def test_ctl_acl_show_json(env, tree, ctl):
    ctl("acl", "grant", tree["path"], "space:s2", "read")
    ctl("acl", "deny", tree["subpath"], "user:" + env.users["editor"],
        "write")
    try:
        rows = show(ctl, tree["subpath"], json_out=True)
    finally:
        # Other modules count on s2's members seeing nothing of s1.
        ctl("acl", "revoke", tree["path"], "space:s2")
    assert {"path": tree["path"], "principal": "space:s2", "type": "grant",
            "privileges": "read"} in rows
    assert {"path": tree["subpath"], "principal":
            "user:" + env.users["editor"], "type": "deny",
            "privileges": "write"} in rows
    for row in rows:
        assert set(row) == {"path", "principal", "type", "privileges"}


def test_ctl_acl_show_includes_ancestors_not_siblings(env, tree, ctl):
    other = "s1/" + tree["name"] + "-sibling"
    assert_status(mkcol(sess(env, "manager"),
                        env.srv.url + "/dav/spaces/" + other + "/"), 201)
    ctl("acl", "grant", other, env.users["nobody"], "read")
    ctl("acl", "grant", tree["path"], env.users["nobody"], "read")
    paths = {r[0] for r in show(ctl, tree["subpath"])}
    assert tree["path"] in paths
    assert other not in paths


def test_ctl_acl_show_is_there_and_above_only(env, tree, ctl):
    # parvisctl's usage: "acl show SPACE[/PATH]  access entries there and
    # above".
    ctl("acl", "grant", tree["path"], env.users["nobody"], "read")
    ctl("acl", "grant", tree["subpath"], env.users["nobody"], "write")
    paths = {r[0] for r in show(ctl, tree["path"])}
    assert tree["path"] in paths
    assert tree["subpath"] not in paths


def test_ctl_acl_all_privileges_and_aggregates(env, tree, ctl):
    ctl("acl", "grant", tree["path"], env.users["nobody"], "all")
    ctl("acl", "grant", tree["subpath"], env.users["nobody"],
        "write-properties,write-content,bind,unbind")
    rows = show(ctl, tree["subpath"])
    privs = {r[0]: r[3] for r in rows if r[1] == "user:" +
             env.users["nobody"]}
    assert privs == {tree["path"]: "all", tree["subpath"]: "write"}


@pytest.mark.parametrize("args,msg", [
    (["grant", "{p}", "{u}", "fly"], "unknown privilege"),
    (["grant", "{p}", "nosuch-user-x", "read"], "no resource"),
    (["grant", "{p}/nothing-here", "{u}", "read"], "no resource"),
    (["grant", "{p}", "space:nosuch-space", "read"], "no resource"),
    (["revoke", "{p}", "{u}"], "no entry"),
])
def test_ctl_acl_errors(env, tree, ctl, args, msg):
    args = [a.format(p=tree["path"], u=env.users["nobody"]) for a in args]
    before = aces_count(env)
    p = ctl("acl", *args, check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert msg in p.stderr
    assert aces_count(env) == before


def test_ctl_acl_usage_error(ctl):
    p = ctl("acl", "grant", "s1", check=False)
    assert p.returncode == 2


# ------------------------------------------------------ principal properties

PRINCIPAL_PROPS = ["displayname", "principal-URL", "resourcetype",
                   "group-membership", "{%s}calendar-user-address-set"
                   % CALDAV_NS]


def test_user_principal_properties(env):
    ed = env.users["editor"]
    resp = propfind_one(sess(env, "reader"),
                        env.srv.url + principal_href(ed), "prop",
                        PRINCIPAL_PROPS)
    ok = resp.ok_props()
    assert ok["{DAV:}displayname"].text == "Edith Editor " + SUF
    assert hrefs(ok["{DAV:}principal-URL"]) == [principal_href(ed)]
    assert ok["{DAV:}resourcetype"].find("{DAV:}principal") is not None
    assert hrefs(ok["{DAV:}group-membership"]) == \
        [principal_href("s1", space=True)]
    cua = hrefs(ok["{%s}calendar-user-address-set" % CALDAV_NS])
    assert cua[0].lower() == "mailto:edith.%s@example.org" % SUF
    assert principal_href(ed) in [url_path(h) if h.startswith("http") else h
                                  for h in cua[1:]]


def test_group_membership_shows_only_shared_spaces(env, ctl):
    # carol is in s2 only; seen by herself, her principal lists s2.
    resp = propfind_one(sess(env, "carol"),
                        env.srv.url + principal_href("carol"), "prop",
                        ["group-membership"])
    assert hrefs(resp.ok_props()["{DAV:}group-membership"]) == \
        [principal_href("s2", space=True)]


def test_space_principal_group_member_set(env):
    resp = propfind_one(sess(env, "editor"),
                        env.srv.url + principal_href("s1", space=True),
                        "prop", ["group-member-set", "displayname",
                                 "principal-URL"])
    ok = resp.ok_props()
    members = set(hrefs(ok["{DAV:}group-member-set"]))
    for who in ("manager", "validator", "editor", "reader"):
        assert uhref(env, who) in members
    assert principal_href("alice") in members
    assert principal_href("carol") not in members
    assert ok["{DAV:}displayname"].text == "Space one"
    assert hrefs(ok["{DAV:}principal-URL"]) == \
        [principal_href("s1", space=True)]


@pytest.mark.parametrize("path", ["/", "/dav/", "/dav/spaces/",
                                  "/dav/spaces/s1/", "/dav/principals/",
                                  "/dav/principals/users/",
                                  "/dav/principals/users/mgr/"])
def test_current_user_principal_everywhere(env, path):
    resp = propfind_one(sess(env, "editor"), env.srv.url + path, "prop",
                        ["current-user-principal",
                         "principal-collection-set"])
    ok = resp.ok_props()
    assert hrefs(ok["{DAV:}current-user-principal"]) == [uhref(env, "editor")]
    assert hrefs(ok["{DAV:}principal-collection-set"]) == ["/dav/principals/"]


def test_owner_is_the_creator(env, tree):
    ed = sess(env, "editor")
    url = tree["a"] + "owned.txt"
    assert_status(put(ed, url, b"mine"), 201)
    for url_, who in ((url, "editor"), (tree["fa"], "manager")):
        resp = propfind_one(sess(env, "reader"), url_, "prop", ["owner"])
        assert hrefs(resp.ok_props()["{DAV:}owner"]) == [uhref(env, who)]
    # A later write by someone else does not change the owner.
    assert_status(put(sess(env, "manager"), url, b"edited"), 204)
    resp = propfind_one(ed, url, "prop", ["owner"])
    assert hrefs(resp.ok_props()["{DAV:}owner"]) == [uhref(env, "editor")]


def test_principals_users_lists_only_co_members(env):
    r = propfind(sess(env, "editor"), env.srv.url + "/dav/principals/users/",
                 "1", "prop", ["displayname"])
    assert_status(r, 207)
    paths = {x.path for x in parse_multistatus(r.content)}
    for who in ("manager", "validator", "editor", "reader"):
        assert uhref(env, who) in paths
    assert principal_href("carol") not in paths
    assert uhref(env, "outsider") not in paths
    assert uhref(env, "nobody") not in paths
    assert b"Outsider" not in r.content


def test_principal_of_non_co_member_is_404(env):
    r = propfind(sess(env, "editor"),
                 env.srv.url + principal_href("carol"), "0")
    assert_status(r, 404)
    r = propfind(sess(env, "editor"),
                 env.srv.url + principal_href("s2", space=True), "0")
    assert_status(r, 404)
    assert b"Space two" not in r.content


def test_principals_spaces_lists_own_spaces(env):
    r = propfind(sess(env, "carol"), env.srv.url + "/dav/principals/spaces/",
                 "1", "prop", ["displayname"])
    assert_status(r, 207)
    paths = {x.path for x in parse_multistatus(r.content)}
    assert principal_href("s2", space=True) in paths
    assert principal_href("s1", space=True) not in paths


# ------------------------------------------------------- principal reports

def search_body(tests, props=("displayname",), test_attr=None):
    parts = []
    for prop, match in tests:
        p = ("<C:calendar-user-address-set/>" if prop == "cuas"
             else "<D:%s/>" % prop)
        parts.append("<D:property-search><D:prop>%s</D:prop><D:match>%s"
                     "</D:match></D:property-search>" % (p, match))
    attr = ' test="%s"' % test_attr if test_attr else ""
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:principal-property-search xmlns:D="DAV:" xmlns:C="%s"%s>'
            '%s<D:prop>%s</D:prop></D:principal-property-search>'
            % (CALDAV_NS, attr, "".join(parts),
               "".join("<D:%s/>" % p for p in props))).encode()


def search(env, who, tests, url="/dav/principals/", **kw):
    r = dav(sess(env, who), "REPORT", env.srv.url + url,
            data=search_body(tests, **kw),
            headers=dict(XML_HEADERS, Depth="0"))
    assert_status(r, 207)
    return {x.path: x for x in parse_multistatus(r.content)}, r


def test_principal_property_search_displayname_case_insensitive(env):
    found, r = search(env, "reader", [("displayname", "eDITH ediTOR " + SUF)])
    assert set(found) == {uhref(env, "editor")}
    assert found[uhref(env, "editor")].ok_props()["{DAV:}displayname"] \
        .text == "Edith Editor " + SUF


def test_principal_property_search_substring_only_co_members(env):
    found, r = search(env, "reader", [("displayname", "edith")])
    # The outsider (in s2 only) matches too but shares no space.
    assert uhref(env, "editor") in found
    assert uhref(env, "outsider") not in found
    assert b"Outsider" not in r.content


def test_principal_property_search_by_email(env):
    found, _ = search(env, "editor", [("cuas", "RITA.%s@" % SUF)])
    assert set(found) == {uhref(env, "reader")}


def test_principal_property_search_all_tests_must_match(env):
    found, _ = search(env, "editor", [("displayname", "rita"),
                                      ("cuas", "edith.%s" % SUF)])
    assert found == {}


def test_principal_property_search_anyof(env):
    # The test attribute (allof by default; anyof as sent by Apple's
    # Calendar and Contacts): one matching property-search is enough.
    found, _ = search(env, "editor", [("displayname", "rita reader " + SUF),
                                      ("cuas", "edith.%s@" % SUF)],
                      test_attr="anyof")
    assert set(found) == {uhref(env, "reader"), uhref(env, "editor")}


def test_principal_property_search_no_match(env):
    found, r = search(env, "editor", [("displayname", "zz-nobody-here")])
    assert found == {}


def test_principal_property_search_from_outside_sees_own_space(env):
    found, r = search(env, "carol", [("displayname", "edith")])
    assert uhref(env, "outsider") in found
    assert uhref(env, "editor") not in found
    assert b"Edith Editor" not in r.content


def test_principal_search_property_set(env):
    r = dav(sess(env, "reader"), "REPORT",
            env.srv.url + "/dav/principals/",
            data=b'<?xml version="1.0" encoding="utf-8"?>'
                 b'<D:principal-search-property-set xmlns:D="DAV:"/>',
            headers=dict(XML_HEADERS, Depth="0"))
    assert_status(r, 200)
    root = etree.fromstring(r.content)
    assert root.tag == "{DAV:}principal-search-property-set"
    props = set()
    for psp in root.findall("{DAV:}principal-search-property"):
        for p in psp.find("{DAV:}prop"):
            props.add(p.tag)
        assert psp.find("{DAV:}description") is not None
    assert props == {"{DAV:}displayname",
                     "{%s}calendar-user-address-set" % CALDAV_NS}


def test_sync_from_a_token_omits_changed_members_the_user_cannot_read(env,
                                                                      tree):
    # Unreadable resources are invisible (DESIGN.md, RFC 3744 §7.1): a
    # member changed since the token, then denied to the reader, is not
    # reported to the reader, neither present nor removed.
    m = sess(env, "manager")
    rd = sess(env, "reader")
    token = sync_collection(rd, tree["a"], "").token
    assert_status(put(m, tree["fa"], b"file a, again"), 204)
    assert_status(acl_request(m, tree["fa"],
                              ace_xml(uhref(env, "reader"), ["read"],
                                      grant=False)), 200)
    assert_status(put(m, tree["a"] + "new.txt", b"new"), 201)
    seen = sync_collection(rd, tree["a"], token)
    assert sorted(seen.changed()) == ["new.txt"]
    assert seen.removed() == []
    everything = sync_collection(m, tree["a"], token)
    assert sorted(everything.changed()) == ["fa.txt", "new.txt"]


def _token_refused(r):
    assert r.status_code == 403, (r.status_code, r.text[:1000])
    assert b"valid-sync-token" in r.content, r.text[:1000]


@pytest.mark.parametrize("how", ["rename", "delete", "move out"])
def test_sync_never_names_a_hidden_member_that_left(env, tree, how):
    """A member the reader may not read leaves the folder (renamed,
    deleted to the trash, moved elsewhere): its name must not reach the
    reader as a 404 (unreadable means absent, RFC 3744 §7.1).  The
    server cannot tell afterwards whom the member's own entries hid it
    from, so the token is refused and the client lists the folder anew;
    the listing is right for each user."""
    from caldav_helpers import report, sync_body
    m = sess(env, "manager")
    rd = sess(env, "reader")
    hidden = tree["a"] + "licenciements.odt"
    assert_status(put(m, hidden, b"secret"), 201)
    assert_status(acl_request(m, hidden,
                              ace_xml(uhref(env, "reader"), ["read"],
                                      grant=False)), 200)
    first = sync_collection(rd, tree["a"], "")
    assert "licenciements.odt" not in first.changed()
    assert "licenciements.odt" in sync_collection(m, tree["a"], "").changed()
    token = first.token
    if how == "rename":
        dest = tree["a"] + "renamed.odt"
    elif how == "move out":
        dest = tree["b"] + "moved.odt"
    if how == "delete":
        assert_status(dav(m, "DELETE", hidden), 204)
    else:
        assert_status(dav(m, "MOVE", hidden,
                          headers={"Destination": dest}), 201)
    r = report(rd, tree["a"], sync_body(token))
    assert b"licenciements" not in r.content, r.text
    _token_refused(r)
    # The client starts over, and finds the folder as it is for it.
    fresh = sync_collection(rd, tree["a"], "")
    assert "licenciements.odt" not in fresh.changed()
    assert "renamed.odt" not in fresh.changed()


def test_sync_still_reports_a_visible_member_that_left(env, tree):
    """Members without entries of their own leave as 404s, as before."""
    m = sess(env, "manager")
    rd = sess(env, "reader")
    token = sync_collection(rd, tree["a"], "").token
    assert_status(dav(m, "MOVE", tree["fa"],
                      headers={"Destination": tree["a"] + "fa2.txt"}), 201)
    seen = sync_collection(rd, tree["a"], token)
    assert seen.removed() == ["fa.txt"]
    assert list(seen.changed()) == ["fa2.txt"]


def test_sync_never_names_a_hidden_event_deleted_for_good(env):
    """An event is deleted for good, its entries with it: the removal
    itself says that they were there."""
    from caldav_helpers import event_ics, new_calendar, put_ok, report, sync_body
    m = sess(env, "manager")
    rd = sess(env, "reader")
    url = new_calendar(env.srv, m, user="mgr")
    rd_url = url.replace("/calendars/mgr/", "/calendars/%s/"
                         % env.users["reader"])
    put_ok(m, url + "seen.ics", event_ics("seen", "DTSTART:20260601T100000Z"))
    put_ok(m, url + "entretien.ics",
           event_ics("entretien", "DTSTART:20260602T100000Z"))
    assert_status(acl_request(m, url + "entretien.ics",
                              ace_xml(uhref(env, "reader"), ["read"],
                                      grant=False)), 200)
    first = sync_collection(rd, rd_url, "")
    assert list(first.changed()) == ["seen.ics"]
    assert_status(dav(m, "DELETE", url + "entretien.ics"), 204)
    r = report(rd, rd_url, sync_body(first.token))
    assert b"entretien" not in r.content, r.text
    _token_refused(r)
    assert list(sync_collection(rd, rd_url, "").changed()) == ["seen.ics"]


def test_read_free_busy_alone_gives_free_busy_time_and_nothing_else(env):
    """RFC 4791 §6.1.1: CALDAV:read-free-busy may be granted without
    DAV:read; it lets one ask free-busy-query, and nothing else."""
    from caldav_helpers import (event_ics, freebusy_body, new_calendar,
                                put_ok, query_body, report)
    m = sess(env, "manager")
    nb = sess(env, "nobody")
    url = new_calendar(env.srv, m, user="mgr")
    put_ok(m, url + "busy.ics", event_ics(
        "busy", "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z",
        "SUMMARY:Entretien confidentiel"))
    nb_url = url.replace("/calendars/mgr/", "/calendars/%s/"
                         % env.users["nobody"])
    fb = freebusy_body("20260601T000000Z", "20260602T000000Z")
    assert report(nb, nb_url, fb).status_code == 404
    assert_status(acl_request(
        m, url, ace_xml(uhref(env, "nobody"), ["<C:read-free-busy/>"]),
        nsdecl='xmlns:C="%s"' % CALDAV_NS), 200)
    r = report(nb, nb_url, fb)
    assert_status(r, 200)
    assert "FREEBUSY:20260601T100000Z/20260601T110000Z" in r.text, r.text
    assert "Entretien" not in r.text
    assert dav(nb, "GET", nb_url + "busy.ics").status_code == 404
    assert report(nb, nb_url, query_body(
        "<C:comp-filter name=\"VCALENDAR\"/>")).status_code == 404
    assert dav(nb, "PROPFIND", nb_url, headers={"Depth": "1"}
               ).status_code == 404
    # Its place in the privilege tree: under DAV:read.
    r = propfind(m, url, "0", "prop", ["supported-privilege-set"])
    tree = etree.fromstring(r.content)
    read = [sp for sp in tree.iter("{DAV:}supported-privilege")
            if sp.find("{DAV:}privilege/{DAV:}read") is not None]
    assert len(read) == 1
    assert read[0].find(".//{%s}read-free-busy" % CALDAV_NS) is not None


def test_read_implies_read_free_busy(env):
    from caldav_helpers import event_ics, freebusy_body, new_calendar, put_ok, report
    m = sess(env, "manager")
    rd = sess(env, "reader")
    url = new_calendar(env.srv, m, user="mgr")
    put_ok(m, url + "b.ics", event_ics("b", "DTSTART:20260601T100000Z",
                                       "DTEND:20260601T110000Z"))
    rd_url = url.replace("/calendars/mgr/", "/calendars/%s/"
                         % env.users["reader"])
    r = report(rd, rd_url, freebusy_body("20260601T000000Z",
                                         "20260602T000000Z"))
    assert_status(r, 200)
    assert "FREEBUSY:20260601T100000Z/20260601T110000Z" in r.text
    assert "read-free-busy" in "".join(cups(env, "reader", rd_url))


def test_read_free_busy_stops_at_an_event_denied_to_the_user(env):
    """Denying DAV:all (or DAV:read) on an event denies what read holds,
    free-busy time included (RFC 3744 §3.12): its time is not shown."""
    from caldav_helpers import event_ics, freebusy_body, new_calendar, put_ok, report
    m = sess(env, "manager")
    nb = sess(env, "nobody")
    url = new_calendar(env.srv, m, user="mgr")
    put_ok(m, url + "open.ics", event_ics("open", "DTSTART:20260601T080000Z",
                                          "DTEND:20260601T090000Z"))
    put_ok(m, url + "secret.ics", event_ics(
        "secret", "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z"))
    assert_status(acl_request(
        m, url, ace_xml(uhref(env, "nobody"), ["<C:read-free-busy/>"]),
        nsdecl='xmlns:C="%s"' % CALDAV_NS), 200)
    assert_status(acl_request(
        m, url + "secret.ics",
        ace_xml(uhref(env, "nobody"), ["all"], grant=False)), 200)
    nb_url = url.replace("/calendars/mgr/", "/calendars/%s/"
                         % env.users["nobody"])
    r = report(nb, nb_url, freebusy_body("20260601T000000Z",
                                         "20260602T000000Z"))
    assert_status(r, 200)
    assert "20260601T080000Z/20260601T090000Z" in r.text, r.text
    assert "20260601T100000Z" not in r.text, r.text


def test_if_header_of_a_report_tells_nothing_of_a_hidden_file(env, tree):
    """A REPORT on a file one may not read is a 404 whatever its If
    header says: an ETag there (the content's hash) must not be
    confirmed or refuted."""
    import hashlib
    m = sess(env, "manager")
    rd = sess(env, "reader")
    assert_status(acl_request(m, tree["fb"],
                              ace_xml(uhref(env, "reader"), ["read"],
                                      grant=False)), 200)
    right = '"%s"' % hashlib.sha256(b"file b").hexdigest()[:32]
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
            '<D:sync-token/><D:sync-level>1</D:sync-level>'
            '<D:prop><D:getetag/></D:prop></D:sync-collection>')
    for etag in (right, '"00000000000000000000000000000000"'):
        r = dav(rd, "REPORT", tree["fb"], data=body,
                headers={"Content-Type": "application/xml",
                         "If": "([%s])" % etag})
        assert r.status_code == 404, (etag, r.status_code)
