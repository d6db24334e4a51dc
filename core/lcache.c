/*
 * core/lcache.c -- a cache of answers stamped with the database's
 * snapshot: the folder listings of dav/props.c (decision 0026) and the
 * targets of reads (dav/lookup.c, decision 0027).
 *
 * An entry is the bytes of one answer, named by a 32-byte key (the SHA-256
 * of what the answer was computed from besides the database) and stamped
 * with a text that changes whenever the database may have (the store's
 * snapshot).  It is served only under the same stamp; when a new stamp is
 * asked for, every entry of another is dropped, stamps never coming back,
 * so that a write anywhere leaves no dead answers taking the budget.
 *
 * The table is direct-mapped (a key has one slot; a new entry replaces the
 * slot's occupant).  The bytes held stay under the budget given at
 * creation, and so do the copies being made (struct lcache_fill), counted
 * apart.  Entries are counted references: a reader holds one until it is
 * done, so a replaced entry is freed by its last reader.  One mutex guards
 * the table and the counts.
 *
 * Owner: parvisd's main() creates the cache and destroys it once the HTTP
 * server has stopped; the cache owns its entries and its fills.
 */
#include "core/lcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


struct lcache_entry {
    unsigned refs;           /* the slot's, and one per reader */
    unsigned char key[32];
    char *stamp;
    char *body;
    size_t len;
};

struct lcache {
    pthread_mutex_t lock;
    size_t budget;
    size_t used;             /* bytes of the entries in slots */
    size_t filling;          /* bytes of the fills' buffers */
    char *stamp;             /* the last asked for; NULL: none yet */
    size_t nslots;
    struct lcache_entry **slots;
};

struct lcache_fill {
    struct lcache *cache;
    unsigned char key[32];
    char *p;
    size_t len, cap;
};

struct lcache *
lcache_create(size_t budget)
{
    return lcache_create_slots(budget, 256);
}

struct lcache *
lcache_create_slots(size_t budget, size_t nslots)
{
    if (budget == 0 || nslots == 0)
        return NULL;
    struct lcache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->slots = calloc(nslots, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    c->nslots = nslots;
    pthread_mutex_init(&c->lock, NULL);
    c->budget = budget;
    return c;
}

static void
entry_free(struct lcache_entry *e)
{
    free(e->stamp);
    free(e->body);
    free(e);
}

void
lcache_destroy(struct lcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i] != NULL)
            entry_free(c->slots[i]);
    free(c->stamp);
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

size_t
lcache_max_entry(const struct lcache *c)
{
    return c == NULL ? 0 : c->budget / 4;
}

size_t
lcache_used(struct lcache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->used;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Called with the lock held. */
static void
drop_ref(struct lcache_entry *e)
{
    if (--e->refs == 0)
        entry_free(e);
}

/* Called with the lock held: empty slot 'i'. */
static void
evict(struct lcache *c, size_t i)
{
    struct lcache_entry *e = c->slots[i];
    c->slots[i] = NULL;
    c->used -= e->len;
    drop_ref(e);
}

static size_t
slot_of(const struct lcache *c, const unsigned char key[32])
{
    return (key[0] | (size_t)key[1] << 8 | (size_t)key[2] << 16) % c->nslots;
}

struct lcache_entry *
lcache_get(struct lcache *c, const unsigned char key[32], const char *stamp,
           char **body, size_t *len)
{
    if (c == NULL || stamp == NULL)
        return NULL;
    size_t i = slot_of(c, key);
    struct lcache_entry *hit = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->stamp == NULL || strcmp(c->stamp, stamp) != 0) {
        /* A new stamp: the entries of others will not be served again
         * (stamps do not come back; one asked for late, from a request
         * that read it earlier, only costs entries made since). */
        char *s = strdup(stamp);
        if (s != NULL) {
            free(c->stamp);
            c->stamp = s;
            for (size_t k = 0; k < c->nslots; k++)
                if (c->slots[k] != NULL &&
                    strcmp(c->slots[k]->stamp, stamp) != 0)
                    evict(c, k);
        }
    }
    struct lcache_entry *e = c->slots[i];
    if (e != NULL && memcmp(e->key, key, 32) == 0) {
        if (strcmp(e->stamp, stamp) == 0) {
            e->refs++;
            hit = e;
        } else {
            evict(c, i);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (hit != NULL) {
        *body = hit->body;
        *len = hit->len;
    }
    return hit;
}

void
lcache_release(struct lcache *c, struct lcache_entry *e)
{
    pthread_mutex_lock(&c->lock);
    drop_ref(e);
    pthread_mutex_unlock(&c->lock);
}

bool
lcache_has(struct lcache *c, const unsigned char key[32])
{
    if (c == NULL)
        return false;
    size_t i = slot_of(c, key);
    pthread_mutex_lock(&c->lock);
    bool has = c->slots[i] != NULL && memcmp(c->slots[i]->key, key, 32) == 0;
    pthread_mutex_unlock(&c->lock);
    return has;
}

/* Room for 'n' more bytes of fills, or false. */
static bool
reserve(struct lcache *c, size_t n)
{
    pthread_mutex_lock(&c->lock);
    bool ok = n <= c->budget - c->filling;
    if (ok)
        c->filling += n;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void
unreserve(struct lcache *c, size_t n)
{
    pthread_mutex_lock(&c->lock);
    c->filling -= n;
    pthread_mutex_unlock(&c->lock);
}

#define FILL_FIRST (64 * 1024)

static struct lcache_fill *fill_new(struct lcache *c,
                                     const unsigned char key[32], size_t cap);

struct lcache_fill *
lcache_fill_begin(struct lcache *c, const unsigned char key[32], size_t hint)
{
    if (c == NULL)
        return NULL;
    size_t cap = hint > FILL_FIRST ? hint : FILL_FIRST;
    if (cap > lcache_max_entry(c))
        cap = lcache_max_entry(c);
    return fill_new(c, key, cap);
}

void
lcache_put(struct lcache *c, const unsigned char key[32], const char *stamp,
           const char *body, size_t len)
{
    if (c == NULL || len == 0 || len > lcache_max_entry(c))
        return;
    struct lcache_fill *f = fill_new(c, key, len);
    if (f == NULL)
        return;
    if (lcache_fill_append(f, body, len))
        lcache_fill_end(f, stamp);
    else
        lcache_fill_abort(f);
}

static struct lcache_fill *
fill_new(struct lcache *c, const unsigned char key[32], size_t cap)
{
    if (cap == 0 || !reserve(c, cap))
        return NULL;
    struct lcache_fill *f = malloc(sizeof(*f));
    char *p = malloc(cap);
    if (f == NULL || p == NULL) {
        free(f);
        free(p);
        unreserve(c, cap);
        return NULL;
    }
    f->cache = c;
    memcpy(f->key, key, 32);
    f->p = p;
    f->len = 0;
    f->cap = cap;
    return f;
}

void
lcache_fill_abort(struct lcache_fill *f)
{
    if (f == NULL)
        return;
    unreserve(f->cache, f->cap);
    free(f->p);
    free(f);
}

bool
lcache_fill_append(struct lcache_fill *f, const char *data, size_t n)
{
    size_t max = lcache_max_entry(f->cache);
    if (n > max - f->len)
        return false;
    if (n > f->cap - f->len) {
        size_t cap = f->cap;
        while (cap - f->len < n)
            cap *= 2;
        if (cap > max)
            cap = max;
        if (!reserve(f->cache, cap - f->cap))
            return false;
        char *p = realloc(f->p, cap);
        if (p == NULL) {
            unreserve(f->cache, cap - f->cap);
            return false;
        }
        f->p = p;
        f->cap = cap;
    }
    if (n > 0)
        memcpy(f->p + f->len, data, n);
    f->len += n;
    return true;
}

void
lcache_fill_end(struct lcache_fill *f, const char *stamp)
{
    struct lcache *c = f->cache;
    struct lcache_entry *e = malloc(sizeof(*e));
    char *s = stamp != NULL ? strdup(stamp) : NULL;
    if (e == NULL || s == NULL) {
        free(e);
        free(s);
        lcache_fill_abort(f);
        return;
    }
    /* The buffer becomes the entry, trimmed to its bytes. */
    char *body = f->len > 0 ? realloc(f->p, f->len) : NULL;
    e->refs = 1;
    memcpy(e->key, f->key, 32);
    e->stamp = s;
    e->body = body != NULL ? body : f->p;
    e->len = f->len;
    size_t i = slot_of(c, e->key);
    pthread_mutex_lock(&c->lock);
    c->filling -= f->cap;
    if (c->slots[i] != NULL)
        evict(c, i);
    /* Room under the budget: the other slots' entries go, from this
     * one's neighbours on. */
    for (size_t k = 1; c->used + e->len > c->budget && k < c->nslots; k++)
        if (c->slots[(i + k) % c->nslots] != NULL)
            evict(c, (i + k) % c->nslots);
    c->slots[i] = e;
    c->used += e->len;
    pthread_mutex_unlock(&c->lock);
    free(f);
}
