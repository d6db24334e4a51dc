/*
 * core/arena.c -- the request arena (STYLE.md 2).
 *
 * An arena hands out memory from large blocks and frees it all at once.
 * Cleanups registered with arena_defer() release foreign objects (libxml2
 * documents, PGresults, pool leases) when the arena is reset or destroyed,
 * in reverse order of registration.  With ARENA_DEBUG every allocation is
 * its own malloc so that AddressSanitizer sees overflows.
 *
 * An arena is owned by one thread at a time; it has no lock.
 */
#include "core/core.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct block {
    struct block *next;
    size_t used;
    size_t size;
    /* data follows, aligned */
};

struct cleanup {
    struct cleanup *next;
    arena_cleanup_fn fn;
    void *obj;
};

struct arena {
    struct block *blocks;
    struct cleanup *cleanups;
    struct arena *children;
    struct arena *sibling;
    struct arena *parent;
};

static atomic_long live_arenas;

_Noreturn void
core_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("parvis: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        core_fatal("out of memory (%zu bytes)", n);
    return p;
}

static size_t
block_header(void)
{
    return (sizeof(struct block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

struct arena *
arena_create(void)
{
    struct arena *a = xmalloc(sizeof(*a));
    memset(a, 0, sizeof(*a));
    atomic_fetch_add(&live_arenas, 1);
    return a;
}

long
arena_live_count(void)
{
    return atomic_load(&live_arenas);
}

static void
arena_release(struct arena *a)
{
    while (a->children != NULL) {
        struct arena *c = a->children;
        a->children = c->sibling;
        c->parent = NULL;
        arena_destroy(c);
    }
    while (a->cleanups != NULL) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->obj);
    }
    while (a->blocks != NULL) {
        struct block *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
}

static void
unlink_child(struct arena *a)
{
    struct arena **pp;
    if (a->parent == NULL)
        return;
    for (pp = &a->parent->children; *pp != NULL; pp = &(*pp)->sibling) {
        if (*pp == a) {
            *pp = a->sibling;
            break;
        }
    }
    a->parent = NULL;
}

void
arena_destroy(struct arena *a)
{
    if (a == NULL)
        return;
    unlink_child(a);
    arena_release(a);
    free(a);
    atomic_fetch_sub(&live_arenas, 1);
}

void
arena_reset(struct arena *a)
{
    arena_release(a);
}

struct arena *
arena_child(struct arena *parent)
{
    struct arena *c = arena_create();
    c->parent = parent;
    c->sibling = parent->children;
    parent->children = c;
    return c;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    void *p = arena_alloc_raw(a, n);
    memset(p, 0, n);
    return p;
}

void *
arena_alloc_raw(struct arena *a, size_t n)
{
    size_t hdr = block_header();
    if (n > SIZE_MAX / 2)
        core_fatal("allocation of %zu bytes", n);
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0)
        n = ARENA_ALIGN;
#ifdef ARENA_DEBUG
    struct block *d = xmalloc(hdr + n);
    d->size = n;
    d->used = n;
    d->next = a->blocks;
    a->blocks = d;
    return (char *)d + hdr;
#else
    struct block *b = a->blocks;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK;
        struct block *nb = xmalloc(hdr + size);
        nb->size = size;
        nb->used = 0;
        if (size == n && b != NULL) {
            /* A large allocation gets its own block behind the current one
             * so that the current block keeps serving small requests. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->blocks = nb;
        }
        b = nb;
    }
    void *p = (char *)b + hdr + b->used;
    b->used += n;
    return p;
#endif
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    if (s == NULL)
        return NULL;
    return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        core_fatal("bad format string");
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void
arena_defer(struct arena *a, arena_cleanup_fn fn, void *obj)
{
    /* Cleanups run before the blocks are freed, so they may live in them. */
    struct cleanup *c = arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->obj = obj;
    c->next = a->cleanups;
    a->cleanups = c;
}
