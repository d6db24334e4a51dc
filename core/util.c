/*
 * core/util.c -- logging, Base64, constant-time comparison, HTTP and
 * RFC 3339 dates, UUIDs and random bytes.
 *
 * The log level is the only process-wide mutable value here; it is set
 * once at start-up before threads exist, and read with relaxed atomics.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>
#include <uuid/uuid.h>

static atomic_int log_level = LOG_INFO;

void
log_set_level(enum log_level level)
{
    atomic_store(&log_level, (int)level);
}

void
log_msg(enum log_level level, const char *reqid, const char *detail,
        const char *fmt, ...)
{
    static const char *names[] = { "debug", "info", "warning", "error" };
    if ((int)level < atomic_load(&log_level))
        return;
    char ts[21];
    rfc3339_format(time(NULL), ts);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One fprintf per line so that lines of different threads never mix. */
    fprintf(stderr, "%s %s: %s%s%s%s%s\n", ts, names[level], msg,
            reqid != NULL ? " [req " : "", reqid != NULL ? reqid : "",
            reqid != NULL ? "]" : "", "");
    if (detail != NULL)
        fprintf(stderr, "%s %s:   detail: %s\n", ts, names[level], detail);
}

static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool
base64_decode(struct arena *a, struct str in, char **out, size_t *outlen)
{
    while (in.len > 0 && in.p[in.len - 1] == '=')
        in.len--;
    if (in.len % 4 == 1)
        return false;
    char *p = arena_alloc(a, in.len * 3 / 4 + 1);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in.len; i++) {
        int v = b64val((unsigned char)in.p[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[n++] = (char)(acc >> bits & 0xff);
        }
    }
    p[n] = '\0';
    *out = p;
    *outlen = n;
    return true;
}

void
base64_encode(const unsigned char *in, size_t n, struct buf *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63],
                      i + 1 < n ? tab[v >> 6 & 63] : '=',
                      i + 2 < n ? tab[v & 63] : '=' };
        buf_append(out, q, 4);
    }
}

bool
core_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

static const char *wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Two digits of v at p. */
static char *
put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* Four digits of v at p. */
static char *
put4(char *p, int v)
{
    return put2(put2(p, v / 100), v % 100);
}

/*
 * The UTC calendar fields of t, computed without gmtime_r, which takes
 * glibc's time zone lock on every call: every request formats a date or
 * two, and the connections' threads queued on that lock.  Days to civil
 * date after Howard Hinnant's public-domain algorithm (era of 400 years).
 */
static void
utc_fields(time_t t, struct tm *tm)
{
    int64_t secs = (int64_t)t;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    memset(tm, 0, sizeof(*tm));
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem % 3600 / 60);
    tm->tm_sec = (int)(rem % 60);
    /* 1970-01-01 was a Thursday. */
    tm->tm_wday = (int)((days % 7 + 11) % 7);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    tm->tm_mday = (int)day;
    tm->tm_mon = (int)month - 1;
    tm->tm_year = (int)(year - 1900);
}

/* Dates are formatted for every member of every listing: by hand, not
 * through snprintf, for the years that have four digits. */
void
http_date_format(time_t t, char out[30])
{
    struct tm tm;
    utc_fields(t, &tm);
    int year = tm.tm_year + 1900;
    if (year >= 0 && year <= 9999) {
        char *p = out;
        memcpy(p, wdays[tm.tm_wday], 3);
        p[3] = ',';
        p[4] = ' ';
        p = put2(p + 5, tm.tm_mday);
        *p++ = ' ';
        memcpy(p, months[tm.tm_mon], 3);
        p[3] = ' ';
        p = put4(p + 4, year);
        *p++ = ' ';
        p = put2(p, tm.tm_hour);
        *p++ = ':';
        p = put2(p, tm.tm_min);
        *p++ = ':';
        p = put2(p, tm.tm_sec);
        memcpy(p, " GMT", 5);
        return;
    }
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(out, 30, "%.29s", tmp);
}

void
rfc3339_format(time_t t, char out[21])
{
    struct tm tm;
    utc_fields(t, &tm);
    int year = tm.tm_year + 1900;
    if (year >= 0 && year <= 9999) {
        char *p = put4(out, year);
        *p++ = '-';
        p = put2(p, tm.tm_mon + 1);
        *p++ = '-';
        p = put2(p, tm.tm_mday);
        *p++ = 'T';
        p = put2(p, tm.tm_hour);
        *p++ = ':';
        p = put2(p, tm.tm_min);
        *p++ = ':';
        p = put2(p, tm.tm_sec);
        memcpy(p, "Z", 2);
        return;
    }
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    snprintf(out, 21, "%.20s", tmp);
}

static int
month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(m, months[i], 3) == 0)
            return i;
    return -1;
}

bool
http_date_parse(struct str s, time_t *out)
{
    char tmp[64];
    char mon[4] = { 0 };
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    int n = 0;
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (sscanf(tmp, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &tm.tm_mday, mon,
               &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6 &&
        n == (int)s.len) {
        /* ok */
    } else if (sscanf(tmp, "%*[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n",
                      &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min,
                      &tm.tm_sec, &n) == 6 &&
               n == (int)s.len) {
        /* RFC 850: two-digit year */
        tm.tm_year += tm.tm_year < 70 ? 2000 : 1900;
    } else if (sscanf(tmp, "%*3s %3s %d %2d:%2d:%2d %4d%n", mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tm.tm_year,
                      &n) == 6 &&
               n == (int)s.len) {
        /* asctime */
    } else {
        return false;
    }
    tm.tm_mon = month_index(mon);
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    *out = timegm(&tm);
    return true;
}

void
core_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            core_fatal("getrandom failed: %s", strerror(errno));
        }
        p += r;
        n -= (size_t)r;
    }
}

char *
uuid_new(struct arena *a)
{
    uuid_t u;
    char *s = arena_alloc(a, 37);
    uuid_generate_random(u);
    uuid_unparse_lower(u, s);
    return s;
}
