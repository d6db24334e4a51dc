/*
 * core/core.h -- leaf utilities used by every layer of Parvis: the
 * request arena, length-carrying strings, growable buffers, logging,
 * SHA-256, Base64, HTTP dates and UUIDs.
 *
 * Ownership: everything returned by an arena_* or buf_* function lives
 * in the arena it came from and dies with it.  Allocation never fails:
 * on out-of-memory the process logs and aborts (STYLE.md 2.4).
 */
#ifndef PARVIS_CORE_H
#define PARVIS_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- arena ------------------------------------------------------------ */

struct arena;

typedef void (*arena_cleanup_fn)(void *obj);

/* Create an arena; destroy it with arena_destroy().  Cannot fail. */
struct arena *arena_create(void);
/* Run the deferred cleanups in reverse order, then free all memory,
 * including child arenas.  NULL is accepted. */
void arena_destroy(struct arena *a);
/* A child arena: destroyed with its parent, or earlier by the caller. */
struct arena *arena_child(struct arena *parent);
/* Run cleanups and release memory, keeping the arena usable. */
void arena_reset(struct arena *a);
/* Zeroed memory, 16-byte aligned, owned by 'a'.  Cannot fail. */
void *arena_alloc(struct arena *a, size_t n);
/* The same, not zeroed: for buffers written before they are read. */
void *arena_alloc_raw(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Register fn(obj) to run when 'a' is reset or destroyed. */
void arena_defer(struct arena *a, arena_cleanup_fn fn, void *obj);
/* Number of arenas alive in the process (for leak checks in tests). */
long arena_live_count(void);

/* Abort with a message: for broken invariants and out-of-memory only. */
_Noreturn void core_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- strings ------------------------------------------------------------ */

struct str {
    const char *p;
    size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

/* A view of a NUL-terminated string (NULL gives the empty view). */
struct str str_c(const char *s);
bool str_eq(struct str a, struct str b);
bool str_eq_c(struct str a, const char *b);
bool str_case_eq_c(struct str a, const char *b);
bool str_starts_with_c(struct str a, const char *prefix);
/* Trim spaces and tabs at both ends. */
struct str str_trim(struct str s);
/* Parse a non-negative decimal integer that fills all of 's'. */
bool str_to_u64(struct str s, uint64_t *out);
/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if
 * there is none (overlong forms, surrogates, past U+10FFFF). */
size_t utf8_seq_len(const char *s, size_t n);
/* s for a log line or the audit trail: control characters, '%', '"',
 * '\\', bytes that are not UTF-8 and, unless 'spaces', spaces written
 * %XX, so that a value cannot split or shift a line's fields; s itself
 * when nothing needs it. */
struct arena;
const char *str_log_safe(struct arena *a, const char *s, bool spaces);
/* The same, of at most 'max' bytes of s ("..." added when cut). */
const char *str_log_clip(struct arena *a, const char *s, size_t max,
                         bool spaces);

/* ---- growable buffer ------------------------------------------------------ */

struct buf {
    struct arena *arena;
    char *p;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b, struct arena *a, size_t cap);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append with XML escaping of & < > " (text and attribute safe). */
void buf_xml_escape(struct buf *b, const char *s, size_t n);
/* Append with XML escaping of & < > only (element content). */
void buf_xml_text(struct buf *b, const char *s, size_t n);
/* Append with percent-encoding of everything but unreserved and '/'. */
void buf_url_escape(struct buf *b, const char *s, size_t n);
/* NUL-terminate (not counted in len) and return p. */
char *buf_cstr(struct buf *b);

/* ---- logging ---------------------------------------------------------------- */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Primary message: short, lower-case, factual.  'detail' may be NULL. */
void log_msg(enum log_level level, const char *reqid, const char *detail,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- hashing and encodings ------------------------------------------------- */

struct sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* The same bytes into two hashes, as two sha256_update calls would, in
 * less time when both are at a block boundary (the message schedule is
 * made once). */
void sha256_update2(struct sha256 *a, struct sha256 *b, const void *data,
                    size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
void sha256_once(const void *data, size_t n, unsigned char out[32]);
/* Whether the processor's SHA instructions may be used (the default: yes
 * when it has them); true if they are in use now.  For tests. */
bool sha256_accelerate(bool allow);
/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Decode standard Base64; false on invalid input.  Result in arena. */
bool base64_decode(struct arena *a, struct str in, char **out, size_t *outlen);
void base64_encode(const unsigned char *in, size_t n, struct buf *out);

/* Constant-time comparison of two equal-length byte strings. */
bool core_ct_equal(const void *a, const void *b, size_t n);

/* ---- time ------------------------------------------------------------------ */

/* RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), into 30 bytes. */
void http_date_format(time_t t, char out[30]);
/* Parse IMF-fixdate, RFC 850 and asctime forms; false if invalid. */
bool http_date_parse(struct str s, time_t *out);
/* RFC 3339 UTC ("1994-11-06T08:49:37Z"), into 21 bytes. */
void rfc3339_format(time_t t, char out[21]);

/* ---- Unicode ---------------------------------------------------------------- */

/* The NFC form of valid UTF-8 's' (NUL-terminated, in the arena); false if
 * 's' cannot be normalised.  macOS sends NFD names: both forms resolve to
 * the same stored (NFC) name. */
bool str_nfc(struct arena *a, const char *s, size_t n, char **out,
             size_t *outlen);

/* Unicode case folding (i;unicode-casemap) of UTF-8 s, in the arena; NULL
 * if s is not valid UTF-8. */
const char *str_casefold(struct arena *a, const char *s);

/* ---- misc ------------------------------------------------------------------ */

/* A fresh random UUID string, in the arena. */
char *uuid_new(struct arena *a);
/* Fill with bytes from the system CSPRNG; aborts if none is available. */
void core_random(void *out, size_t n);

#endif
