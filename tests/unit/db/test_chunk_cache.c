/*
 * tests/unit/db/test_chunk_cache.c -- db/chunk_cache: hits give the bytes
 * put, keys are (space, hash), the budget bounds the bytes held, a slot's
 * new chunk replaces the old one, and threads may share the cache.
 */
#include "tests/unit/unit.h"

#include <pthread.h>
#include <string.h>

#include "db/chunk_cache.h"

static void
test_hit_gives_the_bytes_and_ranges(void **state)
{
    (void)state;
    struct chunk_cache *c = chunk_cache_create(1 << 20);
    assert_non_null(c);
    unsigned char sha[32], out[16];
    unit_key(sha, 1);
    assert_false(chunk_cache_get(c, 7, sha, 0, 4, out));
    chunk_cache_put(c, 7, sha, "0123456789", 10);
    assert_int_equal(chunk_cache_used(c), 10);
    assert_true(chunk_cache_get(c, 7, sha, 0, 10, out));
    assert_memory_equal(out, "0123456789", 10);
    assert_true(chunk_cache_get(c, 7, sha, 3, 4, out));
    assert_memory_equal(out, "3456", 4);
    /* Past the end: a miss, not a short read. */
    assert_false(chunk_cache_get(c, 7, sha, 8, 4, out));
    assert_false(chunk_cache_get(c, 7, sha, 11, 0, out));
    /* Another space or another hash: miss. */
    assert_false(chunk_cache_get(c, 8, sha, 0, 4, out));
    sha[31] ^= 1;
    assert_false(chunk_cache_get(c, 7, sha, 0, 4, out));
    chunk_cache_destroy(c);
}

static void
test_budget_bounds_the_bytes_held(void **state)
{
    (void)state;
    char data[1000];
    memset(data, 'x', sizeof(data));
    struct chunk_cache *c = chunk_cache_create(2500);
    unsigned char sha[32];
    unsigned kept = 0;
    for (unsigned i = 0; i < 50; i++) {
        unit_key(sha, 100 + i);
        chunk_cache_put(c, 1, sha, data, sizeof(data));
        assert_true(chunk_cache_used(c) <= 2500);
        char out[1000];
        if (chunk_cache_get(c, 1, sha, 0, sizeof(out), out))
            kept++;
    }
    /* Two fit; the rest are refused, not squeezed in. */
    assert_int_equal(chunk_cache_used(c), 2000);
    assert_int_equal(kept, 2);
    /* Larger than the whole budget: never kept. */
    char big[3000] = { 0 };
    unit_key(sha, 999);
    chunk_cache_put(c, 1, sha, big, sizeof(big));
    assert_false(chunk_cache_get(c, 1, sha, 0, 1, big));
    chunk_cache_destroy(c);
}

static void
test_replacing_a_slot_frees_its_bytes(void **state)
{
    (void)state;
    struct chunk_cache *c = chunk_cache_create(1 << 20);
    unsigned char sha[32], out[8];
    unit_key(sha, 5);
    chunk_cache_put(c, 1, sha, "aaaaaaaa", 8);
    chunk_cache_put(c, 1, sha, "bbbb", 4);   /* same key, same slot */
    assert_int_equal(chunk_cache_used(c), 4);
    assert_true(chunk_cache_get(c, 1, sha, 0, 4, out));
    assert_memory_equal(out, "bbbb", 4);
    /* The same hash in another space may take the slot: the old entry is
     * then gone, the new one found, and the count stays exact. */
    size_t before = chunk_cache_used(c);
    chunk_cache_put(c, 2, sha, "cc", 2);
    assert_true(chunk_cache_used(c) == before + 2 ||
                chunk_cache_used(c) == 2);
    assert_true(chunk_cache_get(c, 2, sha, 0, 2, out));
    assert_memory_equal(out, "cc", 2);
    chunk_cache_destroy(c);
}

static void
test_no_cache_caches_nothing(void **state)
{
    (void)state;
    struct chunk_cache *c = chunk_cache_create(0);
    assert_null(c);
    unsigned char sha[32], out[4];
    unit_key(sha, 3);
    chunk_cache_put(c, 1, sha, "abcd", 4);
    assert_false(chunk_cache_get(c, 1, sha, 0, 4, out));
    assert_int_equal(chunk_cache_used(c), 0);
    chunk_cache_destroy(c);
}

struct worker {
    struct chunk_cache *c;
    unsigned id;
    unsigned wrong;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    unsigned char sha[32], buf[64], out[64];
    for (unsigned i = 0; i < 20000; i++) {
        unsigned n = (i * 7 + w->id) % 300;
        unit_key(sha, n);
        memset(buf, (int)n, sizeof(buf));
        if (chunk_cache_get(w->c, 1, sha, 0, sizeof(out), out)) {
            if (memcmp(out, buf, sizeof(out)) != 0)
                w->wrong++;
        } else {
            chunk_cache_put(w->c, 1, sha, buf, sizeof(buf));
        }
    }
    return NULL;
}

static void
test_threads_share_it(void **state)
{
    (void)state;
    struct chunk_cache *c = chunk_cache_create(64 * 200);
    pthread_t th[4];
    struct worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){ c, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
    assert_true(chunk_cache_used(c) <= 64 * 200);
    chunk_cache_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_gives_the_bytes_and_ranges),
        cmocka_unit_test(test_budget_bounds_the_bytes_held),
        cmocka_unit_test(test_replacing_a_slot_frees_its_bytes),
        cmocka_unit_test(test_no_cache_caches_nothing),
        cmocka_unit_test(test_threads_share_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
