/*
 * tests/unit/core/test_lcache.c -- core/lcache: an entry is served only at
 * the snapshot it was made at, and dropped at another; an entry held by a
 * reader outlives its replacement; the budget bounds the bytes held and
 * the copies being made; no cache serves nothing; more slots keep more
 * keys.
 */
#include "tests/unit/unit.h"

#include <string.h>

#include "core/core.h"
#include "core/lcache.h"

static void
test_served_only_at_its_snapshot(void **state)
{
    (void)state;
    struct lcache *c = lcache_create(1 << 20);
    assert_non_null(c);
    unsigned char k[32];
    unit_key(k, 1);
    char *body;
    size_t len;
    assert_null(lcache_get(c, k, "1/10:12:10", &body, &len));
    lcache_put(c, k, "1/10:12:10", "<listing/>", 10);
    assert_int_equal(lcache_used(c), 10);
    struct lcache_entry *e = lcache_get(c, k, "1/10:12:10", &body, &len);
    assert_non_null(e);
    assert_int_equal(len, 10);
    assert_memory_equal(body, "<listing/>", 10);
    lcache_release(c, e);
    /* Another key: a miss. */
    unsigned char other[32];
    unit_key(other, 2);
    assert_null(lcache_get(c, other, "1/10:12:10", &body, &len));
    /* Another snapshot: a miss, and the entry is gone for good. */
    assert_null(lcache_get(c, k, "1/10:13:", &body, &len));
    assert_int_equal(lcache_used(c), 0);
    assert_null(lcache_get(c, k, "1/10:12:10", &body, &len));
    /* No snapshot known: nothing is served. */
    lcache_put(c, k, "1/10:12:10", "<listing/>", 10);
    assert_null(lcache_get(c, k, NULL, &body, &len));
    lcache_destroy(c);
}

static void
test_a_new_stamp_drops_every_older_entry(void **state)
{
    (void)state;
    struct lcache *c = lcache_create(1 << 20);
    unsigned char k1[32], k2[32], k3[32];
    unit_key(k1, 11);
    unit_key(k2, 12);
    unit_key(k3, 13);
    lcache_put(c, k1, "A", "one", 3);
    lcache_put(c, k2, "A", "two", 3);
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(c, k1, "A", &body, &len);
    assert_non_null(e);
    lcache_release(c, e);
    assert_int_equal(lcache_used(c), 6);
    /* Another key asked for under a new stamp: both entries go. */
    assert_null(lcache_get(c, k3, "B", &body, &len));
    assert_int_equal(lcache_used(c), 0);
    /* Entries made under the stamp asked for stay. */
    lcache_put(c, k1, "B", "one", 3);
    assert_null(lcache_get(c, k2, "B", &body, &len));
    assert_int_equal(lcache_used(c), 3);
    lcache_destroy(c);
}

static void
test_a_held_entry_outlives_its_replacement(void **state)
{
    (void)state;
    struct lcache *c = lcache_create(1 << 20);
    unsigned char k[32];
    unit_key(k, 3);
    lcache_put(c, k, "s1", "old answer", 10);
    char *body;
    size_t len;
    struct lcache_entry *held = lcache_get(c, k, "s1", &body, &len);
    assert_non_null(held);
    lcache_put(c, k, "s2", "new answer!", 11);
    assert_int_equal(lcache_used(c), 11);
    /* The reader's bytes are still there (ASan would see them freed). */
    assert_memory_equal(body, "old answer", 10);
    lcache_release(c, held);
    struct lcache_entry *e = lcache_get(c, k, "s2", &body, &len);
    assert_non_null(e);
    assert_memory_equal(body, "new answer!", 11);
    /* Dropped while held (another snapshot asked): freed at release. */
    assert_null(lcache_get(c, k, "s3", &body, &len));
    assert_memory_equal(body, "new answer!", 11);
    lcache_release(c, e);
    lcache_destroy(c);
}

static void
test_budget_bounds_entries_and_copies(void **state)
{
    (void)state;
    char data[300];
    memset(data, 'x', sizeof(data));
    struct lcache *c = lcache_create(1000);
    assert_int_equal(lcache_max_entry(c), 250);
    unsigned char k[32];
    /* Over a quarter of the budget: not kept. */
    unit_key(k, 4);
    lcache_put(c, k, "s", data, 251);
    assert_int_equal(lcache_used(c), 0);
    for (unsigned i = 0; i < 40; i++) {
        unit_key(k, 100 + i);
        lcache_put(c, k, "s", data, 200);
        assert_true(lcache_used(c) <= 1000);
    }
    assert_true(lcache_used(c) >= 800);
    /* Fills being made share the budget, and grow to the largest entry. */
    unit_key(k, 200);
    struct lcache_fill *f = lcache_fill_begin(c, k, 0);
    assert_non_null(f);
    assert_true(lcache_fill_append(f, data, 200));
    assert_false(lcache_fill_append(f, data, 51));
    assert_true(lcache_fill_append(f, data, 50));
    struct lcache_fill *more[4];
    assert_non_null(more[0] = lcache_fill_begin(c, k, 0));
    assert_non_null(more[1] = lcache_fill_begin(c, k, 0));
    assert_non_null(more[2] = lcache_fill_begin(c, k, 0));
    assert_null(lcache_fill_begin(c, k, 0));
    lcache_fill_abort(more[0]);
    lcache_fill_abort(more[1]);
    lcache_fill_abort(more[2]);
    lcache_fill_end(f, "s2");
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(c, k, "s2", &body, &len);
    assert_non_null(e);
    assert_int_equal(len, 250);
    lcache_release(c, e);
    assert_true(lcache_used(c) <= 1000);
    lcache_destroy(c);
}

static void
test_a_fill_takes_its_hint_up_to_the_largest_entry(void **state)
{
    (void)state;
    struct lcache *c = lcache_create(4 << 20);
    unsigned char k[32];
    unit_key(k, 6);
    /* A hint over the largest entry reserves the largest entry. */
    struct lcache_fill *f[4];
    for (unsigned i = 0; i < 4; i++)
        assert_non_null(f[i] = lcache_fill_begin(c, k, 3 << 20));
    assert_null(lcache_fill_begin(c, k, 0));
    lcache_fill_abort(f[3]);
    /* A small hint reserves no less than a first step. */
    struct lcache_fill *g = lcache_fill_begin(c, k, 100);
    assert_non_null(g);
    char data[4096];
    memset(data, 'y', sizeof(data));
    for (unsigned i = 0; i < 64; i++)
        assert_true(lcache_fill_append(g, data, sizeof(data)));
    lcache_fill_end(g, "s");
    for (unsigned i = 0; i < 3; i++)
        lcache_fill_abort(f[i]);
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(c, k, "s", &body, &len);
    assert_non_null(e);
    assert_int_equal(len, 64 * 4096);
    lcache_release(c, e);
    lcache_destroy(c);
}

static void
test_no_cache_serves_nothing(void **state)
{
    (void)state;
    assert_null(lcache_create(0));
    unsigned char k[32];
    unit_key(k, 5);
    char *body;
    size_t len;
    assert_null(lcache_fill_begin(NULL, k, 0));
    assert_null(lcache_get(NULL, k, "s", &body, &len));
    assert_int_equal(lcache_max_entry(NULL), 0);
    lcache_destroy(NULL);
}

/* How many of 'n' keys (hashes, as the callers' are), each put once, are
 * found afterwards. */
static int
kept_of(struct lcache *c, int n)
{
    unsigned char k[32];
    for (int i = 0; i < n; i++) {
        sha256_once(&i, sizeof(i), k);
        lcache_put(c, k, "s", "target", 6);
    }
    int found = 0;
    for (int i = 0; i < n; i++) {
        char *body;
        size_t len;
        sha256_once(&i, sizeof(i), k);
        struct lcache_entry *e = lcache_get(c, k, "s", &body, &len);
        if (e != NULL) {
            found++;
            lcache_release(c, e);
        }
    }
    return found;
}

/* A key has one slot: a table of many slots keeps many small entries,
 * where the default 256 keep at most 256. */
static void
test_more_slots_keep_more_keys(void **state)
{
    (void)state;
    struct lcache *few = lcache_create(1 << 20);
    struct lcache *many = lcache_create_slots(1 << 20, 4096);
    assert_non_null(few);
    assert_non_null(many);
    int kept_few = kept_of(few, 1000), kept_many = kept_of(many, 1000);
    assert_true(kept_few <= 256);
    assert_true(kept_many > 800);
    assert_int_equal(lcache_used(many), (size_t)kept_many * 6);
    lcache_destroy(few);
    lcache_destroy(many);
    assert_null(lcache_create_slots(1 << 20, 0));
}

/* lcache_has tells whether a key is held, and drops nothing: an entry of
 * an older stamp is still served at that stamp afterwards. */
static void
test_has_looks_without_dropping(void **state)
{
    (void)state;
    struct lcache *c = lcache_create_slots(1 << 16, 256);
    unsigned char k[32], other[32];
    unit_key(k, 7);
    unit_key(other, 8);
    assert_false(lcache_has(c, k));
    lcache_put(c, k, "old", "target", 6);
    assert_true(lcache_has(c, k));
    assert_false(lcache_has(c, other));
    assert_int_equal(lcache_used(c), 6);
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(c, k, "old", &body, &len);
    assert_non_null(e);
    assert_memory_equal(body, "target", 6);
    lcache_release(c, e);
    assert_false(lcache_has(NULL, k));
    lcache_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_only_at_its_snapshot),
        cmocka_unit_test(test_a_new_stamp_drops_every_older_entry),
        cmocka_unit_test(test_a_held_entry_outlives_its_replacement),
        cmocka_unit_test(test_budget_bounds_entries_and_copies),
        cmocka_unit_test(test_a_fill_takes_its_hint_up_to_the_largest_entry),
        cmocka_unit_test(test_no_cache_serves_nothing),
        cmocka_unit_test(test_more_slots_keep_more_keys),
        cmocka_unit_test(test_has_looks_without_dropping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
