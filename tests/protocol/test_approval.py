"""Approval before publication: P:approval-state (draft -> submitted ->
approved | rejected) by role, the pinned approved revision, the
/dav/approvals/ and /dav/published/ views, partners with the published
role, distribution receipts, parvisctl submit/approve/reject, and the
hand-over of a leaving user's work (parvisctl handover, user transfer)."""

from datetime import datetime, timedelta, timezone

import pytest
import requests

from class2_helpers import if_token, take_lock, unlock
from dav_helpers import (user_session, RFC3339_RE, assert_status, dav, db_path, join,
                         parse_multistatus, propfind, proppatch_body, put,
                         sql_str, XML_HEADERS)
from workflow_helpers import (P_NS, abs_url, add_partner, add_user,
                              approval_state, approvals_url, error_elements,
                              history_url, href_in, last_segment, members, p,
                              principal_href, proppatch_statuses,
                              published_url, revisions, same_href,
                              set_approval, short, text_of, trash_url)

NEEDS_VALIDATOR = "{%s}approval-needs-validator" % P_NS


_session = user_session


@pytest.fixture(scope="module")
def validator(ctl, seed):
    """Name of a validator of s1."""
    return add_user(ctl, short("val"), "s1", "validator")


@pytest.fixture
def val(validator):
    s = _session(validator)
    yield s
    s.close()


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def mgr(seed, session_for):
    return session_for("mgr")


@pytest.fixture
def bob(seed, session_for):
    return session_for("bob")


@pytest.fixture(scope="module")
def partners(ctl, seed):
    """Three outside partners: guests with the published role in s1."""
    return [add_partner(ctl, short("partner")) for _ in range(3)]


@pytest.fixture
def doc(alice, coll):
    """A file with one revision, in draft."""
    url = join(coll, "report.txt")
    assert_status(put(alice, url, b"report, first version\n"), 201)
    return url


@pytest.fixture
def submitted(alice, doc):
    r = set_approval(alice, doc, "submitted")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    return doc


@pytest.fixture
def approved(val, submitted):
    r = set_approval(val, submitted, "approved")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    return submitted


@pytest.fixture
def approved_then_edited(alice, approved):
    assert_status(put(alice, approved, b"report, second version\n"), 204)
    return approved


def set_state(sess, url, state):
    """PROPPATCH of P:approval-state to STATE, which must be accepted."""
    assert proppatch_statuses(set_approval(sess, url, state)) == \
        {p("approval-state"): 200}


def _flat(url):
    """The approvals name of a file: its path, '/' shown as ' - '."""
    return db_path(url).lstrip("/").replace("/", " - ")


# --------------------------------------------------------- the state machine

def test_new_file_is_draft(alice, doc):
    assert approval_state(alice, doc) == "draft"


def test_editor_submits(alice, submitted):
    assert approval_state(alice, submitted) == "submitted"


def test_reader_cannot_submit(bob, alice, doc):
    r = set_approval(bob, doc, "submitted")
    assert r.status_code == 403 or \
        proppatch_statuses(r)[p("approval-state")] == 403, r.text
    assert approval_state(alice, doc) == "draft"


def test_editor_cannot_approve(alice, submitted):
    r = set_approval(alice, submitted, "approved")
    assert_status(r, 403)
    assert NEEDS_VALIDATOR in error_elements(r.content)


def test_refused_approval_changes_nothing(alice, submitted):
    set_approval(alice, submitted, "approved")
    assert approval_state(alice, submitted) == "submitted"
    assert_status(dav(alice, "GET", published_url(submitted)), 404)


def test_editor_cannot_reject(alice, submitted):
    r = set_approval(alice, submitted, "rejected")
    assert_status(r, 403)
    assert NEEDS_VALIDATOR in error_elements(r.content)
    assert approval_state(alice, submitted) == "submitted"


def test_validator_approves(alice, approved):
    assert approval_state(alice, approved) == "approved"


def test_manager_approves(alice, mgr, submitted):
    r = set_approval(mgr, submitted, "approved")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    assert approval_state(alice, submitted) == "approved"


def test_validator_rejects(alice, val, submitted):
    r = set_approval(val, submitted, "rejected")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    assert approval_state(alice, submitted) == "rejected"


def test_rejected_file_is_not_published(alice, val, submitted):
    set_approval(val, submitted, "rejected")
    assert_status(dav(alice, "GET", published_url(submitted)), 404)


def test_editor_withdraws_a_submission(alice, submitted):
    r = set_approval(alice, submitted, "draft")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    assert approval_state(alice, submitted) == "draft"


def test_unknown_state_is_refused(alice, doc):
    r = set_approval(alice, doc, "published")
    assert r.status_code in (207, 409), r.status_code
    if r.status_code == 207:
        assert proppatch_statuses(r)[p("approval-state")] == 409, r.text
    assert approval_state(alice, doc) == "draft"


def test_approval_of_a_folder_is_refused(mgr, coll):
    r = set_approval(mgr, coll, "approved")
    assert r.status_code == 403 or \
        proppatch_statuses(r)[p("approval-state")] == 403, r.text


def test_resubmitting_the_approved_revision_is_refused(alice, approved):
    r = set_approval(alice, approved, "submitted")
    assert r.status_code == 409 or \
        proppatch_statuses(r)[p("approval-state")] == 409, r.text
    assert approval_state(alice, approved) == "approved"


def test_removing_the_approval_state_does_not_claim_success(alice,
                                                            approved):
    # A remove that leaves the state as it was must not answer 200.
    body = proppatch_body(remove_xml="<P:approval-state/>",
                          nsdecl='xmlns:P="%s"' % P_NS)
    r = dav(alice, "PROPPATCH", approved, data=body, headers=XML_HEADERS)
    status = r.status_code if r.status_code != 207 else \
        proppatch_statuses(r)[p("approval-state")]
    state = approval_state(alice, approved)
    assert not (status == 200 and state == "approved"), (status, state)


def test_approval_comment_is_stored(alice, doc):
    r = set_approval(alice, doc, comment="please check section 2")
    assert proppatch_statuses(r) == {p("approval-comment"): 200}, r.text
    r = propfind(alice, doc, "0", "prop", [p("approval-comment")])
    (me,) = parse_multistatus(r.content)
    assert text_of(me, p("approval-comment")) == "please check section 2"


# ------------------------------------------------------- the pinned revision

def test_approval_pins_the_current_revision(alice, approved):
    r = propfind(alice, approved, "0", "prop",
                 [p("approved-revision"), "checked-in"])
    (me,) = parse_multistatus(r.content)
    pinned = href_in(me, p("approved-revision"))
    assert pinned is not None, r.text
    assert same_href(pinned, href_in(me, "{DAV:}checked-in"))


def test_approved_by_is_the_validator(alice, validator, approved):
    r = propfind(alice, approved, "0", "prop", [p("approved-by")])
    (me,) = parse_multistatus(r.content)
    assert same_href(href_in(me, p("approved-by")), principal_href(validator))


def test_approved_at_is_the_time_of_approval(alice, approved):
    r = propfind(alice, approved, "0", "prop", [p("approved-at")])
    (me,) = parse_multistatus(r.content)
    at = text_of(me, p("approved-at"))
    assert at and RFC3339_RE.match(at), at
    when = datetime.strptime(at[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 120


def test_approved_revision_is_marked_in_the_history(alice, approved):
    (rev,) = revisions(alice, approved)
    assert text_of(rev, p("revision-approval")) == "approved"


def test_new_put_returns_the_file_to_draft(alice, approved_then_edited):
    assert approval_state(alice, approved_then_edited) == "draft"


def test_approved_revision_stays_pinned_after_a_put(alice,
                                                    approved_then_edited):
    r = propfind(alice, approved_then_edited, "0", "prop",
                 [p("approved-revision")])
    (me,) = parse_multistatus(r.content)
    revs = revisions(alice, approved_then_edited)
    assert same_href(href_in(me, p("approved-revision")), revs[0].href)
    assert [text_of(m, p("revision-approval")) for m in revs] == \
        ["approved", "not-approved"]


def test_published_view_serves_the_approved_bytes(alice, approved):
    r = dav(alice, "GET", published_url(approved))
    assert_status(r, 200)
    assert r.content == b"report, first version\n"


def test_published_view_keeps_the_approved_bytes_after_a_put(
        alice, approved_then_edited):
    r = dav(alice, "GET", published_url(approved_then_edited))
    assert_status(r, 200)
    assert r.content == b"report, first version\n"
    assert dav(alice, "GET", approved_then_edited).content == \
        b"report, second version\n"


def test_published_view_properties_describe_the_approved_revision(
        alice, approved_then_edited):
    r = propfind(alice, published_url(approved_then_edited), "0", "prop",
                 ["getcontentlength", "getetag"])
    assert_status(r, 207)
    (me,) = parse_multistatus(r.content)
    assert text_of(me, "{DAV:}getcontentlength") == \
        str(len(b"report, first version\n"))
    first = revisions(alice, approved_then_edited)[0]
    assert text_of(me, "{DAV:}getetag") == text_of(first, "{DAV:}getetag")


def test_second_approval_publishes_the_new_revision(alice, val,
                                                    approved_then_edited):
    url = approved_then_edited
    set_state(alice, url, "submitted")
    set_state(val, url, "approved")
    assert dav(alice, "GET", published_url(url)).content == \
        b"report, second version\n"


# --------------------------------------------------------------- approvals

def test_submitted_file_is_listed_in_approvals(server, val, submitted):
    names = [last_segment(m.href)
             for m in members(val, approvals_url(server), ["displayname"])]
    assert _flat(submitted) in names, names


def test_get_in_approvals_serves_the_current_bytes(server, val, submitted):
    url = approvals_url(server) + requests.utils.quote(_flat(submitted))
    r = dav(val, "GET", url)
    assert_status(r, 200)
    assert r.content == b"report, first version\n"


def test_draft_file_is_not_in_approvals(server, val, doc):
    names = [last_segment(m.href)
             for m in members(val, approvals_url(server), ["displayname"])]
    assert _flat(doc) not in names


def test_approved_file_leaves_approvals(server, val, approved):
    names = [last_segment(m.href)
             for m in members(val, approvals_url(server), ["displayname"])]
    assert _flat(approved) not in names


def test_approvals_names_never_collide(server, alice, val, coll):
    """a/b.txt is listed as "a - b.txt"; a file named "a - b.txt" of the
    same folder keeps its own name apart ("a %2D b.txt", and a "%" as
    "%25"): each entry opens its own document."""
    docs = {join(coll, "a", collection=True) + "b.txt": b"in the folder",
            join(coll, "a - b.txt"): b"named with a dash",
            join(coll, "50% - 2.txt"): b"named with a percent",
            join(coll, "x -", collection=True) + "y.txt": b"dash ends a name",
            join(coll, "x", collection=True) + "-%20y.txt":
                b"dash begins a name"}
    for folder in ("a", "x -", "x"):
        assert_status(dav(alice, "MKCOL", join(coll, folder,
                                               collection=True)), 201)
    for url, body in docs.items():
        assert_status(put(alice, url, body), 201)
        set_state(alice, url, "submitted")
    mine = "/" + db_path(coll).lstrip("/").replace("/", " - ") + " - "
    entries = {}
    for m in members(val, approvals_url(server), ["displayname"]):
        name = last_segment(m.href)
        if ("/" + name).startswith(mine):
            entries[name] = m.href
    assert len(entries) == 5, entries
    got = {dav(val, "GET", abs_url(server, h)).content
           for h in entries.values()}
    assert got == set(docs.values())


def test_writes_to_approvals_are_refused(server, alice, submitted):
    url = approvals_url(server) + requests.utils.quote(_flat(submitted))
    assert_status(put(alice, url, b"sneaky"), 403)
    assert dav(alice, "GET", submitted).content == b"report, first version\n"


# ----------------------------------------------------------- published view

def test_published_view_lists_only_approved_files(alice, coll, approved):
    put(alice, join(coll, "draft.txt"), b"draft")
    names = [last_segment(m.href)
             for m in members(alice, published_url(coll), ["displayname"])]
    assert names == ["report.txt"], names


def test_published_view_get_of_a_draft_file_is_404(alice, doc):
    assert_status(dav(alice, "GET", published_url(doc)), 404)


def test_published_view_shows_folders_only_with_approved_files(
        server, alice, coll, approved):
    assert_status(dav(alice, "MKCOL", join(coll, "empty", collection=True)),
                  201)
    names = [last_segment(m.href)
             for m in members(alice, published_url(server.space_url("s1")),
                              ["displayname"])]
    assert last_segment(coll) in names
    r = propfind(alice, published_url(join(coll, "empty", collection=True)),
                 "0", "prop", ["resourcetype"])
    assert_status(r, 404)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PROPPATCH", "MKCOL",
                                    "MOVE", "COPY"])
def test_writes_to_the_published_view_are_refused(alice, mgr, coll, approved,
                                                  method):
    url = published_url(approved)
    kw = {}
    if method == "PUT":
        kw["data"] = b"rewritten"
    elif method == "PROPPATCH":
        kw["data"] = proppatch_body("<Z:x xmlns:Z=\"urn:z\">1</Z:x>")
        kw["headers"] = XML_HEADERS
    elif method == "MKCOL":
        url = published_url(join(coll, "newdir", collection=True))
    elif method in ("MOVE", "COPY"):
        kw["headers"] = {"Destination": published_url(join(coll, "x.txt"))}
    r = dav(mgr, method, url, **kw)
    assert_status(r, 403)
    assert dav(alice, "GET", published_url(approved)).content == \
        b"report, first version\n"


# ----------------------------------------------------------------- partners

@pytest.fixture
def partner(partners):
    s = _session(partners[0])
    yield s
    s.close()


def test_partner_reads_the_published_file(partner, approved):
    r = dav(partner, "GET", published_url(approved))
    assert_status(r, 200)
    assert r.content == b"report, first version\n"


def test_partner_lists_the_published_view(server, partner, approved):
    names = [last_segment(m.href)
             for m in members(partner, published_url(server.space_url("s1")),
                              ["displayname"])]
    assert last_segment(approved.rsplit("/", 1)[0]) in names, names


def test_partner_gets_404_on_the_file_in_the_space(partner, approved):
    assert_status(dav(partner, "GET", approved), 404)


def test_partner_gets_404_on_the_space(server, partner, approved):
    r = propfind(partner, server.space_url("s1"), "0", "prop",
                 ["resourcetype"])
    assert_status(r, 404)


def test_partner_gets_404_on_the_history(partner, approved):
    assert_status(dav(partner, "GET", history_url(approved)), 404)


def test_partner_gets_404_on_approvals(server, partner, submitted):
    assert_status(propfind(partner, approvals_url(server), "1", "prop",
                           ["displayname"]), 404)


def test_partner_gets_404_on_the_trash(server, partner):
    assert_status(propfind(partner, trash_url(server), "1", "prop",
                           ["displayname"]), 404)


def test_partner_gets_404_on_another_space(server, partner):
    assert_status(dav(partner, "GET", published_url(server.space_url("s2"))),
                  404)


def test_partner_does_not_see_a_draft_file(partner, doc):
    assert_status(dav(partner, "GET", published_url(doc)), 404)


def test_partner_cannot_write_into_the_space(partner, alice, coll):
    # A folder one may not read answers like a missing one (409).
    r = put(partner, join(coll, "from-partner.txt"), b"x")
    assert r.status_code in (403, 404, 409), r.status_code
    assert_status(dav(alice, "GET", join(coll, "from-partner.txt")), 404)


# ------------------------------------------------------------------ receipts

def _receipts(sess, url):
    """{principal href: read-at or None} of P:distribution-receipts."""
    r = propfind(sess, url, "0", "prop", [p("distribution-receipts")])
    assert_status(r, 207)
    (me,) = parse_multistatus(r.content)
    el = me.ok_props().get(p("distribution-receipts"))
    assert el is not None, r.text
    out = {}
    for child in el:
        href = child.find("{DAV:}href").text.strip().rstrip("/")
        if child.tag == p("read"):
            out[href] = child.find(p("read-at")).text.strip()
        else:
            assert child.tag == p("not-read"), child.tag
            out[href] = None
    return out


@pytest.fixture
def two_of_three_read(partners, approved):
    """approved, then partners 0 and 1 download it from the published
    view; returns (url, t0, t1) around the downloads."""
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    for name in partners[:2]:
        s = _session(name)
        r = dav(s, "GET", published_url(approved))
        s.close()
        assert_status(r, 200)
    t1 = datetime.now(timezone.utc)
    return approved, t0, t1


def _href(user):
    return principal_href(user).rstrip("/")


def test_receipts_list_the_two_partners_who_read(val, partners,
                                                 two_of_three_read):
    got = _receipts(val, two_of_three_read[0])
    assert got.get(_href(partners[0])) and got.get(_href(partners[1])), got


def test_receipts_list_the_third_partner_as_not_read(val, partners,
                                                     two_of_three_read):
    got = _receipts(val, two_of_three_read[0])
    assert _href(partners[2]) in got and got[_href(partners[2])] is None, got


def test_receipt_times_are_the_download_times(val, partners,
                                              two_of_three_read):
    url, t0, t1 = two_of_three_read
    got = _receipts(val, url)
    for name in partners[:2]:
        at = got[_href(name)]
        assert RFC3339_RE.match(at), at
        when = datetime.strptime(at[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=timezone.utc)
        # Within the second of the download (see the rounding test below).
        assert t0 <= when <= t1 + timedelta(seconds=1), (at, t0, t1)


def test_receipt_time_is_not_rounded_up(cluster, val, partners,
                                        two_of_three_read):
    # The read happened at HH:MM:SS.9: the receipt must say HH:MM:SS (the
    # second it happened in), not the next second.
    url = two_of_three_read[0]
    (row,) = cluster.psql(
        "select id, at from audit where action = 'GET' and principal = %s "
        "and path like %s order by id desc limit 1"
        % (sql_str(partners[0]), sql_str("%" + db_path(url))))
    aid, orig = row
    # The row is altered for a moment, then put back: sealed first, so
    # that its seal is of the row as it was (and will be again).
    cluster.psql("select parvis_audit_seal(1000000, true)")
    try:
        cluster.psql("update audit set at = date_trunc('second', at) + "
                     "interval '0.9 second' where id = %s" % aid)
        want = cluster.psql(
            "select to_char(at at time zone 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') from audit where id = %s"
            % aid)[0][0]
        got = _receipts(val, url)[_href(partners[0])]
    finally:
        cluster.psql("update audit set at = %s where id = %s"
                     % (sql_str(orig), aid))
    assert got == want, (got, want)


def test_receipts_list_every_member_of_the_space(val, validator,
                                                 two_of_three_read):
    got = _receipts(val, two_of_three_read[0])
    for user in ("alice", "bob", "mgr", validator):
        assert _href(user) in got, (user, got)


def test_receipts_are_readable_by_a_manager(mgr, partners,
                                            two_of_three_read):
    got = _receipts(mgr, two_of_three_read[0])
    assert got.get(_href(partners[0])), got


def test_receipts_are_hidden_from_an_editor(alice, two_of_three_read):
    r = propfind(alice, two_of_three_read[0], "0", "prop",
                 [p("distribution-receipts")])
    (me,) = parse_multistatus(r.content)
    assert me.props[p("distribution-receipts")][0] in (403, 404), r.text


def test_receipts_count_reads_of_the_approved_revision_only(
        alice, val, partners, two_of_three_read):
    url = two_of_three_read[0]
    put(alice, url, b"report, second version\n")
    set_approval(alice, url, "submitted")
    set_state(val, url, "approved")
    got = _receipts(val, url)
    assert got[_href(partners[0])] is None, got


def test_receipts_count_a_guest_read_of_the_file_itself(ctl, val, coll,
                                                        approved):
    # A guest granted read on the file (not a member): a GET of the file
    # while its current revision is the approved one is a receipt.
    guest = short("reader")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    ctl("acl", "grant", "s1" + db_path(approved), "user:" + guest, "read")
    s = _session(guest)
    r = dav(s, "GET", approved)
    s.close()
    assert_status(r, 200)
    got = _receipts(val, approved)
    assert got.get(_href(guest)), got


def test_a_guest_read_of_a_newer_revision_is_no_receipt(ctl, alice, val,
                                                       approved):
    guest = short("reader")
    ctl("guest", "add", guest, "--expires", "2099-12-31", "--password-stdin",
        input=guest + "-pw\n")
    ctl("acl", "grant", "s1" + db_path(approved), "user:" + guest, "read")
    put(alice, approved, b"report, second version\n")
    s = _session(guest)
    assert dav(s, "GET", approved).content == b"report, second version\n"
    s.close()
    assert _receipts(val, approved)[_href(guest)] is None


def test_a_member_read_of_the_published_view_is_a_receipt(alice, val,
                                                          approved):
    assert_status(dav(alice, "GET", published_url(approved)), 200)
    assert _receipts(val, approved).get(_href("alice")), approved


# ----------------------------------------------------------------- parvisctl

def test_parvisctl_submit(ctl, alice, doc):
    ctl("submit", "s1" + db_path(doc), "--comment", "ready", "--as", "alice")
    assert approval_state(alice, doc) == "submitted"


def test_parvisctl_submit_sets_the_comment(ctl, alice, doc):
    ctl("submit", "s1" + db_path(doc), "--comment", "ready for review",
        "--as", "alice")
    r = propfind(alice, doc, "0", "prop", [p("approval-comment")])
    (me,) = parse_multistatus(r.content)
    assert text_of(me, p("approval-comment")) == "ready for review"


def test_parvisctl_approve_publishes(ctl, alice, validator, submitted):
    ctl("approve", "s1" + db_path(submitted), "--as", validator)
    assert approval_state(alice, submitted) == "approved"
    assert dav(alice, "GET", published_url(submitted)).content == \
        b"report, first version\n"


def test_parvisctl_approve_records_the_validator(ctl, alice, validator,
                                                 submitted):
    ctl("approve", "s1" + db_path(submitted), "--as", validator)
    r = propfind(alice, submitted, "0", "prop", [p("approved-by")])
    (me,) = parse_multistatus(r.content)
    assert same_href(href_in(me, p("approved-by")), principal_href(validator))


def test_parvisctl_reject(ctl, alice, validator, submitted):
    ctl("reject", "s1" + db_path(submitted), "--comment", "no",
        "--as", validator)
    assert approval_state(alice, submitted) == "rejected"


def test_parvisctl_reject_of_the_approved_revision_unpublishes_it(
        ctl, alice, validator, submitted):
    # As a validator's PROPPATCH does: the published view stops serving it.
    path = "s1" + db_path(submitted)
    ctl("approve", path, "--as", validator)
    assert_status(dav(alice, "GET", published_url(submitted)), 200)
    ctl("reject", path, "--comment", "withdrawn", "--as", validator)
    assert approval_state(alice, submitted) == "rejected"
    assert_status(dav(alice, "GET", published_url(submitted)), 404)
    r = propfind(alice, submitted, "0", "prop", [p("approved-by")])
    (me,) = parse_multistatus(r.content)
    assert href_in(me, p("approved-by")) is None


@pytest.mark.parametrize("cmd", ["submit", "approve", "reject"])
def test_parvisctl_as_an_unknown_user_fails(ctl, alice, submitted, cmd):
    # A mistyped --as would record the decision as nobody's.
    pr = ctl(cmd, "s1" + db_path(submitted), "--as", "no-such-user",
             check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)
    assert 'no user "no-such-user"' in pr.stderr, pr.stderr
    assert approval_state(alice, submitted) == "submitted"


@pytest.mark.parametrize("cmd", ["submit", "approve", "reject"])
def test_parvisctl_refuses_a_trash_entry(ctl, cluster, alice, doc, cmd):
    # Restored, it would come back approved without anyone deciding.
    assert_status(dav(alice, "DELETE", doc), 204)
    entry = cluster.psql("select parvis_path(id) from resources "
                         "where trashed_from = %s"
                         % sql_str(db_path(doc)))[0][0]
    pr = ctl(cmd, "s1" + entry, "--as", "mgr", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)
    assert "in the trash" in pr.stderr, pr.stderr
    assert cluster.psql("select approval_state from resources r join spaces "
                        "s on s.id = r.space_id where s.slug = 's1' and "
                        "r.id = parvis_resolve(s.id, %s)"
                        % sql_str(entry)) == [("draft",)]


def test_parvisctl_approve_refuses_a_calendar_object(ctl, cluster, server,
                                                     alice):
    from caldav_helpers import event_ics, new_calendar, put_ok
    cal = new_calendar(server, alice)
    put_ok(alice, cal + "ev.ics", event_ics("ev-" + short("u"),
                                            "DTSTART:20260301T100000Z"))
    path = cluster.psql("select parvis_path(r.id) from resources r join "
                        "spaces s on s.id = r.space_id where s.slug = 's1' "
                        "and parvis_path(r.id) like '/.calendars/%/ev.ics'"
                        )[0][0]
    pr = ctl("approve", "s1" + path, "--as", "mgr", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)
    assert "only files are approved" in pr.stderr, pr.stderr
    assert cluster.psql("select approved_rev is null from resources r join "
                        "spaces s on s.id = r.space_id where s.slug = 's1' "
                        "and r.id = parvis_resolve(s.id, %s)"
                        % sql_str(path)) == [("t",)]


def test_parvisctl_approve_takes_a_folder_named_like_the_trash(
        ctl, server, alice):
    # Only /.trash is the trash.  (A space of its own: a name at the root
    # of s1 would be seen by every test listing it.)
    from workflow_helpers import add_space
    slug = add_space(ctl, {"alice": "editor", "mgr": "manager"})
    name = ".trash-" + short("x")
    folder = server.space_url(slug) + name + "/"
    assert_status(dav(alice, "MKCOL", folder), 201)
    f = join(folder, "cr.txt")
    assert_status(put(alice, f, b"minutes\n"), 201)
    ctl("approve", "%s/%s/cr.txt" % (slug, name), "--as", "mgr")
    assert approval_state(alice, f) == "approved"


def test_parvisctl_approve_of_a_missing_file_fails(ctl):
    pr = ctl("approve", "s1/no-such-dir/no-such-file.txt", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)


def test_parvisctl_submit_of_a_missing_file_fails(ctl):
    pr = ctl("submit", "s1/no-such-dir/no-such-file.txt", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)


def test_parvisctl_reject_of_a_missing_file_fails(ctl):
    pr = ctl("reject", "s1/no-such-dir/no-such-file.txt", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)


# ------------------------------------------------------------------ hand-over

def _handover(ctl, user):
    """[(kind, path, detail)] of parvisctl handover USER."""
    out = ctl("handover", user).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


@pytest.fixture
def leaver(ctl, seed, server):
    """A user (editor of s1) who made a folder and a file, locked another
    file and submitted a third. Returns a dict."""
    name = add_user(ctl, short("leaver"), "s1", "editor")
    s = _session(name)
    base = server.space_url("s1") + short("ho-") + "/"
    assert_status(dav(s, "MKCOL", base), 201)
    files = {k: base + k + ".txt" for k in ("owned", "locked", "submitted")}
    for url in files.values():
        assert_status(put(s, url, b"by the leaver"), 201)
    token = take_lock(s, files["locked"])
    r = set_approval(s, files["submitted"], "submitted",
                     comment="please approve")
    assert proppatch_statuses(r) == {p("approval-state"): 200,
                                     p("approval-comment"): 200}, r.text
    yield {"name": name, "base": base, "files": files, "token": token,
           "session": s}
    s.close()


def test_handover_lists_what_the_user_owns(ctl, leaver):
    rows = _handover(ctl, leaver["name"])
    owned = {(k, path, d) for k, path, d in rows if k == "owns"}
    base = "s1" + db_path(leaver["base"])
    assert (("owns", base, "folder") in owned and
            ("owns", base + "/owned.txt", "file") in owned), rows


def test_handover_lists_the_user_locks(ctl, leaver):
    rows = _handover(ctl, leaver["name"])
    assert ("locks", "s1" + db_path(leaver["files"]["locked"]),
            leaver["token"]) in rows, rows


def test_handover_lists_the_user_submissions(ctl, leaver):
    rows = _handover(ctl, leaver["name"])
    assert ("submitted", "s1" + db_path(leaver["files"]["submitted"]),
            "please approve") in rows, rows


def test_handover_of_a_user_with_nothing_is_empty(ctl):
    name = add_user(ctl, short("idle"), "s1", "reader")
    assert _handover(ctl, name) == []


def test_transfer_leaves_nothing_to_hand_over(ctl, leaver):
    heir = add_user(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    assert _handover(ctl, leaver["name"]) == []


def test_transfer_hands_everything_to_the_heir(ctl, leaver):
    before = _handover(ctl, leaver["name"])
    heir = add_user(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    assert sorted(_handover(ctl, heir)) == sorted(before)


def test_transfer_gives_the_heir_the_role(ctl, cluster, leaver):
    heir = add_user(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    assert _role(cluster, "s1", heir) == "editor"


def test_transferred_lock_is_usable_by_the_heir(ctl, leaver):
    heir = add_user(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    s = _session(heir)
    url = leaver["files"]["locked"]
    r = put(s, url, b"edited by the heir", headers=if_token(leaver["token"]))
    assert_status(r, 204)
    assert_status(unlock(s, url, leaver["token"]), 204)
    s.close()


def test_transfer_takes_the_role_from_the_leaver(ctl, cluster, leaver):
    heir = add_user(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    assert _role(cluster, "s1", leaver["name"]) is None


def test_transfer_keeps_the_heir_stronger_role(ctl, cluster, leaver):
    heir = add_user(ctl, short("heir"), "s1", "manager")
    ctl("user", "transfer", leaver["name"], heir)
    assert _role(cluster, "s1", heir) == "manager"


def test_transfer_to_a_published_partner_gives_the_working_role(
        ctl, cluster, leaver):
    heir = add_partner(ctl, short("heir"))
    ctl("user", "transfer", leaver["name"], heir)
    assert _role(cluster, "s1", heir) == "editor"


def test_transfer_from_an_unknown_user_fails(ctl):
    pr = ctl("user", "transfer", short("ghost"), "alice", check=False)
    assert pr.returncode == 1, (pr.stdout, pr.stderr)


def _role(cluster, slug, user):
    rows = cluster.psql(
        "select m.role from members m join spaces s on s.id = m.space_id "
        "join users u on u.id = m.user_id where s.slug = %s and u.name = %s"
        % (sql_str(slug), sql_str(user)))
    return rows[0][0] if rows else None


# ------------------------------------------ what is decided was submitted

def test_rejecting_the_approved_revision_unpublishes_it(alice, val, doc):
    """A validator who rejects the revision they approved (a mistake, a
    withdrawn decision) must take it off the published view: partners
    would otherwise go on reading a document whose state says rejected."""
    set_state(alice, doc, "submitted")
    set_state(val, doc, "approved")
    assert_status(dav(alice, "GET", published_url(doc)), 200)
    r = set_approval(val, doc, "rejected")
    assert proppatch_statuses(r) == {p("approval-state"): 200}, r.text
    assert approval_state(alice, doc) == "rejected"
    assert_status(dav(alice, "GET", published_url(doc)), 404)
    # Rejecting a later submission keeps the approval of the one before.
    set_state(alice, doc, "submitted")
    set_state(val, doc, "approved")
    assert_status(put(alice, doc, b"report, second version\n"), 204)
    set_state(alice, doc, "submitted")
    set_state(val, doc, "rejected")
    assert dav(alice, "GET", published_url(doc)).content == \
        b"report, first version\n"


def test_approval_needs_a_submitted_revision(alice, val, doc):
    """draft -> submitted -> approved: a revision uploaded after the
    submission (state back to draft) must not be approved by a validator
    acting on the submission they saw."""
    set_state(alice, doc, "submitted")
    assert_status(put(alice, doc, b"unreviewed change\n"), 204)
    assert approval_state(alice, doc) == "draft"
    r = set_approval(val, doc, "approved")
    st = r.status_code if r.status_code != 207 else \
        proppatch_statuses(r)[p("approval-state")]
    assert st in (403, 409), (st, r.text)
    assert_status(dav(alice, "GET", published_url(doc)), 404)


# ------------------------------- only /.trash is the trash, not .trash-*

@pytest.fixture
def own_space(ctl, validator):
    """A space of its own (names at its root are seen by no other test)."""
    from workflow_helpers import add_space
    return add_space(ctl, {"alice": "editor", validator: "validator"})


def test_folder_named_like_the_trash_keeps_history_and_publication(
        server, alice, val, own_space):
    """Only /.trash is the trash: a user's folder '/.trash-2025' is an
    ordinary folder, yet the history view answers 404 for it and the
    published and approvals views leave it out (prefix matches)."""
    folder = server.space_url(own_space) + ".trash-" + short("x") + "/"
    assert_status(dav(alice, "MKCOL", folder), 201)
    f = join(folder, "cr.txt")
    assert_status(put(alice, f, b"minutes\n"), 201)
    assert_status(dav(alice, "PROPFIND", history_url(f),
                      headers={"Depth": "1"}), 207)


def test_file_in_a_trash_like_folder_is_published_once_approved(
        server, alice, val, own_space):
    folder = server.space_url(own_space) + ".trashy" + short("x") + "/"
    assert_status(dav(alice, "MKCOL", folder), 201)
    f = join(folder, "cr.txt")
    assert_status(put(alice, f, b"minutes\n"), 201)
    set_state(alice, f, "submitted")
    set_state(val, f, "approved")
    r = dav(alice, "GET", published_url(f))
    assert_status(r, 200)
    # The trash itself stays out of the views.
    assert_status(dav(alice, "DELETE", f), 204)
    assert_status(dav(alice, "GET", published_url(f)), 404)
