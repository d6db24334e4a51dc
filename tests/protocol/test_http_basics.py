"""HTTP-level behaviour (RFC 9110) and the URL layout of the foundation:
OPTIONS without auth, the Basic challenge, /healthz, the CalDAV well-known
redirect, collections without trailing slash, ETags, Range, conditional
requests, HEAD, chunked PUT, Expect: 100-continue, Last-Modified."""

import email.utils
import http.client
import os
import re
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import requests

from dav_helpers import (RFC1123_RE, assert_status, basic_auth, dav,
                         host_port, join, mkcol, parse_multistatus, propfind,
                         put, raw_path_of, raw_request)


def root_url(server, path="/"):
    return server.url.rstrip("/") + path


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def anon():
    s = requests.Session()
    yield s
    s.close()


@pytest.fixture
def file_url(coll, alice):
    url = join(coll, "f.bin")
    body = bytes(range(256)) * 4 + b"tail-of-the-file"  # 1040 bytes
    r = put(alice, url, body, headers={"Content-Type": "application/octet-stream"})
    assert_status(r, 201)
    return url, body


# ------------------------------------------------------------------ OPTIONS

OPTIONS_TARGETS = ["root", "dav", "spaces", "space", "file"]


def _options_target(which, server, file_url):
    return {
        "root": root_url(server, "/"),
        "dav": root_url(server, "/dav/"),
        "spaces": root_url(server, "/dav/spaces/"),
        "space": server.space_url("s1"),
        "file": file_url[0],
    }[which]


def _dav_tokens(value):
    return [t.strip() for t in (value or "").split(",") if t.strip()]


@pytest.mark.parametrize("which", OPTIONS_TARGETS)
def test_options_without_auth_is_200(which, server, anon, file_url):
    r = dav(anon, "OPTIONS", _options_target(which, server, file_url))
    assert_status(r, 200)


@pytest.mark.parametrize("which", OPTIONS_TARGETS)
def test_options_dav_header_has_class_1(which, server, anon, file_url):
    r = dav(anon, "OPTIONS", _options_target(which, server, file_url))
    assert "1" in _dav_tokens(r.headers.get("DAV")), r.headers


@pytest.mark.parametrize("which", OPTIONS_TARGETS)
def test_options_ms_author_via_dav(which, server, anon, file_url):
    r = dav(anon, "OPTIONS", _options_target(which, server, file_url))
    assert r.headers.get("MS-Author-Via") == "DAV", r.headers


@pytest.mark.parametrize("which", OPTIONS_TARGETS)
def test_options_allow_lists_propfind(which, server, anon, file_url):
    r = dav(anon, "OPTIONS", _options_target(which, server, file_url))
    allow = [m.strip().upper() for m in r.headers.get("Allow", "").split(",")]
    assert "OPTIONS" in allow and "PROPFIND" in allow, r.headers


# ------------------------------------------------------------ authentication

def _allow(r):
    return {m.strip() for m in r.headers.get("Allow", "").split(",")
            if m.strip()}


def test_405_allow_lists_what_the_target_supports(alice, coll, file_url):
    """RFC 9110 §15.5.6: a 405 carries Allow with the methods the target
    supports now, never the refused one; the same list as OPTIONS."""
    url, _ = file_url
    r = put(alice, coll, b"x")
    assert_status(r, 405)
    allow = _allow(r)
    assert "PUT" not in allow and "MKCOL" not in allow, allow
    assert {"GET", "PROPFIND", "DELETE", "LOCK", "REPORT"} <= allow, allow
    assert allow == _allow(dav(alice, "OPTIONS", coll))
    r = mkcol(alice, coll)
    assert_status(r, 405)
    assert "MKCOL" not in _allow(r) and "PUT" not in _allow(r), r.headers
    r = mkcol(alice, url)
    assert_status(r, 405)
    allow = _allow(r)
    assert "MKCOL" not in allow, allow
    assert {"GET", "PUT", "DELETE", "PROPFIND"} <= allow, allow
    assert allow == _allow(dav(alice, "OPTIONS", url))


def test_options_allow_of_an_unmapped_url(alice, coll):
    allow = _allow(dav(alice, "OPTIONS", join(coll, "nothing-here")))
    assert {"PUT", "MKCOL", "LOCK", "OPTIONS"} <= allow, allow
    assert not allow & {"GET", "DELETE", "PROPPATCH", "MOVE"}, allow


def _raw_http(server, method, path, headers=None, body=None):
    host, port = host_port(server.url)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp, data
    finally:
        conn.close()


def test_propfind_without_auth_is_401(server, seed):
    resp, _ = _raw_http(server, "PROPFIND", "/dav/spaces/s1/",
                        {"Depth": "0"})
    assert resp.status == 401


def test_401_has_exactly_one_basic_challenge(server, seed):
    resp, _ = _raw_http(server, "PROPFIND", "/dav/spaces/s1/",
                        {"Depth": "0"})
    challenges = resp.msg.get_all("WWW-Authenticate") or []
    assert len(challenges) == 1, challenges
    assert re.match(r'^Basic realm="[^"]+"(\s*,\s*charset="?UTF-8"?)?$',
                    challenges[0], re.IGNORECASE), challenges


def test_get_without_auth_on_space_is_401(server, seed):
    resp, _ = _raw_http(server, "GET", "/dav/spaces/s1/")
    assert resp.status == 401


# ----------------------------------------------------- healthz, well-known

def test_healthz_ok(server, anon):
    r = dav(anon, "GET", root_url(server, "/healthz"))
    assert_status(r, 200)
    assert r.text == "ok\n"


@pytest.mark.parametrize("method", ["GET", "PROPFIND"])
def test_well_known_caldav_redirects_301_to_dav(method, server, alice):
    r = dav(alice, method, root_url(server, "/.well-known/caldav"),
            headers={"Depth": "0"})
    assert_status(r, 301)
    loc = r.headers.get("Location", "")
    assert urlsplit(loc).path == "/dav/", loc


@pytest.mark.parametrize("path", ["/", "/dav/", "/dav/spaces/"])
def test_virtual_collections_answer_propfind_as_collections(path, server,
                                                            alice):
    r = propfind(alice, root_url(server, path), "0")
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 1 and resps[0].is_collection(), resps


# -------------------------------------------- collections without slash

@pytest.mark.parametrize("which", ["space", "collection"])
def test_collection_without_trailing_slash_is_served_directly(which, server,
                                                              alice, coll):
    url = server.space_url("s1") if which == "space" else coll
    r = propfind(alice, url.rstrip("/"), "0")
    assert r.status_code not in (301, 302, 303, 307, 308), r.headers
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 1
    assert resps[0].is_collection()
    assert resps[0].href.endswith("/"), resps[0].href


def test_collection_hrefs_end_with_slash_and_file_hrefs_do_not(alice, coll):
    assert_status(mkcol(alice, join(coll, "sub", collection=True)), 201)
    assert_status(put(alice, join(coll, "plain.txt"), b"x"), 201)
    r = propfind(alice, coll, "1")
    assert_status(r, 207)
    resps = parse_multistatus(r.content)
    assert len(resps) == 3, resps
    for resp in resps:
        if resp.is_collection():
            assert resp.href.endswith("/"), resp.href
        else:
            assert not resp.href.endswith("/"), resp.href


# ------------------------------------------------------------------- ETags

def test_etag_is_strong(alice, file_url):
    r = dav(alice, "GET", file_url[0])
    assert_status(r, 200)
    etag = r.headers.get("ETag")
    assert etag, r.headers
    assert not etag.startswith("W/"), etag
    assert re.match(r'^"[^"]+"$', etag), etag


def test_etag_stable_across_gets(alice, file_url):
    e1 = dav(alice, "GET", file_url[0]).headers.get("ETag")
    e2 = dav(alice, "GET", file_url[0]).headers.get("ETag")
    e3 = dav(alice, "HEAD", file_url[0]).headers.get("ETag")
    assert e1 and e1 == e2 == e3, (e1, e2, e3)


def test_etag_changes_after_put_of_different_content(alice, file_url):
    e1 = dav(alice, "GET", file_url[0]).headers.get("ETag")
    assert_status(put(alice, file_url[0], b"different content"), 200, 204)
    e2 = dav(alice, "GET", file_url[0]).headers.get("ETag")
    assert e1 and e2 and e1 != e2, (e1, e2)


def test_put_response_etag_matches_get_etag(alice, coll):
    url = join(coll, "etag.txt")
    r = put(alice, url, b"etag me")
    assert_status(r, 201)
    assert r.headers.get("ETag"), r.headers
    assert dav(alice, "GET", url).headers.get("ETag") == r.headers["ETag"]


# ------------------------------------------------------------------- Range

def _range_get(alice, url, spec):
    return dav(alice, "GET", url, headers={"Range": spec})


def test_range_first_ten_bytes(alice, file_url):
    url, body = file_url
    r = _range_get(alice, url, "bytes=0-9")
    assert_status(r, 206)
    assert r.content == body[:10]
    assert r.headers.get("Content-Range") == "bytes 0-9/%d" % len(body)


def test_range_suffix_last_five_bytes(alice, file_url):
    url, body = file_url
    r = _range_get(alice, url, "bytes=-5")
    assert_status(r, 206)
    assert r.content == body[-5:]
    n = len(body)
    assert r.headers.get("Content-Range") == "bytes %d-%d/%d" % (n - 5, n - 1, n)


def test_range_open_ended_from_ten(alice, file_url):
    url, body = file_url
    r = _range_get(alice, url, "bytes=10-")
    assert_status(r, 206)
    assert r.content == body[10:]
    n = len(body)
    assert r.headers.get("Content-Range") == "bytes 10-%d/%d" % (n - 1, n)


def test_range_unsatisfiable_is_416_with_star_content_range(alice, file_url):
    url, body = file_url
    r = _range_get(alice, url, "bytes=%d-%d" % (len(body) + 10,
                                                len(body) + 20))
    assert_status(r, 416)
    assert r.headers.get("Content-Range") == "bytes */%d" % len(body)


# ------------------------------------------------------ conditional requests

def _etag(alice, url):
    etag = dav(alice, "GET", url).headers.get("ETag")
    assert etag
    return etag


def test_put_if_match_mismatch_is_412_and_keeps_content(alice, file_url):
    url, body = file_url
    r = put(alice, url, b"lost update", headers={"If-Match": '"nope-0000"'})
    assert_status(r, 412)
    assert dav(alice, "GET", url).content == body


def test_put_if_match_current_etag_succeeds(alice, file_url):
    url, _ = file_url
    r = put(alice, url, b"guarded update",
            headers={"If-Match": _etag(alice, url)})
    assert_status(r, 200, 204)
    assert dav(alice, "GET", url).content == b"guarded update"


def test_delete_if_match_mismatch_is_412_and_keeps_file(alice, file_url):
    url, body = file_url
    r = dav(alice, "DELETE", url, headers={"If-Match": '"nope-0000"'})
    assert_status(r, 412)
    g = dav(alice, "GET", url)
    assert_status(g, 200)
    assert g.content == body


@pytest.mark.parametrize("method", ["PROPPATCH", "LOCK", "COPY"])
def test_false_if_match_stops_every_method(alice, file_url, coll, method):
    """RFC 9110 §13.1: a false precondition means the method is not
    performed, whatever the method."""
    url, body = file_url
    hdrs = {"If-Match": '"nope-0000"', "Content-Type": "application/xml"}
    data = None
    if method == "PROPPATCH":
        data = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:">'
                '<D:set><D:prop><Z:n xmlns:Z="urn:z">1</Z:n></D:prop></D:set>'
                '</D:propertyupdate>')
    elif method == "LOCK":
        data = ('<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
                '<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
                '</D:lockinfo>')
    else:
        hdrs["Destination"] = join(coll, "copied.bin")
    r = dav(alice, method, url, data=data, headers=hdrs)
    assert_status(r, 412)
    r = propfind(alice, url, "0", "prop", ["lockdiscovery"])
    assert b"activelock" not in r.content
    assert dav(alice, "GET", join(coll, "copied.bin")).status_code == 404
    # With the right ETag, it is.
    hdrs["If-Match"] = _etag(alice, url)
    assert dav(alice, method, url, data=data, headers=hdrs).status_code in \
        (200, 201, 207)


LOCK_BODY = ('<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
             '<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
             '</D:lockinfo>')
SYNC_BODY = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
             '<D:sync-token/><D:sync-level>1</D:sync-level>'
             '<D:prop><D:getetag/></D:prop></D:sync-collection>')


def test_mkcol_if_match_star_on_unmapped_url_is_412(alice, coll):
    """RFC 9110 §13.1.1: If-Match: * is false with no current
    representation; the collection is not made."""
    url = join(coll, "guarded", collection=True)
    r = mkcol(alice, url, headers={"If-Match": "*"})
    assert_status(r, 412)
    assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}).status_code \
        == 404
    r = mkcol(alice, url, headers={"If-Unmodified-Since":
                                   "Sat, 29 Oct 1994 19:43:31 GMT"})
    assert_status(r, 201)
    assert_status(mkcol(alice, join(coll, "guarded2", collection=True),
                        headers={"If-None-Match": "*"}), 201)


@pytest.mark.parametrize("header", [("If-Match", '"nope-0000"'),
                                    ("If-Unmodified-Since",
                                     "Sat, 29 Oct 1994 19:43:31 GMT")])
def test_propfind_false_precondition_is_412(alice, file_url, header):
    url, _ = file_url
    r = dav(alice, "PROPFIND", url, headers={"Depth": "0", header[0]: header[1]})
    assert_status(r, 412)
    r = dav(alice, "PROPFIND", url, headers={"Depth": "0",
                                             "If-Match": _etag(alice, url)})
    assert_status(r, 207)


def test_propfind_if_none_match_current_etag_is_412_not_304(alice, file_url):
    """RFC 9110 §13.1.2: 304 is for GET and HEAD only."""
    url, _ = file_url
    etag = _etag(alice, url)
    r = dav(alice, "PROPFIND", url, headers={"Depth": "0",
                                             "If-None-Match": etag})
    assert_status(r, 412)
    r = dav(alice, "PROPFIND", url, headers={"Depth": "0",
                                             "If-None-Match": '"other-1"'})
    assert_status(r, 207)


def test_unlock_false_if_match_is_412_and_keeps_lock(alice, file_url):
    url, _ = file_url
    r = dav(alice, "LOCK", url, data=LOCK_BODY,
            headers={"Content-Type": "application/xml", "Depth": "0"})
    assert_status(r, 200)
    token = r.headers["Lock-Token"]
    r = dav(alice, "UNLOCK", url, headers={"Lock-Token": token,
                                           "If-Match": '"nope-0000"'})
    assert_status(r, 412)
    r = propfind(alice, url, "0", "prop", ["lockdiscovery"])
    assert b"activelock" in r.content
    r = dav(alice, "UNLOCK", url, headers={"Lock-Token": token,
                                           "If-Match": _etag(alice, url)})
    assert_status(r, 204)


def test_report_false_if_match_is_412(alice, coll):
    hdrs = {"Content-Type": "application/xml", "Depth": "0"}
    r = dav(alice, "REPORT", coll, data=SYNC_BODY,
            headers=dict(hdrs, **{"If-Match": '"nope-0000"'}))
    assert_status(r, 412)
    etag = dav(alice, "GET", coll).headers["ETag"]
    r = dav(alice, "REPORT", coll, data=SYNC_BODY,
            headers=dict(hdrs, **{"If-None-Match": etag}))
    assert_status(r, 412)
    r = dav(alice, "REPORT", coll, data=SYNC_BODY,
            headers=dict(hdrs, **{"If-Match": etag}))
    assert_status(r, 207)


def test_collection_get_honours_if_match_and_lists_whole(alice, coll):
    r = dav(alice, "GET", coll, headers={"If-Match": '"nope-0000"'})
    assert_status(r, 412)
    etag = dav(alice, "GET", coll).headers.get("ETag")
    assert etag
    # Its listing follows members the ETag does not: never 304.
    r = dav(alice, "GET", coll, headers={"If-None-Match": etag})
    assert_status(r, 200)


def test_destination_scheme_and_default_port_are_normalised(alice, coll,
                                                           server):
    """RFC 3986 §3.1, §6.2.3: HTTP:// is http://, host:80 is host."""
    src = join(coll, "dst-src.txt")
    assert_status(put(alice, src, b"d"), 201)
    host, port = host_port(src)
    r = dav(alice, "COPY", src, headers={
        "Destination": "HTTP://%s:%d%s" % (host, port,
                                            raw_path_of(join(coll, "d1.txt")))})
    assert_status(r, 201)
    r = dav(alice, "COPY", src, headers={
        "Host": "files.example.org",
        "Destination": "http://files.example.org:80%s" %
                       raw_path_of(join(coll, "d2.txt"))})
    assert_status(r, 201)
    assert dav(alice, "GET", join(coll, "d2.txt")).content == b"d"
    # A fragment is no part of a Destination (RFC 4918 §8.3).
    r = dav(alice, "COPY", src, headers={"Destination": join(coll, "d3.txt")
                                         + "#frag"})
    assert_status(r, 400)
    assert dav(alice, "PROPFIND", join(coll, "d3.txt%23frag"),
               headers={"Depth": "0"}).status_code == 404


def test_put_if_none_match_star_on_existing_is_412(alice, file_url):
    url, body = file_url
    r = put(alice, url, b"must not replace", headers={"If-None-Match": "*"})
    assert_status(r, 412)
    assert dav(alice, "GET", url).content == body


def test_put_if_none_match_star_on_new_creates(alice, coll):
    url = join(coll, "new-guarded.txt")
    r = put(alice, url, b"created", headers={"If-None-Match": "*"})
    assert_status(r, 201)
    assert dav(alice, "GET", url).content == b"created"


def test_get_if_none_match_current_etag_is_304(alice, file_url):
    url, _ = file_url
    etag = _etag(alice, url)
    r = dav(alice, "GET", url, headers={"If-None-Match": etag})
    assert_status(r, 304)
    assert r.content == b""
    assert r.headers.get("ETag") == etag


def test_get_if_none_match_other_etag_is_200(alice, file_url):
    url, body = file_url
    r = dav(alice, "GET", url, headers={"If-None-Match": '"other-1234"'})
    assert_status(r, 200)
    assert r.content == body


def test_get_if_modified_since_last_modified_is_304(alice, file_url):
    url, _ = file_url
    lm = dav(alice, "GET", url).headers["Last-Modified"]
    r = dav(alice, "GET", url, headers={"If-Modified-Since": lm})
    assert_status(r, 304)
    assert r.content == b""


def test_get_if_modified_since_future_date_is_304(alice, file_url):
    # RFC 9110 §13.1.3: 304 when the last modification is not later than
    # the date given (RFC 2616's "a future date is invalid" was dropped).
    url, _ = file_url
    future = email.utils.formatdate(time.time() + 86400, usegmt=True)
    r = dav(alice, "GET", url, headers={"If-Modified-Since": future})
    assert_status(r, 304)


def test_get_if_modified_since_past_date_is_200(alice, file_url):
    url, body = file_url
    r = dav(alice, "GET", url,
            headers={"If-Modified-Since": "Sat, 29 Oct 1994 19:43:31 GMT"})
    assert_status(r, 200)
    assert r.content == body


def test_put_if_unmodified_since_past_date_is_412(alice, file_url):
    url, body = file_url
    r = put(alice, url, b"too late",
            headers={"If-Unmodified-Since": "Sat, 29 Oct 1994 19:43:31 GMT"})
    assert_status(r, 412)
    assert dav(alice, "GET", url).content == body


def test_get_if_unmodified_since_past_date_is_412(alice, file_url):
    url, _ = file_url
    r = dav(alice, "GET", url,
            headers={"If-Unmodified-Since": "Sat, 29 Oct 1994 19:43:31 GMT"})
    assert_status(r, 412)


# -------------------------------------------------------------------- HEAD

def test_head_has_content_length_and_no_body(server, seed, file_url):
    url, body = file_url
    resp = raw_request(url, "HEAD %s HTTP/1.1" % raw_path_of(url),
                       [("Authorization", basic_auth("alice"))],
                       head_request=True)
    assert resp.status == 200, resp
    assert resp.header("content-length") == str(len(body)), resp.headers
    assert resp.body == b"", resp.body[:100]


def test_head_ignores_range(server, seed, file_url):
    """RFC 7233 §3.1: Range is ignored for methods other than GET; HEAD
    answers as a GET without Range would."""
    url, body = file_url
    resp = raw_request(url, "HEAD %s HTTP/1.1" % raw_path_of(url),
                       [("Authorization", basic_auth("alice")),
                        ("Range", "bytes=0-1")],
                       head_request=True)
    assert resp.status == 200, resp
    assert resp.header("content-length") == str(len(body)), resp.headers
    assert resp.header("content-range") is None, resp.headers
    resp = raw_request(url, "HEAD %s HTTP/1.1" % raw_path_of(url),
                       [("Authorization", basic_auth("alice")),
                        ("Range", "bytes=99999-")],
                       head_request=True)
    assert resp.status == 200, resp


def test_head_etag_equals_get_etag(alice, file_url):
    url, _ = file_url
    assert dav(alice, "HEAD", url).headers.get("ETag") == _etag(alice, url)


# --------------------------------------------------------- request bodies

def test_put_chunked_transfer_encoding_stores_exact_bytes(alice, coll):
    url = join(coll, "chunked.bin")
    pieces = [os.urandom(n) for n in (1, 4095, 70000, 300 * 1024, 13, 262144,
                                      262145, 5)]
    expected = b"".join(pieces)

    def gen():
        yield from pieces

    r = put(alice, url, gen())
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_status(r, 201)
    g = dav(alice, "GET", url)
    assert_status(g, 200)
    assert len(g.content) == len(expected)
    assert g.content == expected


def test_put_with_expect_100_continue_gets_100_then_stores(server, seed, coll,
                                                           alice):
    url = join(coll, "expect.bin")
    body = os.urandom(100000)
    host, port = host_port(url)
    sock = socket.create_connection((host, port), timeout=10)
    try:
        head = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\n"
                "Content-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\nExpect: 100-continue\r\n"
                "Connection: close\r\n\r\n"
                % (raw_path_of(url), host, port, basic_auth("alice"),
                   len(body))).encode()
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            d = sock.recv(4096)      # times out (fails) if no 100 is sent
            assert d, "connection closed before 100 Continue"
            interim += d
        first, _, rest = interim.partition(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 100"), first
        sock.sendall(body)
        raw = rest
        while True:
            d = sock.recv(65536)
            if not d:
                break
            raw += d
    finally:
        sock.close()
    status_line = raw.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 201"), raw[:500]
    assert dav(alice, "GET", url).content == body


def test_put_with_expect_100_continue_via_curl(coll, alice, tmp_path):
    url = join(coll, "curl-expect.bin")
    src = tmp_path / "src.bin"
    body = os.urandom(2 * 1024 * 1024 + 17)
    src.write_bytes(body)
    p = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
         "--expect100-timeout", "30", "-H", "Expect: 100-continue",
         "-u", "alice:alice-pw", "-T", str(src), url],
        capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "201", p.stdout + p.stderr
    assert dav(alice, "GET", url).content == body


# ----------------------------------------------------------- Last-Modified

def test_last_modified_is_rfc1123_and_recent(alice, file_url):
    url, _ = file_url
    lm = dav(alice, "GET", url).headers.get("Last-Modified")
    assert lm and RFC1123_RE.match(lm), lm
    ts = email.utils.parsedate_to_datetime(lm).timestamp()
    assert abs(ts - time.time()) < 600, lm


def test_put_new_file_is_201_and_overwrite_is_not_201(alice, coll):
    url = join(coll, "twice.txt")
    assert_status(put(alice, url, b"one"), 201)
    assert_status(put(alice, url, b"two"), 200, 204)
    assert dav(alice, "GET", url).content == b"two"

