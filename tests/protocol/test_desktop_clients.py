"""What desktop file clients need beyond RFC 4918 (CLIENTS.md §1, §4):
Windows Explorer's Win32 properties, listing size and OPTIONS probes,
Office's save sequence, macOS metadata files, rclone's X-OC-Mtime and
unknown properties of Cyberduck and LibreOffice."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate, parsedate_to_datetime

import pytest
from lxml import etree
import requests

from class2_helpers import if_token, take_lock
from dav_helpers import (RFC1123_RE, RFC3339_RE, XML_HEADERS, assert_status,
                         dav, db_path, join, mkcol, ms_by_path,
                         parse_multistatus, propfind, propfind_one,
                         proppatch_body, put, revisions_of, url_path)

MS_NS = "urn:schemas-microsoft-com:"
ZDECL = 'xmlns:Z="%s"' % MS_NS

# Windows Explorer's PROPPATCH after copying a file in (copyparty #910 [S9]).
WIN32_PROPPATCH = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">
    <D:set>
        <D:prop>
            <Z:Win32CreationTime>Thu, 09 Oct 2025 17:54:43 GMT</Z:Win32CreationTime>
            <Z:Win32LastAccessTime>Thu, 09 Oct 2025 17:55:31 GMT</Z:Win32LastAccessTime>
            <Z:Win32LastModifiedTime>Thu, 09 Oct 2025 17:54:43 GMT</Z:Win32LastModifiedTime>
            <Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>
        </D:prop>
    </D:set>
</D:propertyupdate>
"""
WIN32_VALUES = {
    "Win32CreationTime": "Thu, 09 Oct 2025 17:54:43 GMT",
    "Win32LastAccessTime": "Thu, 09 Oct 2025 17:55:31 GMT",
    "Win32LastModifiedTime": "Thu, 09 Oct 2025 17:54:43 GMT",
    "Win32FileAttributes": "00000020",
}

# The properties the Mini-Redirector reads for a folder listing: the DAV
# live properties and the Win32 times/attributes [S9][S25]. Short names
# (doc-0001.txt) keep the test fair: the hrefs are not what makes it big.
EXPLORER_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8" ?>'
    b'<D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">'
    b'<D:creationdate/><D:displayname/><D:getcontentlength/>'
    b'<D:getcontenttype/><D:getetag/><D:getlastmodified/><D:resourcetype/>'
    b'<Z:Win32CreationTime/><Z:Win32LastAccessTime/>'
    b'<Z:Win32LastModifiedTime/><Z:Win32FileAttributes/>'
    b'</D:prop></D:propfind>')

# FileAttributesLimitInBytes default [S7].
EXPLORER_LISTING_LIMIT = 1_000_000
BIG_FOLDER_FILES = 2000


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def anon():
    s = requests.Session()
    s.trust_env = False
    yield s
    s.close()


@pytest.fixture
def file_url(coll, alice):
    url = join(coll, "report.docx")
    assert_status(put(alice, url, b"PK\x03\x04 not really a docx\n"), 201)
    return url


def proppatch(sess, url, body, headers=None):
    h = dict(XML_HEADERS)
    h.update(headers or {})
    return dav(sess, "PROPPATCH", url, data=body, headers=h)


def prop_text(sess, url, clark):
    if not clark.startswith("{"):
        clark = "{DAV:}" + clark
    one = propfind_one(sess, url, "prop", [clark])
    el = one.ok_props().get(clark)
    assert el is not None, one
    return (el.text or "").strip()


def listed_names(sess, coll_url):
    r = propfind(sess, coll_url, "1", "prop", ["resourcetype"])
    assert_status(r, 207)
    base = url_path(coll_url).rstrip("/")
    return {resp.path.rstrip("/")[len(base) + 1:]
            for resp in parse_multistatus(r.content)
            if resp.path.rstrip("/") != base}


# ------------------------------------------------------------------ Windows

def test_win32_proppatch_answers_207_with_200_for_each(file_url, alice):
    r = proppatch(alice, file_url, WIN32_PROPPATCH)
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 1
    got = {k: st for k, (st, _) in resps[0].props.items()}
    assert got == {"{%s}%s" % (MS_NS, n): 200 for n in WIN32_VALUES}, r.text


def test_win32_proppatch_response_keeps_microsoft_namespace(file_url, alice):
    # npm-WebDAV-Server #34 [S11]: the response must name the elements in
    # urn:schemas-microsoft-com:, not with a made-up prefix.
    r = proppatch(alice, file_url, WIN32_PROPPATCH)
    assert_status(r, 207)
    assert b"urn:schemas-microsoft-com:" in r.content
    assert b"<urn:schemas" not in r.content


@pytest.mark.parametrize("name", ["Win32CreationTime", "Win32LastAccessTime",
                                  "Win32LastModifiedTime"])
def test_win32_time_value_is_kept(name, file_url, alice):
    assert_status(proppatch(alice, file_url, WIN32_PROPPATCH), 207)
    assert prop_text(alice, file_url, "{%s}%s" % (MS_NS, name)) == \
        WIN32_VALUES[name]


def test_win32_file_attributes_value_is_kept(file_url, alice):
    # attrib +h over WebDAV: Explorer PROPPATCHes FILE_ATTRIBUTE_HIDDEN |
    # ARCHIVE; a 200 for the set means the value reads back.
    body = proppatch_body("<Z:Win32FileAttributes>00000022"
                          "</Z:Win32FileAttributes>", nsdecl=ZDECL)
    r = proppatch(alice, file_url, body)
    assert_status(r, 207)
    assert "200" in r.text
    assert prop_text(alice, file_url, "{%s}Win32FileAttributes" % MS_NS) == \
        "00000022"


def test_win32_file_attributes_defaults_file_and_dir(coll, file_url, alice):
    clark = "{%s}Win32FileAttributes" % MS_NS
    assert prop_text(alice, file_url, clark) == "00000020"
    assert prop_text(alice, coll, clark) == "00000010"


def test_getlastmodified_follows_win32_last_modified_time(file_url, alice):
    assert_status(proppatch(alice, file_url, WIN32_PROPPATCH), 207)
    assert prop_text(alice, file_url, "getlastmodified") == \
        WIN32_VALUES["Win32LastModifiedTime"]
    r = dav(alice, "HEAD", file_url)
    assert r.headers["Last-Modified"] == WIN32_VALUES["Win32LastModifiedTime"]


def test_win32_proppatch_with_lock_token_is_207(file_url, alice):
    token = take_lock(alice, file_url, depth=None, timeout="Second-3600")
    r = proppatch(alice, file_url, WIN32_PROPPATCH, headers=if_token(token))
    assert_status(r, 207)
    assert all(st == 200 for st, _ in
               parse_multistatus(r.content)[0].props.values()), r.text


@pytest.mark.parametrize("which", ["file", "collection"])
def test_getlastmodified_is_rfc1123(which, coll, file_url, alice):
    url = file_url if which == "file" else coll
    assert RFC1123_RE.match(prop_text(alice, url, "getlastmodified"))


@pytest.mark.parametrize("which", ["file", "collection"])
def test_creationdate_is_rfc3339(which, coll, file_url, alice):
    url = file_url if which == "file" else coll
    assert RFC3339_RE.match(prop_text(alice, url, "creationdate"))


@pytest.fixture(scope="module")
def big_folder(server, seed):
    """URL of a collection of BIG_FOLDER_FILES small files (made once,
    with 8 uploaders in parallel)."""
    auth = ("alice", "alice-pw")
    url = server.space_url("s1") + "big-" + uuid.uuid4().hex[:8] + "/"
    with requests.Session() as s:
        s.trust_env = False
        s.auth = auth
        assert_status(mkcol(s, url), 201)
    local = threading.local()

    def upload(i):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.trust_env = False
            s.auth = auth
        name = "doc-%04d.txt" % i
        r = put(s, join(url, name), b"file %d\n" % i)
        return r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(upload, range(BIG_FOLDER_FILES)))
    assert codes == [201] * BIG_FOLDER_FILES
    return url


def test_explorer_listing_of_2000_files_is_under_1mb(big_folder, alice):
    # The Mini-Redirector enumerates a folder with an empty-bodied (allprop)
    # Depth 1 PROPFIND carrying "translate: f" [S7][S24].
    r = propfind(alice, big_folder, "1", body=b"",
                 headers={"translate": "f",
                          "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(r, 207)
    assert len(r.content) < EXPLORER_LISTING_LIMIT, len(r.content)
    responses = parse_multistatus(r.content)
    assert len(responses) == BIG_FOLDER_FILES + 1
    # Compact, not truncated: every file still has what Explorer shows.
    tree = etree.fromstring(r.content)
    ns = {"D": "DAV:"}
    for resp in tree.findall("D:response", ns)[1:]:
        for prop in ("getcontentlength", "getlastmodified", "getetag",
                     "creationdate", "resourcetype"):
            assert resp.find(".//D:prop/D:%s" % prop, ns) is not None, prop


def test_stored_properties_do_not_declare_again_what_the_answer_declares(
        file_url, alice):
    """Explorer sets four Win32 properties on every file it copies in: in
    a listing each is written without a declaration of the namespace the
    answer's root declares already (about 150 bytes a file of 900, which
    bring a folder of 1,000 such files under Windows' 1,000,000-byte
    limit; see docs/clients.md)."""
    assert_status(proppatch(alice, file_url, WIN32_PROPPATCH), 207)
    r = propfind(alice, file_url.rsplit("/", 1)[0] + "/", "1", body=b"",
                 headers={"translate": "f",
                          "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(r, 207)
    assert b'xmlns:Z="urn:schemas-microsoft-com:"' in r.content
    assert r.content.count(b"urn:schemas-microsoft-com:") == 1, r.text
    # The values are still read back in their namespace.
    tree = etree.fromstring(r.content)
    got = tree.find(".//{urn:schemas-microsoft-com:}Win32FileAttributes")
    assert got is not None and got.text == "00000020"


def test_explorer_listing_of_1000_files_it_copied_in_is_under_1mb(
        server, seed):
    """docs/clients.md: a folder of 1,000 files copied in by Explorer (each
    with the four Win32 properties it sets, and names as people write
    them) lists under Windows' 1,000,000-byte limit."""
    url = server.space_url("s1") + "copied-" + uuid.uuid4().hex[:8] + "/"
    local = threading.local()

    def session():
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.trust_env = False
            s.auth = ("alice", "alice-pw")
        return s

    assert_status(mkcol(session(), url), 201)

    def copy_in(i):
        s = session()
        f = join(url, "Compte rendu réunion n°%04d.docx" % i)
        codes = [put(s, f, b"PK report %d\n" % i).status_code,
                 proppatch(s, f, WIN32_PROPPATCH).status_code]
        return codes

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(copy_in, range(1000)))
    assert all(c == [201, 207] for c in codes), codes[:3]
    r = propfind(session(), url.rstrip("/"), "1", body=b"",
                 headers={"translate": "f",
                          "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(r, 207)
    assert len(parse_multistatus(r.content)) == 1001
    assert len(r.content) < EXPLORER_LISTING_LIMIT, len(r.content)


def test_explorer_named_property_listing_is_compact(big_folder, alice):
    # With the Win32 properties named explicitly each member also carries a
    # 404 propstat; namespaces are declared once, so a member stays small.
    r = propfind(alice, big_folder, "1", body=EXPLORER_PROPFIND,
                 headers={"translate": "f",
                          "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(r, 207)
    per_member = len(r.content) / (BIG_FOLDER_FILES + 1)
    assert per_member < 720, per_member
    assert b'xmlns:Z="urn:schemas-microsoft-com:"' in r.content[:1000]
    assert r.content.count(b"xmlns:") < 12


@pytest.mark.parametrize("where", ["root", "dav", "collection",
                                   "collection-no-slash"])
def test_anonymous_options_says_dav_2_and_ms_author_via(where, server, coll,
                                                        anon):
    url = {"root": server.url + "/", "dav": server.url + "/dav/",
           "collection": coll, "collection-no-slash": coll.rstrip("/")}[where]
    r = dav(anon, "OPTIONS", url,
            headers={"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"})
    assert_status(r, 200)
    classes = [c.strip() for c in r.headers.get("DAV", "").split(",")]
    assert "1" in classes and "2" in classes, r.headers
    assert r.headers.get("MS-Author-Via") == "DAV"


def test_get_with_translate_f_returns_bytes(file_url, alice):
    r = dav(alice, "GET", file_url, headers={"translate": "f"})
    assert_status(r, 200)
    assert r.content == b"PK\x03\x04 not really a docx\n"


def test_office_zero_length_put_then_real_put_gives_two_revisions(
        coll, alice, cluster):
    url = join(coll, "Budget.xlsx")
    assert_status(put(alice, url, b""), 201)
    data = b"PK\x03\x04" + b"x" * 5000
    assert_status(put(alice, url, data), 204)
    assert dav(alice, "GET", url).content == data
    revs = revisions_of(cluster, db_path(url))
    assert [(num, size) for _, num, size, _, _, _ in revs] == \
        [(1, 0), (2, len(data))]


# -------------------------------------------------------------------- macOS

APPLE_NAMES = ["._report.docx", ".DS_Store"]


@pytest.fixture
def apple_files(coll, alice):
    for name in APPLE_NAMES + ["report.docx"]:
        assert_status(put(alice, join(coll, name), b"\x00\x05\x16\x07"), 201)
    return coll


def test_apple_files_listed_for_their_creator(apple_files, alice):
    assert listed_names(alice, apple_files) == \
        set(APPLE_NAMES + ["report.docx"])


def test_apple_files_of_another_user_hidden_in_propfind(apple_files,
                                                        session_for):
    assert listed_names(session_for("mgr"), apple_files) == {"report.docx"}


def test_apple_files_of_another_user_hidden_in_collection_get(apple_files,
                                                              session_for):
    r = dav(session_for("mgr"), "GET", apple_files)
    assert_status(r, 200)
    assert "report.docx" in r.text
    for name in APPLE_NAMES:
        assert name not in r.text, r.text


def test_apple_files_shown_in_collection_get_for_creator(apple_files, alice):
    r = dav(alice, "GET", apple_files)
    assert_status(r, 200)
    for name in APPLE_NAMES:
        assert name in r.text, r.text


# ------------------------------------------------------------------- rclone

def test_x_oc_mtime_sets_getlastmodified_and_is_accepted(coll, alice):
    url = join(coll, "photo.jpg")
    mtime = 1_600_000_000  # Sun, 13 Sep 2020 12:26:40 GMT
    r = put(alice, url, b"\xff\xd8\xff jpeg", headers={"X-OC-Mtime": str(mtime)})
    assert_status(r, 201)
    assert r.headers.get("X-OC-Mtime") == "accepted"
    assert prop_text(alice, url, "getlastmodified") == \
        formatdate(mtime, usegmt=True)


def test_x_oc_mtime_on_overwrite_is_accepted(coll, alice):
    url = join(coll, "photo.jpg")
    assert_status(put(alice, url, b"v1"), 201)
    mtime = 1_500_000_000
    r = put(alice, url, b"v2", headers={"X-OC-Mtime": "%d.5" % mtime})
    assert_status(r, 204)
    assert r.headers.get("X-OC-Mtime") == "accepted"
    lm = parsedate_to_datetime(dav(alice, "HEAD", url).headers["Last-Modified"])
    assert int(lm.timestamp()) == mtime


def test_future_mtime_is_never_later_than_date(coll, alice):
    """RFC 7232 §2.2.1: Last-Modified is never later than Date; a stored
    time in the future is sent as the Date (getlastmodified too, RFC 4918
    §15.7)."""
    url = join(coll, "future.txt")
    future = int(time.time()) + 10 * 86400
    r = put(alice, url, b"from the future",
            headers={"X-OC-Mtime": str(future)})
    assert_status(r, 201)
    for resp in (r, dav(alice, "GET", url), dav(alice, "HEAD", url)):
        date = parsedate_to_datetime(resp.headers["Date"])
        lm = parsedate_to_datetime(resp.headers["Last-Modified"])
        assert lm <= date, resp.headers
    before = time.time()
    got = parsedate_to_datetime(prop_text(alice, url, "getlastmodified"))
    assert got.timestamp() <= time.time() + 1
    assert got.timestamp() >= before - 5
    # Explorer's PROPPATCH likewise.
    body = proppatch_body("<Z:Win32LastModifiedTime>%s"
                          "</Z:Win32LastModifiedTime>"
                          % formatdate(future, usegmt=True), nsdecl=ZDECL)
    assert_status(proppatch(alice, url, body), 207)
    r = dav(alice, "HEAD", url)
    assert parsedate_to_datetime(r.headers["Last-Modified"]) <= \
        parsedate_to_datetime(r.headers["Date"])


def test_past_mtime_does_not_hide_a_new_content(coll, alice):
    """A client-chosen time older than the date a client cached the file
    at must not make If-Modified-Since answer 304 for a newer content."""
    url = join(coll, "older.txt")
    t1 = 1_600_000_000
    assert_status(put(alice, url, b"v1", headers={"X-OC-Mtime": str(t1)}),
                  201)
    seen = dav(alice, "GET", url).headers["Last-Modified"]
    assert seen == formatdate(t1, usegmt=True)
    # Dates after the content was stored do answer 304.
    later = formatdate(time.time() + 5, usegmt=True)
    assert_status(dav(alice, "GET", url, headers={"If-Modified-Since": later}),
                  304)
    # A new content, given a client time before what the client has seen.
    assert_status(put(alice, url, b"v2",
                      headers={"X-OC-Mtime": str(t1 - 86400)}), 204)
    assert prop_text(alice, url, "getlastmodified") == \
        formatdate(t1 - 86400, usegmt=True)
    r = dav(alice, "GET", url, headers={"If-Modified-Since": seen})
    assert_status(r, 200)
    assert r.content == b"v2"
    r = put(alice, url, b"v3", headers={"If-Unmodified-Since": seen})
    assert_status(r, 412)
    assert dav(alice, "GET", url).content == b"v2"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_the_last_modified_read_back_lets_an_unchanged_file_be_written(
        coll, alice, method):
    """RFC 9110 §13.1.4: If-Unmodified-Since with the Last-Modified the
    client read, nothing changed since, is true, even when that date is
    a modification time the client set long before the content was
    stored."""
    url = join(coll, "synced-%s.txt" % method.lower())
    assert_status(put(alice, url, b"v1", headers={"X-OC-Mtime": "1600000000"}),
                  201)
    seen = dav(alice, "HEAD", url).headers["Last-Modified"]
    assert seen == formatdate(1600000000, usegmt=True)
    r = dav(alice, method, url, data=b"v2" if method == "PUT" else None,
            headers={"If-Unmodified-Since": seen})
    assert_status(r, 204)


def test_x_oc_mtime_garbage_is_not_accepted(coll, alice):
    url = join(coll, "photo.jpg")
    r = put(alice, url, b"x", headers={"X-OC-Mtime": "yesterday"})
    assert_status(r, 201)
    assert r.headers.get("X-OC-Mtime") is None
    lm = parsedate_to_datetime(dav(alice, "HEAD", url).headers["Last-Modified"])
    assert abs(lm.timestamp() - time.time()) < 120


def test_put_without_x_oc_mtime_has_no_such_header(coll, alice):
    r = put(alice, join(coll, "a.txt"), b"x")
    assert_status(r, 201)
    assert "X-OC-Mtime" not in r.headers


# ----------------------------------------------------------- unknown props

# Cyberduck (redmine_dmsf #1133 [S62]): default DAV: namespace, custom SAR:.
CYBERDUCK_PROPFIND = b"""<propfind xmlns="DAV:">
   <prop>
       <creationdate/>
       <displayname/>
       <getcontentlength/>
       <getcontenttype/>
       <getetag/>
       <getlastmodified/>
       <resourcetype/>
       <s:lastmodified xmlns:s="SAR:"/>
       <s:lastmodified_server xmlns:s="SAR:"/>
   </prop>
</propfind>"""

# LibreOffice (owncloud/core #34394 [S57]).
LIBREOFFICE_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop>'
    b'<resourcetype xmlns="DAV:"/>'
    b'<IsReadOnly xmlns="http://ucb.openoffice.org/dav/props/"/>'
    b'<getcontenttype xmlns="DAV:"/><supportedlock xmlns="DAV:"/>'
    b'</prop></propfind>')


def test_cyberduck_sar_props_are_404_in_their_namespace(file_url, alice):
    r = propfind(alice, file_url, "0", body=CYBERDUCK_PROPFIND)
    assert_status(r, 207)
    props = parse_multistatus(r.content)[0].props
    assert props["{SAR:}lastmodified"][0] == 404
    assert props["{SAR:}lastmodified_server"][0] == 404
    assert props["{DAV:}getetag"][0] == 200


def test_cyberduck_depth_1_listing_parses(coll, file_url, alice):
    r = propfind(alice, coll, "1", body=CYBERDUCK_PROPFIND)
    assert_status(r, 207)
    by = ms_by_path(r.content)
    assert by[url_path(file_url)].props["{SAR:}lastmodified"][0] == 404


def test_cyberduck_sar_timestamp_proppatch_is_kept(file_url, alice):
    body = proppatch_body("<s:lastmodified>1600000000000</s:lastmodified>",
                          nsdecl='xmlns:s="SAR:"')
    r = proppatch(alice, file_url, body)
    assert_status(r, 207)
    assert prop_text(alice, file_url, "{SAR:}lastmodified") == "1600000000000"


def test_libreoffice_isreadonly_is_404_in_its_namespace(file_url, alice):
    r = propfind(alice, file_url, "0", body=LIBREOFFICE_PROPFIND)
    assert_status(r, 207)
    props = parse_multistatus(r.content)[0].props
    clark = "{http://ucb.openoffice.org/dav/props/}IsReadOnly"
    assert clark in props, r.text
    assert props[clark][0] == 404
    assert props["{DAV:}supportedlock"][0] == 200
    assert props["{DAV:}resourcetype"][0] == 200


# ------------------------------------------------- renames keep timestamps

def test_move_keeps_getlastmodified(coll, alice):
    # Renames (Explorer, Nautilus, rclone server-side move) are MOVEs; the
    # body does not change, so neither does getlastmodified (RFC 4918
    # §15.7: it reflects changes of the body only).
    src = join(coll, "photo.jpg")
    assert_status(put(alice, src, b"jpeg", headers={"X-OC-Mtime": "1600000000"}),
                  201)
    dst = join(coll, "renamed.jpg")
    assert_status(dav(alice, "MOVE", src, headers={"Destination": dst}), 201)
    assert prop_text(alice, dst, "getlastmodified") == \
        formatdate(1_600_000_000, usegmt=True)


def test_move_keeps_win32_properties(file_url, coll, alice):
    # RFC 4918 §9.9.1: dead properties move with the resource.
    assert_status(proppatch(alice, file_url, WIN32_PROPPATCH), 207)
    dst = join(coll, "renamed.docx")
    assert_status(dav(alice, "MOVE", file_url, headers={"Destination": dst}),
                  201)
    assert prop_text(alice, dst, "{%s}Win32CreationTime" % MS_NS) == \
        WIN32_VALUES["Win32CreationTime"]


def test_proppatch_of_dead_property_keeps_getlastmodified(coll, alice):
    # RFC 4918 §15.7: a property change SHOULD NOT change getlastmodified.
    url = join(coll, "a.txt")
    assert_status(put(alice, url, b"a", headers={"X-OC-Mtime": "1600000000"}),
                  201)
    body = proppatch_body("<s:lastmodified>x</s:lastmodified>",
                          nsdecl='xmlns:s="SAR:"')
    assert_status(proppatch(alice, url, body), 207)
    assert prop_text(alice, url, "getlastmodified") == \
        formatdate(1_600_000_000, usegmt=True)
