/*
 * tests/fuzz/fuzz_path.c -- request paths and Destination URLs: the input
 * is a raw request target (or a Destination header value).
 *
 *   dav_path_parse       the input as a request path (a NUL-terminated
 *                        copy, as the http adapter passes it)
 *   dav_parse_destination  the input as a Destination header (exact
 *                        length), then its path through dav_path_parse
 *   dav_url_to_target    the same through dav/'s public helper
 *
 * Invariants of a path that parses: in-space paths are "" or "/seg/..."
 * without empty, "." or ".." segments nor control characters, and valid
 * UTF-8; and an href the server builds for a parsed target parses back to
 * the same target (dav_space_href, dav_principal_href, dav_calendar_url).
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "dav/dav_int.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static const char *
null_str(const char *s)
{
    return s != NULL ? s : "(null)";
}

static bool
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A decoded name: non-empty, not "." or "..", no '/', no control
 * character, valid UTF-8. */
static void
check_name(const char *what, const char *s)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    if (n == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
        strchr(s, '/') != NULL || !dav_utf8_valid(s, n))
        fuzz_fail("%s: bad name \"%s\"", what, s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            fuzz_fail("%s: control character in \"%s\"", what, s);
}

static void
check_path(const char *raw, const char *path)
{
    if (path == NULL)
        fuzz_fail("%s: no path", raw);
    if (path[0] == '\0')
        return;
    if (path[0] != '/')
        fuzz_fail("%s: path \"%s\" not absolute", raw, path);
    const char *p = path + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        char seg[4096];
        if (n >= sizeof(seg))
            n = sizeof(seg) - 1;
        memcpy(seg, p, n);
        seg[n] = '\0';
        check_name(raw, seg);
        if (e == NULL)
            break;
        p = e + 1;
    }
}

/* Parse an href the server built and compare with the target it came
 * from. */
static void
roundtrip(struct arena *a, const char *raw, const char *href,
          const struct dav_target *t)
{
    struct dav_target u;
    bool notfound;
    if (!dav_path_parse(a, href, &u, &notfound))
        fuzz_fail("%s: the href %s built for it does not parse", raw, href);
    if (u.area != t->area || !same(u.slug, t->slug) ||
        !same(u.path, t->path) || !same(u.cal_user, t->cal_user) ||
        !same(u.cal_name, t->cal_name))
        fuzz_fail("%s: href %s parses to area %d slug %s path %s, not "
                  "area %d slug %s path %s",
                  raw, href, u.area, null_str(u.slug), null_str(u.path),
                  t->area, null_str(t->slug), null_str(t->path));
}

static void
check_target(struct arena *a, const char *raw, const struct dav_target *t)
{
    check_path(raw, t->path);
    check_name(raw, t->slug);
    check_name(raw, t->cal_user);
    check_name(raw, t->cal_name);
    switch (t->area) {
    case DAV_AREA_SPACE:
        if (t->slug == NULL && t->cal_name == NULL)
            fuzz_fail("%s: a space target without a slug", raw);
        if (t->cal_name != NULL) {
            /* /dav/calendars/<user>/<cal>/<rest> */
            const char *base = dav_calendar_url(a, t->cal_user, t->cal_name);
            struct buf b;
            buf_init(&b, a, 256);
            buf_puts(&b, base);
            buf_url_escape(&b, t->path, strlen(t->path));
            roundtrip(a, raw, buf_cstr(&b), t);
        } else if (t->base_path == NULL) {
            roundtrip(a, raw,
                      dav_space_href(a, t->slug, t->path, t->trailing_slash),
                      t);
        }
        break;
    case DAV_AREA_PRINCIPAL_USER:
    case DAV_AREA_PRINCIPAL_SPACE:
        if (t->slug == NULL)
            fuzz_fail("%s: a principal without a name", raw);
        roundtrip(a, raw,
                  dav_principal_href(a, t->area == DAV_AREA_PRINCIPAL_USER,
                                     t->slug),
                  t);
        break;
    default:
        break;
    }
}

static const char *
host_hdr(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "Host") == 0 ? "example.org:8080" : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_create();
    char *raw = fuzz_cstr(data, size);
    struct dav_target t;
    bool notfound = false;

    if (dav_path_parse(a, raw, &t, &notfound)) {
        if (notfound)
            fuzz_fail("%s: parsed, yet not found", raw);
        check_target(a, raw, &t);
    }

    /* As a Destination header: an exact-length view, not a C string. */
    char *exact = malloc(size > 0 ? size : 1);
    if (exact == NULL)
        abort();
    if (size > 0)
        memcpy(exact, data, size);
    const char *path = NULL;
    bool other = false;
    if (dav_parse_destination(a, (struct str){ exact, size },
                              "example.org:8080", &path, &other)) {
        if (path == NULL)
            fuzz_fail("destination %s: no path", raw);
        if (!other && dav_path_parse(a, path, &t, &notfound))
            check_target(a, path, &t);
    }
    free(exact);

    /* dav_url_to_target needs a request for its arena and Host. */
    struct dav_req req;
    memset(&req, 0, sizeof(req));
    req.arena = a;
    req.header_fn = host_hdr;
    if (dav_url_to_target(&req, raw, &t))
        check_target(a, raw, &t);

    free(raw);
    arena_destroy(a);
    return 0;
}
