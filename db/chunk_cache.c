/*
 * db/chunk_cache.c -- a node-local cache of content chunks.
 *
 * A chunk is named by the SHA-256 of its bytes (within a space), so a
 * cached copy can never be stale: there is nothing to invalidate.  The
 * cache is direct-mapped: each (space, hash) has one slot, and a new chunk
 * replaces the slot's occupant.  The bytes held stay under the budget given
 * at creation: a chunk that would pass it is not kept.  One mutex guards
 * the table; readers copy out under it, so an entry is never freed while
 * read.
 *
 * Owner: the pool (struct db_pool), which creates the cache with itself
 * and destroys it last.
 */
#include "db/chunk_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_CACHE_SLOTS 4096

struct slot {
    int64_t space_id;
    unsigned char sha256[32];
    size_t len;
    unsigned char *data;     /* NULL: empty */
};

struct chunk_cache {
    pthread_mutex_t lock;
    size_t budget;
    size_t used;
    struct slot slots[CHUNK_CACHE_SLOTS];
};

struct chunk_cache *
chunk_cache_create(size_t budget)
{
    if (budget == 0)
        return NULL;
    struct chunk_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->budget = budget;
    return c;
}

void
chunk_cache_destroy(struct chunk_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CHUNK_CACHE_SLOTS; i++)
        free(c->slots[i].data);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct slot *
slot_for(struct chunk_cache *c, int64_t space_id,
         const unsigned char sha256[32])
{
    /* The hash is uniform already; mix in the space. */
    uint64_t h;
    memcpy(&h, sha256, sizeof(h));
    h ^= (uint64_t)space_id * 0x9E3779B97F4A7C15ULL;
    return &c->slots[h % CHUNK_CACHE_SLOTS];
}

bool
chunk_cache_get(struct chunk_cache *c, int64_t space_id,
                const unsigned char sha256[32], size_t off, size_t len,
                void *dst)
{
    if (c == NULL)
        return false;
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    struct slot *s = slot_for(c, space_id, sha256);
    if (s->data != NULL && s->space_id == space_id &&
        memcmp(s->sha256, sha256, 32) == 0 && off <= s->len &&
        len <= s->len - off) {
        memcpy(dst, s->data + off, len);
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void
chunk_cache_put(struct chunk_cache *c, int64_t space_id,
                const unsigned char sha256[32], const void *data, size_t len)
{
    if (c == NULL || len == 0 || len > c->budget)
        return;
    /* Copied before taking the lock; dropped if it does not fit. */
    unsigned char *copy = malloc(len);
    if (copy == NULL)
        return;
    memcpy(copy, data, len);
    pthread_mutex_lock(&c->lock);
    struct slot *s = slot_for(c, space_id, sha256);
    size_t freed = s->data != NULL ? s->len : 0;
    if (c->used - freed + len <= c->budget) {
        free(s->data);
        c->used = c->used - freed + len;
        s->space_id = space_id;
        memcpy(s->sha256, sha256, 32);
        s->len = len;
        s->data = copy;
        copy = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    free(copy);
}

size_t
chunk_cache_used(struct chunk_cache *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t u = c->used;
    pthread_mutex_unlock(&c->lock);
    return u;
}
