/*
 * core/str.c -- length-carrying string views and the growable buffer.
 */
#include "core/core.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unicase.h>
#include <uninorm.h>
#include <stdlib.h>

struct str
str_c(const char *s)
{
    struct str r = { s != NULL ? s : "", s != NULL ? strlen(s) : 0 };
    return r;
}

bool
str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
str_eq_c(struct str a, const char *b)
{
    return str_eq(a, str_c(b));
}

bool
str_case_eq_c(struct str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && strncasecmp(a.p, b, n) == 0;
}

bool
str_starts_with_c(struct str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && memcmp(a.p, prefix, n) == 0;
}

struct str
str_trim(struct str s)
{
    while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

bool
str_to_u64(struct str s, uint64_t *out)
{
    uint64_t v = 0;
    if (s.len == 0 || s.len > 19)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *out = v;
    return true;
}

void
buf_init(struct buf *b, struct arena *a, size_t cap)
{
    b->arena = a;
    b->cap = cap > 0 ? cap : 256;
    b->p = arena_alloc_raw(a, b->cap);
    b->len = 0;
}

static void
buf_grow(struct buf *b, size_t need)
{
    if (b->len + need + 1 <= b->cap)
        return;
    size_t cap = b->cap * 2;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *p = arena_alloc_raw(b->arena, cap);
    memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
}

void
buf_append(struct buf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    buf_grow(b, n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void
buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
    /* Once into the room left; again only when it did not fit. */
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->p + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n > 0 && (size_t)n >= room) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    }
    if (n > 0)
        b->len += (size_t)n;
    va_end(ap);
}

void
buf_xml_escape(struct buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: break;
        }
        if (rep != NULL) {
            buf_append(b, s + start, i - start);
            buf_puts(b, rep);
            start = i + 1;
        }
    }
    buf_append(b, s + start, n - start);
}

void
buf_xml_text(struct buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                                        : NULL;
        if (rep != NULL) {
            buf_append(b, s + start, i - start);
            buf_puts(b, rep);
            start = i + 1;
        }
    }
    buf_append(b, s + start, n - start);
}

void
buf_url_escape(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || c == '~' || c == '/';
        if (keep) {
            buf_append(b, &s[i], 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            buf_append(b, e, 3);
        }
    }
}

char *
buf_cstr(struct buf *b)
{
    buf_grow(b, 1);
    b->p[b->len] = '\0';
    return b->p;
}

bool
str_nfc(struct arena *a, const char *s, size_t n, char **out, size_t *outlen)
{
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii) {
        *out = arena_strndup(a, s, n);
        *outlen = n;
        return true;
    }
    size_t len = 0;
    uint8_t *r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &len);
    if (r == NULL)
        return false;
    *out = arena_strndup(a, (const char *)r, len);
    *outlen = len;
    free(r); /* allocated by libunistring */
    return true;
}

const char *
str_casefold(struct arena *a, const char *s)
{
    size_t len = 0;
    uint8_t *r = u8_casefold((const uint8_t *)s, strlen(s), NULL, UNINORM_NFC,
                             NULL, &len);
    if (r == NULL)
        return NULL;
    char *out = arena_strndup(a, (const char *)r, len);
    free(r); /* allocated by libunistring */
    return out;
}

size_t
utf8_seq_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    size_t extra;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        extra = 1;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        extra = 2;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        extra = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (extra >= n)
        return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return extra + 1;
}

const char *
str_log_clip(struct arena *a, const char *s, size_t max, bool spaces)
{
    if (strlen(s) > max)
        s = arena_printf(a, "%.*s...", (int)max, s);
    return str_log_safe(a, s, spaces);
}

const char *
str_log_safe(struct arena *a, const char *s, bool spaces)
{
    size_t n = strlen(s);
    struct buf b;
    bool changed = false;
    buf_init(&b, a, n + 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = utf8_seq_len(s + i, n - i);
        /* C1 controls (U+0080-U+009F: C2 80-9F) and the line and
         * paragraph separators (U+2028, U+2029: E2 80 A8-A9) break
         * lines as surely as '\n' does. */
        const unsigned char *u = (const unsigned char *)s + i;
        bool breaks = (len == 2 && u[0] == 0xc2 && u[1] < 0xa0) ||
                      (len == 3 && u[0] == 0xe2 && u[1] == 0x80 &&
                       (u[2] == 0xa8 || u[2] == 0xa9));
        bool plain = (len > 1 && !breaks) ||
                     (len == 1 && c > 0x20 && c != 0x7f && c != '%' &&
                      c != '"' && c != '\\') ||
                     (c == ' ' && spaces);
        if (breaks) {
            for (size_t k = 0; k < len; k++)
                buf_printf(&b, "%%%02X", u[k]);
            changed = true;
            i += len;
            continue;
        }
        if (plain) {
            buf_append(&b, s + i, len);
            i += len;
        } else {
            buf_printf(&b, "%%%02X", c);
            changed = true;
            i++;
        }
    }
    return changed ? buf_cstr(&b) : s;
}
