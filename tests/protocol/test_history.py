"""Document history: /dav/history/SLUG/PATH/ lists a file's revisions
(RFC 3253 flavoured: DAV:checked-in, DAV:version-history,
DAV:version-tree), GET of a revision gives its bytes, COPY of a revision
onto the file restores it; retention and `parvisctl maintenance purge`;
content-addressed storage of near-identical revisions."""

import hashlib
import os
import re
import shutil
import subprocess
import time

import pytest

from dav_helpers import (XML_HEADERS, assert_status, dav, join,
                         parse_multistatus, propfind, put, revisions_of,
                         sql_str)
from workflow_helpers import (approve, REV_NAME_RE, abs_url, add_space, history_url,
                              href_in, last_segment, members, p,
                              principal_href, published_url, revisions,
                              same_href, set_approval, space_chunk_bytes,
                              text_of)

MiB = 1 << 20
KiB = 1 << 10
CHUNK = 256 * KiB

CONTENTS = [b"first draft of the plan\n",
            b"second draft, somewhat longer than the first one\n",
            os.urandom(70 * KiB)]


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def three_puts(alice, coll):
    """A file plan.odt PUT three times (CONTENTS); returns its URL."""
    url = join(coll, "plan.odt")
    codes = [put(alice, url, body).status_code for body in CONTENTS]
    assert codes[0] == 201 and codes[1] == 204 and codes[2] == 204, codes
    return url


def _copy(sess, src, dst, overwrite=None):
    h = {"Destination": dst}
    if overwrite is not None:
        h["Overwrite"] = overwrite
    return dav(sess, "COPY", src, headers=h)


@pytest.fixture
def restored(server, alice, three_puts):
    """three_puts, then COPY of revision 1 onto the file (revision 4)."""
    revs = revisions(alice, three_puts)
    r = _copy(alice, abs_url(server, revs[0].href), three_puts)
    assert_status(r, 204)
    return three_puts


# ------------------------------------------------------------ the listing

def test_history_of_a_file_is_a_collection(alice, three_puts):
    r = propfind(alice, history_url(three_puts), "0", "prop", ["resourcetype"])
    assert_status(r, 207)
    (me,) = parse_multistatus(r.content)
    assert me.is_collection(), r.text


def test_three_puts_give_three_revisions_in_propfind(alice, three_puts):
    revs = revisions(alice, three_puts)
    assert [text_of(m, p("revision-number")) for m in revs] == ["1", "2", "3"]


def test_revision_members_are_named_rN_date_time_author_filename(alice,
                                                                 three_puts):
    names = [last_segment(m.href) for m in revisions(alice, three_puts)]
    for i, name in enumerate(names, 1):
        m = REV_NAME_RE.match(name)
        assert m, name
        assert int(m.group(1)) == i and m.group(7) == "alice" \
            and m.group(8) == "plan.odt", name


def test_revision_member_names_keep_the_extension(alice, three_puts):
    names = [last_segment(m.href) for m in revisions(alice, three_puts)]
    assert all(n.endswith(".odt") for n in names), names


def test_revision_displayname_is_its_member_name(alice, three_puts):
    for m in revisions(alice, three_puts):
        assert text_of(m, "{DAV:}displayname") == last_segment(m.href)


def test_revision_name_date_is_the_revision_date(alice, three_puts):
    # The name's date and time are those of getlastmodified (UTC, minutes).
    from email.utils import parsedate_to_datetime
    for m in revisions(alice, three_puts):
        when = parsedate_to_datetime(text_of(m, "{DAV:}getlastmodified"))
        g = REV_NAME_RE.match(last_segment(m.href)).groups()
        assert tuple(int(x) for x in g[1:6]) == (
            when.year, when.month, when.day, when.hour, when.minute), \
            (last_segment(m.href), when)


def test_revision_getcontentlength_is_its_size(alice, three_puts):
    sizes = [int(text_of(m, "{DAV:}getcontentlength"))
             for m in revisions(alice, three_puts)]
    assert sizes == [len(c) for c in CONTENTS]


def test_revision_sha256_is_that_of_its_bytes(alice, three_puts):
    shas = [text_of(m, p("sha256")) for m in revisions(alice, three_puts)]
    assert shas == [hashlib.sha256(c).hexdigest() for c in CONTENTS]


def test_revision_author_is_the_principal_of_the_writer(alice, three_puts):
    for m in revisions(alice, three_puts):
        assert same_href(href_in(m, p("author")), principal_href("alice")), \
            m.props


def test_revision_version_name_and_creator_displayname(alice, three_puts):
    revs = revisions(alice, three_puts)
    assert [text_of(m, "{DAV:}version-name") for m in revs] == \
        ["r1", "r2", "r3"]
    assert {text_of(m, "{DAV:}creator-displayname") for m in revs} == \
        {"alice"}


def test_revision_etags_are_distinct(alice, three_puts):
    etags = [text_of(m, "{DAV:}getetag") for m in revisions(alice, three_puts)]
    assert all(etags) and len(set(etags)) == 3, etags


def test_unapproved_revisions_say_not_approved(alice, three_puts):
    assert {text_of(m, p("revision-approval"))
            for m in revisions(alice, three_puts)} == {"not-approved"}


def test_revision_members_are_not_collections(alice, three_puts):
    assert not any(m.is_collection() for m in revisions(alice, three_puts))


def test_history_lists_three_revisions_through_cadaver(tmp_path, three_puts):
    if shutil.which("cadaver") is None:
        pytest.fail("cadaver is not installed (Debian package cadaver)")
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin alice\npassword alice-pw\n")
    netrc.chmod(0o600)
    env = dict(os.environ, HOME=str(home))
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    pr = subprocess.run(["cadaver", history_url(three_puts)],
                        input="ls\nquit\n", env=env, cwd=home,
                        capture_output=True, text=True, timeout=120)
    out = pr.stdout + pr.stderr
    assert pr.returncode == 0, out
    listed = re.findall(r"^\s*(r\d+ \d{4}-\d{2}-\d{2} \d{2}h\d{2} alice - "
                        r"plan\.odt)\s", pr.stdout, re.M)
    assert [n.split()[0] for n in listed] == ["r1", "r2", "r3"], out


# ------------------------------------------------------------------ reads

def test_get_of_each_revision_returns_its_bytes(server, alice, three_puts):
    got = [dav(alice, "GET", abs_url(server, m.href))
           for m in revisions(alice, three_puts)]
    assert [r.status_code for r in got] == [200, 200, 200]
    assert [r.content for r in got] == CONTENTS


def test_get_of_an_unknown_revision_is_404(alice, three_puts):
    url = history_url(three_puts) + "r9%202000-01-01%2000h00%20alice%20-%20plan.odt"
    assert_status(dav(alice, "GET", url), 404)


def test_file_checked_in_is_its_current_revision_member(server, alice,
                                                        three_puts):
    r = propfind(alice, three_puts, "0", "prop", ["checked-in"])
    (me,) = parse_multistatus(r.content)
    href = href_in(me, "{DAV:}checked-in")
    assert href is not None, r.text
    assert same_href(href, revisions(alice, three_puts)[2].href), href
    assert dav(alice, "GET", abs_url(server, href)).content == CONTENTS[2]


def test_file_version_history_is_its_history_collection(alice, three_puts):
    r = propfind(alice, three_puts, "0", "prop", ["version-history"])
    (me,) = parse_multistatus(r.content)
    href = href_in(me, "{DAV:}version-history")
    assert href is not None and same_href(href, history_url(three_puts)), \
        r.text


def test_reader_sees_the_history(session_for, three_puts):
    revs = revisions(session_for("bob"), three_puts)
    assert len(revs) == 3


def test_history_of_another_space_is_404(session_for, three_puts):
    # carol is in s2 only.
    r = propfind(session_for("carol"), history_url(three_puts), "0", "prop",
                 ["resourcetype"])
    assert_status(r, 404)


def test_history_of_a_folder_lists_its_members(alice, coll, three_puts):
    put(alice, join(coll, "notes.txt"), b"notes\n")
    assert_status(dav(alice, "MKCOL", join(coll, "sub", collection=True)),
                  201)
    ms = members(alice, history_url(coll), ["resourcetype", "displayname"])
    by = {last_segment(m.href): m for m in ms}
    assert set(by) == {"plan.odt", "notes.txt", "sub"}, sorted(by)


def test_history_of_a_folder_shows_files_as_collections(alice, coll,
                                                        three_puts):
    ms = members(alice, history_url(coll), ["resourcetype"])
    (plan,) = [m for m in ms if last_segment(m.href) == "plan.odt"]
    assert plan.is_collection()


# ---------------------------------------------------------------- restore

def test_copy_of_revision_1_onto_the_file_answers_204(server, alice,
                                                      three_puts):
    revs = revisions(alice, three_puts)
    r = _copy(alice, abs_url(server, revs[0].href), three_puts)
    assert_status(r, 204)


def test_restore_makes_revision_4(alice, restored):
    revs = revisions(alice, restored)
    assert [text_of(m, p("revision-number")) for m in revs] == \
        ["1", "2", "3", "4"]


def test_restored_revision_has_revision_1_bytes(server, alice, restored):
    revs = revisions(alice, restored)
    assert dav(alice, "GET", abs_url(server, revs[3].href)).content == \
        CONTENTS[0]
    assert text_of(revs[3], p("sha256")) == text_of(revs[0], p("sha256"))


def test_file_serves_revision_1_bytes_after_restore(alice, restored):
    r = dav(alice, "GET", restored)
    assert_status(r, 200)
    assert r.content == CONTENTS[0]


def test_restore_keeps_the_earlier_revisions(server, alice, restored):
    revs = revisions(alice, restored)
    got = [dav(alice, "GET", abs_url(server, m.href)).content
           for m in revs[:3]]
    assert got == CONTENTS


def test_restored_revision_is_authored_by_the_restorer(server, session_for,
                                                       three_puts):
    mgr = session_for("mgr")
    revs = revisions(mgr, three_puts)
    assert_status(_copy(mgr, abs_url(server, revs[1].href), three_puts), 204)
    last = revisions(mgr, three_puts)[-1]
    assert same_href(href_in(last, p("author")), principal_href("mgr"))


def test_restored_revision_comment_names_the_source(alice, restored):
    comment = text_of(revisions(alice, restored)[3], p("comment"))
    assert comment is not None and "1" in comment, comment


def test_version_tree_lists_all_four_revisions(alice, restored):
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:version-tree xmlns:D="DAV:"><D:prop><D:version-name/>'
            '<D:getcontentlength/></D:prop></D:version-tree>').encode()
    r = dav(alice, "REPORT", restored, data=body, headers=XML_HEADERS)
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    names = sorted(text_of(m, "{DAV:}version-name") for m in resps)
    assert names == ["r1", "r2", "r3", "r4"], r.text
    sizes = {text_of(m, "{DAV:}version-name"):
             int(text_of(m, "{DAV:}getcontentlength")) for m in resps}
    assert sizes == {"r1": len(CONTENTS[0]), "r2": len(CONTENTS[1]),
                     "r3": len(CONTENTS[2]), "r4": len(CONTENTS[0])}


def test_version_tree_hrefs_are_the_history_members(alice, restored):
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:version-tree xmlns:D="DAV:"><D:prop><D:version-name/>'
            '</D:prop></D:version-tree>').encode()
    r = dav(alice, "REPORT", restored, data=body, headers=XML_HEADERS)
    assert_status(r, 207)
    got = sorted(m.path for m in parse_multistatus(r.content))
    want = sorted(m.path for m in revisions(alice, restored))
    assert got == want


def test_copy_of_a_revision_to_a_new_path_creates_a_file(server, alice, coll,
                                                         three_puts):
    revs = revisions(alice, three_puts)
    dst = join(coll, "plan-v2.odt")
    r = _copy(alice, abs_url(server, revs[1].href), dst)
    assert_status(r, 201)
    assert dav(alice, "GET", dst).content == CONTENTS[1]


def test_copy_of_a_revision_with_overwrite_f_is_412(server, alice,
                                                    three_puts):
    revs = revisions(alice, three_puts)
    r = _copy(alice, abs_url(server, revs[0].href), three_puts,
              overwrite="F")
    assert_status(r, 412)
    assert dav(alice, "GET", three_puts).content == CONTENTS[2]


def test_reader_cannot_restore_a_revision(server, session_for, three_puts):
    bob = session_for("bob")
    revs = revisions(bob, three_puts)
    r = _copy(bob, abs_url(server, revs[0].href), three_puts)
    assert_status(r, 403)
    assert len(revisions(bob, three_puts)) == 3


def test_restore_into_another_space_is_refused(server, ctl, session_for,
                                               three_puts):
    # alice edits both spaces; a revision still stays in its own.
    slug = add_space(ctl, {"alice": "editor"})
    alice = session_for("alice")
    revs = revisions(alice, three_puts)
    dst = server.space_url(slug) + "stolen.odt"
    r = _copy(alice, abs_url(server, revs[0].href), dst)
    assert_status(r, 403)
    assert_status(dav(alice, "GET", dst), 404)


# ------------------------------------------------------ the view is read-only

def test_put_into_the_history_is_refused(alice, three_puts):
    r = put(alice, history_url(three_puts) + "r9.odt", b"forged")
    assert_status(r, 403)


def test_delete_of_a_revision_is_refused(server, alice, three_puts):
    revs = revisions(alice, three_puts)
    assert_status(dav(alice, "DELETE", abs_url(server, revs[0].href)), 403)
    assert len(revisions(alice, three_puts)) == 3


def test_move_of_a_revision_is_refused(server, alice, coll, three_puts):
    revs = revisions(alice, three_puts)
    r = dav(alice, "MOVE", abs_url(server, revs[0].href),
            headers={"Destination": join(coll, "moved.odt")})
    assert_status(r, 403)
    assert len(revisions(alice, three_puts)) == 3


def test_mkcol_in_the_history_is_refused(alice, coll):
    r = dav(alice, "MKCOL", history_url(coll) + "newdir/")
    assert r.status_code in (403, 405), r.status_code


# -------------------------------------------------------------- retention

@pytest.fixture(scope="module")
def retention(server, ctl, cluster, seed):
    """A space with retention "keep 2": file a.txt PUT five times, its
    revision 2 approved (by mgr); file b.txt in a keep-all space PUT three
    times; then `parvisctl maintenance purge`. Returns a dict."""
    import requests
    s = requests.Session()
    s.trust_env = False
    s.auth = ("alice", "alice-pw")
    m = requests.Session()
    m.trust_env = False
    m.auth = ("mgr", "mgr-pw")
    slug = add_space(ctl, {"alice": "editor", "mgr": "manager"})
    keep_all = add_space(ctl, {"alice": "editor"})
    url = server.space_url(slug) + "a.txt"
    bodies = [("a revision %d " % i).encode() + os.urandom(1000)
              for i in range(1, 6)]
    for i, body in enumerate(bodies, 1):
        assert put(s, url, body).status_code in (201, 204)
        if i == 2:
            r = approve(m, url)
            assert r.status_code == 207, r.text
    other = server.space_url(keep_all) + "b.txt"
    other_bodies = [os.urandom(500) for _ in range(3)]
    for body in other_bodies:
        assert put(s, other, body).status_code in (201, 204)
    before = space_chunk_bytes(cluster, slug)
    ctl("space", "retention", slug, "--keep-revisions", "2")
    try:
        out = ctl("maintenance", "purge").stdout
    finally:
        ctl("space", "retention", slug, "--keep-all")
    yield {"slug": slug, "url": url, "bodies": bodies, "out": out,
           "other": other, "other_bodies": other_bodies, "alice": s,
           "before": before, "after": space_chunk_bytes(cluster, slug)}
    s.close()
    m.close()


def _kept(cluster, slug):
    return cluster.psql("select coalesce(keep_revisions::text, 'all'), "
                        "coalesce(keep_days::text, 'all') from spaces "
                        "where slug = %s" % sql_str(slug))[0]


@pytest.mark.parametrize("opt,value", [
    ("--keep-days", "1y"), ("--keep-days", "year"), ("--keep-days", ""),
    ("--keep-days", "-3"), ("--keep-days", "0"), ("--keep-days", "36501"),
    ("--keep-revisions", "4294967297"), ("--keep-revisions", "2147483648"),
    ("--keep-revisions", "+2"), ("--keep-revisions", " 2"),
    ("--keep-revisions", "2.5")])
def test_retention_refuses_what_is_not_a_count(ctl, cluster, seed, opt,
                                              value):
    # 4294967297 is not "keep one revision", nor "1y" one day.
    slug = add_space(ctl, {})
    ctl("space", "retention", slug, "--keep-revisions", "7")
    pr = ctl("space", "retention", slug, opt, value, check=False)
    assert pr.returncode == 2, (pr.returncode, pr.stdout, pr.stderr)
    assert "Usage: parvisctl space retention" in pr.stderr, pr.stderr
    assert _kept(cluster, slug) == ("7", "all")


def test_retention_takes_the_largest_counts(ctl, cluster, seed):
    slug = add_space(ctl, {})
    ctl("space", "retention", slug, "--keep-revisions", "2147483647")
    assert _kept(cluster, slug) == ("2147483647", "all")
    ctl("space", "retention", slug, "--keep-days", "36500")
    assert _kept(cluster, slug) == ("all", "36500")
    ctl("maintenance", "purge")
    ctl("space", "retention", slug, "--keep-all")
    assert _kept(cluster, slug) == ("all", "all")


PURGE_RE = re.compile(r"^(\d+) revision\(s\) and (\d+) chunk\(s\) removed$",
                      re.M)


def test_purge_prints_what_it_removed(retention):
    m = PURGE_RE.search(retention["out"])
    assert m, retention["out"]
    assert int(m.group(1)) >= 2 and int(m.group(2)) >= 2, retention["out"]


def test_purge_keeps_the_last_two_revisions(cluster, retention):
    nums = [r[1] for r in revisions_of(cluster, "/a.txt", retention["slug"])]
    assert 4 in nums and 5 in nums, nums


def test_purge_removes_revisions_beyond_retention(cluster, retention):
    nums = [r[1] for r in revisions_of(cluster, "/a.txt", retention["slug"])]
    assert 1 not in nums and 3 not in nums, nums


def test_purge_never_removes_an_approved_revision(cluster, retention):
    nums = [r[1] for r in revisions_of(cluster, "/a.txt", retention["slug"])]
    assert nums == [2, 4, 5], nums


def test_history_after_purge_lists_the_kept_revisions(retention):
    revs = revisions(retention["alice"], retention["url"])
    assert [text_of(m, p("revision-number")) for m in revs] == \
        ["2", "4", "5"]


def test_approved_bytes_still_download_from_published_after_purge(
        retention):
    r = dav(retention["alice"], "GET", published_url(retention["url"]))
    assert_status(r, 200)
    assert r.content == retention["bodies"][1]


def test_current_bytes_still_download_after_purge(retention):
    r = dav(retention["alice"], "GET", retention["url"])
    assert_status(r, 200)
    assert r.content == retention["bodies"][4]


def test_purge_drops_the_content_of_purged_revisions(cluster, retention):
    gone = [hashlib.sha256(retention["bodies"][i]).hexdigest()
            for i in (0, 2)]
    rows = cluster.psql(
        "select encode(b.sha256, 'hex') from blobs b join spaces s "
        "on s.id = b.space_id where s.slug = %s" % sql_str(retention["slug"]))
    assert not set(gone) & {r[0] for r in rows}
    assert retention["after"] < retention["before"], retention


def test_purge_leaves_keep_all_spaces_alone(cluster, retention):
    from urllib.parse import urlsplit
    slug = urlsplit(retention["other"]).path.split("/")[3]
    nums = [r[1] for r in revisions_of(cluster, "/b.txt", slug)]
    assert nums == [1, 2, 3], nums


def test_keep_days_purges_older_revisions(server, ctl, cluster, alice):
    slug = add_space(ctl, {"alice": "editor"})
    url = server.space_url(slug) + "old.txt"
    for i in range(3):
        assert put(alice, url, b"old %d" % i).status_code in (201, 204)
    cluster.psql(
        "update revisions v set created_at = now() - interval '30 days' "
        "from resources r, spaces s where r.id = v.resource_id and "
        "s.id = r.space_id and s.slug = %s" % sql_str(slug))
    ctl("space", "retention", slug, "--keep-days", "7")
    try:
        ctl("maintenance", "purge")
    finally:
        ctl("space", "retention", slug, "--keep-all")
    nums = [r[1] for r in revisions_of(cluster, "/old.txt", slug)]
    assert nums == [3], nums
    assert dav(alice, "GET", url).content == b"old 2"


def test_retention_without_a_choice_is_a_usage_error(ctl):
    pr = ctl("space", "retention", "s1", check=False)
    assert pr.returncode != 0, pr.stdout


# ---------------------------------------------------------------- storage

@pytest.mark.heavy
def test_100_revisions_differing_in_their_last_4k_share_storage(
        server, ctl, cluster, alice):
    slug = add_space(ctl, {"alice": "editor"})
    url = server.space_url(slug) + "big.bin"
    size = 20 * MiB
    base = bytearray(os.urandom(size))
    before = space_chunk_bytes(cluster, slug)
    t0 = time.monotonic()
    for i in range(100):
        base[-4 * KiB:] = os.urandom(4 * KiB)
        r = put(alice, url, bytes(base), timeout=300)
        assert r.status_code in (201, 204), (i, r.status_code, r.text[:500])
    elapsed = time.monotonic() - t0
    stored = space_chunk_bytes(cluster, slug) - before
    total = cluster.psql(
        "select pg_total_relation_size('chunks')")[0][0]
    logical = 100 * size
    print("\ndedup: %d revisions of %d MiB = %d MiB logical, %.1f MiB stored "
          "in chunks (ratio %.1f:1), PUTs took %.1f s; chunks table %.1f MiB"
          % (100, size // MiB, logical // MiB, stored / MiB,
             logical / max(stored, 1), elapsed, int(total) / MiB))
    assert len(revisions_of(cluster, "/big.bin", slug)) == 100
    assert stored < 2 * size + 100 * CHUNK, stored
    assert dav(alice, "GET", url).content == bytes(base)


# ------------------------------------------- saving by writing and renaming

def _save_by_rename(sess, url, body, tmp_name=".goutputstream-X1"):
    """What gedit over davfs2, or Word on a mapped drive, sends to save:
    the new content under a temporary name, then MOVE over the file."""
    tmp = url.rsplit("/", 1)[0] + "/" + tmp_name
    assert_status(put(sess, tmp, body), 201)
    return dav(sess, "MOVE", tmp, headers={"Destination": url,
                                           "Overwrite": "T"})


def _trash_names(sess, server):
    return [text_of(m, p("trashed-from")) for m in members(
        sess, "%s/dav/trash/s1/" % server.url, [p("trashed-from")])]


def test_saving_by_rename_makes_the_next_revision(server, alice, three_puts):
    """The file keeps its history: the save is its revision 4, and
    neither it nor the temporary file is left in the trash."""
    before = _trash_names(alice, server)
    assert_status(_save_by_rename(alice, three_puts, b"fourth draft\n"), 204)
    revs = revisions(alice, three_puts)
    assert [text_of(r, p("revision-number")) for r in revs] == \
        ["1", "2", "3", "4"]
    assert dav(alice, "GET", three_puts).content == b"fourth draft\n"
    assert dav(alice, "GET", abs_url(server, revs[0].href)).content == \
        CONTENTS[0]
    tmp = three_puts.rsplit("/", 1)[0] + "/.goutputstream-X1"
    assert dav(alice, "GET", tmp).status_code == 404
    assert _trash_names(alice, server) == before


def test_saving_by_rename_keeps_the_approved_revision_published(
        server, alice, session_for, three_puts):
    approve(session_for("mgr"), three_puts)
    assert_status(_save_by_rename(alice, three_puts, b"a new draft\n"), 204)
    r = dav(alice, "GET", published_url(three_puts))
    assert_status(r, 200)
    assert r.content == CONTENTS[2]
    assert dav(alice, "GET", three_puts).content == b"a new draft\n"


def test_a_file_moved_over_another_brings_its_dead_properties(alice, coll):
    """RFC 4918 §9.9.1, §9.9.3: the destination is replaced, dead
    properties included; only its history stays."""
    src, dst = join(coll, "src.txt"), join(coll, "dst.txt")
    for url, prop in ((src, "from-src"), (dst, "from-dst")):
        assert_status(put(alice, url, b"x " + prop.encode()), 201)
        body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" '
                'xmlns:Z="urn:z"><D:set><D:prop><Z:%s>1</Z:%s></D:prop>'
                '</D:set></D:propertyupdate>' % (prop, prop))
        assert_status(dav(alice, "PROPPATCH", url, data=body,
                          headers=XML_HEADERS), 207)
    assert_status(dav(alice, "MOVE", src, headers={"Destination": dst}), 204)
    r = propfind(alice, dst, "0", "allprop")
    assert b"from-src" in r.content and b"from-dst" not in r.content
    assert [text_of(x, p("revision-number"))
            for x in revisions(alice, dst)] == ["1", "2"]


def test_a_file_with_a_history_moved_over_another_leaves_it_in_the_trash(
        server, alice, coll):
    """The source's own earlier revisions are kept: it goes to the trash
    with them, and the destination takes its content as a revision."""
    src, dst = join(coll, "old-history.txt"), join(coll, "target.txt")
    assert_status(put(alice, src, b"s1"), 201)
    assert_status(put(alice, src, b"s2"), 204)
    assert_status(put(alice, dst, b"d1"), 201)
    assert_status(dav(alice, "MOVE", src, headers={"Destination": dst}), 204)
    assert dav(alice, "GET", dst).content == b"s2"
    assert len(revisions(alice, dst)) == 2
    path = "/" + src.split("/dav/spaces/s1/", 1)[1]
    assert path in _trash_names(alice, server)


def test_a_file_copied_over_another_is_its_next_revision(alice, coll):
    src, dst = join(coll, "model.txt"), join(coll, "copy.txt")
    assert_status(put(alice, src, b"model"), 201)
    assert_status(put(alice, dst, b"old copy"), 201)
    assert_status(_copy(alice, src, dst, "T"), 204)
    assert dav(alice, "GET", dst).content == b"model"
    assert dav(alice, "GET", src).content == b"model"
    assert len(revisions(alice, dst)) == 2


def test_a_lock_on_the_replaced_file_goes_with_it(alice, coll):
    """RFC 4918 §9.9.3: the destination is deleted first, its lock too."""
    from class2_helpers import take_lock
    dst = join(coll, "locked.txt")
    assert_status(put(alice, dst, b"v1"), 201)
    token = take_lock(alice, dst)
    tmp = join(coll, "locked.tmp")
    assert_status(put(alice, tmp, b"v2"), 201)
    r = dav(alice, "MOVE", tmp, headers={
        "Destination": dst, "If": "<%s> (<%s>)" % (dst, token)})
    assert_status(r, 204)
    # No token any more: none is needed.
    assert_status(put(alice, dst, b"v3"), 204)
    assert b"activelock" not in propfind(alice, dst, "0", "prop",
                                         ["lockdiscovery"]).content


def test_the_same_bytes_again_make_no_revision(server, alice, session_for,
                                               three_puts):
    """A PUT of the content the file already has (an unchanged save, a
    re-upload after a touch) changes nothing: no revision, the same ETag,
    and an approved file stays approved."""
    approve(session_for("mgr"), three_puts)
    etag = dav(alice, "HEAD", three_puts).headers["ETag"]
    r = put(alice, three_puts, CONTENTS[2])
    assert_status(r, 204)
    assert r.headers["ETag"] == etag
    assert len(revisions(alice, three_puts)) == 3
    r = propfind(alice, three_puts, "0", "prop", [p("approval-state")])
    assert b">approved<" in r.content, r.text
    # Other bytes still make the next revision.
    assert_status(put(alice, three_puts, b"changed\n"), 204)
    assert len(revisions(alice, three_puts)) == 4


def _ctl_path(url):
    return "s1" + url.split("/dav/spaces/s1", 1)[1]


def test_a_protected_file_moved_over_another_keeps_its_protection(
        alice, ctl, session_for, coll):
    """The source's own access control entries go where it goes: a file
    hidden from bob stays hidden from him under its new name."""
    secret, public = join(coll, "secret.txt"), join(coll, "public.txt")
    assert_status(put(alice, secret, b"secret"), 201)
    assert_status(put(alice, public, b"public"), 201)
    ctl("acl", "deny", _ctl_path(secret), "user:bob", "read")
    assert_status(dav(alice, "MOVE", secret,
                      headers={"Destination": public}), 204)
    assert dav(alice, "GET", public).content == b"secret"
    assert dav(session_for("bob"), "GET", public).status_code == 404


def test_a_once_approved_source_is_never_removed_for_good(
        server, alice, session_for, coll):
    """A source whose single revision was approved, then rejected, still
    holds an approved revision: it goes to the trash, never away."""
    src, dst = join(coll, "was-approved.txt"), join(coll, "other.txt")
    assert_status(put(alice, src, b"approved once"), 201)
    assert_status(put(alice, dst, b"other"), 201)
    mgr = session_for("mgr")
    approve(mgr, src)
    set_approval(mgr, src, "rejected")
    assert_status(dav(alice, "MOVE", src, headers={"Destination": dst}), 204)
    assert "/" + src.split("/dav/spaces/s1/", 1)[1] in _trash_names(alice,
                                                                   server)


def test_writing_into_a_file_by_move_needs_the_right_to_write_it(
        server, alice, ctl, coll):
    """Without write-content on the destination, a MOVE over it may only
    replace it (it goes to the trash), never add to its history."""
    frozen, tmp = join(coll, "frozen.txt"), join(coll, "frozen.tmp")
    assert_status(put(alice, frozen, b"frozen"), 201)
    ctl("acl", "deny", _ctl_path(frozen), "user:alice",
        "write-content,write-properties")
    assert_status(put(alice, frozen, b"changed"), 403)
    assert_status(put(alice, tmp, b"changed"), 201)
    r = dav(alice, "MOVE", tmp, headers={"Destination": frozen})
    assert r.status_code in (204, 403), r.status_code
    assert len(revisions(alice, frozen)) == 1
    if r.status_code == 204:
        assert "/" + frozen.split("/dav/spaces/s1/", 1)[1] in \
            _trash_names(alice, server)


def test_the_revision_made_by_a_move_is_in_the_documents_trail(
        cluster, alice, coll):
    from workflow_helpers import audit_of_path
    doc = join(coll, "trail.txt")
    assert_status(put(alice, doc, b"v1"), 201)
    assert_status(_save_by_rename(alice, doc, b"v2", "trail.tmp"), 204)
    rows = audit_of_path(cluster, _ctl_path(doc))
    assert [r["action"] for r in rows] == ["PUT", "MOVE"], rows
    assert rows[-1]["detail"].startswith("from "), rows


# ------------------------------- saving by renaming the document away first

def _office_save(sess, url, body, new_name="~WRD0000.tmp",
                 away_name="~WRL0001.tmp", then_delete=True):
    """The requests Word sends to save over a mapped drive (each rename a
    MOVE): the new content under a temporary name, the document renamed
    away to another, a DELETE of the document's name to make sure it is
    free, the new file renamed to it, and the renamed document deleted.
    Returns the MOVE into place and the final DELETE."""
    folder = url.rsplit("/", 1)[0] + "/"
    new, away = folder + new_name, folder + away_name
    assert_status(put(sess, new, body), 201)
    assert_status(dav(sess, "MOVE", url, headers={"Destination": away}), 201)
    assert_status(dav(sess, "DELETE", url), 404)
    into_place = dav(sess, "MOVE", new, headers={"Destination": url})
    gone = dav(sess, "DELETE", away) if then_delete else None
    return into_place, gone


def _history_ids(sess, url):
    return [text_of(r, p("revision-number")) for r in revisions(sess, url)]


def test_word_save_keeps_the_documents_history(server, alice, three_puts):
    """decision 0033: the document renamed away comes back under its name
    with the saved content as its next revision; the copy left under the
    temporary name, deleted, leaves nothing in the trash (its content is
    the document's revision 3)."""
    before = _trash_names(alice, server)
    into_place, gone = _office_save(alice, three_puts, b"saved by Word\n")
    assert_status(into_place, 201)
    assert into_place.headers["Location"].endswith(
        three_puts.split("://", 1)[1].split("/", 1)[1])
    assert_status(gone, 204)
    assert dav(alice, "GET", three_puts).content == b"saved by Word\n"
    assert _history_ids(alice, three_puts) == ["1", "2", "3", "4"]
    revs = revisions(alice, three_puts)
    assert dav(alice, "GET", abs_url(server, revs[2].href)).content == \
        CONTENTS[2]
    folder = three_puts.rsplit("/", 1)[0] + "/"
    for name in ("~WRD0000.tmp", "~WRL0001.tmp"):
        assert dav(alice, "GET", folder + name).status_code == 404
    assert _trash_names(alice, server) == before


def test_a_kept_copy_written_since_goes_to_the_trash(server, alice, coll):
    """Once someone writes into the copy a save left, it is a file of its
    own: deleted, it goes to the trash like any other."""
    doc = join(coll, "kept.docx")
    assert_status(put(alice, doc, b"v1"), 201)
    into_place, _ = _office_save(alice, doc, b"v2", new_name="~WRD0007.tmp",
                                 away_name="~WRL0007.tmp", then_delete=False)
    assert_status(into_place, 201)
    kept = join(coll, "~WRL0007.tmp")
    assert_status(put(alice, kept, b"v1, edited"), 204)
    assert_status(dav(alice, "DELETE", kept), 204)
    path = "/" + kept.split("/dav/spaces/s1/", 1)[1]
    assert path in _trash_names(alice, server)


def test_word_save_shows_every_name_as_the_client_expects(alice, three_puts):
    """Between the MOVE into place and the DELETE, the temporary name holds
    the document as it was, and the document the new content."""
    folder = three_puts.rsplit("/", 1)[0] + "/"
    into_place, _ = _office_save(alice, three_puts, b"new\n",
                                 then_delete=False)
    assert_status(into_place, 201)
    assert dav(alice, "GET", folder + "~WRL0001.tmp").content == CONTENTS[2]
    assert dav(alice, "GET", three_puts).content == b"new\n"
    assert dav(alice, "GET", folder + "~WRD0000.tmp").status_code == 404


def test_word_save_keeps_approval_and_protection(server, alice, ctl,
                                                session_for, three_puts):
    """The published revision stays published, and entries of the
    document's own stay with it."""
    approve(session_for("mgr"), three_puts)
    ctl("acl", "deny", _ctl_path(three_puts), "user:bob", "read")
    into_place, _ = _office_save(alice, three_puts, b"next draft\n",
                                 then_delete=False)
    assert_status(into_place, 201)
    # The copy of the previous content is as closed as the document was.
    kept = three_puts.rsplit("/", 1)[0] + "/~WRL0001.tmp"
    assert dav(alice, "GET", kept).content == CONTENTS[2]
    assert dav(session_for("bob"), "GET", kept).status_code == 404
    assert_status(dav(alice, "DELETE", kept), 204)
    r = dav(alice, "GET", published_url(three_puts))
    assert_status(r, 200)
    assert r.content == CONTENTS[2]
    assert dav(session_for("bob"), "GET", three_puts).status_code == 404
    assert _history_ids(alice, three_puts) == ["1", "2", "3", "4"]


def test_excel_save_keeps_the_workbooks_history(alice, coll):
    """Excel writes the new workbook under eight hexadecimal digits and
    renames the workbook away to another such name ending in .tmp."""
    book = join(coll, "budget.xlsx")
    assert_status(put(alice, book, b"PK budget v1"), 201)
    into_place, gone = _office_save(alice, book, b"PK budget v2",
                                    new_name="5A3C9F21",
                                    away_name="8B0D4E17.tmp")
    assert_status(into_place, 201)
    assert_status(gone, 204)
    assert dav(alice, "GET", book).content == b"PK budget v2"
    assert _history_ids(alice, book) == ["1", "2"]


def test_a_rename_to_an_ordinary_name_is_only_a_rename(alice, coll):
    """Someone renaming report.odt to report-old.odt and another file to
    report.odt has two documents: nothing is merged."""
    doc, new = join(coll, "report.odt"), join(coll, "draft.odt")
    old = join(coll, "report-old.odt")
    assert_status(put(alice, doc, b"report"), 201)
    assert_status(put(alice, new, b"draft"), 201)
    assert_status(dav(alice, "MOVE", doc, headers={"Destination": old}), 201)
    assert_status(dav(alice, "MOVE", new, headers={"Destination": doc}), 201)
    assert dav(alice, "GET", old).content == b"report"
    assert dav(alice, "GET", doc).content == b"draft"
    assert _history_ids(alice, doc) == ["1"]
    assert _history_ids(alice, old) == ["1"]


def test_another_users_file_is_not_saved_into_a_renamed_document(
        alice, session_for, coll):
    doc = join(coll, "shared.odt")
    assert_status(put(alice, doc, b"alice's"), 201)
    away = join(coll, "~WRL0002.tmp")
    assert_status(dav(alice, "MOVE", doc, headers={"Destination": away}),
                  201)
    mgr = session_for("mgr")
    new = join(coll, "mgrs.odt")
    assert_status(put(mgr, new, b"mgr's"), 201)
    assert_status(dav(mgr, "MOVE", new, headers={"Destination": doc}), 201)
    assert dav(alice, "GET", away).content == b"alice's"
    assert _history_ids(alice, doc) == ["1"]
    assert _history_ids(alice, away) == ["1"]


def test_a_document_renamed_away_long_ago_is_left_alone(cluster, alice,
                                                        coll):
    doc = join(coll, "late.odt")
    assert_status(put(alice, doc, b"before"), 201)
    folder = coll.rstrip("/") + "/"
    assert_status(dav(alice, "MOVE", doc, headers={
        "Destination": folder + "~WRL0003.tmp"}), 201)
    cluster.psql("UPDATE renamed_away SET at = at - interval '1 hour'")
    assert_status(put(alice, folder + "~WRD0003.tmp", b"after"), 201)
    assert_status(dav(alice, "MOVE", folder + "~WRD0003.tmp",
                      headers={"Destination": doc}), 201)
    assert dav(alice, "GET", folder + "~WRL0003.tmp").content == b"before"
    assert _history_ids(alice, doc) == ["1"]


def test_a_document_changed_after_its_rename_is_left_alone(alice, coll):
    """The document was written under its temporary name: it is no
    longer what was renamed away, and the save makes a file of its own."""
    doc = join(coll, "edited.odt")
    folder = coll.rstrip("/") + "/"
    assert_status(put(alice, doc, b"v1"), 201)
    assert_status(dav(alice, "MOVE", doc, headers={
        "Destination": folder + "~WRL0004.tmp"}), 201)
    assert_status(put(alice, folder + "~WRL0004.tmp", b"v1 edited"), 204)
    assert_status(put(alice, folder + "~WRD0004.tmp", b"v2"), 201)
    assert_status(dav(alice, "MOVE", folder + "~WRD0004.tmp",
                      headers={"Destination": doc}), 201)
    assert dav(alice, "GET", folder + "~WRL0004.tmp").content == \
        b"v1 edited"
    assert _history_ids(alice, doc) == ["1"]


def test_renaming_the_document_back_is_a_rename(alice, coll):
    """Undoing the rename (the document itself moved back) is no save."""
    doc = join(coll, "back.odt")
    away = join(coll, "~WRL0005.tmp")
    assert_status(put(alice, doc, b"v1"), 201)
    assert_status(put(alice, doc, b"v2"), 204)
    assert_status(dav(alice, "MOVE", doc, headers={"Destination": away}),
                  201)
    assert_status(dav(alice, "MOVE", away, headers={"Destination": doc}),
                  201)
    assert dav(alice, "GET", doc).content == b"v2"
    assert _history_ids(alice, doc) == ["1", "2"]
    assert dav(alice, "GET", away).status_code == 404


def test_word_save_is_in_the_documents_trail(cluster, alice, coll):
    from workflow_helpers import audit_of_path
    doc = join(coll, "trail-word.docx")
    assert_status(put(alice, doc, b"v1"), 201)
    into_place, _ = _office_save(alice, doc, b"v2", new_name="~WRD0006.tmp",
                                 away_name="~WRL0006.tmp")
    assert_status(into_place, 201)
    # The rename away, the DELETE that found nothing, the save.
    rows = audit_of_path(cluster, _ctl_path(doc))
    assert [r["action"] for r in rows] == ["PUT", "MOVE", "DELETE",
                                           "MOVE"], rows
    assert rows[-1]["detail"].endswith("/~WRD0006.tmp"), rows
    src = audit_of_path(cluster, _ctl_path(join(coll, "~WRD0006.tmp")))
    assert src[-1]["action"] == "MOVE", src
    assert src[-1]["detail"].endswith(
        "as revision 2, renamed away to %s" % _ctl_path(
            join(coll, "~WRL0006.tmp"))[2:]), src


def _kept_copy(sess, doc, n):
    """An office save of doc that leaves its copy; returns the copy's URL."""
    into_place, _ = _office_save(sess, doc, b"saved %d" % n,
                                 new_name="~WRD%04d.tmp" % n,
                                 away_name="~WRL%04d.tmp" % n,
                                 then_delete=False)
    assert_status(into_place, 201)
    return doc.rsplit("/", 1)[0] + "/~WRL%04d.tmp" % n


def test_a_kept_copy_approved_or_annotated_goes_to_the_trash(
        server, alice, session_for, coll):
    """The copy is removed for good only as the save left it: approved,
    or with properties written into it, it is a document of its own."""
    mgr = session_for("mgr")
    doc = join(coll, "annotated.docx")
    assert_status(put(alice, doc, b"v1"), 201)
    approved = _kept_copy(alice, doc, 11)
    approve(mgr, approved)
    assert_status(dav(alice, "DELETE", approved), 204)
    annotated = _kept_copy(alice, doc, 12)
    body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" '
            'xmlns:Z="urn:z"><D:set><D:prop><Z:note>keep</Z:note></D:prop>'
            '</D:set></D:propertyupdate>')
    assert_status(dav(alice, "PROPPATCH", annotated, data=body,
                      headers=XML_HEADERS), 207)
    assert_status(dav(alice, "DELETE", annotated), 204)
    names = _trash_names(alice, server)
    for url in (approved, annotated):
        assert "/" + url.split("/dav/spaces/s1/", 1)[1] in names, url


def test_a_kept_copy_kept_under_another_name_goes_to_the_trash(
        server, alice, session_for, coll):
    """Renamed to be kept, the copy is a file like any other, even once
    the document it came from is gone."""
    doc = join(coll, "plan.odt")
    assert_status(put(alice, doc, b"v1"), 201)
    copy = _kept_copy(alice, doc, 13)
    kept = join(coll, "plan-v1.odt")
    assert_status(dav(alice, "MOVE", copy, headers={"Destination": kept}),
                  201)
    assert_status(dav(alice, "DELETE", kept), 204)
    assert "/" + kept.split("/dav/spaces/s1/", 1)[1] in \
        _trash_names(alice, server)


def test_a_new_file_from_another_folder_is_no_save(alice, coll):
    """Office writes its new file beside the document: a file moved in
    from elsewhere to the free name is a plain move."""
    doc = join(coll, "elsewhere.docx")
    other = join(coll, "other", collection=True)
    assert_status(dav(alice, "MKCOL", other), 201)
    assert_status(put(alice, doc, b"v1"), 201)
    away = join(coll, "~WRL0014.tmp")
    assert_status(dav(alice, "MOVE", doc, headers={"Destination": away}),
                  201)
    new = other + "new.docx"
    assert_status(put(alice, new, b"from elsewhere"), 201)
    assert_status(dav(alice, "MOVE", new, headers={"Destination": doc}), 201)
    assert dav(alice, "GET", away).content == b"v1"
    assert _history_ids(alice, doc) == ["1"]


def test_the_kept_copy_has_its_own_trail_row(cluster, alice, coll):
    from workflow_helpers import audit_of_path
    doc = join(coll, "trail-kept.docx")
    assert_status(put(alice, doc, b"v1"), 201)
    copy = _kept_copy(alice, doc, 15)
    rows = audit_of_path(cluster, _ctl_path(copy))
    assert rows and rows[-1]["detail"].endswith(
        "trail-kept.docx as it was before a save"), rows
