/*
 * dav/parse.c -- request-path decoding and the DAV/HTTP header parsers
 * (Depth, Overwrite, Destination, ETag lists).
 *
 * Paths (DESIGN.md "Namespace"): segments are percent-decoded exactly
 * once; "." and ".." segments, an encoded "/", NUL, other control
 * characters and invalid UTF-8 are refused with 400.  Empty segments
 * ("a//b") are folded.  Only '/' separates segments: '\' is an ordinary
 * character, raw or as %5C.
 */
#include "dav/dav_int.h"

#include <string.h>
#include <strings.h>

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
dav_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_seq_len(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/* Decode one segment; false if it must be refused. */
static bool
decode_segment(struct arena *a, const char *s, size_t n, char **out,
               size_t *outlen)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int hi = hexval(s[i + 1]);
            int lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
            /* An encoded '/' would be a separator that is not one.  '\'
             * is an ordinary character of a name, raw or as %5C (the form
             * buf_url_escape gives it in every href we build): only '/'
             * separates segments (RFC 3986 §3.3). */
            if (c == '/')
                return false;
        }
        if ((unsigned char)c < 0x20 || c == 0x7f)
            return false;
        d[k++] = c;
    }
    d[k] = '\0';
    if (!dav_utf8_valid(d, k))
        return false;
    /* DESIGN.md "Namespace": names are stored in NFC. */
    if (!str_nfc(a, d, k, &d, &k))
        return false;
    if ((k == 1 && d[0] == '.') || (k == 2 && d[0] == '.' && d[1] == '.'))
        return false;
    if (k > DAV_NAME_MAX)
        return false;
    *out = d;
    *outlen = k;
    return true;
}

bool
dav_path_parse(struct arena *a, const char *raw, struct dav_target *t,
               bool *notfound)
{
    memset(t, 0, sizeof(*t));
    *notfound = false;
    if (raw == NULL || raw[0] != '/')
        return false;
    size_t rawlen = strlen(raw);
    t->trailing_slash = rawlen > 0 && raw[rawlen - 1] == '/';

    /* Split into decoded segments. */
    const char *segs[512];
    size_t lens[512];
    size_t nseg = 0;
    const char *p = raw + 1;
    size_t total = 0;
    while (*p != '\0') {
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        if (n > 0) {
            char *d;
            size_t dl;
            if (nseg == 512 || !decode_segment(a, p, n, &d, &dl))
                return false;
            total += dl + 1;
            if (total > DAV_PATH_MAX)
                return false;
            segs[nseg] = d;
            lens[nseg] = dl;
            nseg++;
        }
        p += n;
        if (*p == '/')
            p++;
    }

    if (nseg == 0) {
        t->area = DAV_AREA_ROOT;
        t->path = "";
        return true;
    }
    if (strcmp(segs[0], "dav") != 0) {
        *notfound = true;
        return false;
    }
    if (nseg == 1) {
        t->area = DAV_AREA_DAVROOT;
        t->path = "";
        return true;
    }
    if (strcmp(segs[1], "principals") == 0) {
        static const enum dav_area list[2] = { DAV_AREA_PRINCIPAL_USERS,
                                               DAV_AREA_PRINCIPAL_SPACES };
        static const enum dav_area one[2] = { DAV_AREA_PRINCIPAL_USER,
                                              DAV_AREA_PRINCIPAL_SPACE };
        t->path = "";
        if (nseg == 2) {
            t->area = DAV_AREA_PRINCIPALS;
            return true;
        }
        int k = strcmp(segs[2], "users") == 0    ? 0
                : strcmp(segs[2], "spaces") == 0 ? 1
                                                 : -1;
        if (k < 0 || nseg > 4) {
            *notfound = true;
            return false;
        }
        t->area = nseg == 3 ? list[k] : one[k];
        t->slug = nseg == 4 ? segs[3] : NULL;
        return true;
    }
    if (strcmp(segs[1], "calendars") == 0) {
        t->path = "";
        if (nseg == 2) {
            t->area = DAV_AREA_CALENDARS;
            return true;
        }
        t->cal_user = segs[2];
        if (nseg == 3) {
            t->area = DAV_AREA_CAL_HOME;
            return true;
        }
        /* A calendar or an object of it: mapped onto its space when
         * resolved (dav_target_resolve). */
        t->area = DAV_AREA_SPACE;
        t->cal_name = segs[3];
        struct buf rest;
        buf_init(&rest, a, rawlen + 1);
        for (size_t i = 4; i < nseg; i++) {
            buf_puts(&rest, "/");
            buf_append(&rest, segs[i], lens[i]);
        }
        t->path = buf_cstr(&rest);
        return true;
    }
    static const struct {
        const char *name;
        enum dav_area area;
    } views[] = {
        { "history", DAV_AREA_HISTORY },
        { "published", DAV_AREA_PUBLISHED },
        { "approvals", DAV_AREA_APPROVALS },
        { "trash", DAV_AREA_SPACE },
    };
    for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
        if (strcmp(segs[1], views[v].name) != 0)
            continue;
        if (nseg < 3) {
            *notfound = true;
            return false;
        }
        t->area = views[v].area;
        t->slug = segs[2];
        struct buf b;
        buf_init(&b, a, rawlen + 1);
        if (views[v].area == DAV_AREA_SPACE) {
            /* The trash is the space's DAV_TRASH_FOLDER, mapped. */
            buf_puts(&b, DAV_TRASH_FOLDER);
            t->base_path = DAV_TRASH_FOLDER;
            struct buf u;
            buf_init(&u, a, 64);
            buf_puts(&u, "/dav/trash/");
            buf_url_escape(&u, segs[2], lens[2]);
            t->url_base = buf_cstr(&u);
        }
        for (size_t i = 3; i < nseg; i++) {
            buf_puts(&b, "/");
            buf_append(&b, segs[i], lens[i]);
        }
        t->path = buf_cstr(&b);
        if (views[v].area == DAV_AREA_APPROVALS && nseg > 4) {
            *notfound = true;
            return false;
        }
        return true;
    }
    if (strcmp(segs[1], "spaces") != 0) {
        *notfound = true;
        return false;
    }
    if (nseg == 2) {
        t->area = DAV_AREA_SPACES;
        t->path = "";
        return true;
    }
    t->area = DAV_AREA_SPACE;
    t->slug = segs[2];
    struct buf b;
    buf_init(&b, a, rawlen + 1);
    for (size_t i = 3; i < nseg; i++) {
        buf_puts(&b, "/");
        buf_append(&b, segs[i], lens[i]);
    }
    t->path = buf_cstr(&b);
    return true;
}

bool
dav_parse_depth(struct str s, enum dav_depth *out)
{
    s = str_trim(s);
    if (str_eq_c(s, "0"))
        *out = DAV_DEPTH_0;
    else if (str_eq_c(s, "1"))
        *out = DAV_DEPTH_1;
    else if (str_case_eq_c(s, "infinity"))
        *out = DAV_DEPTH_INFINITY;
    else
        return false;
    return true;
}

bool
dav_parse_overwrite(struct str s, bool *out)
{
    s = str_trim(s);
    if (str_eq_c(s, "T") || str_eq_c(s, "t"))
        *out = true;
    else if (str_eq_c(s, "F") || str_eq_c(s, "f"))
        *out = false;
    else
        return false;
    return true;
}

/* RFC 3986 §3.2: host (reg-name or IP-literal) and an optional port. */
static bool
authority_valid(const char *a, size_t n)
{
    size_t i = 0;
    if (n > 0 && a[0] == '[') {
        while (i < n && a[i] != ']')
            i++;
        if (i == n)
            return false;
        for (size_t k = 1; k < i; k++)
            if (strchr("0123456789abcdefABCDEF:.", a[k]) == NULL)
                return false;
        i++;
    } else {
        while (i < n && a[i] != ':') {
            char c = a[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                      c == '_' || c == '~';
            if (!ok)
                return false;
            i++;
        }
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (a[i] != ':')
        return false;
    for (i++; i < n; i++)
        if (a[i] < '0' || a[i] > '9')
            return false;
    return true;
}

/* The length of an authority without the scheme's default port (RFC 3986
 * §6.2.3: "host:80" is "host" for http). */
static size_t
authority_len(const char *p, size_t len, bool https)
{
    const char *port = https ? ":443" : ":80";
    size_t pl = strlen(port);
    if (len > pl && memcmp(p + len - pl, port, pl) == 0)
        return len - pl;
    return len;
}

bool
dav_parse_destination(struct arena *a, struct str s, const char *host,
                      const char **raw_path, bool *other_server)
{
    s = str_trim(s);
    *other_server = false;
    /* RFC 4918 §8.3: a Simple-ref has no fragment. */
    if (s.len == 0 || memchr(s.p, '#', s.len) != NULL)
        return false;
    if (s.p[0] == '/' && s.len > 1 && s.p[1] == '/')
        return false; /* a network-path reference names no server of ours */
    if (s.p[0] == '/') {
        /* RFC 4918 §8.3: Simple-ref = absolute-URI | ( path-absolute
         * [ "?" query ] ); the query is not part of the path. */
        const char *q = memchr(s.p, '?', s.len);
        *raw_path = arena_strndup(a, s.p,
                                  q != NULL ? (size_t)(q - s.p) : s.len);
        return true;
    }
    /* The scheme is case-insensitive (RFC 3986 §3.1). */
    const char *scheme_end = NULL;
    bool https = false;
    if (s.len >= 7 && strncasecmp(s.p, "http://", 7) == 0) {
        scheme_end = s.p + 7;
    } else if (s.len >= 8 && strncasecmp(s.p, "https://", 8) == 0) {
        scheme_end = s.p + 8;
        https = true;
    } else {
        return false;
    }
    const char *end = s.p + s.len;
    const char *slash = memchr(scheme_end, '/', (size_t)(end - scheme_end));
    size_t alen = slash != NULL ? (size_t)(slash - scheme_end)
                                : (size_t)(end - scheme_end);
    if (alen == 0)
        return false;
    const char *at = memchr(scheme_end, '@', alen);
    if (at != NULL) {
        alen -= (size_t)(at + 1 - scheme_end);
        scheme_end = at + 1;
    }
    if (!authority_valid(scheme_end, alen))
        return false;
    alen = authority_len(scheme_end, alen, https);
    if (host == NULL || authority_len(host, strlen(host), https) != alen ||
        strncasecmp(host, scheme_end, alen) != 0)
        *other_server = true;
    *raw_path = slash != NULL ? arena_strndup(a, slash, (size_t)(end - slash))
                              : "/";
    const char *q = strchr(*raw_path, '?');
    if (q != NULL)
        *raw_path = arena_strndup(a, *raw_path, (size_t)(q - *raw_path));
    return true;
}

bool
dav_etag_list_match(struct str list, const char *etag, bool exists,
                    bool weak)
{
    list = str_trim(list);
    if (str_eq_c(list, "*"))
        return exists;
    if (etag == NULL)
        return false;
    size_t el = strlen(etag);
    size_t i = 0;
    while (i < list.len) {
        while (i < list.len && (list.p[i] == ' ' || list.p[i] == ',' ||
                                list.p[i] == '\t'))
            i++;
        size_t start = i;
        bool weak_tag = false;
        if (i + 1 < list.len && list.p[i] == 'W' && list.p[i + 1] == '/') {
            weak_tag = true;
            i += 2;
            start = i;
        }
        if (i < list.len && list.p[i] == '"') {
            i++;
            while (i < list.len && list.p[i] != '"')
                i++;
            if (i < list.len)
                i++;
        } else {
            while (i < list.len && list.p[i] != ',')
                i++;
        }
        size_t n = i - start;
        /* Our ETags are strong; a weak tag with the same opaque value
         * matches under the weak comparison used by If-None-Match, never
         * under the strong one used by If-Match (RFC 9110 §13.1.1). */
        if (weak_tag && !weak)
            continue;
        if (n == el && memcmp(list.p + start, etag, el) == 0)
            return true;
    }
    return false;
}
