/*
 * dav/lookup.c -- the targets of reads kept while the database is
 * unchanged (decision 0027).
 *
 * A read (GET, HEAD, PROPFIND Depth 0: the requests leased without a
 * transaction) resolves its target with the store's space_lookup: the
 * account still valid, the space reachable by it, the resource at the
 * path.  What that statement returned is kept here, in a core/lcache,
 * under the name of the snapshot it ran in (stamp_of req->store_stamp); a
 * later read of the same target by the same account and password asks the
 * store for the name of the database's state now (stamp_now: one
 * statement, sent after the request asked, shared by the reads that asked
 * meanwhile) and, if it is the same, no transaction has ended since: the
 * database holds what it held, and the kept answer is used instead of the
 * statement.  The account's validity may end with time, not with a write:
 * an answer is not used from the second its account expires.
 */
#include "dav/dav_int.h"

#include "core/lcache.h"

#include <string.h>

#define LOOKUP_NULL UINT32_MAX

static void
put_i64(struct buf *b, int64_t v)
{
    buf_append(b, &v, sizeof(v));
}

static void
put_str(struct buf *b, const char *s)
{
    uint32_t n = s != NULL ? (uint32_t)strlen(s) : LOOKUP_NULL;
    buf_append(b, &n, sizeof(n));
    if (s != NULL)
        buf_append(b, s, n);
}

struct reader {
    const char *p, *end;
    struct arena *a;
    bool ok;
};

static int64_t
get_i64(struct reader *r)
{
    int64_t v = 0;
    if (r->end - r->p < (ptrdiff_t)sizeof(v)) {
        r->ok = false;
        return 0;
    }
    memcpy(&v, r->p, sizeof(v));
    r->p += sizeof(v);
    return v;
}

static const char *
get_str(struct reader *r)
{
    uint32_t n;
    if (r->end - r->p < (ptrdiff_t)sizeof(n)) {
        r->ok = false;
        return NULL;
    }
    memcpy(&n, r->p, sizeof(n));
    r->p += sizeof(n);
    if (n == LOOKUP_NULL)
        return NULL;
    if (r->end - r->p < (ptrdiff_t)n) {
        r->ok = false;
        return NULL;
    }
    char *s = arena_alloc_raw(r->a, (size_t)n + 1);
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    return s;
}

/* Whose target, and which: the account, the password it logged in with
 * (an app password may be revoked alone), the space and the path. */
static void
lookup_key(const struct dav_req *req, const struct dav_target *t,
           int64_t viewer, unsigned char key[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, "lookup", 7);
    sha256_update(&s, &viewer, sizeof(viewer));
    sha256_update(&s, &req->app_password_id, sizeof(req->app_password_id));
    sha256_update(&s, t->slug, strlen(t->slug) + 1);
    sha256_update(&s, t->path, strlen(t->path) + 1);
    sha256_final(&s, key);
}

static void
put_resource(struct buf *b, const struct dav_resource *res)
{
    put_i64(b, res->id);
    put_i64(b, res->space_id);
    put_i64(b, res->kind);
    put_i64(b, res->rev_id);
    put_i64(b, res->rev_num);
    put_i64(b, res->size);
    buf_append(b, res->sha256, sizeof(res->sha256));
    put_i64(b, res->created);
    put_i64(b, res->modified);
    put_i64(b, res->subtype);
    put_i64(b, res->created_by);
    put_i64(b, res->approved_rev);
    put_i64(b, res->approved_at);
    put_i64(b, res->trashed_at);
    put_str(b, res->path);
    put_str(b, res->name);
    put_str(b, res->content_type);
    put_str(b, res->components);
    put_str(b, res->created_by_name);
    put_str(b, res->approval_state);
    put_str(b, res->approval_comment);
    put_str(b, res->approved_by);
    put_str(b, res->trashed_from);
    put_str(b, res->trashed_by);
}

static void
get_resource(struct reader *r, struct dav_resource *res)
{
    memset(res, 0, sizeof(*res));
    res->id = get_i64(r);
    res->space_id = get_i64(r);
    res->kind = (enum dav_kind)get_i64(r);
    res->rev_id = get_i64(r);
    res->rev_num = (int32_t)get_i64(r);
    res->size = get_i64(r);
    if (r->end - r->p < (ptrdiff_t)sizeof(res->sha256)) {
        r->ok = false;
        return;
    }
    memcpy(res->sha256, r->p, sizeof(res->sha256));
    r->p += sizeof(res->sha256);
    res->created = (time_t)get_i64(r);
    res->modified = (time_t)get_i64(r);
    res->subtype = (int)get_i64(r);
    res->created_by = get_i64(r);
    res->approved_rev = get_i64(r);
    res->approved_at = (time_t)get_i64(r);
    res->trashed_at = (time_t)get_i64(r);
    res->path = get_str(r);
    res->name = get_str(r);
    res->content_type = get_str(r);
    res->components = get_str(r);
    res->created_by_name = get_str(r);
    res->approval_state = get_str(r);
    res->approval_comment = get_str(r);
    res->approved_by = get_str(r);
    res->trashed_from = get_str(r);
    res->trashed_by = get_str(r);
}

/* Whether this request's target may be kept and taken from the cache.
 * Not for a read that will be audited (a guest's): its audit row ends a
 * transaction, so the next read would only wait for a stamp to miss. */
static bool
lookup_kept(const struct dav_req *req)
{
    const struct dav_store_ops *st = req->srv->store;
    return req->srv->lookups != NULL && st->stamp_now != NULL &&
           st->stamp_of != NULL &&
           (req->principal == NULL || !req->principal->guest);
}

bool
dav_lookup_cached(struct dav_req *req, struct dav_target *t, int64_t viewer,
                  unsigned char key[32], bool *principal_ok, bool *space_found)
{
    if (!lookup_kept(req))
        return false;
    struct lcache *cache = req->srv->lookups;
    lookup_key(req, t, viewer, key);
    /* Nothing kept for it: the statement at once, without the wait. */
    if (!lcache_has(cache, key))
        return false;
    time_t db_now;
    const char *stamp = req->srv->store->stamp_now(req, &db_now);
    if (stamp == NULL)
        return false;
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(cache, key, stamp, &body, &len);
    if (e == NULL)
        return false;
    struct reader r = { body, body + len, req->arena, true };
    int64_t flags = get_i64(&r);
    time_t until = (time_t)get_i64(&r);
    struct dav_space sp = { 0 };
    sp.id = get_i64(&r);
    sp.has_aces = get_i64(&r) != 0;
    sp.quota = get_i64(&r);
    sp.created = (time_t)get_i64(&r);
    sp.slug = get_str(&r);
    sp.title = get_str(&r);
    sp.role = get_str(&r);
    struct dav_resource res;
    get_resource(&r, &res);
    lcache_release(cache, e);
    /* An account expired since, by the database's clock (as the
     * statement would judge it): asked again, and refused. */
    if (!r.ok || (until != 0 && db_now >= until))
        return false;
    *principal_ok = (flags & 1) != 0;
    *space_found = (flags & 2) != 0;
    t->exists = (flags & 4) != 0;
    if (*space_found)
        t->space = sp;
    if (t->exists)
        t->res = res;
    /* The snapshot's text is not known: no listing is kept (dav/props.c);
     * its number is. */
    req->store_stamp = NULL;
    req->read_stamp = stamp;
    req->principal_until = until;
    log_msg(LOG_DEBUG, req->id, NULL, "target from the cache");
    return true;
}

void
dav_lookup_keep(struct dav_req *req, const struct dav_target *t,
                const unsigned char key[32], bool principal_ok,
                bool space_found)
{
    if (!lookup_kept(req))
        return;
    struct lcache *cache = req->srv->lookups;
    /* Kept under the name of the state the statement saw, if known (the
     * last read by stamp_now: else the next read will miss and keep). */
    const char *stamp = req->srv->store->stamp_of(req, req->store_stamp);
    if (stamp == NULL)
        return;
    req->read_stamp = stamp;
    struct buf b;
    buf_init(&b, req->arena, 512);
    put_i64(&b, (principal_ok ? 1 : 0) | (space_found ? 2 : 0) |
                    (t->exists ? 4 : 0));
    put_i64(&b, principal_ok ? req->principal_until : 0);
    const struct dav_space *sp = &t->space;
    put_i64(&b, space_found ? sp->id : 0);
    put_i64(&b, space_found && sp->has_aces);
    put_i64(&b, space_found ? sp->quota : 0);
    put_i64(&b, space_found ? sp->created : 0);
    put_str(&b, space_found ? sp->slug : NULL);
    put_str(&b, space_found ? sp->title : NULL);
    put_str(&b, space_found ? sp->role : NULL);
    static const struct dav_resource none;
    put_resource(&b, t->exists ? &t->res : &none);
    lcache_put(cache, key, stamp, b.p, b.len);
}
