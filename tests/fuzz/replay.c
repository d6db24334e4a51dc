/*
 * tests/fuzz/replay.c -- the main() of a fuzz target built without
 * libFuzzer: run LLVMFuzzerTestOneInput once on each file named on the
 * command line, or on each regular file of a directory named there (in
 * name order, dot files skipped).  Without arguments it reads the
 * target's committed corpus (FUZZ_CORPUS, set by tests/fuzz/local.mk).
 *
 * Output is TAP (one "ok" per file, written after the input ran), since
 * `make check` runs the replays with the TAP driver of the unit tests.
 * An input that crashes ends the program with the sanitizer's or
 * fuzz_fail()'s report; the TAP driver then counts the missing results.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct files {
    char **v;
    size_t n, cap;
};

static void
add(struct files *f, char *path)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->v = realloc(f->v, f->cap * sizeof(*f->v));
        if (f->v == NULL)
            abort();
    }
    f->v[f->n++] = path;
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Collect the files a command-line argument names; false on error. */
static bool
collect(struct files *f, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        char *p = strdup(arg);
        if (p == NULL)
            abort();
        add(f, p);
        return true;
    }
    DIR *d = opendir(arg);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
        return false;
    }
    size_t first = f->n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = join(arg, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            add(f, p);
        else
            free(p);
    }
    closedir(d);
    qsort(f->v + first, f->n - first, sizeof(*f->v), cmp);
    return true;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    bool err = ferror(fp);
    fclose(fp);
    if (buf == NULL || err) {
        free(buf);
        return NULL;
    }
    /* Exactly sized, as libFuzzer passes inputs: an overread is caught. */
    unsigned char *exact = malloc(n > 0 ? n : 1);
    if (exact == NULL)
        abort();
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

int
main(int argc, char **argv)
{
    struct files f = { NULL, 0, 0 };
    int ok = 1;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            ok &= collect(&f, argv[i]);
    } else {
        ok = collect(&f, FUZZ_CORPUS);
    }
    if (!ok)
        return 99;
    if (f.n == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 99;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    printf("1..%zu\n", f.n);
    fflush(stdout);
    for (size_t i = 0; i < f.n; i++) {
        size_t len = 0;
        unsigned char *data = slurp(f.v[i], &len);
        if (data == NULL) {
            printf("not ok %zu - %s: cannot read\n", i + 1, f.v[i]);
            ok = 0;
            continue;
        }
        /* Named before it runs, so that a crash report follows its name. */
        printf("# %s (%zu bytes)\n", f.v[i], len);
        fflush(stdout);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        printf("ok %zu - %s\n", i + 1, f.v[i]);
        fflush(stdout);
    }
    for (size_t i = 0; i < f.n; i++)
        free(f.v[i]);
    free(f.v);
    return ok ? 0 : 1;
}
