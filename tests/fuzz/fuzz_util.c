/*
 * tests/fuzz/fuzz_util.c -- helpers shared by every fuzz target.
 */
#include "tests/fuzz/fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

bool
fuzz_known(const char *id)
{
    const char *k = getenv("FUZZ_KNOWN");
    size_t n = strlen(id);
    while (k != NULL && *k != '\0') {
        size_t l = strcspn(k, ",");
        if (l == n && strncmp(k, id, n) == 0)
            return true;
        k += l;
        if (*k == ',')
            k++;
    }
    return false;
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
