/*
 * db/disk_cache.h -- a node-local cache of large content chunks, and of
 * large contents whole, in files of a private directory.  Chunks are immutable (named by their hash within
 * a space), so a cached copy needs no invalidation.  The directory is
 * emptied when the cache opens: a file cut short by a crash is never
 * served.  Its bytes stay in the kernel's page cache, not in parvisd's
 * memory.  Thread-safe.
 */
#ifndef PARVIS_DB_DISK_CACHE_H
#define PARVIS_DB_DISK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk_cache;

/*
 * Open the cache in 'dir' (created with mode 0700 when missing) for at
 * most 'budget' bytes of chunks, removing the chunk files left there.  The
 * directory must belong to this user and be closed to group and others,
 * and no other process may be using it.  NULL with a message in err on
 * failure.
 */
struct disk_cache *disk_cache_open(const char *dir, uint64_t budget,
                                   char *err, size_t errlen);
void disk_cache_close(struct disk_cache *c);

/* Copy len bytes at off of the chunk (space_id, sha256) into dst: true if
 * the chunk was cached and holds that range. */
bool disk_cache_get(struct disk_cache *c, int64_t space_id,
                    const unsigned char sha256[32], size_t off, size_t len,
                    void *dst);

/* Keep a whole chunk, evicting the least recently used ones past the
 * budget.  A failure to write (disk full) keeps nothing. */
void disk_cache_put(struct disk_cache *c, int64_t space_id,
                    const unsigned char sha256[32], const void *data,
                    size_t len);

/*
 * An open file of the bytes (space_id, sha256), for sending as they are
 * (sendfile): -1 unless the cache holds exactly len bytes under that name.
 * The caller closes it; the file stays readable to it if evicted meanwhile.
 */
int disk_cache_fd(struct disk_cache *c, int64_t space_id,
                  const unsigned char sha256[32], uint64_t len);

/*
 * A content written whole as it is uploaded, chunk after chunk, and kept
 * under the content's own hash once its chunk list is known to be the one
 * written.  Begin gives NULL when there is no cache or no file could be
 * made; add ignores a NULL fill and stops writing (spoiling the fill) on a
 * write error or past the budget; end either keeps the file or removes it,
 * and frees the fill.
 */
struct disk_cache_fill;
struct disk_cache_fill *disk_cache_fill_begin(struct disk_cache *c);
void disk_cache_fill_add(struct disk_cache_fill *f,
                         const unsigned char sha256[32], const void *data,
                         size_t len);
/* Whether the i-th chunk added was the one named sha256. */
bool disk_cache_fill_has(const struct disk_cache_fill *f, size_t i,
                         const unsigned char sha256[32]);
size_t disk_cache_fill_chunks(const struct disk_cache_fill *f);
/* keep: the chunks added are, in order, the whole content (space_id,
 * sha256) of len bytes. */
void disk_cache_fill_end(struct disk_cache_fill *f, bool keep,
                         int64_t space_id, const unsigned char sha256[32],
                         uint64_t len);

/* Remove the file of (space_id, sha256), if it is held: its bytes are
 * not expected to be read again soon.  A reader that opened it keeps
 * reading it. */
void disk_cache_drop(struct disk_cache *c, int64_t space_id,
                     const unsigned char sha256[32]);

/* Chunks and bytes held now. */
void disk_cache_usage(struct disk_cache *c, size_t *chunks, uint64_t *bytes);

#endif
