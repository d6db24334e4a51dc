/*
 * tests/fuzz/fuzz_headers.c -- the request headers Parvis parses: Depth,
 * Overwrite, Timeout, Destination, If, If-Match / If-None-Match,
 * If-Modified-Since / If-Unmodified-Since, Range / If-Range, Lock-Token.
 *
 * Input: one selector byte, then a header block, "Name: value" lines
 * separated by LF (a CR before the LF is dropped; a line without ':' is
 * ignored).  In values, "{token}" stands for the lock token of alice's
 * lock on locked.txt, "{token2}" for carol's on dir/b.txt and "{etag}"
 * for the ETag of a.txt (see harness.h), so that inputs can name them.
 *
 * Each value goes first to the parsers that dav/ and core/ export
 * (dav_parse_depth, dav_parse_overwrite, dav_parse_timeout,
 * dav_parse_destination, dav_etag_list_match, http_date_parse), then the
 * whole block goes with the request the selector names through the
 * dispatcher, which reaches the parsers that are static: the If header
 * (dav/lock.c, evaluated for every request in a space) and Range
 * (dav/methods.c, on GET).
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_int.h"
#include "tests/fuzz/harness.h"

#define LOCK_BODY                                                         \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"                          \
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope>" \
    "<D:locktype><D:write/></D:locktype></D:lockinfo>"
#define PROPPATCH_BODY                                                    \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"                          \
    "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:example:z\">"       \
    "<D:set><D:prop><Z:size>L</Z:size></D:prop></D:set>"                  \
    "</D:propertyupdate>"

/* The requests a selector byte names (its low four bits). */
static const struct {
    const char *method;
    const char *url;
    const char *body;
} requests[16] = {
    { "GET", FUZZ_SPACE "/a.txt", NULL },
    { "HEAD", FUZZ_SPACE "/a.txt", NULL },
    { "GET", FUZZ_SPACE "/locked.txt", NULL },
    { "PROPFIND", FUZZ_SPACE "/", NULL },
    { "PROPFIND", FUZZ_SPACE "/a.txt", NULL },
    { "COPY", FUZZ_SPACE "/a.txt", NULL },
    { "MOVE", FUZZ_SPACE "/dir/", NULL },
    { "LOCK", FUZZ_SPACE "/a.txt", LOCK_BODY },
    { "LOCK", FUZZ_SPACE "/locked.txt", NULL },  /* refresh */
    { "UNLOCK", FUZZ_SPACE "/locked.txt", NULL },
    { "DELETE", FUZZ_SPACE "/locked.txt", NULL },
    { "PUT", FUZZ_SPACE "/a.txt", "new content\n" },
    { "PROPPATCH", FUZZ_SPACE "/locked.txt", PROPPATCH_BODY },
    { "DELETE", FUZZ_SPACE "/dir/", NULL },
    { "GET", FUZZ_CAL "/weekly.ics", NULL },
    { "MKCOL", FUZZ_SPACE "/dir/new/", NULL },
};

#define MAX_HDRS 32

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_server_init();
    return 0;
}

/* Replace the placeholders of a value (each one expands to at most 16
 * times its length); malloc'd. */
static char *
substitute(const char *v, size_t n)
{
    static const char *const names[3] = { "{token}", "{token2}", "{etag}" };
    const char *values[3] = { fuzz_token_alice(), fuzz_token_carol(),
                              fuzz_etag_a() };
    size_t cap = n * 16 + 1, k = 0;
    char *out = malloc(cap);
    if (out == NULL)
        abort();
    for (size_t i = 0; i < n;) {
        bool done = false;
        for (size_t j = 0; j < 3 && !done; j++) {
            size_t l = strlen(names[j]);
            size_t vl = strlen(values[j]);
            if (n - i >= l && memcmp(v + i, names[j], l) == 0 &&
                k + vl < cap) {
                memcpy(out + k, values[j], vl);
                k += vl;
                i += l;
                done = true;
            }
        }
        /* The http adapter never sees a CR inside a value. */
        if (!done) {
            out[k++] = v[i] == '\r' ? ' ' : v[i];
            i++;
        }
    }
    out[k] = '\0';
    return out;
}

/* The exported parsers, each on an exact-length copy of the value. */
static void
parse_all(const char *v, size_t n)
{
    char *exact = malloc(n > 0 ? n : 1);
    if (exact == NULL)
        abort();
    if (n > 0)
        memcpy(exact, v, n);
    struct str s = { exact, n };
    struct arena *a = arena_create();

    enum dav_depth depth;
    if (dav_parse_depth(s, &depth) && depth != DAV_DEPTH_0 &&
        depth != DAV_DEPTH_1 && depth != DAV_DEPTH_INFINITY)
        fuzz_fail("Depth %.*s: %d", (int)n, v, (int)depth);
    bool overwrite;
    (void)dav_parse_overwrite(s, &overwrite);
    int32_t timeout = -1;
    if (dav_parse_timeout(s, 3600, &timeout) &&
        (timeout < 1 || timeout > 3600))
        fuzz_fail("Timeout %.*s: %d seconds", (int)n, v, (int)timeout);

    const char *path;
    bool other;
    if (dav_parse_destination(a, s, FUZZ_HOST, &path, &other)) {
        struct dav_target t;
        bool notfound;
        if (path == NULL)
            fuzz_fail("Destination %.*s: no path", (int)n, v);
        (void)dav_path_parse(a, path, &t, &notfound);
    }

    static const char *const etags[] = { "\"abc\"", "\"\"", "W/\"abc\"",
                                         NULL };
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++)
        for (int flags = 0; flags < 4; flags++)
            (void)dav_etag_list_match(s, etags[i], flags & 1, flags & 2);

    time_t t;
    if (http_date_parse(s, &t) && t >= 0 && t < 253402300800) {
        /* What we parse and format again must read back the same. */
        char d[30];
        time_t t2;
        http_date_format(t, d);
        if (!http_date_parse(str_c(d), &t2) || t2 != t)
            fuzz_fail("date %.*s -> %lld -> %s -> %lld", (int)n, v,
                      (long long)t, d, (long long)t2);
    }

    arena_destroy(a);
    free(exact);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_store_ready();
    unsigned sel = data[0];
    const char *p = (const char *)data + 1;
    size_t left = size - 1;

    struct fuzz_hdr hdrs[MAX_HDRS + 1];
    size_t nh = 0;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t ll = nl != NULL ? (size_t)(nl - p) : left;
        size_t rest = nl != NULL ? left - ll - 1 : 0;
        const char *next = nl != NULL ? nl + 1 : p + ll;
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        const char *colon = memchr(p, ':', ll);
        if (colon != NULL && colon > p && nh < MAX_HDRS) {
            const char *v = colon + 1;
            size_t vl = ll - (size_t)(v - p);
            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            char *value = substitute(v, vl);
            parse_all(value, strlen(value));
            hdrs[nh].name = fuzz_cstr((const uint8_t *)p, (size_t)(colon - p));
            hdrs[nh].value = value;
            nh++;
        }
        p = next;
        left = rest;
    }
    hdrs[nh].name = NULL;
    hdrs[nh].value = NULL;

    /* Bits 4-5: the principal (alice, bob the reader, carol, nobody). */
    static const char *const who[4] = { "alice", "bob", "carol", NULL };
    fuzz_login(who[(sel >> 4) & 3]);
    const char *body = requests[sel & 15].body;
    struct dav_req *req = fuzz_request(requests[sel & 15].method,
                                       requests[sel & 15].url, hdrs, body,
                                       body != NULL ? strlen(body) : 0, 0);
    fuzz_done(req);

    for (size_t i = 0; i < nh; i++) {
        free((char *)(uintptr_t)hdrs[i].name);
        free((char *)(uintptr_t)hdrs[i].value);
    }
    return 0;
}
