/*
 * dav/sync.c -- collection synchronization (RFC 6578): the sync-collection
 * report and the DAV:sync-token property, plus the CalendarServer getctag
 * that older clients poll, and DAV:supported-report-set (RFC 3253 §3.1.5).
 *
 * Tokens are "http://parvis.org/ns/sync/ID-FROM-SEEN": ID is the
 * collection's resource id, FROM-SEEN its mark in the change log (struct
 * dav_sync_mark, decision 0018).  A synchronisation from it reports the
 * changes of transaction FROM and every later one, so a writer that
 * commits after a later one is not missed; SEEN, the number of those
 * already seen, makes the token move with each change that commits.  ID
 * ties the token to its collection (RFC 6578 §3.2): another collection's,
 * or that of a collection deleted and made again at the same URL, is
 * refused, as are tokens of the former FROM-SEEN shape.  Tokens
 * survive restarts and mean the same on every node.  Only Depth 1 (sync-level 1)
 * is offered; an unknown token is 403 DAV:valid-sync-token, never a 5xx
 * (Thunderbird disables a calendar after one).  The initial
 * synchronization (an empty token) lists every member: it streams, page
 * by page, as a PROPFIND listing does (dav_ms_stream); the token it ends
 * with is read before the listing, so that a change made meanwhile comes
 * again at the next synchronization rather than never.  A synchronization
 * from a token streams too, the changed members looked up 200 a page.
 *
 * Known limit: a DAV:limit (RFC 6578 §3.7) smaller than the answer is
 * refused (403 DAV:number-of-matches-within-limits), never answered in
 * part with a 507: a token names a transaction, and a cut inside the
 * changes of one, or inside the initial listing, could not be resumed
 * from.  The members counted are those before any access check.
 */
#include "dav/dav_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_PREFIX "http://parvis.org/ns/sync/"
#define CS_NS "http://calendarserver.org/ns/"

static bool
collection_target(const struct dav_target *t)
{
    return t->area == DAV_AREA_SPACE && t->exists &&
           t->res.kind == DAV_KIND_COLLECTION;
}

/* A collection's id and mark as "ID-FROM-SEEN" (what token_from reads
 * back), between 'prefix' and 'suffix'. */
static void
mark_print(struct buf *out, const char *prefix, int64_t id,
           struct dav_sync_mark m, const char *suffix)
{
    buf_printf(out, "%s%" PRId64 "-%" PRId64 "-%" PRId64 "%s", prefix, id,
               m.from, m.seen, suffix);
}

/* The collection's mark (mark_print); false for what is not a collection
 * or if it cannot be read. */
static bool
mark_write(struct dav_req *req, const struct dav_target *t,
           const char *prefix, const char *suffix, struct buf *out)
{
    if (!collection_target(t))
        return false;
    struct dav_sync_mark m;
    if (req->srv->store->collection_mark(req, t->res.id, &m) != DAV_STORE_OK)
        return false;
    mark_print(out, prefix, t->res.id, m, suffix);
    return true;
}

static bool
get_sync_token(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)a;
    return mark_write(req, t, SYNC_PREFIX, "", out);
}

static bool
get_ctag(struct dav_req *req, struct arena *a, const struct dav_target *t,
         struct buf *out)
{
    (void)a;
    return mark_write(req, t, "\"", "\"", out);
}

static bool
get_supported_report_set(struct dav_req *req, struct arena *a,
                         const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (t->area != DAV_AREA_SPACE && t->area != DAV_AREA_PRINCIPALS &&
        t->area != DAV_AREA_PRINCIPAL_USERS)
        return false;
    const struct dav_registry *r = req->srv->reg;
    for (size_t i = 0; i < r->nreports; i++) {
        const struct dav_report_def *d = r->reports[i];
        buf_puts(out, "<D:supported-report><D:report>");
        dav_xml_open(out, d->ns, d->name, true);
        buf_puts(out, "</D:report></D:supported-report>");
    }
    return true;
}

static const struct dav_prop_def sync_props[] = {
    { DAV_NS, "sync-token", DAV_P_PROTECTED, get_sync_token, NULL },
    { CS_NS, "getctag", DAV_P_PROTECTED, get_ctag, NULL },
    { DAV_NS, "supported-report-set", DAV_P_PROTECTED,
      get_supported_report_set, NULL },
};

static struct dav_err *
bad_token(struct dav_req *req)
{
    return dav_err_cond(req, 403, DAV_NS, "valid-sync-token",
                        "unknown or expired sync token");
}

/* The response of a member that exists, unless the principal may not
 * see it. */
static void
member_response(struct dav_req *req, struct arena *scratch,
                struct dav_target *m, const char **names, size_t nnames,
                struct buf *b)
{
    const struct dav_target *t = &req->target;
    m->exists = true;
    if (dav_member_hidden(req, &m->res) ||
        (t->cal_name == NULL && dav_reserved_path(m->path)) ||
        dav_check_priv(req, m, DAV_PRIV_READ) != NULL)
        return;
    struct buf found, missing;
    buf_init(&found, scratch, 512);
    buf_init(&missing, scratch, 64);
    dav_props_render(req, scratch, m, names, nnames, &found, &missing);
    dav_multistatus_response(b, dav_href_of(req, scratch, m),
                             buf_cstr(&found), buf_cstr(&missing));
}

static void
sync_token_write(struct buf *b, int64_t id, struct dav_sync_mark now)
{
    mark_print(b, "<D:sync-token>" SYNC_PREFIX, id, now, "</D:sync-token>");
}

/* The next number of 's' up to a '-' or its end, into *out; 's' moves
 * past it (and the '-'). */
static bool
token_part(struct str *s, bool last, uint64_t *out)
{
    const char *dash = memchr(s->p, '-', s->len);
    if ((dash == NULL) != last)
        return false;
    size_t n = dash != NULL ? (size_t)(dash - s->p) : s->len;
    if (!str_to_u64((struct str){ s->p, n }, out) || *out > INT64_MAX)
        return false;
    s->p += dash != NULL ? n + 1 : n;
    s->len -= dash != NULL ? n + 1 : n;
    return true;
}

/* FROM of a token "SYNC_PREFIX ID-FROM-SEEN" of collection 'id'; false if
 * it is not one, or another collection's (RFC 6578 §3.2: a token is of
 * one collection). */
static bool
token_from(struct str token, int64_t id, int64_t *from)
{
    if (!str_starts_with_c(token, SYNC_PREFIX))
        return false;
    struct str rest = { token.p + strlen(SYNC_PREFIX),
                        token.len - strlen(SYNC_PREFIX) };
    uint64_t c, f, l;
    if (!token_part(&rest, false, &c) || !token_part(&rest, false, &f) ||
        !token_part(&rest, true, &l) || (int64_t)c != id)
        return false;
    *from = (int64_t)f;
    return true;
}

/* A synchronization in pages, then the token: the initial one lists the
 * collection's members through 'cur'; one from a token looks up the
 * members changed since, SYNC_CHANGES_PAGE a page. */
#define SYNC_CHANGES_PAGE 200

struct sync_pages {
    const struct dav_target *coll;
    const char **names;        /* properties asked */
    size_t nnames;
    struct dav_sync_mark now;  /* the token to end with */
    struct arena *scratch;     /* one member's */
    struct dav_store_cursor *cur;   /* initial */
    const char **changed;      /* from a token: names, oldest change first */
    const bool *deleted;
    size_t nchanged;
    size_t next;               /* first of the next page */
};

static struct dav_err *
sync_page(struct dav_req *req, void *state, struct arena *a, struct buf *out,
          bool *done)
{
    struct sync_pages *sl = state;
    struct dav_store_member *rows;
    size_t n;
    enum dav_store_rc rc = req->srv->store->children_next(req, sl->cur, a,
                                                          &rows, &n, done);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "children");
    for (size_t i = 0; i < n; i++) {
        arena_reset(sl->scratch);
        struct dav_target m = *sl->coll;
        m.path = rows[i].res.path;
        m.res = rows[i].res;
        m.locks_loaded = false;
        m.nlocks = 0;
        member_response(req, sl->scratch, &m, sl->names, sl->nnames, out);
    }
    if (*done)
        sync_token_write(out, sl->coll->res.id, sl->now);
    return NULL;
}

static struct dav_err *
changes_page(struct dav_req *req, void *state, struct arena *a,
             struct buf *out, bool *done)
{
    struct sync_pages *sc = state;
    (void)a;
    const struct dav_store_ops *st = req->srv->store;
    size_t to = sc->nchanged - sc->next > SYNC_CHANGES_PAGE
                    ? sc->next + SYNC_CHANGES_PAGE
                    : sc->nchanged;
    for (size_t i = sc->next; i < to; i++) {
        arena_reset(sc->scratch);
        struct dav_target m = *sc->coll;
        m.path = arena_printf(sc->scratch, "%s/%s", sc->coll->path,
                              sc->changed[i]);
        m.locks_loaded = false;
        m.nlocks = 0;
        enum dav_store_rc rc =
            sc->deleted[i] ? DAV_STORE_NOTFOUND
                           : st->lookup(req, sc->coll->space.id, m.path, false,
                                        &m.res);
        if (rc == DAV_STORE_NOTFOUND) {
            /* RFC 6578 §3.5.2: a removed member is a 404 response. */
            m.exists = false;
            m.trailing_slash = false;
            dav_ms_status(out, dav_href_of(req, sc->scratch, &m), 404);
            continue;
        }
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "member");
        member_response(req, sc->scratch, &m, sc->names, sc->nnames, out);
    }
    sc->next = to;
    *done = to == sc->nchanged;
    if (*done)
        sync_token_write(out, sc->coll->res.id, sc->now);
    return NULL;
}

/* The DAV:limit of the request (RFC 6578 §3.7, RFC 5323 §5.17): its
 * DAV:nresults into *n, or 0 for none. */
static struct dav_err *
parse_limit(struct dav_req *req, const struct dav_xml_elem *root,
            uint64_t *n)
{
    *n = 0;
    struct dav_xml_elem *lim = dav_elem_child(root, DAV_NS, "limit");
    if (lim == NULL)
        return NULL;
    struct dav_xml_elem *nr = dav_elem_child(lim, DAV_NS, "nresults");
    if (nr == NULL ||
        !str_to_u64(str_trim(str_c(dav_elem_text(req, nr))), n) || *n == 0)
        return dav_err_new(req, 400, "DAV:limit needs a positive nresults");
    return NULL;
}

/* RFC 6578 §3.7: a server that cannot cut the answer at the limit MUST
 * fail with DAV:number-of-matches-within-limits. */
static struct dav_err *
over_limit(struct dav_req *req, uint64_t limit, uint64_t n)
{
    if (limit == 0 || n <= limit)
        return NULL;
    return dav_err_cond(req, 403, DAV_NS, "number-of-matches-within-limits",
                        "sync-collection of %" PRIu64 " members, over the "
                        "limit of %" PRIu64, n, limit);
}

static struct dav_err *
report_sync_collection(struct dav_req *req, const struct dav_xml_elem *root)
{
    struct dav_target *t = &req->target;
    if (!collection_target(t))
        return dav_err_new(req, 403, "sync-collection needs a collection");
    /* Thunderbird sends Depth: 1 (RFC 6578 says 0): accept both. */
    struct dav_xml_elem *tok = dav_elem_child(root, DAV_NS, "sync-token");
    struct dav_xml_elem *lvl = dav_elem_child(root, DAV_NS, "sync-level");
    struct dav_xml_elem *prop = dav_elem_child(root, DAV_NS, "prop");
    if (tok == NULL || lvl == NULL)
        return dav_err_new(req, 400, "sync-collection needs sync-token "
                                     "and sync-level");
    const char *level = dav_elem_text(req, lvl);
    struct str lv = str_trim(str_c(level));
    if (str_case_eq_c(lv, "infinite"))
        return dav_err_cond(req, 403, DAV_NS, "sync-traversal-supported",
                            "only sync-level 1");
    if (!str_eq_c(lv, "1"))
        return dav_err_new(req, 400, "bad sync-level");
    struct str token = str_trim(str_c(dav_elem_text(req, tok)));
    int64_t since = 0;
    bool initial = token.len == 0;
    if (!initial && !token_from(token, t->res.id, &since))
        return bad_token(req);

    uint64_t limit;
    struct dav_err *err = parse_limit(req, root, &limit);
    if (err != NULL)
        return err;

    const char **names;
    size_t nnames;
    err = dav_prop_names(req, prop, &names, &nnames);
    if (err != NULL)
        return err;

    const struct dav_store_ops *st = req->srv->store;
    const char **changed = NULL;
    bool *deleted = NULL;
    size_t nchanged = 0;
    struct dav_sync_mark now;
    /* The initial listing needs only the mark, read before it. */
    enum dav_store_rc rc =
        initial ? st->collection_mark(req, t->res.id, &now)
                : st->changes_since(req, t->res.id, since, &changed, &deleted,
                                    &nchanged, &now);
    if (rc == DAV_STORE_NOTFOUND)
        return bad_token(req);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "changes");
    if (initial && limit > 0) {
        int64_t count;
        rc = st->children_count(req, t->space.id, t->path, &count);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "children");
        err = over_limit(req, limit, (uint64_t)count);
    } else {
        err = over_limit(req, limit, nchanged);
    }
    if (err != NULL)
        return err;

    struct sync_pages *sp = arena_alloc(req->arena, sizeof(*sp));
    sp->coll = t;
    sp->names = names;
    sp->nnames = nnames;
    sp->now = now;
    sp->scratch = arena_child(req->arena);
    sp->changed = changed;
    sp->deleted = deleted;
    sp->nchanged = nchanged;
    sp->next = 0;
    if (initial) {
        /* An empty token: every current member (RFC 6578 §3.4), streamed
         * page by page as a PROPFIND listing is. */
        rc = st->children_open(req, t->space.id, t->path, false, -1,
                               &sp->cur);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "children");
    }
    struct buf b;
    dav_multistatus_begin(req, &b);
    return dav_ms_stream(req, &b, initial ? sync_page : changes_page, sp);
}

static const struct dav_report_def sync_reports[] = {
    { DAV_NS, "sync-collection", DAV_PRIV_READ, DAV_R_DEPTH_OK,
      report_sync_collection },
};

void
dav_sync_register(struct dav_registry *r)
{
    dav_registry_add_props(r, sync_props,
                           sizeof(sync_props) / sizeof(sync_props[0]));
    dav_registry_add_reports(r, sync_reports,
                             sizeof(sync_reports) / sizeof(sync_reports[0]));
}
