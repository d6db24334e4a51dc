/*
 * tests/unit/dav/test_parse.c -- dav/parse.c: request-path decoding and
 * the Depth, Overwrite, Destination and ETag-list header parsers, and the
 * UTF-8 validator.
 */
#include "tests/unit/unit.h"

#include <string.h>

#include "dav/dav_int.h"

/* ---- request paths ------------------------------------------------------- */

struct path_case {
    const char *raw;
    enum dav_area area;
    const char *slug;
    const char *path;
    bool trailing;
};

static void
test_path_areas(void **state)
{
    (void)state;
    static const struct path_case cases[] = {
        { "/", DAV_AREA_ROOT, NULL, "", true },
        { "/dav", DAV_AREA_DAVROOT, NULL, "", false },
        { "/dav/", DAV_AREA_DAVROOT, NULL, "", true },
        { "/dav/spaces", DAV_AREA_SPACES, NULL, "", false },
        { "/dav/spaces/", DAV_AREA_SPACES, NULL, "", true },
        { "/dav/spaces/team", DAV_AREA_SPACE, "team", "", false },
        { "/dav/spaces/team/", DAV_AREA_SPACE, "team", "", true },
        { "/dav/spaces/team/a", DAV_AREA_SPACE, "team", "/a", false },
        { "/dav/spaces/team/a/b.txt", DAV_AREA_SPACE, "team", "/a/b.txt",
          false },
        { "/dav/spaces/team/a/b/", DAV_AREA_SPACE, "team", "/a/b", true },
        /* empty segments are folded */
        { "//dav///spaces/team//a///b", DAV_AREA_SPACE, "team", "/a/b",
          false },
        /* dots that are not "." or ".." are ordinary names */
        { "/dav/spaces/team/.hidden/...", DAV_AREA_SPACE, "team",
          "/.hidden/...", false },
        { "/dav/spaces/team/a.b/..c", DAV_AREA_SPACE, "team", "/a.b/..c",
          false },
        /* decoded exactly once */
        { "/dav/spaces/team/a%20b", DAV_AREA_SPACE, "team", "/a b", false },
        { "/dav/spaces/team/%25", DAV_AREA_SPACE, "team", "/%", false },
        { "/dav/spaces/team/%2541", DAV_AREA_SPACE, "team", "/%41", false },
        { "/dav/spaces/team/caf%C3%A9", DAV_AREA_SPACE, "team",
          "/caf\xc3\xa9", false },
        { "/dav/spaces/team/caf%c3%a9", DAV_AREA_SPACE, "team",
          "/caf\xc3\xa9", false },
        { "/dav/spaces/team/caf\xc3\xa9", DAV_AREA_SPACE, "team",
          "/caf\xc3\xa9", false },
        /* NFD (macOS) becomes NFC */
        { "/dav/spaces/team/cafe%CC%81", DAV_AREA_SPACE, "team",
          "/caf\xc3\xa9", false },
        { "/dav/spaces/team/%F0%9F%98%80", DAV_AREA_SPACE, "team",
          "/\xf0\x9f\x98\x80", false },
        { "/dav/spaces/my%20team/x", DAV_AREA_SPACE, "my team", "/x",
          false },
        { "/dav/spaces/team/a+b;c=d", DAV_AREA_SPACE, "team", "/a+b;c=d",
          false },
        /* '\' is part of a name, raw or encoded (as our hrefs send it),
         * never a separator */
        { "/dav/spaces/team/a\\b", DAV_AREA_SPACE, "team", "/a\\b", false },
        { "/dav/spaces/team/a%5Cb", DAV_AREA_SPACE, "team", "/a\\b", false },
        { "/dav/spaces/team/a%5cb", DAV_AREA_SPACE, "team", "/a\\b", false },
        { "/dav/spaces/team/%5C..%5C", DAV_AREA_SPACE, "team", "/\\..\\",
          false },
        { "/dav/spaces/team/..%5C", DAV_AREA_SPACE, "team", "/..\\",
          false },
    };
    struct arena *a = arena_create();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct path_case *c = &cases[i];
        struct dav_target t;
        bool notfound = true;
        if (!dav_path_parse(a, c->raw, &t, &notfound))
            fail_msg("refused \"%s\"", c->raw);
        assert_false(notfound);
        assert_int_equal(t.area, c->area);
        if (c->slug != NULL)
            assert_string_equal(t.slug, c->slug);
        else
            assert_null(t.slug);
        assert_string_equal(t.path, c->path);
        if (t.trailing_slash != c->trailing)
            fail_msg("trailing_slash wrong for \"%s\"", c->raw);
        assert_false(t.exists);
    }
    arena_destroy(a);
}

static void
test_path_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "/dav/spaces/team/..",
        "/dav/spaces/team/a/../b",
        "/dav/spaces/team/%2e%2e",
        "/dav/spaces/team/%2E%2E/x",
        "/dav/spaces/team/.%2e",
        "/dav/spaces/team/.",
        "/dav/spaces/team/a/./b",
        "/dav/spaces/team/%2e",
        "/dav/spaces/../x",
        "/dav/spaces/%2e%2e/x",       /* in the slug too */
        "/..",
        "/dav/spaces/team/a%2fb",     /* encoded '/' */
        "/dav/spaces/team/a%2Fb",
        "/dav/spaces/team/a%5C/../b", /* '\' does not hide a ".." */
        "/dav/spaces/team/a\\/../b",
        "/dav/spaces/team/a%00b",     /* NUL */
        "/dav/spaces/team/a%0ab",     /* control characters */
        "/dav/spaces/team/a%7fb",
        "/dav/spaces/team/a\x01" "b",
        "/dav/spaces/team/%ff",       /* not UTF-8 */
        "/dav/spaces/team/%c0%af",    /* overlong '/' */
        "/dav/spaces/team/%e0%80%af", /* overlong, 3 bytes */
        "/dav/spaces/team/%c3",       /* truncated sequence */
        "/dav/spaces/team/%c3x",
        "/dav/spaces/team/%ed%a0%80", /* UTF-16 surrogate */
        "/dav/spaces/team/%f4%90%80%80", /* beyond U+10FFFF */
        "/dav/spaces/team/%zz",       /* bad escapes */
        "/dav/spaces/team/%4",
        "/dav/spaces/team/%",
        "/dav/spaces/team/a%g1",
        "",                           /* not absolute */
        "dav/spaces/team",
        "*",
    };
    struct arena *a = arena_create();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dav_target t;
        bool notfound = true;
        if (dav_path_parse(a, bad[i], &t, &notfound))
            fail_msg("accepted \"%s\" as path \"%s\"", bad[i], t.path);
        if (notfound)
            fail_msg("\"%s\" is a bad request, not a 404", bad[i]);
    }
    struct dav_target t;
    bool notfound = true;
    assert_false(dav_path_parse(a, NULL, &t, &notfound));
    arena_destroy(a);
}

static void
test_path_outside_namespace(void **state)
{
    (void)state;
    static const char *other[] = { "/index.html", "/davx", "/dav/other",
                                   "/dav/space/x", "/DAV/spaces/x",
                                   "/dav/Spaces/x" };
    struct arena *a = arena_create();
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct dav_target t;
        bool notfound = false;
        if (dav_path_parse(a, other[i], &t, &notfound))
            fail_msg("accepted \"%s\"", other[i]);
        if (!notfound)
            fail_msg("\"%s\" should be 404", other[i]);
    }
    arena_destroy(a);
}

/* ---- Depth / Overwrite --------------------------------------------------- */

static void
test_parse_depth(void **state)
{
    (void)state;
    enum dav_depth d = DAV_DEPTH_1;
    assert_true(dav_parse_depth(STR_LIT("0"), &d));
    assert_int_equal(d, DAV_DEPTH_0);
    assert_true(dav_parse_depth(STR_LIT("1"), &d));
    assert_int_equal(d, DAV_DEPTH_1);
    d = DAV_DEPTH_0;
    assert_true(dav_parse_depth(STR_LIT("infinity"), &d));
    assert_int_equal(d, DAV_DEPTH_INFINITY);
    d = DAV_DEPTH_0;
    assert_true(dav_parse_depth(STR_LIT("Infinity"), &d));
    assert_int_equal(d, DAV_DEPTH_INFINITY);
    assert_true(dav_parse_depth(STR_LIT(" 1\t"), &d));
    assert_int_equal(d, DAV_DEPTH_1);
    static const char *bad[] = { "", " ", "2", "-1", "01", "00", "inf",
                                 "infinite", "1,0", "one", "0 1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = DAV_DEPTH_1;
        if (dav_parse_depth(str_c(bad[i]), &d))
            fail_msg("accepted Depth \"%s\"", bad[i]);
        assert_int_equal(d, DAV_DEPTH_1);
    }
}

static void
test_parse_overwrite(void **state)
{
    (void)state;
    bool o = false;
    assert_true(dav_parse_overwrite(STR_LIT("T"), &o));
    assert_true(o);
    assert_true(dav_parse_overwrite(STR_LIT("F"), &o));
    assert_false(o);
    assert_true(dav_parse_overwrite(STR_LIT(" t "), &o));
    assert_true(o);
    assert_true(dav_parse_overwrite(STR_LIT("f"), &o));
    assert_false(o);
    static const char *bad[] = { "", "X", "TF", "true", "false", "1", "0",
                                 "\"T\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = true;
        if (dav_parse_overwrite(str_c(bad[i]), &o))
            fail_msg("accepted Overwrite \"%s\"", bad[i]);
        assert_true(o);
    }
}

/* ---- Destination --------------------------------------------------------- */

struct dest_case {
    const char *value;
    const char *host;
    const char *path;
    bool other;
};

static void
test_parse_destination(void **state)
{
    (void)state;
    static const struct dest_case cases[] = {
        /* same host */
        { "http://example.com/dav/spaces/s/b", "example.com",
          "/dav/spaces/s/b", false },
        { "https://example.com/dav/spaces/s/b", "example.com",
          "/dav/spaces/s/b", false },
        { "http://EXAMPLE.com/x", "example.com", "/x", false },
        { "http://example.com:8080/x", "example.com:8080", "/x", false },
        { "http://[::1]:8080/x", "[::1]:8080", "/x", false },
        { "  http://example.com/x  ", "example.com", "/x", false },
        { "http://example.com", "example.com", "/", false },
        /* the path is passed on raw: decoding is dav_path_parse's job */
        { "http://example.com/a%20b", "example.com", "/a%20b", false },
        /* the scheme in any case, a default port written or not
         * (RFC 3986 §3.1, §6.2.3) */
        { "HTTP://example.com/x", "example.com", "/x", false },
        { "Https://example.com/x", "example.com", "/x", false },
        { "http://example.com:80/x", "example.com", "/x", false },
        { "http://example.com/x", "example.com:80", "/x", false },
        { "https://example.com:443/x", "example.com", "/x", false },
        { "https://example.com:80/x", "example.com", "/x", true },
        { "http://example.com:443/x", "example.com", "/x", true },
        /* other host, or same name and another port */
        { "http://other.org/x", "example.com", "/x", true },
        { "http://example.com:8081/x", "example.com:8080", "/x", true },
        { "http://example.com/x", "example.com:8080", "/x", true },
        { "http://example.com/x", NULL, "/x", true },
        /* userinfo is not part of the host ... */
        { "http://user:pw@example.com/x", "example.com", "/x", false },
        /* ... and cannot pose as it */
        { "http://example.com@evil.org/x", "example.com", "/x", true },
        /* path only (RFC 4918 §8.3 Simple-ref) */
        { "/dav/spaces/s/b", "example.com", "/dav/spaces/s/b", false },
        { "/dav/spaces/s/b", NULL, "/dav/spaces/s/b", false },
        /* a query is not part of the path, in either form */
        { "http://example.com/x/y?z=1", "example.com", "/x/y", false },
        { "/dav/spaces/s/b?x=1&y", "example.com", "/dav/spaces/s/b", false },
        { "/dav/spaces/s/b?", "example.com", "/dav/spaces/s/b", false },
    };
    struct arena *a = arena_create();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dest_case *c = &cases[i];
        const char *raw = NULL;
        bool other = !c->other;
        if (!dav_parse_destination(a, str_c(c->value), c->host, &raw, &other))
            fail_msg("refused Destination \"%s\"", c->value);
        assert_non_null(raw);
        if (strcmp(raw, c->path) != 0)
            fail_msg("Destination \"%s\": path \"%s\", expected \"%s\"",
                     c->value, raw, c->path);
        if (other != c->other)
            fail_msg("Destination \"%s\" with Host %s: other_server %d",
                     c->value, c->host != NULL ? c->host : "(none)", other);
    }
    static const char *bad[] = {
        "",
        "   ",
        "ftp://example.com/x",
        "example.com/x",
        "http:/x",
        "http:///x",                /* empty authority */
        "http://user@/x",           /* empty host after userinfo */
        "http://exa mple.com/x",
        "http://example.com:80a/x", /* bad port */
        "http://[::1/x",            /* unclosed IP-literal */
        "http://example.com?x",     /* no path, query glued to the host */
        "http://example.com/x#y",   /* a fragment (RFC 4918 §8.3) */
        "/dav/spaces/s/b#y",
        "//example.com/dav/spaces/s/b", /* a network-path reference */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *raw = NULL;
        bool other = false;
        if (dav_parse_destination(a, str_c(bad[i]), "example.com", &raw,
                                  &other))
            fail_msg("accepted Destination \"%s\"", bad[i]);
    }
    arena_destroy(a);
}

/* ---- ETag lists ---------------------------------------------------------- */

/* Stored property elements, written into an answer whose root declares
 * D:, Z: and the other known prefixes. */
static void
test_put_stored(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        /* the root's own binding: dropped */
        { "<Z:T xmlns:Z=\"urn:schemas-microsoft-com:\">x</Z:T>",
          "<Z:T>x</Z:T>" },
        { "<Z:T xmlns:Z=\"urn:schemas-microsoft-com:\"/>", "<Z:T/>" },
        { "<D:x xmlns:D=\"DAV:\">1</D:x>", "<D:x>1</D:x>" },
        /* a known prefix bound elsewhere, an unknown prefix, a default
         * namespace: kept */
        { "<Z:T xmlns:Z=\"urn:other\">x</Z:T>",
          "<Z:T xmlns:Z=\"urn:other\">x</Z:T>" },
        { "<q:T xmlns:q=\"urn:q\">x</q:T>",
          "<q:T xmlns:q=\"urn:q\">x</q:T>" },
        { "<T xmlns=\"urn:d\">x</T>", "<T xmlns=\"urn:d\">x</T>" },
        /* one of two, and never inside the content */
        { "<Z:T xmlns:q=\"urn:q\" xmlns:Z=\"urn:schemas-microsoft-com:\">"
          "<q:a xmlns:Z=\"urn:schemas-microsoft-com:\"/></Z:T>",
          "<Z:T xmlns:q=\"urn:q\">"
          "<q:a xmlns:Z=\"urn:schemas-microsoft-com:\"/></Z:T>" },
        /* an attribute holding '>' or the pattern itself */
        { "<q:T a=\"> xmlns:Z=\" xmlns:q=\"urn:q\">x</q:T>",
          "<q:T a=\"> xmlns:Z=\" xmlns:q=\"urn:q\">x</q:T>" },
        /* malformed: left as it is */
        { "<Z:T xmlns:Z=\"urn:schemas-microsoft-com:>",
          "<Z:T xmlns:Z=\"urn:schemas-microsoft-com:>" },
        { "<Z:T xmlns:Z", "<Z:T xmlns:Z" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena *a = arena_create();
        struct buf b;
        buf_init(&b, a, 16);
        dav_xml_put_stored(&b, cases[i].in);
        assert_string_equal(buf_cstr(&b), cases[i].out);
        arena_destroy(a);
    }
}

static void
test_etag_list_match(void **state)
{
    (void)state;
    const char *e = "\"abc\"";
    bool weak, strong;
    for (int w = 0; w < 2; w++) {
        weak = w == 1;
        assert_true(dav_etag_list_match(STR_LIT("\"abc\""), e, true, weak));
        assert_true(dav_etag_list_match(STR_LIT("  \"abc\"  "), e, true,
                                        weak));
        assert_true(dav_etag_list_match(STR_LIT("\"x\", \"abc\""), e, true,
                                        weak));
        assert_true(dav_etag_list_match(STR_LIT("\"x\",\"y\" ,\t\"abc\""), e,
                                        true, weak));
        assert_false(dav_etag_list_match(STR_LIT("\"abcd\""), e, true, weak));
        assert_false(dav_etag_list_match(STR_LIT("\"ab\""), e, true, weak));
        assert_false(dav_etag_list_match(STR_LIT("\"x\", \"y\""), e, true,
                                         weak));
        assert_false(dav_etag_list_match(STR_LIT("abc"), e, true, weak));
        assert_false(dav_etag_list_match(STR_LIT(""), e, true, weak));
        assert_false(dav_etag_list_match(STR_LIT("\"abc"), e, true, weak));
        /* "*" matches any current representation, and only that */
        assert_true(dav_etag_list_match(STR_LIT("*"), e, true, weak));
        assert_true(dav_etag_list_match(STR_LIT(" * "), NULL, true, weak));
        assert_false(dav_etag_list_match(STR_LIT("*"), NULL, false, weak));
        /* no representation: no tag matches */
        assert_false(dav_etag_list_match(STR_LIT("\"abc\""), NULL, false,
                                         weak));
    }
    /* RFC 9110 §13.1.1: If-Match compares strongly, so a weak tag never
     * matches; If-None-Match compares weakly. */
    strong = dav_etag_list_match(STR_LIT("W/\"abc\""), e, true, false);
    weak = dav_etag_list_match(STR_LIT("W/\"abc\""), e, true, true);
    assert_false(strong);
    assert_true(weak);
    assert_false(dav_etag_list_match(STR_LIT("W/\"x\", W/\"abc\""), e, true,
                                     false));
    assert_true(dav_etag_list_match(STR_LIT("W/\"x\", \"abc\""), e, true,
                                    false));
    assert_true(dav_etag_list_match(STR_LIT("\"x\", W/\"abc\""), e, true,
                                    true));
}

/* ---- UTF-8 --------------------------------------------------------------- */

static void
test_utf8_valid(void **state)
{
    (void)state;
    static const char *good[] = {
        "",
        "plain ascii",
        "caf\xc3\xa9",             /* U+00E9 */
        "\xc2\x80",                /* U+0080, smallest 2-byte */
        "\xdf\xbf",                /* U+07FF */
        "\xe0\xa0\x80",            /* U+0800, smallest 3-byte */
        "\xe2\x82\xac",            /* U+20AC */
        "\xed\x9f\xbf",            /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",            /* U+E000, just above */
        "\xef\xbf\xbf",            /* U+FFFF */
        "\xf0\x90\x80\x80",        /* U+10000, smallest 4-byte */
        "\xf0\x9f\x98\x80",        /* U+1F600 */
        "\xf4\x8f\xbf\xbf",        /* U+10FFFF, the last */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!dav_utf8_valid(good[i], strlen(good[i])))
            fail_msg("refused valid UTF-8 #%zu", i);
    static const char *bad[] = {
        "\x80",                    /* lone continuation */
        "a\xbf" "b",
        "\xc3",                    /* truncated */
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xc3\x28",                /* bad continuation */
        "\xe2\x28\xac",
        "\xc0\xaf",                /* overlong */
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xe0\x9f\xbf",
        "\xf0\x80\x80\xaf",
        "\xf0\x8f\xbf\xbf",
        "\xed\xa0\x80",            /* surrogates */
        "\xed\xbf\xbf",
        "\xf4\x90\x80\x80",        /* beyond U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",    /* 5-byte form */
        "\xfe",
        "\xff",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dav_utf8_valid(bad[i], strlen(bad[i])))
            fail_msg("accepted invalid UTF-8 #%zu", i);
    /* the length bounds the check: a sequence cut by it is invalid, and
     * NUL is an ordinary (valid) code point for the validator */
    assert_false(dav_utf8_valid("caf\xc3\xa9", 4));
    assert_true(dav_utf8_valid("caf\xc3\xa9", 3));
    assert_true(dav_utf8_valid("a\0b", 3));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_path_areas),
        UNIT_TEST(test_path_refused),
        UNIT_TEST(test_path_outside_namespace),
        UNIT_TEST(test_parse_depth),
        UNIT_TEST(test_parse_overwrite),
        UNIT_TEST(test_parse_destination),
        UNIT_TEST(test_etag_list_match),
        UNIT_TEST(test_put_stored),
        UNIT_TEST(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
