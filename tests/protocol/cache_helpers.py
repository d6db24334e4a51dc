"""Helpers for the tests of the node's caches (decisions 0026, 0027 and
0029): those tests run their own nodes at log level debug, where each
answer a cache gives logs a line of its own ("listing from the cache",
"target from the cache", "answer from the cache").  A test module
takes the fixture 'node' by importing it."""

import time
import uuid

import pytest

from dav_helpers import assert_status, put, user_session


@pytest.fixture
def node(debug_node):
    """A node of the test's own, logging at level debug."""
    return debug_node


def new_file(node, prefix):
    """A new file of alice's in space s1, through NODE: its URL."""
    url = node.space_url("s1") + prefix + uuid.uuid4().hex[:10] + ".txt"
    assert_status(put(user_session("alice"), url, b"first content"), 201)
    return url


def cache_hits(node, marker):
    """How many answers NODE has given from the cache that logs MARKER."""
    return node.log_text().count(marker)


def cache_warm(node, marker, send, what):
    """Calls send() until one answer comes from the cache (NODE logs MARKER
    once more); returns that answer.  The node's own writes, such as the
    audit sealer's, end transactions too: the first reads after a write
    miss, and the entry is there once one read has hit."""
    for _ in range(30):
        before = cache_hits(node, marker)
        r = send()
        if cache_hits(node, marker) == before + 1:
            return r
        time.sleep(0.1)
    pytest.fail("no %s came from the cache" % what)


def on(node, url):
    """URL, of any node, on NODE."""
    return node.url + url[url.index("/dav/"):]
