/*
 * tests/unit/core/test_core.c -- core/: the arena, string views, the
 * growable buffer, SHA-256 (FIPS 180-4 vectors), Base64 (RFC 4648 §10
 * vectors), HTTP and RFC 3339 dates, NFC, constant-time comparison and
 * UUIDs.  Expected values come from the standards, not from the code.
 */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------- */

static void
test_arena_alloc_zeroed_and_aligned(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    /* Dirty memory first, release it, then allocate again: malloc is
     * likely to hand back the same bytes, so only arena_alloc's own
     * zeroing makes the check pass. */
    for (int round = 0; round < 2; round++) {
        size_t sizes[] = { 1, 7, 16, 33, 1000, 4097, 8192, 20000, 100 };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            unsigned char *p = arena_alloc(a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 16, 0);
            for (size_t k = 0; k < sizes[i]; k++)
                assert_int_equal(p[k], 0);
            memset(p, 0xa5, sizes[i]);
        }
        arena_reset(a);
    }
    unsigned char *z = arena_alloc(a, 0);
    assert_non_null(z);
    arena_destroy(a);
}

static void
test_arena_allocations_do_not_overlap(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    enum { N = 300 };
    unsigned char *ps[N];
    size_t ls[N];
    for (int i = 0; i < N; i++) {
        /* small, medium and large (own block) sizes interleaved */
        ls[i] = i % 10 == 0 ? 5000 + (size_t)i : (size_t)(i % 97) + 1;
        ps[i] = arena_alloc(a, ls[i]);
        memset(ps[i], i & 0xff, ls[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < ls[i]; k++)
            assert_int_equal(ps[i][k], i & 0xff);
    arena_destroy(a);
}

static void
test_arena_strings(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    const char *src = "hello";
    char *d = arena_strdup(a, src);
    assert_string_equal(d, "hello");
    assert_ptr_not_equal(d, src);
    assert_null(arena_strdup(a, NULL));
    char *n = arena_strndup(a, "abcdef", 3);
    assert_string_equal(n, "abc");
    assert_string_equal(arena_strndup(a, "", 0), "");
    char *p = arena_printf(a, "%s-%d-%05.1f-%c", "x", -42, 3.14159, 'z');
    assert_string_equal(p, "x--42-003.1-z");
    /* longer than an arena block */
    char *big = arena_printf(a, "%20000d|", 7);
    assert_int_equal(strlen(big), 20001);
    assert_string_equal(big + 19999, "7|");
    arena_destroy(a);
}

static int cleanup_log[16];
static int cleanup_n;

static void
log_cleanup(void *obj)
{
    assert_true(cleanup_n < 16);
    cleanup_log[cleanup_n++] = *(int *)obj;
}

static void
test_arena_defer_order(void **state)
{
    (void)state;
    static int ids[] = { 1, 2, 3, 4, 5, 6 };
    cleanup_n = 0;
    struct arena *a = arena_create();
    arena_defer(a, log_cleanup, &ids[0]);
    arena_defer(a, log_cleanup, &ids[1]);
    arena_defer(a, log_cleanup, &ids[2]);
    arena_reset(a);
    assert_int_equal(cleanup_n, 3);
    assert_int_equal(cleanup_log[0], 3);
    assert_int_equal(cleanup_log[1], 2);
    assert_int_equal(cleanup_log[2], 1);
    /* The arena is usable after a reset; the old cleanups do not run
     * again. */
    arena_defer(a, log_cleanup, &ids[3]);
    int *obj = arena_alloc(a, sizeof(*obj));
    *obj = 6;
    arena_defer(a, log_cleanup, obj); /* an object living in the arena */
    arena_defer(a, log_cleanup, &ids[4]);
    arena_destroy(a);
    assert_int_equal(cleanup_n, 6);
    assert_int_equal(cleanup_log[3], 5);
    assert_int_equal(cleanup_log[4], 6);
    assert_int_equal(cleanup_log[5], 4);
}

static void
test_arena_children(void **state)
{
    (void)state;
    static int ids[] = { 10, 20, 30, 40 };
    long start = arena_live_count();
    cleanup_n = 0;

    struct arena *parent = arena_create();
    arena_defer(parent, log_cleanup, &ids[0]);
    struct arena *c1 = arena_child(parent);
    struct arena *c2 = arena_child(parent);
    struct arena *grandchild = arena_child(c2);
    assert_int_equal(arena_live_count(), start + 4);
    arena_defer(c1, log_cleanup, &ids[1]);
    arena_defer(grandchild, log_cleanup, &ids[2]);
    memset(arena_alloc(c1, 100), 1, 100);
    memset(arena_alloc(grandchild, 10000), 2, 10000);

    /* A child destroyed early is unlinked: the parent does not destroy
     * it a second time (ASan would see the double free). */
    arena_destroy(c1);
    assert_int_equal(arena_live_count(), start + 3);
    assert_int_equal(cleanup_n, 1);
    assert_int_equal(cleanup_log[0], 20);

    /* Children go with the parent, before the parent's own cleanups. */
    arena_destroy(parent);
    assert_int_equal(arena_live_count(), start);
    assert_int_equal(cleanup_n, 3);
    assert_int_equal(cleanup_log[1], 30);
    assert_int_equal(cleanup_log[2], 10);
}

static void
test_arena_reset_destroys_children(void **state)
{
    (void)state;
    static int id = 7;
    long start = arena_live_count();
    cleanup_n = 0;
    struct arena *parent = arena_create();
    struct arena *c = arena_child(parent);
    arena_defer(c, log_cleanup, &id);
    assert_int_equal(arena_live_count(), start + 2);
    arena_reset(parent);
    assert_int_equal(arena_live_count(), start + 1);
    assert_int_equal(cleanup_n, 1);
    /* a new child after the reset works and dies with the parent */
    c = arena_child(parent);
    arena_alloc(c, 64);
    arena_destroy(parent);
    assert_int_equal(arena_live_count(), start);
    arena_destroy(NULL); /* accepted */
}

static void
test_arena_live_count(void **state)
{
    (void)state;
    long start = arena_live_count();
    struct arena *a[5];
    for (int i = 0; i < 5; i++) {
        a[i] = arena_create();
        assert_int_equal(arena_live_count(), start + i + 1);
    }
    for (int i = 4; i >= 0; i--)
        arena_destroy(a[i]);
    assert_int_equal(arena_live_count(), start);
}

/* ---- strings ------------------------------------------------------------- */

static void
test_str_helpers(void **state)
{
    (void)state;
    struct str e = str_c(NULL);
    assert_int_equal(e.len, 0);
    assert_non_null(e.p);
    assert_true(str_eq(e, STR_LIT("")));
    struct str s = str_c("Hello");
    assert_int_equal(s.len, 5);
    assert_true(str_eq(s, STR_LIT("Hello")));
    assert_false(str_eq(s, STR_LIT("Hell")));
    assert_false(str_eq(s, STR_LIT("hello")));
    assert_true(str_eq_c(s, "Hello"));
    assert_false(str_eq_c(s, "Hello!"));
    assert_true(str_case_eq_c(s, "hELLO"));
    assert_false(str_case_eq_c(s, "hELL"));
    assert_false(str_case_eq_c((struct str){ "Hel", 3 }, "hello"));
    assert_true(str_starts_with_c(s, "He"));
    assert_true(str_starts_with_c(s, ""));
    assert_false(str_starts_with_c(s, "he"));
    assert_false(str_starts_with_c(STR_LIT("He"), "Hello"));
    /* views need not be NUL-terminated */
    struct str part = { "abcdef", 3 };
    assert_true(str_eq_c(part, "abc"));

    struct str t = str_trim(STR_LIT(" \t a b \t "));
    assert_true(str_eq_c(t, "a b"));
    assert_int_equal(str_trim(STR_LIT(" \t ")).len, 0);
    assert_true(str_eq_c(str_trim(STR_LIT("x")), "x"));
    assert_true(str_eq_c(str_trim(STR_LIT("\nx")), "\nx")); /* only SP/HT */
}

static void
test_str_log_safe(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    const char *plain = "alice-été_2";
    /* nothing to escape: the same string, not a copy */
    assert_ptr_equal(str_log_safe(a, plain, false), plain);
    assert_string_equal(str_log_safe(a, "a b\nc", false), "a%20b%0Ac");
    assert_string_equal(str_log_safe(a, "a b\nc", true), "a b%0Ac");
    assert_string_equal(str_log_safe(a, "50% \"q\" \\", true),
                        "50%25 %22q%22 %5C");
    /* bytes that are not UTF-8: a lone continuation, a truncated
     * sequence, an overlong '/', a surrogate; DEL and a control */
    assert_string_equal(str_log_safe(a, "x\x80y", true), "x%80y");
    assert_string_equal(str_log_safe(a, "x\xc3", true), "x%C3");
    assert_string_equal(str_log_safe(a, "\xc0\xaf", true), "%C0%AF");
    assert_string_equal(str_log_safe(a, "\xed\xa0\x80", true),
                        "%ED%A0%80");
    assert_string_equal(str_log_safe(a, "\x7f\x01", true), "%7F%01");
    /* C1 controls and U+2028 are escaped whole; other letters are not */
    assert_string_equal(str_log_safe(a, "a\xc2\x85" "b\xc2\x9b", true),
                        "a%C2%85b%C2%9B");
    assert_string_equal(str_log_safe(a, "x\xe2\x80\xa8y", true),
                        "x%E2%80%A8y");
    assert_string_equal(str_log_safe(a, "\xc2\xa0\xe2\x80\x99", true),
                        "\xc2\xa0\xe2\x80\x99");
    assert_int_equal(utf8_seq_len("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(utf8_seq_len("\xf0\x9f\x98", 3), 0);
    assert_int_equal(utf8_seq_len("\xf4\x90\x80\x80", 4), 0);
    arena_destroy(a);
}

static void
test_str_to_u64(void **state)
{
    (void)state;
    uint64_t v = 99;
    assert_true(str_to_u64(STR_LIT("0"), &v));
    assert_int_equal(v, 0);
    assert_true(str_to_u64(STR_LIT("12345"), &v));
    assert_int_equal(v, 12345);
    assert_true(str_to_u64(STR_LIT("007"), &v));
    assert_int_equal(v, 7);
    assert_true(str_to_u64(STR_LIT("9999999999999999999"), &v));
    assert_true(v == UINT64_C(9999999999999999999));
    v = 42;
    assert_false(str_to_u64(STR_LIT(""), &v));
    assert_false(str_to_u64(STR_LIT("-1"), &v));
    assert_false(str_to_u64(STR_LIT("+1"), &v));
    assert_false(str_to_u64(STR_LIT(" 1"), &v));
    assert_false(str_to_u64(STR_LIT("1 "), &v));
    assert_false(str_to_u64(STR_LIT("12a"), &v));
    assert_false(str_to_u64(STR_LIT("0x10"), &v));
    /* would overflow: refused, never wrapped */
    assert_false(str_to_u64(STR_LIT("18446744073709551616"), &v));
    assert_false(str_to_u64(STR_LIT("99999999999999999999"), &v));
    assert_int_equal(v, 42); /* untouched on failure */
}

/* ---- buf ----------------------------------------------------------------- */

static void
test_buf_append_and_printf(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    struct buf b;
    buf_init(&b, a, 1);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_append(&b, "ab", 2);
    buf_append(&b, "XYZ", 0);
    buf_puts(&b, "cd");
    buf_printf(&b, "[%d:%s]", 12, "ef");
    assert_int_equal(b.len, 11);
    assert_string_equal(buf_cstr(&b), "abcd[12:ef]");
    assert_int_equal(b.len, 11); /* the NUL is not counted */
    /* grow well past the initial capacity */
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%03d", i);
    assert_int_equal(b.len, 11 + 3000);
    char *s = buf_cstr(&b);
    assert_string_equal(s + 11 + 2997, "999");
    assert_memory_equal(s, "abcd[12:ef]000001002", 20);
    buf_printf(&b, "%s", ""); /* nothing appended */
    assert_int_equal(b.len, 3011);
    /* printf into the room left: exactly full (its NUL in the last byte),
     * then one byte more than the room */
    struct buf edge;
    buf_init(&edge, a, 8);
    buf_printf(&edge, "%s", "1234567");
    assert_int_equal(edge.len, 7);
    buf_printf(&edge, "%c", 'x');
    buf_printf(&edge, "%d", 123456789);
    assert_string_equal(buf_cstr(&edge), "1234567x123456789");
    /* binary data with NUL bytes */
    struct buf bin;
    buf_init(&bin, a, 0);
    buf_append(&bin, "a\0b", 3);
    assert_int_equal(bin.len, 3);
    assert_memory_equal(bin.p, "a\0b", 3);
    arena_destroy(a);
}

static void
test_buf_xml_escape(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    struct buf b;
    buf_init(&b, a, 4);
    const char *in = "a<b>&\"c'd&amp;";
    buf_xml_escape(&b, in, strlen(in));
    assert_string_equal(buf_cstr(&b),
                        "a&lt;b&gt;&amp;&quot;c'd&amp;amp;");
    b.len = 0;
    buf_xml_escape(&b, "plain é", strlen("plain é"));
    assert_string_equal(buf_cstr(&b), "plain é");
    b.len = 0;
    buf_xml_escape(&b, "<<x", 2); /* only n bytes */
    assert_string_equal(buf_cstr(&b), "&lt;&lt;");
    b.len = 0;
    buf_xml_escape(&b, "", 0);
    assert_int_equal(b.len, 0);
    arena_destroy(a);
}

static void
test_buf_url_escape(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    struct buf b;
    buf_init(&b, a, 4);
    const char *in = "/a b/caf\xc3\xa9~-._%?#&+:@";
    buf_url_escape(&b, in, strlen(in));
    assert_string_equal(buf_cstr(&b),
                        "/a%20b/caf%C3%A9~-._%25%3F%23%26%2B%3A%40");
    b.len = 0;
    buf_url_escape(&b, "AZaz09", 6);
    assert_string_equal(buf_cstr(&b), "AZaz09");
    b.len = 0;
    buf_url_escape(&b, "\x00\x7f\xff", 3);
    assert_string_equal(buf_cstr(&b), "%00%7F%FF");
    arena_destroy(a);
}

/* ---- SHA-256 ------------------------------------------------------------- */

/* FIPS 180-4 examples (and the NIST "one million a" vector). */
#define SHA_EMPTY \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA_448 \
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MSG_896 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn" \
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
#define SHA_896 \
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
#define SHA_MILLION_A \
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static const char *
sha_hex(const void *data, size_t n, char out[65])
{
    unsigned char d[32];
    sha256_once(data, n, d);
    hex_encode(d, 32, out);
    return out;
}

static void
test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    assert_string_equal(sha_hex("", 0, hex), SHA_EMPTY);
    assert_string_equal(sha_hex("abc", 3, hex), SHA_ABC);
    assert_string_equal(sha_hex(MSG_448, strlen(MSG_448), hex), SHA_448);
    assert_string_equal(sha_hex(MSG_896, strlen(MSG_896), hex), SHA_896);
    char *m = malloc(1000000);
    assert_non_null(m);
    memset(m, 'a', 1000000);
    assert_string_equal(sha_hex(m, 1000000, hex), SHA_MILLION_A);
    free(m);
}

static void
test_sha256_padding_boundaries(void **state)
{
    (void)state;
    /* 55, 56 and 64 bytes straddle the one/two padding block limit;
     * the digests come from coreutils sha256sum. */
    char a[64];
    char hex[65];
    memset(a, 'a', sizeof(a));
    assert_string_equal(sha_hex(a, 55, hex),
        "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    assert_string_equal(sha_hex(a, 56, hex),
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    assert_string_equal(sha_hex(a, 64, hex),
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void
test_sha256_streaming_odd_pieces(void **state)
{
    (void)state;
    static const size_t pieces[] = { 1, 3, 7, 63, 64, 65, 0, 127, 2, 1000 };
    const size_t np = sizeof(pieces) / sizeof(pieces[0]);
    unsigned char d[32];
    char hex[65];
    struct sha256 s;

    /* one million 'a' fed in odd-sized pieces */
    char blk[1000];
    memset(blk, 'a', sizeof(blk));
    sha256_init(&s);
    size_t left = 1000000;
    for (size_t i = 0; left > 0; i++) {
        size_t n = pieces[i % np];
        if (n > left)
            n = left;
        sha256_update(&s, blk, n);
        left -= n;
    }
    sha256_final(&s, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_MILLION_A);

    /* the 896-bit message byte by byte, then in two uneven halves */
    const char *m = MSG_896;
    size_t ml = strlen(m);
    sha256_init(&s);
    for (size_t i = 0; i < ml; i++)
        sha256_update(&s, m + i, 1);
    sha256_final(&s, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_896);
    sha256_init(&s);
    sha256_update(&s, m, 57);
    sha256_update(&s, m + 57, ml - 57);
    sha256_final(&s, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_896);

    /* reusable after init */
    sha256_init(&s);
    sha256_update(&s, "ab", 2);
    sha256_update(&s, "c", 1);
    sha256_final(&s, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_ABC);
}

/* n bytes of a xorshift sequence from seed (not 0), to be freed. */
static unsigned char *
pseudo_random_bytes(size_t n, uint32_t seed)
{
    unsigned char *m = malloc(n);
    assert_non_null(m);
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        m[i] = (unsigned char)x;
    }
    return m;
}

/* The vectors again through the other implementation, and both agree on
 * every length around the block size and on large random inputs. */
static void
test_sha256_accelerated_and_portable_agree(void **state)
{
    bool accel = sha256_accelerate(true);
    print_message("sha256: processor SHA instructions %s\n",
                  accel ? "in use" : "not available, portable code only");
    sha256_accelerate(!accel);
    test_sha256_vectors(state);
    test_sha256_streaming_odd_pieces(state);
    sha256_accelerate(true);

    size_t max = 300000;
    unsigned char *m = pseudo_random_bytes(max, 2463534242u);
    static const size_t lens[] = { 0, 1, 55, 56, 63, 64, 65, 127, 128, 129,
                                   1000, 4096, 65537, 300000 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        unsigned char a[32], b[32];
        sha256_accelerate(false);
        sha256_once(m + 1, lens[i] < max ? lens[i] : max - 1, a);
        sha256_accelerate(true);
        sha256_once(m + 1, lens[i] < max ? lens[i] : max - 1, b);
        assert_memory_equal(a, b, 32);
    }
    free(m);
}

/* Two hashes fed the same bytes together give what each would alone:
 * both implementations, from a block boundary or not (one state holding
 * part of a block), over lengths around the block size. */
static void
test_sha256_update2_is_two_updates(void **state)
{
    (void)state;
    size_t max = 70000;
    unsigned char *m = pseudo_random_bytes(max, 88172645u);
    static const size_t lens[] = { 0, 1, 63, 64, 65, 128, 1000, 65536,
                                   65537 };
    static const size_t leads[] = { 0, 64, 5 };
    for (int accel = 0; accel < 2; accel++) {
        sha256_accelerate(accel == 1);
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            for (size_t j = 0; j < sizeof(leads) / sizeof(leads[0]); j++) {
                /* 'a' first takes a lead of leads[j] bytes of its own. */
                struct sha256 a, b, a1, b1;
                sha256_init(&a);
                sha256_init(&b);
                sha256_update(&a, m + 3, leads[j]);
                a1 = a;
                b1 = b;
                sha256_update2(&a, &b, m + 100, lens[i]);
                sha256_update(&a1, m + 100, lens[i]);
                sha256_update(&b1, m + 100, lens[i]);
                unsigned char da[32], db[32], da1[32], db1[32];
                sha256_final(&a, da);
                sha256_final(&b, db);
                sha256_final(&a1, da1);
                sha256_final(&b1, db1);
                assert_memory_equal(da, da1, 32);
                assert_memory_equal(db, db1, 32);
            }
        }
    }
    sha256_accelerate(true);
    /* and the known digest of a million 'a', both hashes at once */
    memset(m, 'a', max);
    struct sha256 a, b;
    sha256_init(&a);
    sha256_init(&b);
    for (size_t left = 1000000; left > 0;) {
        size_t n = left < 65536 ? left : 65536;
        sha256_update2(&a, &b, m, n);
        left -= n;
    }
    unsigned char d[32];
    char hex[65];
    sha256_final(&a, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_MILLION_A);
    sha256_final(&b, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, SHA_MILLION_A);
    free(m);
}

static void
test_hex_encode(void **state)
{
    (void)state;
    const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
    char out[13];
    memset(out, 'x', sizeof(out));
    hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "00017f80abff");
    hex_encode(in, 0, out);
    assert_string_equal(out, "");
}

/* ---- Base64 -------------------------------------------------------------- */

static void
test_base64_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba",
                                   "foobar" };
    static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                                 "Zm9vYmE=", "Zm9vYmFy" };
    struct arena *a = arena_create();
    for (size_t i = 0; i < 7; i++) {
        struct buf b;
        buf_init(&b, a, 1);
        base64_encode((const unsigned char *)plain[i], strlen(plain[i]), &b);
        assert_string_equal(buf_cstr(&b), enc[i]);
        char *out;
        size_t outlen;
        assert_true(base64_decode(a, str_c(enc[i]), &out, &outlen));
        assert_int_equal(outlen, strlen(plain[i]));
        assert_memory_equal(out, plain[i], outlen);
        assert_int_equal(out[outlen], '\0');
    }
    /* the full alphabet, '+' and '/' included */
    char *out;
    size_t outlen;
    assert_true(base64_decode(a, STR_LIT("+/+/"), &out, &outlen));
    assert_int_equal(outlen, 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
    /* "user:pass" as sent in Basic credentials */
    assert_true(base64_decode(a, STR_LIT("dXNlcjpwYXNz"), &out, &outlen));
    assert_string_equal(out, "user:pass");
    arena_destroy(a);
}

static void
test_base64_round_trip(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    unsigned char data[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof(data); n += (n < 10 ? 1 : 37)) {
        struct buf b;
        buf_init(&b, a, 1);
        base64_encode(data, n, &b);
        assert_int_equal(b.len, (n + 2) / 3 * 4);
        char *out;
        size_t outlen;
        assert_true(base64_decode(a, (struct str){ b.p, b.len }, &out,
                                  &outlen));
        assert_int_equal(outlen, n);
        if (n > 0)
            assert_memory_equal(out, data, n);
    }
    arena_destroy(a);
}

static void
test_base64_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Z",         /* a lone sextet is not a byte */
        "Zm9vY",     /* 5 characters: one left over */
        "Zm9v!A==",  /* not in the alphabet */
        "Zm 9v",     /* space */
        "Zm=v",      /* padding inside */
        "Zm9v\nYg==",
        "Zg==Zg==",  /* padding in the middle */
        "Zm9-",      /* URL-safe alphabet is not standard Base64 */
        "Zm9_",
    };
    struct arena *a = arena_create();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = NULL;
        size_t outlen = 777;
        bool ok = base64_decode(a, str_c(bad[i]), &out, &outlen);
        if (ok)
            fail_msg("accepted invalid Base64 \"%s\"", bad[i]);
        assert_int_equal(outlen, 777);
    }
    arena_destroy(a);
}

/* ---- time ---------------------------------------------------------------- */

/* RFC 9110 §5.6.7's example instant. */
#define EXAMPLE_T ((time_t)784111777)

static void
test_http_date_format(void **state)
{
    (void)state;
    char d[30];
    http_date_format(EXAMPLE_T, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date_format(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    http_date_format((time_t)951782400, d); /* a leap day */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    http_date_format((time_t)253402300799, d);
    assert_string_equal(d, "Fri, 31 Dec 9999 23:59:59 GMT");
}

/* The dates formatted by hand agree with the C library's gmtime_r, from
 * before 1970 to 9999, on days' edges and in between. */
static void
test_dates_agree_with_gmtime(void **state)
{
    (void)state;
    int64_t t = -2208988800; /* 1900-01-01 */
    while (t < 253402300799) {
        for (int64_t d = -1; d <= 1; d++) {
            time_t x = (time_t)(t + d);
            struct tm tm;
            gmtime_r(&x, &tm);
            char want[64], got[30], got3339[21], want3339[32];
            strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            http_date_format(x, got);
            assert_string_equal(got, want);
            if (tm.tm_year + 1900 >= 0) {
                strftime(want3339, sizeof(want3339), "%Y-%m-%dT%H:%M:%SZ",
                         &tm);
                rfc3339_format(x, got3339);
                assert_string_equal(got3339, want3339);
            }
        }
        t += 86400 * 37 + 3607; /* walks through months, years, hours */
    }
}

static void
test_http_date_parse_three_forms(void **state)
{
    (void)state;
    time_t t;
    /* RFC 9110 §5.6.7: the preferred form and the two obsolete ones. */
    t = 0;
    assert_true(http_date_parse(STR_LIT("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
    assert_int_equal(t, EXAMPLE_T);
    t = 0;
    assert_true(http_date_parse(STR_LIT("Sunday, 06-Nov-94 08:49:37 GMT"),
                                &t));
    assert_int_equal(t, EXAMPLE_T);
    t = 0;
    assert_true(http_date_parse(STR_LIT("Sun Nov  6 08:49:37 1994"), &t));
    assert_int_equal(t, EXAMPLE_T);
    /* RFC 850 two-digit years below 70 are in this century */
    assert_true(http_date_parse(STR_LIT("Tuesday, 29-Feb-00 00:00:00 GMT"),
                                &t));
    assert_int_equal(t, 951782400);
    /* round trip over a range of instants */
    for (time_t x = 0; x < (time_t)4102444800; x += 86400 * 97 + 3607) {
        char d[30];
        http_date_format(x, d);
        time_t back = -1;
        assert_true(http_date_parse(str_c(d), &back));
        assert_int_equal(back, x);
    }
}

static void
test_http_date_parse_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",          /* no zone */
        "Sun, 06 Nov 1994 08:49:37 UTC",      /* zone must be GMT */
        "Sun, 06 Nov 1994 08:49:37 GMT junk", /* trailing garbage */
        "Sun, 06 Foo 1994 08:49:37 GMT",      /* month */
        "Sun, 00 Nov 1994 08:49:37 GMT",      /* day 0 */
        "Sun, 32 Nov 1994 08:49:37 GMT",      /* day 32 */
        "Sun, 06 Nov 1994 24:00:00 GMT",      /* hour */
        "Sun, 06 Nov 1994 08:60:00 GMT",      /* minute */
        "Sun, 06 Nov 1994 08:49:61 GMT",      /* second */
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sun Nov  6 08:49:37",
        "Sun Nov  6 08:49:37 1994 GMT",
        "1994-11-06T08:49:37Z",               /* RFC 3339 is not HTTP */
        "Sun, 06 Nov 1994 08:49:37 GMT                                    "
        "padding past the parser's bound",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        time_t t = 12345;
        if (http_date_parse(str_c(bad[i]), &t))
            fail_msg("accepted invalid date \"%s\"", bad[i]);
        assert_int_equal(t, 12345);
    }
    /* a view is parsed over its length only */
    time_t t = 0;
    struct str v = { "Sun, 06 Nov 1994 08:49:37 GMTxyz", 29 };
    assert_true(http_date_parse(v, &t));
    assert_int_equal(t, EXAMPLE_T);
}

static void
test_rfc3339_format(void **state)
{
    (void)state;
    char d[21];
    rfc3339_format(EXAMPLE_T, d);
    assert_string_equal(d, "1994-11-06T08:49:37Z");
    rfc3339_format(0, d);
    assert_string_equal(d, "1970-01-01T00:00:00Z");
    rfc3339_format((time_t)1709164799, d);
    assert_string_equal(d, "2024-02-28T23:59:59Z");
    rfc3339_format((time_t)1709164800, d);
    assert_string_equal(d, "2024-02-29T00:00:00Z");
}

/* ---- misc ---------------------------------------------------------------- */

static void
test_ct_equal(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    for (int i = 0; i < 32; i++)
        a[i] = b[i] = (unsigned char)(i * 7);
    assert_true(core_ct_equal(a, b, 32));
    assert_true(core_ct_equal(a, b, 0));
    b[0] ^= 1;
    assert_false(core_ct_equal(a, b, 32));
    assert_true(core_ct_equal(a + 1, b + 1, 31));
    b[0] ^= 1;
    b[31] ^= 0x80;
    assert_false(core_ct_equal(a, b, 32));
    assert_true(core_ct_equal(a, b, 31));
}

static void
test_str_nfc(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    char *out;
    size_t n;
    /* macOS sends "e" + U+0301 COMBINING ACUTE ACCENT; NFC is U+00E9 */
    assert_true(str_nfc(a, "cafe\xcc\x81", 6, &out, &n));
    assert_int_equal(n, 5);
    assert_string_equal(out, "caf\xc3\xa9");
    /* already NFC, and ASCII, come back unchanged */
    assert_true(str_nfc(a, "caf\xc3\xa9", 5, &out, &n));
    assert_string_equal(out, "caf\xc3\xa9");
    assert_true(str_nfc(a, "plain.txt", 9, &out, &n));
    assert_int_equal(n, 9);
    assert_string_equal(out, "plain.txt");
    arena_destroy(a);
}

static void
test_uuid_and_random(void **state)
{
    (void)state;
    struct arena *a = arena_create();
    char *u1 = uuid_new(a);
    char *u2 = uuid_new(a);
    assert_int_equal(strlen(u1), 36);
    assert_string_not_equal(u1, u2);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u1[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u1[i]));
    }
    assert_int_equal(u1[14], '4');                   /* version 4 */
    assert_non_null(strchr("89ab", u1[19]));         /* RFC 4122 variant */
    unsigned char r1[32] = { 0 }, r2[32] = { 0 };
    core_random(r1, sizeof(r1));
    core_random(r2, sizeof(r2));
    assert_memory_not_equal(r1, r2, sizeof(r1));
    arena_destroy(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_arena_alloc_zeroed_and_aligned),
        UNIT_TEST(test_arena_allocations_do_not_overlap),
        UNIT_TEST(test_arena_strings),
        UNIT_TEST(test_arena_defer_order),
        UNIT_TEST(test_arena_children),
        UNIT_TEST(test_arena_reset_destroys_children),
        UNIT_TEST(test_arena_live_count),
        UNIT_TEST(test_str_helpers),
        UNIT_TEST(test_str_to_u64),
        UNIT_TEST(test_str_log_safe),
        UNIT_TEST(test_buf_append_and_printf),
        UNIT_TEST(test_buf_xml_escape),
        UNIT_TEST(test_buf_url_escape),
        UNIT_TEST(test_sha256_vectors),
        UNIT_TEST(test_sha256_padding_boundaries),
        UNIT_TEST(test_sha256_streaming_odd_pieces),
        UNIT_TEST(test_sha256_accelerated_and_portable_agree),
        UNIT_TEST(test_sha256_update2_is_two_updates),
        UNIT_TEST(test_hex_encode),
        UNIT_TEST(test_base64_rfc4648_vectors),
        UNIT_TEST(test_base64_round_trip),
        UNIT_TEST(test_base64_invalid),
        UNIT_TEST(test_http_date_format),
        UNIT_TEST(test_dates_agree_with_gmtime),
        UNIT_TEST(test_http_date_parse_three_forms),
        UNIT_TEST(test_http_date_parse_invalid),
        UNIT_TEST(test_rfc3339_format),
        UNIT_TEST(test_ct_equal),
        UNIT_TEST(test_str_nfc),
        UNIT_TEST(test_uuid_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
