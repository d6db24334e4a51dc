/*
 * tests/unit/unit.h -- what every cmocka unit test includes: cmocka itself
 * (with the headers it needs first) and the live-arena check of STYLE.md
 * 2.7, as a setup/teardown pair.
 */
#ifndef PARVIS_TESTS_UNIT_H
#define PARVIS_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core.h"

/* Setup: remember how many arenas are alive.  Teardown: assert that the
 * test left no more and no fewer.  Use with cmocka_unit_test_setup_teardown
 * or through UNIT_TEST(). */
static long unit_arenas_at_start;

static inline int
unit_arena_setup(void **state)
{
    (void)state;
    unit_arenas_at_start = arena_live_count();
    return 0;
}

static inline int
unit_arena_teardown(void **state)
{
    (void)state;
    assert_int_equal(arena_live_count(), unit_arenas_at_start);
    return 0;
}

/* Key number n: distinct and well spread, as real hashes are. */
static inline void
unit_key(unsigned char key[32], unsigned n)
{
    for (unsigned i = 0; i < 32; i++)
        key[i] = (unsigned char)((n * 2654435761u) >> ((i % 4) * 8)) ^
                 (unsigned char)(i * 31 + n);
}

#define UNIT_TEST(f) \
    cmocka_unit_test_setup_teardown(f, unit_arena_setup, unit_arena_teardown)

#endif
