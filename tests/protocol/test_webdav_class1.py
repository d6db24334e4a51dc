"""WebDAV class 1 (RFC 4918): PROPFIND, PROPPATCH, MKCOL, PUT, DELETE,
COPY, MOVE, and the /dav/spaces/ listing."""

import unicodedata
import uuid

import pytest
from lxml import etree

from dav_helpers import (LIVE_PROPS, RFC1123_RE, RFC3339_RE, XML_HEADERS,
                         assert_status, count_resources_under, dav, db_path,
                         join, mkcol, ms_by_path, parse_multistatus, propfind,
                         propfind_one, proppatch_body, put, raw_path_of,
                         resource_row, sql_str, url_path)

ZNS = "http://example.com/ns/parvis-test"
ZDECL = 'xmlns:Z="%s"' % ZNS


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def file_url(coll, alice):
    url = join(coll, "doc.txt")
    r = put(alice, url, b"hello, props\n",
            headers={"Content-Type": "text/plain"})
    assert_status(r, 201)
    return url


def get_body(sess, url):
    r = dav(sess, "GET", url)
    assert_status(r, 200)
    return r.content


def exists(sess, url):
    r = dav(sess, "PROPFIND", url, headers={"Depth": "0"})
    assert r.status_code in (207, 404), (r.status_code, r.text[:500])
    return r.status_code == 207


def proppatch(sess, url, body):
    return dav(sess, "PROPPATCH", url, data=body, headers=XML_HEADERS)


def dead_prop_rows(cluster, path, name):
    return cluster.psql(
        "select p.value from props p join resources r on r.id = p.resource_id "
        "join spaces s on s.id = r.space_id where s.slug = 's1' "
        "and r.id = parvis_resolve(s.id, %s) and p.ns = %s and p.name = %s"
        % (sql_str(path), sql_str(ZNS), sql_str(name)))


# ----------------------------------------------------------------- PROPFIND

@pytest.mark.parametrize("prop", LIVE_PROPS)
def test_propfind_allprop_file_has_live_property(prop, alice, file_url):
    resp = propfind_one(alice, file_url, "allprop")
    assert "{DAV:}" + prop in resp.ok_props(), resp


@pytest.mark.parametrize("prop", LIVE_PROPS)
def test_propfind_propname_file_lists_live_property_without_value(prop, alice,
                                                                  file_url):
    resp = propfind_one(alice, file_url, "propname")
    el = resp.ok_props().get("{DAV:}" + prop)
    assert el is not None, resp
    assert len(el) == 0 and not (el.text or "").strip(), etree.tostring(el)


def test_propfind_prop_returns_exactly_the_requested_properties(alice,
                                                                file_url):
    resp = propfind_one(alice, file_url, "prop",
                        ["getcontentlength", "getetag"])
    assert set(resp.props) == {"{DAV:}getcontentlength", "{DAV:}getetag"}
    assert set(resp.ok_props()) == set(resp.props)


def test_propfind_prop_unknown_property_is_404_in_propstat(alice, file_url):
    resp = propfind_one(alice, file_url, "prop",
                        ["getetag", "{%s}nothere" % ZNS])
    assert resp.props["{%s}nothere" % ZNS][0] == 404
    assert resp.props["{DAV:}getetag"][0] == 200


def test_propfind_empty_body_is_allprop(alice, file_url):
    r = dav(alice, "PROPFIND", file_url, headers={"Depth": "0"})
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    for prop in LIVE_PROPS:
        assert "{DAV:}" + prop in resp.ok_props(), (prop, resp)


def test_propfind_getcontentlength_is_size(alice, file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}getcontentlength"]
    assert el.text.strip() == str(len(b"hello, props\n"))


def test_propfind_getetag_equals_get_etag(alice, file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}getetag"]
    assert el.text.strip() == dav(alice, "GET", file_url).headers["ETag"]


def test_propfind_getcontenttype_equals_get_content_type(alice, file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}getcontenttype"]
    got = dav(alice, "GET", file_url).headers["Content-Type"]
    assert el.text.strip().split(";")[0] == got.split(";")[0].strip()
    assert got.startswith("text/plain"), got


def test_propfind_getlastmodified_is_rfc1123_and_equals_header(alice,
                                                               file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}getlastmodified"]
    assert RFC1123_RE.match(el.text.strip()), el.text
    assert el.text.strip() == dav(alice, "GET", file_url).headers[
        "Last-Modified"]


def test_propfind_creationdate_is_rfc3339(alice, file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}creationdate"]
    assert RFC3339_RE.match(el.text.strip()), el.text


def test_propfind_file_resourcetype_is_empty(alice, file_url):
    el = propfind_one(alice, file_url).ok_props()["{DAV:}resourcetype"]
    assert len(el) == 0, etree.tostring(el)


def test_propfind_collection_resourcetype_is_collection(alice, coll):
    resp = propfind_one(alice, coll)
    assert resp.is_collection(), resp


def test_propfind_depth0_collection_returns_only_itself(alice, coll,
                                                        file_url):
    r = propfind(alice, coll, "0")
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert [x.path.rstrip("/") for x in resps] == [url_path(coll).rstrip("/")]


def test_propfind_depth1_lists_direct_members_only(alice, coll, file_url):
    sub = join(coll, "sub", collection=True)
    assert_status(mkcol(alice, sub), 201)
    assert_status(put(alice, join(sub, "deep.txt"), b"deep"), 201)
    r = propfind(alice, coll, "1")
    assert_status(r, 207)
    paths = set(ms_by_path(r.content))
    base = url_path(coll).rstrip("/")
    assert paths == {base, base + "/doc.txt", base + "/sub"}, paths


def test_propfind_depth_infinity_is_403_propfind_finite_depth(alice, coll):
    r = propfind(alice, coll, "infinity")
    assert_status(r, 403)
    root = etree.fromstring(r.content)
    assert root.tag == "{DAV:}error", r.text
    assert root.find("{DAV:}propfind-finite-depth") is not None, r.text


def test_propfind_missing_resource_is_404(alice, coll):
    assert_status(propfind(alice, join(coll, "missing.txt"), "0"), 404)


def test_propfind_nfd_name_resolves_to_nfc_resource(cluster, alice, coll):
    nfc = unicodedata.normalize("NFC", "caf\u00e9.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert_status(put(alice, join(coll, nfd), b"accent"), 201)
    assert get_body(alice, join(coll, nfc)) == b"accent"
    assert resource_row(cluster, db_path(join(coll, nfc))) is not None
    assert resource_row(cluster, db_path(join(coll, nfd))) is None


# ---------------------------------------------------------------- PROPPATCH

def test_proppatch_set_dead_properties_returns_200_each(alice, file_url):
    r = proppatch(alice, file_url, proppatch_body(
        "<Z:color>blue</Z:color><Z:size>XL</Z:size>", nsdecl=ZDECL))
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert resp.props["{%s}color" % ZNS][0] == 200
    assert resp.props["{%s}size" % ZNS][0] == 200


def test_proppatch_set_is_seen_by_later_propfind(alice, session_for, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    fresh = session_for("alice")
    resp = propfind_one(fresh, file_url, "prop", ["{%s}color" % ZNS])
    assert resp.ok_props()["{%s}color" % ZNS].text == "blue"


def test_proppatch_set_is_stored_in_database(cluster, alice, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    rows = dead_prop_rows(cluster, db_path(file_url), "color")
    assert len(rows) == 1 and "blue" in rows[0][0], rows


def test_proppatch_set_is_seen_by_another_server_process(alice, new_server,
                                                         session_for,
                                                         file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:color>green</Z:color>", nsdecl=ZDECL)), 207)
    other = new_server()
    url = other.space_url("s1") + file_url.split("/dav/spaces/s1/", 1)[1]
    resp = propfind_one(session_for("alice"), url, "prop",
                        ["{%s}color" % ZNS])
    assert resp.ok_props()["{%s}color" % ZNS].text == "green"


def test_proppatch_dead_property_appears_in_allprop(alice, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    resp = propfind_one(alice, file_url, "allprop")
    assert resp.ok_props()["{%s}color" % ZNS].text == "blue"


def test_proppatch_remove_deletes_property(cluster, alice, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    r = proppatch(alice, file_url, proppatch_body(
        remove_xml="<Z:color/>", nsdecl=ZDECL))
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert resp.props["{%s}color" % ZNS][0] == 200
    after = propfind_one(alice, file_url, "prop", ["{%s}color" % ZNS])
    assert after.props["{%s}color" % ZNS][0] == 404
    assert dead_prop_rows(cluster, db_path(file_url), "color") == []


def test_proppatch_set_replaces_previous_value(alice, file_url):
    for value in ("one", "two"):
        assert_status(proppatch(alice, file_url, proppatch_body(
            "<Z:v>%s</Z:v>" % value, nsdecl=ZDECL)), 207)
    resp = propfind_one(alice, file_url, "prop", ["{%s}v" % ZNS])
    assert resp.ok_props()["{%s}v" % ZNS].text == "two"


def test_proppatch_xml_value_keeps_child_elements(alice, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:author><Z:name>Jane</Z:name><Z:org>EPCI</Z:org></Z:author>",
        nsdecl=ZDECL)), 207)
    el = propfind_one(alice, file_url, "prop",
                      ["{%s}author" % ZNS]).ok_props()["{%s}author" % ZNS]
    assert el.findtext("{%s}name" % ZNS) == "Jane", etree.tostring(el)
    assert el.findtext("{%s}org" % ZNS) == "EPCI", etree.tostring(el)


@pytest.mark.parametrize("amp", ["&amp;", "&#38;", "&#x26;"])
def test_proppatch_namespace_with_ampersand_round_trips(amp, cluster, alice,
                                                        file_url):
    # However the body writes its '&', the namespace is "urn:...a&b" (and
    # not libxml2's internal "a&#38;b"): stored so, and answered so by
    # PROPFIND whether asked by name, allprop or propname.
    ns = "urn:parvis-test:a&b"
    clark = "{%s}tag" % ns
    r = proppatch(alice, file_url, proppatch_body(
        "<Q:tag>v</Q:tag>", nsdecl='xmlns:Q="urn:parvis-test:a%sb"' % amp))
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert resp.props[clark][0] == 200, resp
    rows = cluster.psql(
        "select p.ns from props p join resources r on r.id = p.resource_id "
        "join spaces s on s.id = r.space_id where s.slug = 's1' "
        "and r.id = parvis_resolve(s.id, %s) and p.name = 'tag'"
        % sql_str(db_path(file_url)))
    assert rows == [(ns,)], rows

    # propfind_body writes the namespace as is: escape it for XML.
    by_name = propfind_one(alice, file_url, "prop",
                           ["{%s}tag" % ns.replace("&", "&amp;")])
    assert by_name.ok_props()[clark].text == "v"
    assert propfind_one(alice, file_url, "allprop").ok_props()[clark].text \
        == "v"
    assert clark in propfind_one(alice, file_url, "propname").ok_props()


def test_proppatch_windows_win32_properties_accepted(alice, file_url):
    body = proppatch_body(
        "<Z:Win32CreationTime>Mon, 01 Jan 2024 10:00:00 GMT"
        "</Z:Win32CreationTime>"
        "<Z:Win32LastAccessTime>Mon, 01 Jan 2024 10:00:00 GMT"
        "</Z:Win32LastAccessTime>"
        "<Z:Win32LastModifiedTime>Mon, 01 Jan 2024 10:00:00 GMT"
        "</Z:Win32LastModifiedTime>"
        "<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>",
        nsdecl='xmlns:Z="urn:schemas-microsoft-com:"')
    r = proppatch(alice, file_url, body)
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert len(resp.props) == 4
    assert all(st == 200 for st, _ in resp.props.values()), resp


def test_proppatch_protected_property_fails_whole_request(cluster, alice,
                                                          file_url):
    r = proppatch(alice, file_url, proppatch_body(
        '<Z:color>red</Z:color><D:getetag>"forged"</D:getetag>',
        nsdecl=ZDECL))
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert resp.props["{DAV:}getetag"][0] == 403, resp
    assert resp.props["{%s}color" % ZNS][0] == 424, resp
    after = propfind_one(alice, file_url, "prop", ["{%s}color" % ZNS])
    assert after.props["{%s}color" % ZNS][0] == 404
    assert dead_prop_rows(cluster, db_path(file_url), "color") == []


def test_proppatch_failed_request_does_not_apply_remove(alice, file_url):
    assert_status(proppatch(alice, file_url, proppatch_body(
        "<Z:keep>yes</Z:keep>", nsdecl=ZDECL)), 207)
    r = proppatch(alice, file_url, proppatch_body(
        "<D:getcontentlength>1</D:getcontentlength>",
        remove_xml="<Z:keep/>", nsdecl=ZDECL))
    assert_status(r, 207)
    (resp,) = parse_multistatus(r.content)
    assert resp.props["{DAV:}getcontentlength"][0] == 403, resp
    assert resp.props["{%s}keep" % ZNS][0] == 424, resp
    after = propfind_one(alice, file_url, "prop", ["{%s}keep" % ZNS])
    assert after.ok_props()["{%s}keep" % ZNS].text == "yes"


def test_proppatch_missing_resource_is_404(alice, coll):
    r = proppatch(alice, join(coll, "ghost.txt"), proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL))
    assert_status(r, 404)


# -------------------------------------------------------------------- MKCOL

def test_mkcol_creates_collection_201(cluster, alice, coll):
    url = join(coll, "newdir", collection=True)
    assert_status(mkcol(alice, url), 201)
    assert propfind_one(alice, url).is_collection()
    row = resource_row(cluster, db_path(url))
    assert row is not None and int(row[1]) == 0, row


def test_mkcol_on_existing_collection_is_405(alice, coll):
    url = join(coll, "twice", collection=True)
    assert_status(mkcol(alice, url), 201)
    assert_status(mkcol(alice, url), 405)


def test_mkcol_on_existing_file_is_405_and_keeps_file(alice, file_url):
    assert_status(mkcol(alice, file_url), 405)
    assert get_body(alice, file_url) == b"hello, props\n"


def test_mkcol_with_missing_parent_is_409(alice, coll):
    url = join(coll, "no-such-parent", "child", collection=True)
    assert_status(mkcol(alice, url), 409)
    assert not exists(alice, join(coll, "no-such-parent", collection=True))


def test_mkcol_with_body_is_415_and_creates_nothing(alice, coll):
    url = join(coll, "withbody", collection=True)
    r = mkcol(alice, url, data=b"this is not understood",
              headers={"Content-Type": "text/plain"})
    assert_status(r, 415)
    assert not exists(alice, url)


# ---------------------------------------------------------------------- PUT

def test_put_into_missing_parent_is_409(alice, coll):
    url = join(coll, "nowhere", "file.txt")
    assert_status(put(alice, url, b"orphan"), 409)
    assert not exists(alice, join(coll, "nowhere", collection=True))


# ------------------------------------------------------------------- DELETE

def test_delete_file_is_204_then_404(alice, file_url):
    assert_status(dav(alice, "DELETE", file_url), 204)
    assert_status(dav(alice, "GET", file_url), 404)


def test_delete_missing_is_404(alice, coll):
    assert_status(dav(alice, "DELETE", join(coll, "missing.txt")), 404)


def test_delete_collection_removes_members(cluster, alice, coll):
    sub = join(coll, "tree", collection=True)
    deeper = join(sub, "deeper", collection=True)
    assert_status(mkcol(alice, sub), 201)
    assert_status(mkcol(alice, deeper), 201)
    assert_status(put(alice, join(sub, "a.txt"), b"a"), 201)
    assert_status(put(alice, join(deeper, "b.txt"), b"b"), 201)
    assert count_resources_under(cluster, db_path(sub)) == 4
    assert_status(dav(alice, "DELETE", sub), 204)
    for url in (sub, deeper, join(sub, "a.txt"), join(deeper, "b.txt")):
        assert_status(dav(alice, "GET", url), 404)
    assert count_resources_under(cluster, db_path(sub)) == 0
    assert exists(alice, coll)


# -------------------------------------------------------------- COPY / MOVE

def copymove(sess, method, src, dst, overwrite=None, depth=None):
    headers = {"Destination": dst}
    if overwrite is not None:
        headers["Overwrite"] = overwrite
    if depth is not None:
        headers["Depth"] = depth
    return dav(sess, method, src, headers=headers)


@pytest.fixture
def two_files(alice, coll):
    a, b = join(coll, "a.txt"), join(coll, "b.txt")
    assert_status(put(alice, a, b"content A"), 201)
    assert_status(put(alice, b, b"content B"), 201)
    return a, b


@pytest.fixture
def tree(alice, coll):
    """coll/src/ with x.txt and sub/y.txt."""
    src = join(coll, "src", collection=True)
    assert_status(mkcol(alice, src), 201)
    assert_status(put(alice, join(src, "x.txt"), b"x"), 201)
    assert_status(mkcol(alice, join(src, "sub", collection=True)), 201)
    assert_status(put(alice, join(src, "sub", "y.txt"), b"y"), 201)
    return src


def test_copy_file_to_new_is_201_and_keeps_source(alice, two_files, coll):
    a, _ = two_files
    dst = join(coll, "c.txt")
    assert_status(copymove(alice, "COPY", a, dst), 201)
    assert get_body(alice, dst) == b"content A"
    assert get_body(alice, a) == b"content A"


def test_copy_file_overwrite_t_on_existing_is_204(alice, two_files):
    a, b = two_files
    assert_status(copymove(alice, "COPY", a, b, "T"), 204)
    assert get_body(alice, b) == b"content A"


def test_copy_file_without_overwrite_header_overwrites(alice, two_files):
    a, b = two_files
    assert_status(copymove(alice, "COPY", a, b), 204)
    assert get_body(alice, b) == b"content A"


def test_copy_file_overwrite_f_on_existing_is_412(alice, two_files):
    a, b = two_files
    assert_status(copymove(alice, "COPY", a, b, "F"), 412)
    assert get_body(alice, b) == b"content B"


def test_copy_file_overwrite_f_on_new_is_201(alice, two_files, coll):
    a, _ = two_files
    dst = join(coll, "fresh.txt")
    assert_status(copymove(alice, "COPY", a, dst, "F"), 201)
    assert get_body(alice, dst) == b"content A"


def test_copy_keeps_dead_properties(alice, two_files, coll):
    a, _ = two_files
    assert_status(proppatch(alice, a, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    dst = join(coll, "withprops.txt")
    assert_status(copymove(alice, "COPY", a, dst), 201)
    resp = propfind_one(alice, dst, "prop", ["{%s}color" % ZNS])
    assert resp.ok_props()["{%s}color" % ZNS].text == "blue"


def test_copy_collection_copies_members_recursively(alice, tree, coll):
    dst = join(coll, "copy", collection=True)
    assert_status(copymove(alice, "COPY", tree, dst), 201)
    assert get_body(alice, join(dst, "x.txt")) == b"x"
    assert get_body(alice, join(dst, "sub", "y.txt")) == b"y"
    assert get_body(alice, join(tree, "sub", "y.txt")) == b"y"


def test_copy_collection_depth0_copies_no_members(alice, tree, coll):
    dst = join(coll, "shallow", collection=True)
    assert_status(copymove(alice, "COPY", tree, dst, depth="0"), 201)
    r = propfind(alice, dst, "1")
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 1 and resps[0].is_collection(), resps


def test_copy_onto_itself_is_403(alice, two_files):
    a, _ = two_files
    assert_status(copymove(alice, "COPY", a, a), 403)
    assert get_body(alice, a) == b"content A"


def test_copy_to_missing_parent_is_409(alice, two_files, coll):
    a, _ = two_files
    assert_status(copymove(alice, "COPY", a,
                           join(coll, "nodir", "a.txt")), 409)


def test_move_file_to_new_is_201_and_removes_source(alice, two_files, coll):
    a, _ = two_files
    dst = join(coll, "moved.txt")
    assert_status(copymove(alice, "MOVE", a, dst), 201)
    assert get_body(alice, dst) == b"content A"
    assert_status(dav(alice, "GET", a), 404)


def test_move_file_overwrite_t_on_existing_is_204(alice, two_files):
    a, b = two_files
    assert_status(copymove(alice, "MOVE", a, b, "T"), 204)
    assert get_body(alice, b) == b"content A"
    assert_status(dav(alice, "GET", a), 404)


def test_move_file_overwrite_f_on_existing_is_412(alice, two_files):
    a, b = two_files
    assert_status(copymove(alice, "MOVE", a, b, "F"), 412)
    assert get_body(alice, a) == b"content A"
    assert get_body(alice, b) == b"content B"


def test_move_keeps_dead_properties(alice, two_files, coll):
    a, _ = two_files
    assert_status(proppatch(alice, a, proppatch_body(
        "<Z:color>blue</Z:color>", nsdecl=ZDECL)), 207)
    dst = join(coll, "moved-props.txt")
    assert_status(copymove(alice, "MOVE", a, dst), 201)
    resp = propfind_one(alice, dst, "prop", ["{%s}color" % ZNS])
    assert resp.ok_props()["{%s}color" % ZNS].text == "blue"


def test_move_keeps_revision_history(cluster, alice, coll):
    src = join(coll, "hist.txt")
    assert_status(put(alice, src, b"v1"), 201)
    assert_status(put(alice, src, b"v2"), 200, 204)
    dst = join(coll, "hist-moved.txt")
    assert_status(copymove(alice, "MOVE", src, dst), 201)
    rows = cluster.psql(
        "select count(*) from revisions v join resources r "
        "on r.id = v.resource_id join spaces s on s.id = r.space_id "
        "where s.slug = 's1' and r.id = parvis_resolve(s.id, %s)"
        % sql_str(db_path(dst)))
    assert rows[0][0] == "2", rows


def test_move_collection_moves_members(cluster, alice, tree, coll):
    dst = join(coll, "moved", collection=True)
    assert_status(copymove(alice, "MOVE", tree, dst), 201)
    assert get_body(alice, join(dst, "sub", "y.txt")) == b"y"
    assert_status(dav(alice, "GET", join(tree, "x.txt")), 404)
    assert count_resources_under(cluster, db_path(tree)) == 0
    assert count_resources_under(cluster, db_path(dst)) == 4


def test_move_collection_overwrite_replaces_destination_members(alice, tree,
                                                                coll):
    dst = join(coll, "target", collection=True)
    assert_status(mkcol(alice, dst), 201)
    assert_status(put(alice, join(dst, "old.txt"), b"old"), 201)
    assert_status(copymove(alice, "MOVE", tree, dst, "T"), 204)
    assert_status(dav(alice, "GET", join(dst, "old.txt")), 404)
    assert get_body(alice, join(dst, "x.txt")) == b"x"


def test_move_onto_itself_is_403(alice, two_files):
    a, _ = two_files
    assert_status(copymove(alice, "MOVE", a, a), 403)
    assert get_body(alice, a) == b"content A"


def test_move_collection_into_own_descendant_fails(alice, tree):
    dst = join(tree, "sub", "inside", collection=True)
    r = copymove(alice, "MOVE", tree, dst)
    assert 400 <= r.status_code < 500, r.status_code
    assert get_body(alice, join(tree, "x.txt")) == b"x"


def test_move_to_path_absolute_destination(alice, two_files, coll):
    a, _ = two_files
    dst = join(coll, "pathonly.txt")
    assert_status(copymove(alice, "MOVE", a, raw_path_of(dst)), 201)
    assert get_body(alice, dst) == b"content A"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_destination_on_other_host_is_refused(method, cluster, alice,
                                              two_files, coll):
    a, _ = two_files
    rel = raw_path_of(join(coll, "elsewhere.txt"))
    r = copymove(alice, method, a, "http://other.example.invalid" + rel)
    # RFC 4918 §9.8.5/§9.9.4: 502 when the destination is another server.
    assert r.status_code in (502, 400, 403), r.status_code
    assert resource_row(cluster, db_path(join(coll, "elsewhere.txt"))) is None
    assert get_body(alice, a) == b"content A"


# --------------------------------------------------------- /dav/spaces/

def spaces_listing(server, sess):
    r = propfind(sess, server.url.rstrip("/") + "/dav/spaces/", "1")
    assert_status(r, 207)
    return set(ms_by_path(r.content))


@pytest.mark.parametrize("user,sees,hidden", [("alice", "s1", "s2"),
                                              ("carol", "s2", "s1")])
def test_spaces_listing_shows_only_member_spaces(user, sees, hidden, server,
                                                 seed, session_for):
    paths = spaces_listing(server, session_for(user))
    assert "/dav/spaces/" + sees in paths, paths
    assert "/dav/spaces/" + hidden not in paths, paths


def test_spaces_listing_members_are_collections(server, seed, session_for):
    r = propfind(session_for("alice"),
                 server.url.rstrip("/") + "/dav/spaces/", "1")
    assert_status(r, 207)
    for resp in parse_multistatus(r.content):
        assert resp.is_collection(), resp
        assert resp.href.endswith("/"), resp.href


# ------------------------------------------------------- across spaces

@pytest.fixture(scope="module")
def dual_user(ctl, seed):
    """A user who is editor of both s1 and s2 (not part of the seed)."""
    name = "dual%s" % uuid.uuid4().hex[:8]
    ctl("user", "add", name, "--password-stdin", input=name + "-pw\n")
    ctl("member", "add", "s1", name, "--role", "editor")
    ctl("member", "add", "s2", name, "--role", "editor")
    return name


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_destination_in_other_writable_space(method, cluster, server,
                                             session_for, dual_user, coll):
    sess = session_for(dual_user)
    src = join(coll, "to-s2.txt")
    assert_status(put(sess, src, b"crossing spaces"), 201)
    name = "from-s1-%s.txt" % uuid.uuid4().hex[:8]
    dst = server.space_url("s2") + name
    r = copymove(sess, method, src, dst)
    # Either supported (201, content there) or refused as another
    # namespace (502, RFC 4918 §9.8.5), never half done.
    assert r.status_code in (201, 502), (r.status_code, r.text[:500])
    if r.status_code == 201:
        assert get_body(sess, dst) == b"crossing spaces"
        assert resource_row(cluster, "/" + name, slug="s2") is not None
        assert exists(sess, src) == (method == "COPY")
    else:
        assert resource_row(cluster, "/" + name, slug="s2") is None
        assert get_body(sess, src) == b"crossing spaces"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_destination_in_space_of_non_member_creates_nothing(method, cluster,
                                                            server, alice,
                                                            two_files):
    a, _ = two_files
    name = "smuggled-%s.txt" % uuid.uuid4().hex[:8]
    r = copymove(alice, method, a, server.space_url("s2") + name)
    assert r.status_code in (403, 404, 409, 502), r.status_code
    assert resource_row(cluster, "/" + name, slug="s2") is None
    assert get_body(alice, a) == b"content A"


# ------------------------------------------------- RFC 4918 details

ZNS_R = "http://example.com/ns/review"


def _pp(sess, url, body):
    return dav(sess, "PROPPATCH", url, data=body, headers=XML_HEADERS)


def test_dead_property_keeps_the_xml_lang_in_scope(alice, coll):
    """RFC 4918 §4.3: xml:lang set on DAV:prop goes with the value."""
    url = join(coll, "lang.txt")
    assert_status(put(alice, url, b"x"), 201)
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate '
            'xmlns:D="DAV:" xmlns:Z="%s"><D:set><D:prop xml:lang="fr">'
            '<Z:title>Bonjour</Z:title></D:prop></D:set></D:propertyupdate>'
            % ZNS_R).encode()
    assert_status(_pp(alice, url, body), 207)
    el = propfind_one(alice, url, "prop", ["{%s}title" % ZNS_R]) \
        .ok_props()["{%s}title" % ZNS_R]
    assert el.xpath("ancestor-or-self::*[@xml:lang][1]/@xml:lang") == ["fr"], \
        etree.tostring(el)


def test_allprop_gives_dead_properties_known_by_name(alice, coll):
    """RFC 4918 §9.1: allprop gives every dead property, the Win32 ones
    Windows stores among them."""
    url = join(coll, "w.txt")
    assert_status(put(alice, url, b"x"), 201)
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate '
            'xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
            '<Z:Win32FileAttributes>00000001</Z:Win32FileAttributes>'
            '<Z:Win32CreationTime>Tue, 01 Apr 2025 10:00:00 GMT'
            '</Z:Win32CreationTime></D:prop></D:set></D:propertyupdate>').encode()
    assert_status(_pp(alice, url, body), 207)
    ok = propfind_one(alice, url, "allprop").ok_props()
    ms = "{urn:schemas-microsoft-com:}"
    assert ok[ms + "Win32FileAttributes"].text == "00000001", sorted(ok)
    # Once, even when also named in DAV:include.
    r = dav(alice, "PROPFIND", url, headers=dict(XML_HEADERS, Depth="0"),
            data=('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" '
                  'xmlns:Z="urn:schemas-microsoft-com:"><D:allprop/><D:include>'
                  '<Z:Win32FileAttributes/></D:include></D:propfind>').encode())
    assert r.content.count(b"Win32FileAttributes>") == 2, r.text  # one element
    assert r.content.count(b"</Z:Win32FileAttributes>") == 1, r.text


def test_propfind_of_a_file_without_depth_is_depth_0(alice, coll):
    """RFC 4918 §9.1: propfind-finite-depth is for collections; on a file,
    infinity (the default) is Depth 0."""
    url = join(coll, "nodepth.txt")
    assert_status(put(alice, url, b"x"), 201)
    r = propfind(alice, url, depth=None)
    assert_status(r, 207)
    assert len(parse_multistatus(r.content)) == 1
    r = propfind(alice, url, depth="infinity")
    assert_status(r, 207)
    r = propfind(alice, coll, depth="infinity")
    assert_status(r, 403)


def test_options_says_access_control(alice, coll):
    """RFC 3744 §7.2: the ACL method is there, and so is the class."""
    r = dav(alice, "OPTIONS", coll)
    assert_status(r, 200)
    assert "ACL" in r.headers["Allow"]
    assert "access-control" in [c.strip() for c in r.headers["DAV"].split(",")]


def test_copy_depth_0_of_a_collection_counts_it_alone(server, seed,
                                                      session_for, ctl):
    """RFC 4918 §9.8.3 with RFC 4331 §6: a Depth 0 copy makes one
    collection; its source's members are not charged."""
    carol = session_for("carol")
    base = server.space_url("s2") + "q0-%s/" % uuid.uuid4().hex[:8]
    assert_status(mkcol(carol, base), 201)
    src = base + "big/"
    assert_status(mkcol(carol, src), 201)
    assert_status(put(carol, src + "blob.bin", b"x" * 200000), 201)
    r = propfind(carol, base, "0", "prop", ["quota-used-bytes"])
    used = int(parse_multistatus(r.content)[0].ok_props()
               ["{DAV:}quota-used-bytes"].text)
    ctl("space", "quota", "s2", str(used + 1000))
    try:
        r = dav(carol, "COPY", src, headers={"Destination": base + "shallow/",
                                             "Depth": "0"})
        assert_status(r, 201)
        r = dav(carol, "COPY", src, headers={"Destination": base + "deep/",
                                             "Depth": "infinity"})
        assert_status(r, 507)
    finally:
        ctl("space", "quota", "s2", "none")
