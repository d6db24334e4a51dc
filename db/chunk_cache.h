/*
 * db/chunk_cache.h -- a node-local cache of content chunks, which are
 * immutable (named by their hash), so the cache needs no invalidation.
 * Thread-safe.  A NULL cache (budget 0) caches nothing.
 */
#ifndef PARVIS_DB_CHUNK_CACHE_H
#define PARVIS_DB_CHUNK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chunk_cache;

/* A cache holding at most 'budget' bytes of chunks; NULL if budget is 0
 * or memory is short. */
struct chunk_cache *chunk_cache_create(size_t budget);
void chunk_cache_destroy(struct chunk_cache *c);

/* Copy len bytes at off of the chunk (space_id, sha256) into dst: true if
 * the chunk was cached (and holds that range). */
bool chunk_cache_get(struct chunk_cache *c, int64_t space_id,
                     const unsigned char sha256[32], size_t off, size_t len,
                     void *dst);

/* Keep a copy of a whole chunk, replacing the one in its slot; not kept
 * when it would take the cache past its budget. */
void chunk_cache_put(struct chunk_cache *c, int64_t space_id,
                     const unsigned char sha256[32], const void *data,
                     size_t len);

/* Bytes held now. */
size_t chunk_cache_used(struct chunk_cache *c);

#endif
