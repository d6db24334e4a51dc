"""The tamper-evident audit trail: a row for every mutating request
(approval, restore, purge and trash actions named as such), failed logins,
guests' reads and reads of the published view, and parvisctl's changes;
`parvisctl audit` (filters, formats) and `parvisctl audit verify` (the
hash chain); parvisd's role may not change or remove rows; P:audit-trail."""

import csv
import hashlib
import io
import json
import os
import pwd
import re
import socket
import subprocess
import threading
import time
from urllib.parse import quote

import pytest
import requests

from conftest import make_ctl

from dav_helpers import (user_session, assert_status, basic_auth, dav, db_path,
                         join, parse_multistatus, propfind, put, revisions_of,
                         sql_str)
from caldav_helpers import (comp_filter, event_ics, multiget_body, new_calendar,
                            put_ok, query_body, report)
from workflow_helpers import (approve, abs_url, add_partner, add_user, audit_of_path,
                              audit_rows, max_audit_id, members,
                              p, psql_as_parvis, published_url, revisions,
                              set_approval, short, text_of, trash_url)

VERIFY_OK_RE = re.compile(r"^audit chain intact: (\d+) rows$", re.M)


_session = user_session


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def mgr(seed, session_for):
    return session_for("mgr")


@pytest.fixture(scope="module")
def validator(ctl, seed):
    return add_user(ctl, short("aval"), "s1", "validator")


@pytest.fixture
def doc(alice, coll):
    url = join(coll, "audited.txt")
    assert_status(put(alice, url, b"audited content\n"), 201)
    return url


def _path(url):
    """The audit path of a space URL: 'SLUG/path'."""
    return "s1" + db_path(url)


def _new_rows(cluster, since, where="true", args=()):
    return audit_rows(cluster, "id > %d and (%s)" % (since, where), args)


def _one(rows, **want):
    """The single row matching every given column value."""
    found = [r for r in rows if all(r[k] == v for k, v in want.items())]
    assert len(found) == 1, (want, rows)
    return found[0]


# ------------------------------------------------------ mutating requests

def test_put_is_audited(cluster, alice, coll):
    mark = max_audit_id(cluster)
    url = join(coll, "new.txt")
    assert_status(put(alice, url, b"new"), 201)
    row = _one(_new_rows(cluster, mark), action="PUT", path=_path(url))
    assert (row["principal"], row["status"]) == ("alice", "201"), row


def test_put_row_names_the_resource_and_its_new_revision(cluster, alice,
                                                        doc):
    mark = max_audit_id(cluster)
    assert_status(put(alice, doc, b"second"), 204)
    row = _one(_new_rows(cluster, mark), action="PUT", path=_path(doc))
    revs = revisions_of(cluster, db_path(doc))
    rid = cluster.psql("select r.id from resources r join spaces s "
                       "on s.id = r.space_id where s.slug = 's1' and "
                       "r.id = parvis_resolve(s.id, %s)"
                       % sql_str(db_path(doc)))[0][0]
    assert row["resource_id"] == rid and row["revision_id"] == str(revs[-1][0])


def test_audit_row_records_client_and_user_agent(cluster, alice, coll):
    mark = max_audit_id(cluster)
    url = join(coll, "ua.txt")
    put(alice, url, b"x", headers={"User-Agent": "audit-test-agent/1.0"})
    row = _one(_new_rows(cluster, mark), action="PUT", path=_path(url))
    assert row["client"] == "127.0.0.1"
    assert row["user_agent"] == "audit-test-agent/1.0"


def test_mkcol_is_audited(cluster, alice, coll):
    mark = max_audit_id(cluster)
    url = join(coll, "dir", collection=True)
    assert_status(dav(alice, "MKCOL", url), 201)
    _one(_new_rows(cluster, mark), action="MKCOL", path=_path(url).rstrip("/"),
         principal="alice", status="201")


def test_refused_write_is_audited(cluster, session_for, doc):
    mark = max_audit_id(cluster)
    assert_status(put(session_for("bob"), doc, b"bob was here"), 403)
    _one(_new_rows(cluster, mark), action="PUT", path=_path(doc),
         principal="bob", status="403")


def test_delete_is_audited_with_its_trash_entry(cluster, alice, doc):
    mark = max_audit_id(cluster)
    assert_status(dav(alice, "DELETE", doc), 204)
    row = _one(_new_rows(cluster, mark), action="DELETE", path=_path(doc))
    assert re.fullmatch(r"to /\.trash/\d+", row["detail"]), row


def test_restore_from_the_trash_is_audited(server, cluster, alice, doc):
    assert_status(dav(alice, "DELETE", doc), 204)
    entry = [m for m in members(alice, trash_url(server), [p("trashed-from")])
             if text_of(m, p("trashed-from")) == db_path(doc)][0]
    mark = max_audit_id(cluster)
    r = dav(alice, "MOVE", abs_url(server, entry.href),
            headers={"Destination": doc})
    assert_status(r, 201)
    rows = _new_rows(cluster, mark)
    assert [(r["action"], r["principal"], r["status"]) for r in rows] == \
        [("MOVE", "alice", "201")], rows


def test_revision_restore_is_audited_as_restore(server, cluster, alice, doc):
    put(alice, doc, b"second")
    first = revisions(alice, doc)[0]
    mark = max_audit_id(cluster)
    r = dav(alice, "COPY", abs_url(server, first.href),
            headers={"Destination": doc})
    assert_status(r, 204)
    row = _one(_new_rows(cluster, mark), action="RESTORE")
    assert (row["path"], row["detail"], row["principal"]) == \
        (_path(doc), "revision 1", "alice"), row


def test_trash_purge_is_audited_as_purge(server, cluster, alice, mgr, doc):
    assert_status(dav(alice, "DELETE", doc), 204)
    entry = [m for m in members(alice, trash_url(server), [p("trashed-from")])
             if text_of(m, p("trashed-from")) == db_path(doc)][0]
    mark = max_audit_id(cluster)
    assert_status(dav(mgr, "DELETE", abs_url(server, entry.href)), 204)
    _one(_new_rows(cluster, mark), action="PURGE", principal="mgr",
         status="204")


def test_emptying_the_trash_is_audited(server, ctl, cluster, session_for):
    slug = short("at")
    ctl("space", "create", slug, "--title", "audit trash")
    ctl("member", "add", slug, "alice", "--role", "editor")
    ctl("member", "add", slug, "mgr", "--role", "manager")
    alice, mgr = session_for("alice"), session_for("mgr")
    for name in ("a.txt", "b.txt"):
        put(alice, server.space_url(slug) + name, b"x")
        assert_status(dav(alice, "DELETE", server.space_url(slug) + name), 204)
    mark = max_audit_id(cluster)
    assert_status(dav(mgr, "DELETE", trash_url(server, slug)), 204)
    row = _one(_new_rows(cluster, mark), action="EMPTY_TRASH")
    assert (row["principal"], row["detail"]) == ("mgr", "2 purged, 0 kept"), \
        row


# ------------------------------------------------------------- approval

def test_submit_is_audited(cluster, alice, doc):
    mark = max_audit_id(cluster)
    set_approval(alice, doc, "submitted")
    _one(_new_rows(cluster, mark), action="SUBMIT", principal="alice",
         path=_path(doc))


def test_approve_is_audited(cluster, alice, validator, doc):
    set_approval(alice, doc, "submitted")
    mark = max_audit_id(cluster)
    s = _session(validator)
    set_approval(s, doc, "approved")
    s.close()
    row = _one(_new_rows(cluster, mark), action="APPROVE", path=_path(doc))
    assert row["principal"] == validator
    assert row["revision_id"] == str(revisions_of(cluster, db_path(doc))[0][0])


def test_reject_is_audited(cluster, alice, validator, doc):
    set_approval(alice, doc, "submitted")
    mark = max_audit_id(cluster)
    s = _session(validator)
    set_approval(s, doc, "rejected")
    s.close()
    _one(_new_rows(cluster, mark), action="REJECT", principal=validator,
         path=_path(doc))


def test_withdraw_is_audited(cluster, alice, doc):
    set_approval(alice, doc, "submitted")
    mark = max_audit_id(cluster)
    set_approval(alice, doc, "draft")
    _one(_new_rows(cluster, mark), action="WITHDRAW", principal="alice",
         path=_path(doc))


def test_refused_approval_is_audited_as_403(cluster, alice, doc):
    mark = max_audit_id(cluster)
    assert_status(set_approval(alice, doc, "approved"), 403)
    rows = _new_rows(cluster, mark)
    assert [(r["principal"], r["status"], r["path"]) for r in rows] == \
        [("alice", "403", _path(doc))], rows
    assert rows[0]["action"] != "APPROVE", rows


# ----------------------------------------------------------------- reads

def test_failed_login_is_audited(server, cluster):
    mark = max_audit_id(cluster)
    s = requests.Session()
    s.trust_env = False
    s.auth = ("alice", "not-the-password")
    assert_status(dav(s, "GET", server.space_url("s1")), 401)
    s.close()
    row = _one(_new_rows(cluster, mark), action="LOGIN_FAILED")
    assert (row["principal"], row["status"]) == ("alice", "401"), row


def test_failed_login_of_an_unknown_user_is_audited(server, cluster):
    mark = max_audit_id(cluster)
    who = short("nobody")
    s = requests.Session()
    s.trust_env = False
    s.auth = (who, "whatever")
    assert_status(dav(s, "PROPFIND", server.space_url("s1"),
                      headers={"Depth": "0"}), 401)
    s.close()
    _one(_new_rows(cluster, mark), action="LOGIN_FAILED", principal=who,
         status="401")


def test_request_without_credentials_is_not_a_failed_login(server, cluster):
    mark = max_audit_id(cluster)
    r = requests.get(server.space_url("s1"), timeout=30)
    assert r.status_code == 401
    assert _new_rows(cluster, mark, "action = 'LOGIN_FAILED'") == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "MKCOL", "PROPPATCH"])
def test_write_without_credentials_is_not_audited(server, cluster, method):
    """Nothing was done and no one is named: a row for each would let
    anyone grow the append-only trail (and every client sends such a
    request before its authenticated one)."""
    mark = max_audit_id(cluster)
    url = server.space_url("s1") + "x" * 200
    for _ in range(5):
        r = requests.request(method, url, data=b"z",
                             headers={"User-Agent": "y" * 3000}, timeout=30)
        # 415 for a body the method does not take, before credentials
        assert r.status_code in (401, 415), r.status_code
    time.sleep(0.3)
    assert int(cluster.psql("select count(*) from audit where id > %d"
                            % mark)[0][0]) == 0


def test_audit_user_agent_is_cut(server, cluster):
    mark = max_audit_id(cluster)
    r = requests.get(server.space_url("s1"), auth=("alice", "wrong-pw"),
                     headers={"User-Agent": "u" * 5000}, timeout=30)
    assert r.status_code == 401
    row = _one(_new_rows(cluster, mark), action="LOGIN_FAILED")
    assert row["user_agent"] == "u" * 512 + "...", len(row["user_agent"])


def test_member_read_is_not_audited(cluster, alice, doc):
    mark = max_audit_id(cluster)
    assert_status(dav(alice, "GET", doc), 200)
    assert _new_rows(cluster, mark, "action = 'GET'") == []


def test_guest_read_is_audited(ctl, cluster, doc):
    guest = short("aguest")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    ctl("acl", "grant", _path(doc), "user:" + guest, "read")
    mark = max_audit_id(cluster)
    s = _session(guest)
    assert_status(dav(s, "GET", doc), 200)
    s.close()
    _one(_new_rows(cluster, mark), action="GET", principal=guest,
         status="200", path=_path(doc))


def test_guest_calendar_report_is_audited(server, ctl, cluster, alice):
    """A REPORT hands out what it finds (calendar-multiget and
    calendar-query return the events' text): a guest's is in the trail, as
    its GETs are; a member's is not."""
    cal = new_calendar(server, alice)
    name = cal.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[1]
    put_ok(alice, cal + "ev.ics",
           event_ics("audit-report-ev", "DTSTART:20261201T100000Z",
                     "DTEND:20261201T110000Z", "SUMMARY:Comite de pilotage"))
    guest = short("aguest")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    # A space's calendars are its folder /.calendars/NAME.
    ctl("acl", "grant", "s1/.calendars/" + name, "user:" + guest, "read")
    home = "/dav/calendars/%s/s1.%s/" % (guest, name)
    url, href = server.url + home, home + "ev.ics"
    mark = max_audit_id(cluster)
    s = _session(guest)
    r = report(s, url, multiget_body([href]))
    s.close()
    assert_status(r, 207)
    assert "Comite de pilotage" in r.text
    _one(_new_rows(cluster, mark), action="REPORT", principal=guest,
         status="207", path="s1/.calendars/" + name)
    mark = max_audit_id(cluster)
    assert_status(report(alice, cal, multiget_body(
        [cal[cal.index("/dav/"):] + "ev.ics"])), 207)
    assert _new_rows(cluster, mark, "action = 'REPORT'") == []


def test_guest_report_cut_off_is_audited(server, ctl, cluster, alice):
    """A guest's REPORT whose answer streams for several pages, cut off by
    the client after its first bytes: the transaction it was read in is
    rolled back, but the read is in the trail, marked as cut off (part of
    the events' text went out)."""
    cal = new_calendar(server, alice)
    name = cal.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[1]
    # 500 events of 16 KiB: an answer of about 8 MiB, more than the
    # sockets' buffers hold, in pages of 200 events.
    text = "Compte rendu " * 1300
    folded = "DESCRIPTION:" + "\r\n ".join(
        text[i:i + 70] for i in range(0, len(text), 70))
    for i in range(500):
        put_ok(alice, cal + "ev%03d.ics" % i,
               event_ics("cut-%03d" % i, "DTSTART:20261201T100000Z",
                         "DTEND:20261201T110000Z", folded))
    guest = short("aguest")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    ctl("acl", "grant", "s1/.calendars/" + name, "user:" + guest, "read")
    home = "/dav/calendars/%s/s1.%s/" % (guest, name)
    body = query_body(comp_filter(), "<D:getetag/><C:calendar-data/>")
    body = body.encode()
    mark = max_audit_id(cluster)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", server.port))
    s.sendall((f"REPORT {home} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: {basic_auth(guest, guest + '-pw')}\r\n"
               "Depth: 1\r\nContent-Type: application/xml\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    first = s.recv(1024)
    assert first.startswith(b"HTTP/1.1 207"), first[:200]
    s.close()
    rows = []
    for _ in range(100):
        rows = _new_rows(cluster, mark, "action = 'REPORT'")
        if rows:
            break
        time.sleep(0.1)
    _one(rows, action="REPORT", principal=guest, status="207",
         path="s1/.calendars/" + name, detail="answer cut off")


def test_published_view_read_is_audited(cluster, alice, mgr, doc):
    assert approve(mgr, doc).status_code == 207
    mark = max_audit_id(cluster)
    assert_status(dav(alice, "GET", published_url(doc)), 200)
    row = _one(_new_rows(cluster, mark), action="GET", principal="alice")
    assert row["status"] == "200"
    assert row["revision_id"] == str(revisions_of(cluster, db_path(doc))[0][0])


def test_reads_through_views_are_filed_under_the_files_path(
        cluster, ctl, alice, mgr, doc, server):
    """A read through the published view or the history is about the
    file: its row names SLUG/PATH (as --path and P:audit-trail look it
    up), and says through which view in its detail."""
    assert approve(mgr, doc).status_code == 207
    guest = short("aview")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    folder = "s1" + db_path(doc).rsplit("/", 1)[0]
    ctl("acl", "grant", folder, guest, "read")
    g = _session(guest)
    (rev,) = [m for m in revisions(mgr, doc)]
    mark = max_audit_id(cluster)
    assert_status(dav(g, "GET", published_url(doc)), 200)
    assert_status(dav(g, "GET", abs_url(server, rev.href)), 200)
    g.close()
    rows = _new_rows(cluster, mark, "principal = %s", (guest,))
    assert sorted((r["path"], r["detail"].split(" ")[0].rstrip(","))
                  for r in rows) == [
        (_path(doc), "history"), (_path(doc), "published")], rows
    listed = ctl("audit", "--path", _path(doc), "--user", guest,
                 "--format", "csv").stdout
    assert listed.count("published") == 1 and listed.count("history") == 1


def test_partner_read_of_the_published_view_is_audited(ctl, cluster, mgr,
                                                       doc):
    partner = add_partner(ctl, short("apartner"))
    assert approve(mgr, doc).status_code == 207
    mark = max_audit_id(cluster)
    s = _session(partner)
    assert_status(dav(s, "GET", published_url(doc)), 200)
    s.close()
    _one(_new_rows(cluster, mark), action="GET", principal=partner,
         status="200")


# ------------------------------------------------------------- parvisctl

def test_parvisctl_change_is_audited(ctl, cluster):
    user = short("actl")
    ctl("user", "add", user, "--password-stdin", input=user + "-pw\n")
    mark = max_audit_id(cluster)
    ctl("member", "add", "s1", user, "--role", "reader")
    row = _one(_new_rows(cluster, mark), action="member add")
    assert row["principal"].startswith("parvisctl:"), row
    assert row["path"] == "s1" and user in row["detail"], row


def test_parvisctl_read_only_commands_are_not_audited(ctl, cluster):
    mark = max_audit_id(cluster)
    ctl("member", "list", "s1")
    ctl("audit", "--space", "s1")
    ctl("handover", "alice")
    assert _new_rows(cluster, mark) == []


def test_parvisctl_principal_is_the_os_user(bins, cluster, seed):
    env = {k: v for k, v in os.environ.items()
           if k not in ("USER", "SUDO_USER", "LOGNAME")}
    env["PARVIS_DSN"] = cluster.dsn
    mark = max_audit_id(cluster)
    pr = subprocess.run([bins["parvisctl"], "space", "create", short("os"),
                         "--title", "x"], env=env, capture_output=True,
                        text=True, timeout=60)
    assert pr.returncode == 0, pr.stderr
    row = _one(_new_rows(cluster, mark), action="space create")
    assert row["principal"] == "parvisctl:" + pwd.getpwuid(os.getuid()).pw_name


def test_parvisctl_approve_is_audited_with_the_file_path(ctl, cluster,
                                                         validator, doc):
    mark = max_audit_id(cluster)
    ctl("approve", _path(doc), "--as", validator, "--comment", "fine")
    rows = _new_rows(cluster, mark)
    assert len(rows) == 1, rows
    assert rows[0]["path"] == _path(doc), rows
    assert rows[0]["action"].lower() == "approve", rows


def test_parvisctl_purge_is_audited(ctl, cluster):
    mark = max_audit_id(cluster)
    out = ctl("maintenance", "purge").stdout.strip()
    # What it removed, as it printed it.
    _one(_new_rows(cluster, mark), action="maintenance purge", detail=out)


# --------------------------------------------------------- parvisctl audit

def test_audit_filter_by_path(ctl, alice, doc):
    put(alice, doc, b"two")
    out = ctl("audit", "--path", _path(doc)).stdout
    lines = [l.split("\t") for l in out.splitlines() if l]
    assert [(l[4], l[5]) for l in lines] == [("PUT", _path(doc))] * 2, out


def test_audit_filter_by_path_includes_what_is_below(ctl, coll, doc):
    out = ctl("audit", "--path", _path(coll).rstrip("/")).stdout
    paths = {l.split("\t")[5] for l in out.splitlines() if l}
    assert paths == {_path(coll).rstrip("/"), _path(doc)}, out


@pytest.mark.parametrize("wild", ["_", "%"])
def test_audit_filter_by_path_takes_the_name_as_written(ctl, server, alice,
                                                        wild):
    # '_' and '%' in a folder's name are characters, not wildcards: the
    # events of other folders stay out.
    base = server.space_url("s1")
    tag = short("")
    mine, other, longer = ("dir%s%s" % (wild, tag), "dirX%s" % tag,
                           "dir%s%s-2" % (wild, tag))
    for d in (mine, other, longer):
        url = base + quote(d) + "/"
        assert_status(dav(alice, "MKCOL", url), 201)
        assert_status(put(alice, url + "f.txt", b"x"), 201)
    out = ctl("audit", "--path", "s1/" + mine).stdout
    paths = {l.split("\t")[5] for l in out.splitlines() if l}
    # Text is written as log lines are: '%' itself as %25.
    shown = mine.replace("%", "%25")
    assert paths == {"s1/" + shown, "s1/%s/f.txt" % shown}, out


def test_audit_filter_by_user(ctl, session_for, doc):
    put(session_for("mgr"), doc, b"by mgr")
    out = ctl("audit", "--user", "mgr", "--path", _path(doc)).stdout
    lines = [l.split("\t") for l in out.splitlines() if l]
    assert [l[2] for l in lines] == ["mgr"], out


def test_audit_filter_by_space(ctl, doc):
    out = ctl("audit", "--space", "s2", "--path", _path(doc)).stdout
    assert out.strip() == "", out


def test_audit_since_in_the_future_lists_nothing(ctl, doc):
    out = ctl("audit", "--since", "2999-01-01", "--path", _path(doc)).stdout
    assert out.strip() == "", out


def test_audit_until_in_the_past_lists_nothing(ctl, doc):
    out = ctl("audit", "--until", "2000-01-01", "--path", _path(doc)).stdout
    assert out.strip() == "", out


def test_audit_csv_format(ctl, doc):
    out = ctl("audit", "--format", "csv", "--path", _path(doc)).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "time", "principal", "client", "action", "path",
                       "status", "resource", "revision", "detail"], rows
    assert [(r[2], r[4], r[5]) for r in rows[1:]] == \
        [("alice", "PUT", _path(doc))], rows


def test_audit_json_format(ctl, doc):
    out = ctl("audit", "--format", "json", "--path", _path(doc)).stdout
    rows = json.loads(out)
    assert [(r["principal"], r["action"], r["path"]) for r in rows] == \
        [("alice", "PUT", _path(doc))], rows


def test_audit_text_escapes_line_breaks_in_a_name(ctl, alice, coll):
    """A name with U+2028 or U+0085 (which break lines as LF does) is one
    row of text, written as log lines write it; csv and json keep the
    exact value.  (The server refuses C0 controls in names.)"""
    url = coll.rstrip("/") + "/a%E2%80%A8b%C2%85c%25.txt"
    assert_status(put(alice, url, b"x"), 201)
    exact = _path(coll).rstrip("/") + "/a\u2028b\u0085c%.txt"
    out = ctl("audit", "--path", exact).stdout
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == 2, repr(out)
    assert not any(ch in out for ch in "\r\u2028\u2029\u0085"), repr(out)
    cols = lines[0].split("\t")
    assert len(cols) == 10, repr(out)
    assert cols[5] == _path(coll).rstrip("/") + \
        "/a%E2%80%A8b%C2%85c%25.txt", repr(out)
    out = ctl("audit", "--format", "json", "--path", exact).stdout
    assert [r["path"] for r in json.loads(out)] == [exact], out
    out = ctl("audit", "--format", "csv", "--path", exact).stdout
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert [r[5] for r in rows[1:]] == [exact], rows


def test_audit_unknown_format_fails(ctl):
    assert ctl("audit", "--format", "xml", check=False).returncode != 0


# --------------------------------------------------------- P:audit-trail

def _events(sess, url):
    r = propfind(sess, url, "0", "prop", [p("audit-trail")])
    assert_status(r, 207)
    (me,) = parse_multistatus(r.content)
    st, el = me.props[p("audit-trail")]
    if st != 200:
        return st, None
    return st, [(e.find(p("principal")).text, e.find(p("action")).text,
                 e.find(p("status")).text) for e in el.findall(p("event"))]


def test_audit_trail_property_lists_the_file_events(alice, mgr, doc):
    set_approval(alice, doc, "submitted")
    st, events = _events(mgr, doc)
    assert st == 200
    assert events == [("alice", "PUT", "201"), ("alice", "SUBMIT", "207")], \
        events


def test_audit_trail_property_is_hidden_from_an_editor(alice, doc):
    st, _ = _events(alice, doc)
    assert st in (403, 404), st


# ------------------------------------------------------------ the chain

def _verify(ctl):
    return ctl("audit", "verify", check=False)


# The chain as `audit verify` reads it: rows chained when inserted (none on
# a fresh database), in id order, then the seals in their order.
CHAIN_SQL = (
    "select id, linked and hashed from (select part, k, id, prev = "
    "coalesce(lag(h) over (order by part, k), '\\x'::bytea) as linked, "
    "hashed from (select 0 as part, a.id as k, a.id, a.prev_hash as prev, "
    "a.row_hash as h, a.row_hash = sha256(a.prev_hash || "
    "convert_to(parvis_audit_text(a), 'UTF8')) as hashed from audit a "
    "where a.row_hash <> '\\x'::bytea union all select 1, s.seq, "
    "s.audit_id, s.prev_hash, s.row_hash, coalesce(a.id is not null and "
    "s.row_hash = sha256(s.prev_hash || convert_to(parvis_audit_text(a, "
    "s.text_version), 'UTF8')), false) from audit_seal s left join audit a "
    "on a.id = s.audit_id) e) c order by part, k")


def _seal_all(cluster):
    """Seals every committed row now, as `audit verify` does first."""
    cluster.psql("select parvis_audit_seal(1000000, true)")


def _seal_of(cluster, audit_id):
    rows = cluster.psql("select seq from audit_seal where audit_id = %d"
                        % audit_id)
    return int(rows[0][0]) if rows else None


@pytest.fixture
def tamper(cluster):
    """tamper(where) seals the chain, then saves the audit rows matching an
    SQL condition and their seals before the test alters or removes them;
    after the test they are put back exactly (triggers off), so that the
    tampering does not outlive it."""
    tag = short("")
    rows, seals = "audit_saved_" + tag, "audit_seals_saved_" + tag
    cluster.psql("create table %s as select * from audit where false; "
                 "create table %s as select * from audit_seal where false"
                 % (rows, seals))

    def save(where):
        _seal_all(cluster)
        cluster.psql("insert into %s select * from audit where %s; "
                     "insert into %s select * from audit_seal where audit_id "
                     "in (select id from audit where %s)"
                     % (rows, where, seals, where))

    yield save
    cluster.psql(
        "begin; set local session_replication_role = replica; "
        "delete from audit where id in (select id from {r}); "
        "insert into audit select * from {r}; "
        "delete from audit_seal where seq in (select seq from {s}); "
        "insert into audit_seal select * from {s}; "
        "delete from audit_pending p where not exists "
        "(select 1 from audit a where a.id = p.id); "
        "commit; drop table {r}; drop table {s}".format(r=rows, s=seals))
    _seal_all(cluster)
    assert _chain_breaks(cluster) == [], "the audit chain was not restored"
    seq = cluster.psql("select last_value from audit_seq")[0][0]
    assert int(seq) == max_audit_id(cluster), "audit rows missing at the end"


def _chain_breaks(cluster):
    """Ids of the chain's entries whose links do not hold, computed here."""
    return [int(r[0]) for r in cluster.psql(CHAIN_SQL) if r[1] != "t"]


def _row_named(pr):
    m = re.search(r"\brow (\d+)\b", pr.stdout + pr.stderr)
    return int(m.group(1)) if m else None


def test_audit_verify_reports_an_intact_chain(ctl, cluster, doc):
    pr = _verify(ctl)
    n = int(cluster.psql("select count(*) from audit")[0][0])
    assert pr.returncode == 0, pr.stdout + pr.stderr
    m = VERIFY_OK_RE.search(pr.stdout)
    assert m and int(m.group(1)) == n, (pr.stdout, n)


def test_chain_links_hold_when_nothing_was_touched(cluster, doc):
    # The same check as `audit verify`, computed here in id order.
    assert _chain_breaks(cluster) == []


def test_altered_row_breaks_the_chain_at_that_row(ctl, cluster, doc,
                                                  tamper):
    target = int(audit_of_path(cluster, _path(doc))[0]["id"])
    tamper("id = %d" % target)
    cluster.psql("update audit set detail = 'nothing to see' where id = %d"
                 % target)
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == target, pr.stdout + pr.stderr


def test_altered_early_row_is_named(ctl, cluster, tamper):
    tamper("id = 3")
    cluster.psql("update audit set principal = 'someone else' where id = 3")
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == 3, pr.stdout + pr.stderr


def test_fields_shifted_across_a_bar_break_the_chain(ctl, cluster, alice,
                                                    coll, tamper):
    # The User-Agent is the client's to choose: with a '|' in it, the
    # principal, client and agent moved across the bars must still be seen.
    url = join(coll, "bar.txt")
    mark = max_audit_id(cluster)
    put(alice, url, b"x", headers={"User-Agent": "probe|tool"})
    row = _one(_new_rows(cluster, mark), action="PUT", path=_path(url))
    target = int(row["id"])
    tamper("id = %d" % target)
    cluster.psql("update audit set principal = 'alice|127.0.0.1', "
                 "client = 'probe', user_agent = 'tool' where id = %d"
                 % target)
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == target, pr.stdout + pr.stderr


def test_null_field_made_empty_breaks_the_chain(ctl, cluster, alice, coll,
                                                tamper):
    url = join(coll, "null.txt")
    mark = max_audit_id(cluster)
    put(alice, url, b"x")
    row = _one(_new_rows(cluster, mark), action="PUT", path=_path(url))
    target = int(row["id"])
    assert cluster.psql("select detail is null from audit where id = %d"
                        % target) == [("t",)]
    tamper("id = %d" % target)
    cluster.psql("update audit set detail = '' where id = %d" % target)
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == target, pr.stdout + pr.stderr


def test_row_removed_in_the_middle_breaks_the_chain(ctl, cluster, alice, doc,
                                                    tamper):
    target = int(audit_of_path(cluster, _path(doc))[0]["id"])
    put(alice, doc, b"a later row")
    assert max_audit_id(cluster) > target
    tamper("id = %d" % target)
    cluster.psql("delete from audit where id = %d" % target)
    # Its seal is left without its row: the row is named.
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == target, pr.stdout + pr.stderr


def test_row_removed_with_its_seal_breaks_the_chain_at_the_next(
        ctl, cluster, alice, doc, tamper):
    target = int(audit_of_path(cluster, _path(doc))[0]["id"])
    put(alice, doc, b"a later row")
    tamper("id = %d" % target)
    seq = _seal_of(cluster, target)
    nxt = cluster.psql("select audit_id from audit_seal where seq > %d "
                       "order by seq limit 1" % seq)
    assert nxt, "no seal after the row's"
    cluster.psql("begin; set local session_replication_role = replica; "
                 "delete from audit where id = %d; "
                 "delete from audit_seal where seq = %d; commit"
                 % (target, seq))
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == int(nxt[0][0]), pr.stdout + pr.stderr


def test_altered_seal_breaks_the_chain_at_its_row(ctl, cluster, doc, tamper):
    target = int(audit_of_path(cluster, _path(doc))[0]["id"])
    tamper("id = %d" % target)
    cluster.psql("begin; set local session_replication_role = replica; "
                 "update audit_seal set row_hash = sha256(row_hash) "
                 "where audit_id = %d; commit" % target)
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == target, pr.stdout + pr.stderr


def test_row_removed_before_its_seal_is_named(ctl, cluster, doc, tamper):
    # Committed, then removed before any sealer saw it: the entry that
    # listed it as waiting for its seal remains and names it.
    tamper("false")
    got = cluster.psql(
        "begin; create temp table added (id bigint); "
        "with ins as (insert into audit (action, prev_hash, row_hash) "
        "values ('TEST', '', ''), ('TEST', '', '') returning id) "
        "insert into added select id from ins; "
        "delete from audit where id = (select min(id) from added); "
        "select min(id) from added; commit")
    first = int(got[-1][0])
    assert not cluster.psql("select 1 from audit where id = %d" % first)
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == first, pr.stdout + pr.stderr


def test_rows_removed_at_the_end_break_the_chain(ctl, cluster, alice, coll,
                                                 tamper):
    for i in range(3):
        put(alice, join(coll, "tail%d.txt" % i), b"x")
    # Keep clear of ids like 99x, whose text order is their number order.
    while str(max_audit_id(cluster) - 2) == max(
            str(i) for i in range(1, max_audit_id(cluster) - 1)):
        put(alice, join(coll, "tail.txt"), b"x")
    last = max_audit_id(cluster)
    tamper("id > %d" % (last - 2))
    cluster.psql("delete from audit where id > %d" % (last - 2))
    pr = _verify(ctl)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == last - 1, pr.stdout + pr.stderr


def test_rows_are_sealed_by_the_server_without_verify(cluster, alice, coll):
    put(alice, join(coll, "sealed-soon.txt"), b"x")
    target = int(audit_of_path(cluster, _path(join(coll, "sealed-soon.txt")))
                 [-1]["id"])
    deadline = time.monotonic() + 10
    while _seal_of(cluster, target) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _seal_of(cluster, target) is not None, "not sealed within 10 s"
    assert not cluster.psql("select 1 from audit_pending where id = %d"
                            % target)


def test_parvisctl_seals_its_own_rows(ctl, cluster):
    mark = max_audit_id(cluster)
    ctl("space", "create", short("sealctl"), "--title", "Sealed at once")
    rows = [int(r[0]) for r in cluster.psql(
        "select id from audit where id > %d" % mark)]
    assert rows, "parvisctl left no audit row"
    # No waiting: parvisctl seals before it exits.
    for i in rows:
        assert _seal_of(cluster, i) is not None, i


def test_concurrent_writes_chain_whole(ctl, cluster, session_for, coll):
    mark = max_audit_id(cluster)
    sessions = [session_for("alice") for _ in range(16)]

    def write(i):
        for k in range(8):
            assert_status(put(sessions[i], join(coll, "w%d-%d.txt" % (i, k)),
                              b"%d" % k), 201)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [int(r["id"]) for r in audit_rows(cluster, "id > %d" % mark)
           if r["action"] == "PUT"]
    assert len(ids) == 16 * 8
    pr = _verify(ctl)
    assert pr.returncode == 0, pr.stdout + pr.stderr
    n = int(cluster.psql("select count(*) from audit")[0][0])
    assert "audit chain intact: %d rows" % n in pr.stdout, (pr.stdout, n)
    sealed = cluster.psql("select count(*) from audit_seal where audit_id "
                          "in (%s)" % ",".join(map(str, ids)))
    assert int(sealed[0][0]) == len(ids)


def test_verify_on_a_read_only_server_checks_what_is_sealed(
        bins, cluster, alice, coll):
    """On a server that takes no writes (a replica), `audit verify` seals
    nothing: it checks the rows already sealed and leaves out those still
    waiting for their seal, instead of failing or calling them broken."""
    _seal_all(cluster)
    # Hold the sealers' lock so that the next row stays waiting.
    holder = subprocess.Popen(
        [cluster.bindir + "/psql", "-X", "-q", "-h", cluster.socket_dir,
         "-p", str(cluster.port), "-U", "postgres", "-d", "parvis", "-c",
         "begin; select pg_advisory_xact_lock(7370726977); "
         "select pg_sleep(30); commit"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not cluster.psql(
                "select 1 from pg_locks where locktype = 'advisory' "
                "and granted") and time.monotonic() < deadline:
            time.sleep(0.05)
        put(alice, join(coll, "waiting.txt"), b"x")
        waiting = int(cluster.psql("select max(id) from audit_pending")[0][0])
        ro = make_ctl(bins, cluster.dsn + " options='-c "
                      "default_transaction_read_only=on'")
        pr = ro("audit", "verify", check=False)
        assert pr.returncode == 0, pr.stdout + pr.stderr
        sealed = int(cluster.psql("select count(*) from audit_seal")[0][0])
        old = int(cluster.psql("select count(*) from audit where "
                               "row_hash <> '\\x'::bytea")[0][0])
        assert "audit chain intact: %d rows" % (sealed + old) in pr.stdout, \
            pr.stdout
        assert _seal_of(cluster, waiting) is None, "a read-only verify sealed"
    finally:
        # The backend sleeps on: end it, not only its client.
        cluster.psql("select pg_terminate_backend(pid) from pg_locks "
                     "where locktype = 'advisory' and granted")
        holder.kill()
        holder.wait()
    _seal_all(cluster)
    assert _seal_of(cluster, waiting) is not None


def _migrated_database(bins, cluster, prefix):
    """A database of its own, migrated: (name, parvisctl on it)."""
    db = prefix + short("")
    cluster.psql("create database %s owner parvis" % db, db="postgres")
    ctl2 = make_ctl(bins, cluster.dsn.replace("dbname=parvis", "dbname=" + db))
    ctl2("migrate")
    return db, ctl2


def test_chain_continues_from_rows_chained_before_the_seals(bins, cluster):
    """A database that has rows chained at insertion (before migration
    0008) and then sealed rows verifies as one chain; altering an early
    row is still named."""
    db, ctl2 = _migrated_database(bins, cluster, "auditold_")
    # Three rows as the former trigger chained them.
    cluster.psql(
        "set session_replication_role = replica; do $$ declare "
        "last bytea := '\\x'; r audit; begin for i in 1..3 loop "
        "r := row(nextval('audit_seq'), clock_timestamp(), 'old', null, "
        "null, 'PUT', null, '/f' || i, null, null, 201, null, last, "
        "'\\x')::audit; r.row_hash := sha256(last || "
        "convert_to(parvis_audit_text(r), 'UTF8')); "
        "insert into audit select r.*; last := r.row_hash; end loop; "
        "end $$", db=db)
    ctl2("user", "add", "newer", "--password-stdin",
         input="a-long-password-1\n")
    pr = ctl2("audit", "verify", check=False)
    n = int(cluster.psql("select count(*) from audit", db=db)[0][0])
    assert n >= 4
    assert pr.returncode == 0, pr.stdout + pr.stderr
    assert "audit chain intact: %d rows" % n in pr.stdout, (pr.stdout, n)
    first_seal = cluster.psql(
        "select s.prev_hash = a.row_hash from audit_seal s, audit a "
        "where a.id = 3 order by s.seq limit 1", db=db)
    assert first_seal == [("t",)]
    cluster.psql("update audit set path = '/elsewhere' where id = 2", db=db)
    pr = ctl2("audit", "verify", check=False)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == 2, pr.stdout + pr.stderr
    cluster.psql("drop database %s" % db, db="postgres")


def test_seals_of_the_first_text_version_still_verify(bins, cluster):
    """Seals written before migration 0017 hashed the rows' text version
    1 and keep verifying with it, followed by seals of version 2; altering
    a row sealed in version 1 is still named."""
    db, ctl2 = _migrated_database(bins, cluster, "auditv1_")
    # Sealed as parvis_audit_seal() did before 0017.
    cluster.psql(
        "insert into audit (principal, action, path, status, prev_hash, "
        "row_hash) select 'old', 'PUT', '/f' || i, 201, '', '' "
        "from generate_series(1, 3) i; "
        "do $$ declare last bytea; h bytea; r audit; begin "
        "select row_hash into last from audit_seal order by seq desc "
        "limit 1; last := coalesce(last, '\\x'); "
        "for r in select a.* from audit_pending p join audit a "
        "on a.id = p.id order by p.id loop "
        "h := sha256(last || convert_to(parvis_audit_text(r), 'UTF8')); "
        "insert into audit_seal (seq, audit_id, prev_hash, row_hash) "
        "values (nextval('audit_seal_seq'), r.id, last, h); "
        "delete from audit_pending where id = r.id; last := h; end loop; "
        "end $$", db=db)
    ctl2("user", "add", "newer", "--password-stdin",
         input="a-long-password-1\n")
    versions = cluster.psql("select text_version, count(*) from audit_seal "
                            "group by 1 order by 1", db=db)
    assert [v for v, _ in versions] == ["1", "2"], versions
    pr = ctl2("audit", "verify", check=False)
    n = int(cluster.psql("select count(*) from audit", db=db)[0][0])
    assert pr.returncode == 0, pr.stdout + pr.stderr
    assert "audit chain intact: %d rows" % n in pr.stdout, (pr.stdout, n)
    old = int(cluster.psql("select min(id) from audit where path = '/f2'",
                           db=db)[0][0])
    cluster.psql("update audit set path = '/elsewhere' where id = %d" % old,
                 db=db)
    pr = ctl2("audit", "verify", check=False)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert _row_named(pr) == old, pr.stdout + pr.stderr
    cluster.psql("drop database %s" % db, db="postgres")


AUDIT_FIELDS = ("id", "at", "principal", "client", "user_agent", "action",
                "space_id", "path", "resource_id", "revision_id", "status",
                "detail")


def _text_v2(fields):
    """Text version 2 as 0017_audit_text_fields.sql describes it, computed
    here: 'v2', then per field '|-' for NULL or '|', its length in
    characters, ':' and its value."""
    return "v2" + "".join("|-" if f is None else "|%d:%s" % (len(f), f)
                          for f in fields)


def test_seals_hash_the_documented_version_2_text(cluster, seed):
    """Each seal's hash is SHA-256 of the previous hash and the row's text
    version 2, byte for byte as documented, whatever computes it: seals
    written before an upgrade must keep verifying after it.  Rows with
    NULLs, bars, non-ASCII text and empty strings, sealed as one batch."""
    since = max_audit_id(cluster)
    cluster.psql(
        "insert into audit (principal, client, user_agent, action, space_id, "
        "path, resource_id, revision_id, status, detail, prev_hash, "
        "row_hash) select case when i % 2 = 0 then 'élise' end, "
        "case when i % 3 <> 0 then '127.0.0.1' end, 'UA|' || i || '|x', "
        "'PUT', nullif(i % 4, 0), '/dossier é/' || i || '|', "
        "nullif(i % 5, 0), i, case when i % 2 = 1 then 201 end, "
        "case when i % 3 = 0 then '' else 'a|b' end, '', '' "
        "from generate_series(1, 12) i")
    _seal_all(cluster)
    cols = ", ".join(
        "to_char(a.at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
        "a.at is null" if f == "at" else "a.%s::text, a.%s is null" % (f, f)
        for f in AUDIT_FIELDS)
    rows = cluster.psql(
        "select encode(s.prev_hash, 'hex'), encode(s.row_hash, 'hex'), "
        "s.text_version, %s from audit_seal s join audit a on a.id = "
        "s.audit_id where a.id > %d order by s.seq" % (cols, since))
    assert len(rows) >= 12, rows
    prev = None
    for r in rows:
        assert r[2] == "2", r
        fields = [None if isnull == "t" else value
                  for value, isnull in zip(r[3::2], r[4::2])]
        if prev is not None:
            assert r[0] == prev, "seal %s does not follow the one before" % r
        want = hashlib.sha256(bytes.fromhex(r[0])
                              + _text_v2(fields).encode()).hexdigest()
        assert r[1] == want, (fields, _text_v2(fields))
        prev = r[1]


# ------------------------------------------------- parvisd's role (parvis)

def test_parvisd_role_is_refused_update(cluster, doc):
    pr = psql_as_parvis(cluster, "update audit set detail = 'x' "
                                 "where id = (select max(id) from audit)")
    assert pr.returncode != 0, pr.stdout
    assert "permission denied" in pr.stderr, pr.stderr


def test_parvisd_role_is_refused_delete(cluster, doc):
    pr = psql_as_parvis(cluster, "delete from audit "
                                 "where id = (select max(id) from audit)")
    assert pr.returncode != 0, pr.stdout
    assert "permission denied" in pr.stderr, pr.stderr


def test_parvisd_role_is_refused_truncate(cluster, doc):
    pr = psql_as_parvis(cluster, "truncate audit")
    assert pr.returncode != 0, pr.stdout
    assert "permission denied" in pr.stderr, pr.stderr


@pytest.mark.parametrize("sql", [
    "update audit_seal set row_hash = '' "
    "where seq = (select max(seq) from audit_seal)",
    "delete from audit_seal where seq = (select max(seq) from audit_seal)",
    "truncate audit_seal"])
def test_parvisd_role_is_refused_changing_seals(cluster, doc, sql):
    _seal_all(cluster)
    pr = psql_as_parvis(cluster, sql)
    assert pr.returncode != 0, pr.stdout
    assert "permission denied" in pr.stderr, pr.stderr


def test_parvisd_role_cannot_grant_itself_update(cluster, doc):
    # Rolled back either way: nothing may stay granted or changed.
    pr = psql_as_parvis(
        cluster, "begin; grant update on audit to parvis; "
                 "update audit set detail = detail "
                 "where id = (select max(id) from audit); rollback")
    assert pr.returncode != 0, "parvis re-granted itself UPDATE on audit"


def raw_request(port, head_lines):
    """Sends a request head of raw bytes; returns the status line."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(b"\r\n".join(head_lines) + b"\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0]
    finally:
        s.close()


def test_a_space_in_the_target_does_not_shift_the_access_log(new_server):
    """libmicrohttpd takes a request target with a space in it: the access
    log writes it %20, so that the line keeps its fields."""
    srv = new_server()
    status = raw_request(srv.port, [
        b"GET /dav/spaces/s1/a b HTTP/1.1",
        b"Host: 127.0.0.1:%d" % srv.port, b"Connection: close"])
    assert status == b"HTTP/1.1 401 Unauthorized", status
    deadline = time.monotonic() + 10
    while "/a%20b" not in srv.access_log_text() and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    (line,) = [l for l in srv.access_log_text().splitlines()
               if "/dav/spaces/s1/a" in l]
    fields = line.split(" ")
    assert fields[3:6] == ["GET", "/dav/spaces/s1/a%20b", "401"], line


def test_odd_bytes_of_a_failed_login_are_escaped_not_lost(new_server,
                                                         cluster):
    """A failed login whose user name holds a newline and spaces (Basic
    allows any byte but ':') and whose User-Agent is not UTF-8: the access
    log keeps one line with the name's fields escaped, the server log
    cannot be split, and the LOGIN_FAILED row is written, escaped, rather
    than refused by the database and lost."""
    import base64
    srv = new_server()
    mark = max_audit_id(cluster)
    user = b"evil\nname 2026-01-01T000000Z 127.0.0.1 mgr DELETE /x 204"
    cred = base64.b64encode(user + b":wrong").decode()
    status = raw_request(srv.port, [
        b"PROPFIND /dav/spaces/s1/ HTTP/1.1",
        b"Host: 127.0.0.1:%d" % srv.port,
        b"Authorization: Basic " + cred.encode(),
        b"User-Agent: bad\xff\x01agent",
        b"Depth: 0", b"Content-Length: 0", b"Connection: close"])
    assert status == b"HTTP/1.1 401 Unauthorized", status
    escaped = ("evil%0Aname%202026-01-01T000000Z%20127.0.0.1%20mgr%20DELETE"
               "%20/x%20204")
    deadline = time.monotonic() + 10
    while escaped not in srv.access_log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [l for l in srv.access_log_text().splitlines() if "evil" in l]
    assert len(lines) == 1 and escaped in lines[0], lines
    assert not any(l.startswith("name") for l in srv.access_log_text()
                   .splitlines())
    assert "\nname " not in srv.log_text()
    rows = [r for r in audit_rows(cluster, "id > %d" % mark)
            if r["action"] == "LOGIN_FAILED"]
    assert [(r["principal"], r["user_agent"]) for r in rows] == \
        [(escaped, "bad%FF%01agent")], rows


def test_copy_and_move_audit_rows_name_the_destination(server, cluster, coll,
                                                       session_for):
    alice_session = session_for("alice")
    mark = max_audit_id(cluster)
    src = join(coll, "a.txt")
    assert_status(put(alice_session, src, b"a"), 201)
    for method, name in (("COPY", "b.txt"), ("MOVE", "c.txt")):
        r = dav(alice_session, method, src,
                headers={"Destination": join(coll, name)})
        assert_status(r, 201)
    rows = {r["action"]: r for r in audit_rows(cluster, "id > %d" % mark)}
    coll_path = db_path(coll)
    assert rows["COPY"]["detail"] == "to s1%s/b.txt" % coll_path, rows["COPY"]
    assert rows["MOVE"]["detail"] == "to s1%s/c.txt" % coll_path, rows["MOVE"]


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_a_copy_or_move_into_another_space_is_in_both_spaces_trails(
        cluster, ctl, server, method):
    """The destination space's trail shows what arrived and from where,
    as `parvisctl audit --space` and `--path` find it there."""
    user = add_user(ctl, short("across"), "s1", "editor")
    ctl("member", "add", "s2", user, "--role", "editor")
    s = _session(user)
    src = server.url + "/dav/spaces/s1/" + short("from-") + ".txt"
    dst = server.url + "/dav/spaces/s2/" + short("to-") + ".txt"
    assert_status(put(s, src, b"travels"), 201)
    assert_status(dav(s, method, src, headers={"Destination": dst}), 201)
    s.close()
    src_path, dst_path = "s1" + db_path(src), "s2" + db_path(dst, "s2")
    listed = ctl("audit", "--space", "s2", "--path", dst_path, "--format",
                 "csv").stdout
    assert listed.count(method) == 1, listed
    assert "from " + src_path in listed, listed
    assert method in ctl("audit", "--path", src_path, "--format",
                         "csv").stdout
    # The row names the file that arrived.
    (row,) = audit_rows(cluster, "path = %s and action = %s",
                        (dst_path, method))
    (rid,) = cluster.psql("select r.id::text from resources r join spaces s "
                          "on s.id = r.space_id where s.slug = 's2' and "
                          "r.id = parvis_resolve(s.id, %s)"
                          % sql_str(db_path(dst, "s2")))
    assert row["resource_id"] == rid[0], (row, rid)
