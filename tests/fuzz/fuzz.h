/*
 * tests/fuzz/fuzz.h -- what every fuzz target of tests/fuzz/ defines and
 * may use (STYLE.md §5, h2o's layout).
 *
 * Each target is one file defining LLVMFuzzerInitialize and
 * LLVMFuzzerTestOneInput.  With --enable-fuzzers (clang) a target links
 * with libFuzzer (tests/fuzz/fuzz_<name>); in every build it also links
 * with replay.c (tests/fuzz/replay_<name>), a plain program that runs each
 * file of its corpus once and is run by `make check`.
 *
 * A target reports a bug by crashing: a sanitizer report, or fuzz_fail()
 * when an invariant of the code under test is broken.
 */
#ifndef PARVIS_TESTS_FUZZ_H
#define PARVIS_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called once before the first input (libFuzzer's optional hook, which
 * every target defines). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Run one input; returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort. */
_Noreturn void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Is the open bug 'id' listed in $FUZZ_KNOWN (comma-separated)?  A target
 * skips the report of a known bug there, so that a fuzzing run can look
 * past it (./dev.sh fuzz with FUZZ_KNOWN=id,...); replays never set it.
 * The ids are those of tests/fuzz/crashes/README.
 */
bool fuzz_known(const char *id);

/* A NUL-terminated, exactly sized malloc'd copy of the input (embedded
 * NULs stay: C-string consumers see a prefix).  Free with free(). */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
