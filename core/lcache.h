/*
 * core/lcache.h -- answers kept under a key and a stamp (core/lcache.c).
 */
#ifndef PARVIS_CORE_LCACHE_H
#define PARVIS_CORE_LCACHE_H

#include <stdbool.h>
#include <stddef.h>

struct lcache;
struct lcache_entry;
struct lcache_fill;

/* A cache holding at most 'budget' bytes of entries, and as many of fills;
 * NULL when 'budget' is 0 or memory is short (then: no cache, and every
 * function below accepts the NULL).  An entry over a quarter of the budget
 * (lcache_max_entry) is not kept. */
struct lcache *lcache_create(size_t budget);
/* The same with 'nslots' slots (lcache_create: 256).  The table is
 * direct-mapped: more slots, fewer keys pushing each other out. */
struct lcache *lcache_create_slots(size_t budget, size_t nslots);
void lcache_destroy(struct lcache *c);
size_t lcache_max_entry(const struct lcache *c);
/* Bytes of the entries held. */
size_t lcache_used(struct lcache *c);

/* The entry under 'key' made at 'stamp', held for the caller until
 * lcache_release(), its bytes (shared: never written) in *body and *len;
 * NULL if none.  A stamp other than the last asked for drops every entry
 * of another stamp. */
struct lcache_entry *lcache_get(struct lcache *c, const unsigned char key[32],
                                const char *stamp, char **body, size_t *len);
void lcache_release(struct lcache *c, struct lcache_entry *e);
/* Whether an entry under 'key' is held, whatever its stamp (nothing is
 * dropped). */
bool lcache_has(struct lcache *c, const unsigned char key[32]);
/* An entry of 'len' bytes made at once, allocated to its size. */
void lcache_put(struct lcache *c, const unsigned char key[32],
                const char *stamp, const char *body, size_t len);

/* Making an entry: begin (NULL if there is no room, or no cache) with
 * room for 'hint' bytes (the answer's likely size: a buffer grown by
 * steps leaves its steps behind in the allocator), append the answer's
 * bytes as they are made (false once over lcache_max_entry or the fills'
 * budget: then abort), and end it under 'stamp', which replaces what the
 * slot held; or abort.  End and abort free the fill. */
struct lcache_fill *lcache_fill_begin(struct lcache *c,
                                      const unsigned char key[32],
                                      size_t hint);
bool lcache_fill_append(struct lcache_fill *f, const char *data, size_t n);
void lcache_fill_end(struct lcache_fill *f, const char *stamp);
void lcache_fill_abort(struct lcache_fill *f);

#endif
