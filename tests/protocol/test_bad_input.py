"""Bad input gets a clean 4xx/5xx, and afterwards the server still serves
and the data is unchanged.  Paths are sent over a raw socket so that no
client library normalises them."""

import os
import time

import pytest

from dav_helpers import (XML_HEADERS, assert_status, basic_auth, dav,
                         db_path, join, parse_multistatus, propfind, put,
                         raw_path_of, raw_request, resource_row,
                         revisions_of, sql_str, url_path)

SENTINEL = b"sentinel content that must survive\n"
ZDECL = 'xmlns:Z="http://example.com/ns/parvis-test"'


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def sentinel(alice, coll):
    url = join(coll, "sentinel.txt")
    assert_status(put(alice, url, SENTINEL), 201)
    return url


@pytest.fixture
def still_serving(server, alice, sentinel, cluster):
    """Call after the bad request: the server answers, the sentinel file is
    intact and has still one revision."""
    def check():
        r = dav(alice, "GET", server.url.rstrip("/") + "/healthz")
        assert_status(r, 200)
        g = dav(alice, "GET", sentinel)
        assert_status(g, 200)
        assert g.content == SENTINEL
        assert len(revisions_of(cluster, db_path(sentinel))) == 1
    return check


def auth():
    return ("Authorization", basic_auth("alice"))


# ---------------------------------------------------------------- XML bodies

def test_malformed_xml_propfind_is_400(alice, sentinel, still_serving):
    r = dav(alice, "PROPFIND", sentinel, headers=dict(XML_HEADERS, Depth="0"),
            data=b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                 b'<D:getetag></D:propfind>')
    assert_status(r, 400)
    still_serving()


def test_non_dav_root_element_propfind_is_400(alice, sentinel, still_serving):
    r = dav(alice, "PROPFIND", sentinel, headers=dict(XML_HEADERS, Depth="0"),
            data=b'<?xml version="1.0"?><foo xmlns="urn:x"/>')
    assert_status(r, 400)
    still_serving()


def test_malformed_xml_proppatch_is_400_and_stores_nothing(cluster, alice,
                                                           sentinel,
                                                           still_serving):
    r = dav(alice, "PROPPATCH", sentinel, headers=XML_HEADERS,
            data=b'<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
                 b'<Z:a xmlns:Z="urn:z">1</Z:a></D:set>')
    assert_status(r, 400)
    rows = cluster.psql(
        "select count(*) from props p join resources r on r.id = "
        "p.resource_id join spaces s on s.id = r.space_id where "
        "s.slug = 's1' and r.id = parvis_resolve(s.id, %s)"
        % sql_str(db_path(sentinel)))
    assert rows[0][0] == "0"
    still_serving()


def _big_propfind(size):
    head = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><!-- '
    tail = b' --><D:allprop/></D:propfind>'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_oversized_xml_body_is_413(server, seed, sentinel, still_serving):
    body = _big_propfind((1 << 20) + 4096)
    r = raw_request(sentinel, "PROPFIND %s HTTP/1.1" % raw_path_of(sentinel),
                    [auth(), ("Depth", "0"),
                     ("Content-Type", "application/xml"),
                     ("Content-Length", str(len(body)))],
                    body=body, send_body_in_thread=True)
    assert r.status == 413, r
    still_serving()


def test_oversized_chunked_xml_body_is_413(server, seed, sentinel,
                                           still_serving):
    body = _big_propfind((1 << 20) + 4096)

    def chunks():
        for i in range(0, len(body), 65536):
            piece = body[i:i + 65536]
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
        yield b"0\r\n\r\n"

    r = raw_request(sentinel, "PROPFIND %s HTTP/1.1" % raw_path_of(sentinel),
                    [auth(), ("Depth", "0"),
                     ("Content-Type", "application/xml"),
                     ("Transfer-Encoding", "chunked")],
                    body=chunks(), send_body_in_thread=True)
    assert r.status == 413, r
    still_serving()


def test_xml_body_just_under_limit_is_accepted(alice, sentinel):
    body = _big_propfind((1 << 20) - 1024)
    r = dav(alice, "PROPFIND", sentinel, headers=dict(XML_HEADERS, Depth="0"),
            data=body)
    assert_status(r, 207)


XXE_PROPFIND = (b'<?xml version="1.0"?>'
                b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/>'
                b'</D:prop>&e;</D:propfind>')


def test_external_entity_propfind_is_400(alice, sentinel, still_serving):
    r = dav(alice, "PROPFIND", sentinel, headers=dict(XML_HEADERS, Depth="0"),
            data=XXE_PROPFIND)
    assert_status(r, 400)
    still_serving()


def test_external_entity_propfind_does_not_echo_passwd(alice, sentinel):
    r = dav(alice, "PROPFIND", sentinel, headers=dict(XML_HEADERS, Depth="0"),
            data=XXE_PROPFIND)
    assert b"root:" not in r.content
    assert b"/bin/" not in r.content


def test_external_entity_proppatch_is_400_and_stores_nothing(cluster, alice,
                                                             sentinel,
                                                             still_serving):
    body = (b'<?xml version="1.0"?>'
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set>'
            b'<D:prop><Z:leak>&e;</Z:leak></D:prop></D:set>'
            b'</D:propertyupdate>')
    r = dav(alice, "PROPPATCH", sentinel, headers=XML_HEADERS, data=body)
    assert_status(r, 400)
    assert b"root:" not in r.content
    rows = cluster.psql("select count(*) from props where value like "
                        "'%root:%'")
    assert rows[0][0] == "0"
    still_serving()


def test_entity_expansion_bomb_is_400_quickly(alice, sentinel, still_serving):
    ents = ['<!ENTITY a0 "lol">']
    for i in range(1, 10):
        ents.append('<!ENTITY a%d "%s">' % (i, ("&a%d;" % (i - 1)) * 10))
    body = ('<?xml version="1.0"?><!DOCTYPE x [%s]>'
            '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
            '<Z:bomb>&a9;</Z:bomb></D:prop></D:set></D:propertyupdate>'
            % "".join(ents)).encode()
    t0 = time.monotonic()
    r = dav(alice, "PROPPATCH", sentinel, headers=XML_HEADERS, data=body)
    assert_status(r, 400)
    assert time.monotonic() - t0 < 10
    still_serving()


# ------------------------------------------------------------ methods/headers

def test_unknown_method_is_501(alice, sentinel, still_serving):
    r = dav(alice, "FROBNICATE", sentinel)
    assert_status(r, 501)
    # The text names the status sent, not another.
    assert "501 Not Implemented" in r.text, r.text
    still_serving()


def test_propfind_depth_2_is_400(alice, sentinel, still_serving):
    r = propfind(alice, sentinel, "2")
    assert_status(r, 400)
    still_serving()


def test_propfind_depth_garbage_is_400(alice, sentinel, still_serving):
    r = propfind(alice, sentinel, "one")
    assert_status(r, 400)
    still_serving()


def test_copy_collection_depth_1_is_400(alice, coll, still_serving):
    r = dav(alice, "COPY", coll,
            headers={"Depth": "1",
                     "Destination": coll.rstrip("/") + "-depth1/"})
    # RFC 4918 §9.8.3: only 0 or infinity are allowed on COPY.
    assert_status(r, 400)
    assert_status(dav(alice, "GET", coll.rstrip("/") + "-depth1/"), 404)
    still_serving()


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_bad_overwrite_header_is_400(method, alice, coll, sentinel,
                                     still_serving):
    dst = join(coll, "ow-target.txt")
    r = dav(alice, method, sentinel,
            headers={"Destination": dst, "Overwrite": "X"})
    assert_status(r, 400)
    assert_status(dav(alice, "GET", dst), 404)
    still_serving()


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_missing_destination_is_400(method, alice, sentinel, still_serving):
    r = dav(alice, method, sentinel)
    assert_status(r, 400)
    still_serving()


BAD_DESTINATIONS = {
    "not-a-uri": "::::not a uri::::",
    "bad-ipv6": "http://[::1/dav/spaces/s1/x.txt",
    "network-path": "//127.0.0.1/dav/spaces/s1/x.txt",
    "empty": "",
    "dotdot": None,  # filled in from the collection URL
}


@pytest.mark.parametrize("kind", sorted(BAD_DESTINATIONS))
@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_bad_destination_is_400(method, kind, server, seed, coll, sentinel,
                                still_serving):
    dest = BAD_DESTINATIONS[kind]
    if dest is None:
        dest = raw_path_of(coll) + "../escaped.txt"
    r = raw_request(sentinel, "%s %s HTTP/1.1" % (method,
                                                  raw_path_of(sentinel)),
                    [auth(), ("Destination", dest)])
    assert r.status == 400, r
    still_serving()


# -------------------------------------------------------------------- paths

BAD_SEGMENTS = {
    "dotdot": "..",
    "dot": ".",
    "encoded-dotdot": "%2e%2e",
    "encoded-dotdot-upper": "%2E%2E",
    "encoded-slash": "a%2fb",
    "nul": "a%00b",
    "invalid-utf8": "a%ffb",
    "overlong-utf8": "a%c0%afb",
    "truncated-utf8": "a%e2%82",
    "bad-percent": "a%zzb",
    # DAV_NAME_MAX: 255 bytes of UTF-8 ("é" is two)
    "name-too-long": "n" * 256,
    "name-too-long-encoded": "%C3%A9" * 128,
    # DAV_PATH_MAX: 2,048 bytes in all
    "path-too-long": "/".join(["d" * 200] * 11),
}


def _bad_path(coll, seg, tail):
    return raw_path_of(coll) + seg + tail


@pytest.mark.parametrize("kind", sorted(BAD_SEGMENTS))
@pytest.mark.parametrize("method", ["GET", "PROPFIND", "DELETE"])
def test_bad_path_is_400(method, kind, server, seed, coll, sentinel,
                         still_serving):
    path = _bad_path(coll, BAD_SEGMENTS[kind], "/sentinel.txt")
    hdrs = [auth()]
    if method == "PROPFIND":
        hdrs.append(("Depth", "0"))
    r = raw_request(sentinel, "%s %s HTTP/1.1" % (method, path), hdrs)
    assert r.status == 400, (path, r)
    still_serving()


@pytest.mark.parametrize("kind", sorted(BAD_SEGMENTS))
def test_bad_path_put_is_400_and_creates_nothing(kind, cluster, server, seed,
                                                 coll, sentinel,
                                                 still_serving):
    # The bad segment stands alone ("./put.txt"): ".-put.txt" would be a
    # perfectly good name.
    path = _bad_path(coll, BAD_SEGMENTS[kind], "/put.txt")
    before = cluster.psql("select count(*) from resources")[0][0]
    body = b"should not be stored"
    r = raw_request(sentinel, "PUT %s HTTP/1.1" % path,
                    [auth(), ("Content-Length", str(len(body)))], body=body)
    assert r.status == 400, (path, r)
    assert cluster.psql("select count(*) from resources")[0][0] == before
    still_serving()


def test_longest_name_is_accepted(alice, coll):
    """255 bytes is the limit, not less; a longer Destination is 400."""
    name = "é" * 127 + "n"
    url = coll + name
    assert_status(put(alice, url, b"long"), 201)
    assert dav(alice, "GET", url).content == b"long"
    r = dav(alice, "COPY", url, headers={"Destination": url + "x"})
    assert_status(r, 400)


def test_dotdot_cannot_escape_into_other_space(cluster, server, seed,
                                               session_for):
    carol = session_for("carol")
    name = "carol-only-%s.txt" % os.urandom(4).hex()
    url = server.space_url("s2") + name
    assert_status(put(carol, url, b"s2 private"), 201)
    path = "/dav/spaces/s1/../s2/" + name
    r = raw_request(url, "GET %s HTTP/1.1" % path, [auth()])
    assert r.status == 400, r
    assert b"s2 private" not in r.body


def test_put_into_missing_parent_is_409(alice, coll, still_serving):
    url = join(coll, "missing-parent", "file.txt")
    assert_status(put(alice, url, b"orphan"), 409)
    assert_status(dav(alice, "GET", join(coll, "missing-parent",
                                          collection=True)), 404)
    still_serving()


def test_percent_encoded_name_is_decoded_once(cluster, alice, coll):
    # "%2541" must be stored as the name "%41", not "A".
    url = coll + "x%2541.txt"
    assert_status(put(alice, url, b"once"), 201)
    assert resource_row(cluster, db_path(coll) + "/x%41.txt") is not None
    assert resource_row(cluster, db_path(coll) + "/xA.txt") is None


@pytest.mark.parametrize("form", ["raw", "encoded"])
def test_backslash_name_is_addressable_by_its_href(form, cluster, alice,
                                                   coll):
    # '\' is an ordinary character of a name, sent raw (curl) or as %5C
    # (our own hrefs, macOS): either way the href the listing gives
    # addresses the same resource.  Nor is it a separator: "a\b.txt" needs
    # no collection "a".
    name = "a\\b-%s.txt" % form
    raw = raw_path_of(coll) + ("a\\b" if form == "raw" else "a%5Cb")
    raw += "-%s.txt" % form
    body = b"backslash " + form.encode()
    r = raw_request(coll, "PUT %s HTTP/1.1" % raw,
                    [auth(), ("Content-Length", str(len(body)))], body=body)
    assert r.status == 201, r
    assert resource_row(cluster, db_path(coll) + "/" + name) is not None

    r = propfind(alice, coll, depth="1", kind="prop", props=["getetag"])
    assert_status(r, 207)
    listed = [m for m in parse_multistatus(r.content)
              if m.path == url_path(coll) + name]
    assert len(listed) == 1, r.text
    href = listed[0].href
    assert "%5C" in href.upper(), href

    r = raw_request(coll, "GET %s HTTP/1.1" % raw_path_of(href), [auth()])
    assert r.status == 200, r
    assert r.body == body
    r = raw_request(coll, "DELETE %s HTTP/1.1" % raw_path_of(href), [auth()])
    assert r.status == 204, r
    assert resource_row(cluster, db_path(coll) + "/" + name) is None
