/*
 * core/sha256.c -- SHA-256 (FIPS 180-4), used to address content chunks
 * and to key the credential cache.  Streaming: init, update, final.
 *
 * Every uploaded byte is hashed twice (its chunk's address and the whole
 * content's), so on x86-64 processors with the SHA extensions the blocks
 * go through them (about 5 times faster than the portable code); which
 * path runs is decided once, from CPUID.  The two hashes of an upload go
 * over each block together (sha256_update2).
 */
#include "core/core.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* The message schedule of one block, W[0..63]. */
static void
schedule(uint32_t w[64], const unsigned char *p)
{
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
}

/* The 64 rounds of a block whose schedule is w, into the state h. */
static void
rounds(uint32_t h[8], const uint32_t w[64])
{
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t s1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + s1 + ch + K[i] + w[i];
        uint32_t s0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = s0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

#ifdef SHA256_X86
/*
 * The SHA extensions keep the working variables as two vectors, ABEF and
 * CDGH (A in the highest lane), and do two rounds per instruction; the
 * message schedule of four words at a time is sha256msg1, an add of
 * W[i-7..i-4] and sha256msg2.
 */
#define SHANI __attribute__((target("sha,sse4.1,ssse3")))

/* Blocks into n states (1 or 2, a constant once inlined) at once: the
 * message schedule is made once for all, and the states' rounds, which
 * depend only on themselves, are interleaved, so that one state's rounds
 * run while the other's wait for their results. */
SHANI static inline __attribute__((always_inline)) void
shani_blocks(uint32_t *const h[], int n, const unsigned char *p,
             size_t blocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
                                         0x0405060700010203ULL);
    __m128i abef[2], cdgh[2];
    for (int k = 0; k < n; k++) {
        __m128i dcba = _mm_loadu_si128((const __m128i *)&h[k][0]);
        __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[k][4]);
        __m128i badc = _mm_shuffle_epi32(dcba, 0xB1);
        __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        abef[k] = _mm_alignr_epi8(badc, efgh, 8);
        cdgh[k] = _mm_blend_epi16(efgh, badc, 0xF0);
    }

    for (; blocks > 0; blocks--, p += 64) {
        __m128i abef0[2], cdgh0[2];
        for (int k = 0; k < n; k++) {
            abef0[k] = abef[k];
            cdgh0[k] = cdgh[k];
        }
        __m128i m[4];
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            __m128i w;
            if (g < 4) {
                w = _mm_shuffle_epi8(
                    _mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            } else {
                /* W[i..i+3] from W[i-16..i-1], i = 4g. */
                w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
                w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) & 3],
                                                     m[(g + 2) & 3], 4));
                w = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
            }
            m[g & 3] = w;
            __m128i wk = _mm_add_epi32(
                w, _mm_loadu_si128((const __m128i *)&K[4 * g]));
            __m128i wk_hi = _mm_shuffle_epi32(wk, 0x0E);
            /* Two rounds give the new ABEF; the old ABEF is then the new
             * CDGH, so the two vectors trade places twice. */
            for (int k = 0; k < n; k++)
                cdgh[k] = _mm_sha256rnds2_epu32(cdgh[k], abef[k], wk);
            for (int k = 0; k < n; k++)
                abef[k] = _mm_sha256rnds2_epu32(abef[k], cdgh[k], wk_hi);
        }
        for (int k = 0; k < n; k++) {
            abef[k] = _mm_add_epi32(abef[k], abef0[k]);
            cdgh[k] = _mm_add_epi32(cdgh[k], cdgh0[k]);
        }
    }

    for (int k = 0; k < n; k++) {
        __m128i feba = _mm_shuffle_epi32(abef[k], 0x1B);
        __m128i dchg = _mm_shuffle_epi32(cdgh[k], 0xB1);
        _mm_storeu_si128((__m128i *)&h[k][0],
                         _mm_blend_epi16(feba, dchg, 0xF0));
        _mm_storeu_si128((__m128i *)&h[k][4], _mm_alignr_epi8(dchg, feba, 8));
    }
}

SHANI static void
compress_shani(uint32_t h[8], const unsigned char *p, size_t blocks)
{
    uint32_t *const hs[1] = { h };
    shani_blocks(hs, 1, p, blocks);
}

SHANI static void
compress2_shani(uint32_t h1[8], uint32_t h2[8], const unsigned char *p,
                size_t blocks)
{
    uint32_t *const hs[2] = { h1, h2 };
    shani_blocks(hs, 2, p, blocks);
}

/* 1 if the processor has the SHA extensions (and SSSE3, SSE4.1), 0 if
 * not, -1 until asked. */
static atomic_int have_shani = -1;

static bool
use_shani(void)
{
    int v = atomic_load_explicit(&have_shani, memory_order_relaxed);
    if (v < 0) {
        unsigned a, b, c, d;
        v = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) &&
            (c & bit_SSE4_1) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
            (b & bit_SHA))
            v = 1;
        atomic_store_explicit(&have_shani, v, memory_order_relaxed);
    }
    return v == 1;
}
#endif

bool
sha256_accelerate(bool allow)
{
#ifdef SHA256_X86
    atomic_store_explicit(&have_shani, allow ? -1 : 0, memory_order_relaxed);
    return allow && use_shani();
#else
    (void)allow;
    return false;
#endif
}

/* Hash 'blocks' whole 64-byte blocks into h1, and into h2 too unless it
 * is NULL. */
static void
compress_blocks(uint32_t h1[8], uint32_t *h2, const unsigned char *p,
                size_t blocks)
{
#ifdef SHA256_X86
    if (use_shani()) {
        if (h2 != NULL)
            compress2_shani(h1, h2, p, blocks);
        else
            compress_shani(h1, p, blocks);
        return;
    }
#endif
    uint32_t w[64];
    for (; blocks > 0; blocks--, p += 64) {
        schedule(w, p);
        rounds(h1, w);
        if (h2 != NULL)
            rounds(h2, w);
    }
}

void
sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                    0xa54ff53a, 0x510e527f, 0x9b05688c,
                                    0x1f83d9ab, 0x5be0cd19 };
    memcpy(s->h, iv, sizeof(iv));
    s->total = 0;
    s->fill = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->fill > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        compress_blocks(s->h, NULL, s->block, 1);
        s->fill = 0;
    }
    if (n >= 64) {
        compress_blocks(s->h, NULL, p, n / 64);
        p += n - n % 64;
        n %= 64;
    }
    if (n > 0) {
        memcpy(s->block, p, n);
        s->fill = n;
    }
}

void
sha256_update2(struct sha256 *a, struct sha256 *b, const void *data,
               size_t n)
{
    const unsigned char *p = data;
    size_t whole = a->fill == 0 && b->fill == 0 ? n - n % 64 : 0;
    if (whole > 0) {
        compress_blocks(a->h, b->h, p, whole / 64);
        a->total += whole;
        b->total += whole;
    }
    sha256_update(a, p + whole, n - whole);
    sha256_update(b, p + whole, n - whole);
}

void
sha256_final(struct sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->total * 8;
    unsigned char pad[72] = { 0x80 };
    size_t padlen = s->fill < 56 ? 56 - s->fill : 120 - s->fill;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen);
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

void
sha256_once(const void *data, size_t n, unsigned char out[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, out);
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}
