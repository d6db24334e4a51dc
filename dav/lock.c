/*
 * dav/lock.c -- WebDAV locking (RFC 4918 §6, §7, §9.10, §9.11, §10.4):
 * the If header, lock-token checks for methods that modify, LOCK, UNLOCK
 * and the DAV:lockdiscovery / DAV:supportedlock properties.
 *
 * Locks are rows in the store, so that every parvisd process over the same
 * database sees them; expired locks are ignored by the store's queries.
 * A lock token counts as submitted when it appears anywhere in the If
 * header and the requesting principal created the lock.
 *
 * Known limits: only write locks exist (the only type RFC 4918 defines).
 */
#include "dav/dav_int.h"

#include <string.h>
#include <strings.h>

#define DEFAULT_LOCK_TIMEOUT_MAX 3600

/* ---- If header ------------------------------------------------------------ */

struct dav_if_cond {
    bool not;
    bool etag;
    const char *value;        /* state token (Coded-URL content) or ETag */
};

struct dav_if_list {
    const char *tag;          /* Resource-Tag URI, NULL for untagged */
    struct dav_if_cond *conds;
    size_t n;
};

struct dav_if_state {
    struct dav_if_list *lists;
    size_t n;
};

static void
skip_lws(struct str *s)
{
    while (s->len > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
        s->p++;
        s->len--;
    }
}

/* Read up to 'close' (exclusive); false if absent. */
static bool
take_until(struct arena *a, struct str *s, char close, const char **out)
{
    const char *e = memchr(s->p, close, s->len);
    if (e == NULL)
        return false;
    *out = arena_strndup(a, s->p, (size_t)(e - s->p));
    s->len -= (size_t)(e - s->p) + 1;
    s->p = e + 1;
    return true;
}

/* RFC 4918 §10.4.2 grammar: No-tag-list+ | (Resource-Tag List+)+ */
static bool
if_parse(struct arena *a, struct str s, struct dav_if_state *st)
{
    size_t cap = 4;
    st->lists = arena_alloc(a, cap * sizeof(*st->lists));
    st->n = 0;
    const char *tag = NULL;
    bool tagged = false, any = false;
    for (;;) {
        skip_lws(&s);
        if (s.len == 0)
            break;
        if (s.p[0] == '<') {
            if (any && !tagged)
                return false; /* mixing untagged and tagged lists */
            s.p++;
            s.len--;
            if (!take_until(a, &s, '>', &tag) || tag[0] == '\0')
                return false;
            tagged = true;
            skip_lws(&s);
            if (s.len == 0 || s.p[0] != '(')
                return false;
            continue;
        }
        if (s.p[0] != '(')
            return false;
        if (tagged && tag == NULL)
            return false;
        s.p++;
        s.len--;
        struct dav_if_list l = { tag, NULL, 0 };
        size_t ccap = 4;
        l.conds = arena_alloc(a, ccap * sizeof(*l.conds));
        for (;;) {
            skip_lws(&s);
            if (s.len == 0)
                return false;
            if (s.p[0] == ')') {
                s.p++;
                s.len--;
                break;
            }
            struct dav_if_cond c = { false, false, NULL };
            if (s.len >= 3 && strncasecmp(s.p, "Not", 3) == 0) {
                c.not = true;
                s.p += 3;
                s.len -= 3;
                skip_lws(&s);
                if (s.len == 0)
                    return false;
            }
            if (s.p[0] == '<') {
                s.p++;
                s.len--;
                if (!take_until(a, &s, '>', &c.value))
                    return false;
            } else if (s.p[0] == '[') {
                s.p++;
                s.len--;
                c.etag = true;
                if (!take_until(a, &s, ']', &c.value))
                    return false;
            } else {
                return false;
            }
            if (l.n == ccap) {
                struct dav_if_cond *n = arena_alloc(a, 2 * ccap * sizeof(*n));
                memcpy(n, l.conds, ccap * sizeof(*n));
                l.conds = n;
                ccap *= 2;
            }
            l.conds[l.n++] = c;
        }
        if (l.n == 0)
            return false;
        if (st->n == cap) {
            struct dav_if_list *n = arena_alloc(a, 2 * cap * sizeof(*n));
            memcpy(n, st->lists, cap * sizeof(*n));
            st->lists = n;
            cap *= 2;
        }
        st->lists[st->n++] = l;
        any = true;
    }
    return st->n > 0;
}

static bool
token_submitted(const struct dav_req *req, const char *token)
{
    const struct dav_if_state *st = req->ifs;
    if (st == NULL)
        return false;
    for (size_t i = 0; i < st->n; i++)
        for (size_t k = 0; k < st->lists[i].n; k++) {
            const struct dav_if_cond *c = &st->lists[i].conds[k];
            if (!c->etag && strcmp(c->value, token) == 0)
                return true;
        }
    return false;
}

struct dav_err *
dav_target_locks(struct dav_req *req, struct dav_target *t)
{
    if (t->locks_loaded || t->area != DAV_AREA_SPACE)
        return NULL;
    struct dav_lock *locks;
    size_t n;
    enum dav_store_rc rc = req->srv->store->locks_find(req, t->space.id,
                                                       t->path, 0,
                                                       &locks, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "locks");
    t->locks = locks;
    t->nlocks = n;
    t->locks_loaded = true;
    return NULL;
}

/* Whether the request's target already holds 't' for its transaction:
 * its own path, or a collection above it, whose path lock it shares
 * (taking that one exclusively too would have two writes below it each
 * wait for the other). */
static bool
held_by_target(const struct dav_req *req, const struct dav_target *t)
{
    const struct dav_target *own = &req->target;
    if (t->space.id == 0 || t->space.id != own->space.id)
        return false;
    size_t n = strlen(t->path);
    return strncmp(own->path, t->path, n) == 0 &&
           (own->path[n] == '\0' || own->path[n] == '/');
}

/* The resource a tagged list applies to. */
static struct dav_err *
if_tag_target(struct dav_req *req, const char *tag, struct dav_target *out)
{
    const char *path;
    bool other;
    bool notfound;
    memset(out, 0, sizeof(*out));
    if (!dav_parse_destination(req->arena, str_c(tag),
                               dav_req_header(req, "Host"), &path, &other) ||
        other || !dav_path_parse(req->arena, path, out, &notfound)) {
        out->area = DAV_AREA_ROOT;
        out->exists = false;
        return NULL;
    }
    struct dav_err *err = dav_target_resolve(req, out, false);
    if (err == NULL && (req->mdef->flags & DAV_M_WRITE) != 0 &&
        !held_by_target(req, out)) {
        /* A write holds what its conditions are about until it commits:
         * the resource cannot change between the check and the write
         * (decision 0020).  Looked up again, holding it. */
        out->exists = false;
        err = dav_target_resolve(req, out, true);
    }
    if (err != NULL && err->status == 404) {
        out->exists = false;
        return NULL;
    }
    /* What one may not read cannot be probed through the If header. */
    if (err == NULL && out->exists &&
        dav_check_priv(req, out, DAV_PRIV_READ) != NULL) {
        memset(&out->res, 0, sizeof(out->res));
        out->exists = false;
        out->locks_loaded = true;
        out->nlocks = 0;
    }
    return err;
}

static bool
cond_holds(struct dav_req *req, const struct dav_if_cond *c,
           const struct dav_target *t)
{
    bool match = false;
    if (c->etag) {
        if (t->exists && t->area == DAV_AREA_SPACE) {
            const char *e = dav_etag_of(req->arena, &t->res);
            const char *v = c->value;
            if (strncmp(v, "W/", 2) == 0)
                v += 2;
            match = strcmp(e, v) == 0;
        }
    } else {
        for (size_t i = 0; i < t->nlocks; i++)
            if (strcmp(t->locks[i].token, c->value) == 0)
                match = true;
    }
    return c->not ? !match : match;
}

struct dav_err *
dav_if_evaluate(struct dav_req *req)
{
    const char *h = dav_req_header(req, "If");
    if (h == NULL)
        return NULL;
    if (req->ifs == NULL) {
        struct dav_if_state *st = arena_alloc(req->arena, sizeof(*st));
        if (!if_parse(req->arena, str_c(h), st))
            return dav_err_new(req, 400, "malformed If header");
        req->ifs = st;
    }
    const struct dav_if_state *st = req->ifs;
    for (size_t i = 0; i < st->n; i++) {
        const struct dav_if_list *l = &st->lists[i];
        struct dav_target tagged;
        struct dav_target *t = &req->target;
        if (l->tag != NULL) {
            struct dav_err *err = if_tag_target(req, l->tag, &tagged);
            if (err != NULL)
                return err;
            t = &tagged;
        }
        struct dav_err *err = dav_target_locks(req, t);
        if (err != NULL)
            return err;
        bool all = true;
        for (size_t k = 0; k < l->n && all; k++)
            all = cond_holds(req, &l->conds[k], t);
        if (all)
            return NULL;
    }
    /* RFC 4918 §10.4.1: a false If header is 412. */
    return dav_err_new(req, 412, "If header evaluated to false");
}

/* href of a lock root, or NULL when the principal may not read it (a
 * name in a denied folder is never told). */
static const char *
lock_root_href(struct dav_req *req, const struct dav_target *t,
               const char *root)
{
    struct dav_target r = *t;
    r.path = root;
    if (strcmp(root, t->path) != 0) {
        if (req->srv->store->lookup(req, t->space.id, root, false, &r.res) !=
            DAV_STORE_OK)
            return NULL;
        r.exists = true;
        if (dav_check_priv(req, &r, DAV_PRIV_READ) != NULL)
            return NULL;
    }
    bool coll = r.exists && r.res.kind == DAV_KIND_COLLECTION;
    if (t->url_base != NULL && t->base_path != NULL &&
        strncmp(root, t->base_path, strlen(t->base_path)) == 0)
        return dav_href_of(req, req->arena, &r);
    return dav_space_href(req->arena, t->slug, root, coll);
}

static struct dav_err *
locked_err(struct dav_req *req, const struct dav_target *t,
           const struct dav_lock *lk)
{
    struct dav_err *e = dav_err_cond(req, 423, DAV_NS, "lock-token-submitted",
                                     "locked by %s", lk->token);
    e->href = lock_root_href(req, t, lk->root);
    return e;
}

static bool
lock_ours(const struct dav_req *req, const struct dav_lock *lk)
{
    if (!token_submitted(req, lk->token))
        return false;
    /* RFC 4918 §6.4: a token is bound to the principal that created it. */
    return lk->principal_id == 0 ||
           (req->principal != NULL && req->principal->id == lk->principal_id);
}

/* Whether lock m covers every resource lock l covers: the same root and
 * at least its depth, or an infinite lock on a folder above l's root. */
static bool
shared_covers(const struct dav_lock *m, const struct dav_lock *l)
{
    size_t ml = strlen(m->root);
    if (strcmp(m->root, l->root) == 0)
        return m->infinite || !l->infinite;
    return m->infinite && strncmp(m->root, l->root, ml) == 0 &&
           (ml == 0 || l->root[ml] == '/');
}

struct dav_err *
dav_locks_check(struct dav_req *req, const struct dav_target *t, bool tree,
                bool parent)
{
    if (t->area != DAV_AREA_SPACE)
        return NULL;
    const struct dav_store_ops *st = req->srv->store;
    struct dav_lock *locks;
    size_t n;
    parent = parent && t->path[0] != '\0';
    enum dav_store_rc rc = st->locks_find(
        req, t->space.id, t->path,
        (tree ? DAV_LOCKS_BELOW : 0) | (parent ? DAV_LOCKS_PARENT : 0),
        &locks, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "locks");
    /* A depth-0 lock on the parent does not cover t: it protects the
     * parent's membership.  (Depth-infinity locks on ancestors do.) */
    size_t plen = parent ? (size_t)(strrchr(t->path, '/') - t->path) : 0;
    bool *on_parent = arena_alloc(req->arena, n + 1);
    for (size_t i = 0; i < n; i++)
        on_parent[i] = parent && !locks[i].infinite &&
                       strlen(locks[i].root) == plen &&
                       strncmp(locks[i].root, t->path, plen) == 0;
    /* RFC 4918 §6.1-6.2: an exclusive lock needs its own token; a set of
     * shared locks is satisfied by the token of any one of them: of one
     * that covers everything the other covers, not of a lock elsewhere
     * in the tree. */
    for (size_t i = 0; i < n; i++) {
        if (on_parent[i] || lock_ours(req, &locks[i]))
            continue;
        bool shared_ok = false;
        for (size_t j = 0; j < n && !locks[i].exclusive && !shared_ok; j++)
            shared_ok = j != i && !on_parent[j] && !locks[j].exclusive &&
                        shared_covers(&locks[j], &locks[i]) &&
                        lock_ours(req, &locks[j]);
        if (!shared_ok)
            return locked_err(req, t, &locks[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (on_parent[i] && !lock_ours(req, &locks[i]))
            return locked_err(req, t, &locks[i]);
    return NULL;
}

bool
dav_parse_timeout(struct str s, int32_t max, int32_t *out)
{
    /* TimeType list: "Infinite, Second-4100000000"; take the first. */
    while (s.len > 0) {
        const char *comma = memchr(s.p, ',', s.len);
        struct str one = { s.p, comma != NULL ? (size_t)(comma - s.p) : s.len };
        one = str_trim(one);
        if (str_case_eq_c(one, "Infinite")) {
            *out = max;
            return true;
        }
        if (one.len > 7 && strncasecmp(one.p, "Second-", 7) == 0) {
            uint64_t v;
            if (str_to_u64((struct str){ one.p + 7, one.len - 7 }, &v)) {
                *out = v == 0 ? 1 : (v > (uint64_t)max ? max : (int32_t)v);
                return true;
            }
        }
        if (comma == NULL)
            break;
        s.len -= (size_t)(comma - s.p) + 1;
        s.p = comma + 1;
    }
    return false;
}

/* ---- properties ------------------------------------------------------------- */

static void
active_lock_xml(struct buf *b, struct dav_req *req, const struct dav_target *t,
                const struct dav_lock *lk, int32_t timeout)
{
    buf_puts(b, "<D:activelock><D:locktype><D:write/></D:locktype>"
                "<D:lockscope>");
    buf_puts(b, lk->exclusive ? "<D:exclusive/>" : "<D:shared/>");
    buf_puts(b, "</D:lockscope><D:depth>");
    buf_puts(b, lk->infinite ? "infinity" : "0");
    buf_puts(b, "</D:depth>");
    if (lk->owner_xml != NULL)
        buf_puts(b, lk->owner_xml);
    buf_printf(b, "<D:timeout>Second-%d</D:timeout>", (int)timeout);
    buf_puts(b, "<D:locktoken><D:href>");
    buf_xml_escape(b, lk->token, strlen(lk->token));
    buf_puts(b, "</D:href></D:locktoken><D:lockroot><D:href>");
    /* A lock above the target is on a collection. */
    bool above = strcmp(lk->root, t->path) != 0;
    bool coll = lk->root[0] == '\0' || above ||
                (t->exists && t->res.kind == DAV_KIND_COLLECTION);
    const char *root;
    if (t->url_base != NULL && t->base_path != NULL &&
        strncmp(lk->root, t->base_path, strlen(t->base_path)) == 0) {
        /* Reached through another URL (a calendar's): the root's URL of
         * that form, which answers (RFC 4918 §14.12). */
        struct dav_target r = *t;
        r.path = lk->root;
        r.exists = t->exists || above;
        if (above)
            r.res.kind = DAV_KIND_COLLECTION;
        root = dav_href_of(req, req->arena, &r);
    } else {
        root = dav_space_href(req->arena, t->slug, lk->root, coll);
    }
    buf_xml_escape(b, root, strlen(root));
    buf_puts(b, "</D:href></D:lockroot></D:activelock>");
}

static bool
get_lockdiscovery(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (t->area != DAV_AREA_SPACE)
        return false;
    time_t now = time(NULL);
    for (size_t i = 0; i < t->nlocks; i++) {
        long left = (long)(t->locks[i].expires - now);
        active_lock_xml(out, req, t, &t->locks[i],
                        (int32_t)(left > 0 ? left : 0));
    }
    return true;
}

static bool
get_supportedlock(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (t->area != DAV_AREA_SPACE)
        return false;
    buf_puts(out, "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
                  "<D:locktype><D:write/></D:locktype></D:lockentry>"
                  "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
                  "<D:locktype><D:write/></D:locktype></D:lockentry>");
    return true;
}

static const struct dav_prop_def lock_props[] = {
    { DAV_NS, "lockdiscovery", DAV_P_PROTECTED | DAV_P_ALLPROP | DAV_P_LOCKS,
      get_lockdiscovery, NULL },
    { DAV_NS, "supportedlock", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_supportedlock, NULL },
};

static const struct dav_method_def lock_methods[] = {
    { "LOCK", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_TARGET_PARENT,
      DAV_PRIV_WRITE_CONTENT, NULL, NULL, dav_method_lock },
    { "UNLOCK", DAV_M_NO_BODY | DAV_M_WRITE, DAV_PRIV_READ, NULL, NULL,
      dav_method_unlock },
};

void
dav_lock_register(struct dav_registry *r)
{
    dav_registry_add_props(r, lock_props,
                           sizeof(lock_props) / sizeof(lock_props[0]));
    dav_registry_add_methods(r, lock_methods,
                             sizeof(lock_methods) / sizeof(lock_methods[0]));
}

void
dav_locks_assign(struct arena *a, const struct dav_lock *locks,
                 size_t nlocks, struct dav_target **targets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dav_target *t = targets[i];
        const char *p = t->path;
        size_t pl = strlen(p);
        struct dav_lock *mine = arena_alloc(a, (nlocks + 1) * sizeof(*mine));
        size_t k = 0;
        for (size_t j = 0; j < nlocks; j++) {
            const struct dav_lock *lk = &locks[j];
            size_t rl = strlen(lk->root);
            bool covers = strcmp(lk->root, p) == 0 ||
                          (lk->infinite && rl < pl &&
                           strncmp(lk->root, p, rl) == 0 && p[rl] == '/') ||
                          (lk->infinite && rl == 0);
            if (covers)
                mine[k++] = *lk;
        }
        t->locks = mine;
        t->nlocks = k;
        t->locks_loaded = true;
    }
}

/* ---- LOCK / UNLOCK -------------------------------------------------------------- */

static int32_t
timeout_max(const struct dav_req *req)
{
    return req->srv->lock_timeout_max > 0 ? req->srv->lock_timeout_max
                                          : DEFAULT_LOCK_TIMEOUT_MAX;
}

static void
lock_response(struct dav_req *req, int status, const struct dav_target *t,
              const struct dav_lock *lk, bool with_token_header)
{
    struct buf b;
    buf_init(&b, req->arena, 1024);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
    /* The granted timeout, not the time left (CLIENTS.md: refresh). */
    active_lock_xml(&b, req, t, lk, lk->timeout);
    buf_puts(&b, "</D:lockdiscovery></D:prop>\n");
    dav_respond_buf(req, status, "application/xml; charset=utf-8", &b);
    if (with_token_header)
        dav_resp_header_add(req, "Lock-Token",
                            arena_printf(req->arena, "<%s>", lk->token));
}

static struct dav_err *
lock_refresh(struct dav_req *req, int32_t timeout)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 412, "no lock to refresh");
    struct dav_err *err = dav_target_locks(req, t);
    if (err != NULL)
        return err;
    for (size_t i = 0; i < t->nlocks; i++) {
        struct dav_lock lk = t->locks[i];
        if (!lock_ours(req, &lk))
            continue;
        enum dav_store_rc rc = req->srv->store->lock_refresh(req, &lk,
                                                             timeout);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "lock refresh");
        lk.timeout = timeout;
        lock_response(req, 200, t, &lk, false);
        return NULL;
    }
    /* RFC 4918 §9.10.2: refreshing needs the token of a lock that
     * covers the resource. */
    return dav_err_cond(req, 412, DAV_NS, "lock-token-matches-request-uri",
                        "no submitted token for a lock on the resource");
}

struct dav_err *
dav_method_lock(struct dav_req *req)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_target *t = &req->target;
    if (t->area != DAV_AREA_SPACE)
        return dav_err_new(req, 405, "virtual collections cannot be locked");
    struct dav_err *cond = dav_check_conditions(req, t);
    if (cond != NULL)
        return cond;

    enum dav_depth depth = DAV_DEPTH_INFINITY;
    const char *dh = dav_req_header(req, "Depth");
    if (dh != NULL && (!dav_parse_depth(str_c(dh), &depth) ||
                       depth == DAV_DEPTH_1))
        return dav_err_new(req, 400, "LOCK Depth must be 0 or infinity");
    int32_t timeout = timeout_max(req);
    const char *th = dav_req_header(req, "Timeout");
    if (th != NULL && !dav_parse_timeout(str_c(th), timeout_max(req),
                                         &timeout))
        timeout = timeout_max(req);

    struct dav_err *err = dav_if_evaluate(req);
    if (err != NULL)
        return err;
    xmlDocPtr doc;
    err = dav_xml_parse(req, &doc);
    if (err != NULL)
        return err;
    if (doc == NULL)
        return lock_refresh(req, timeout);

    xmlNode *root = xmlDocGetRootElement(doc);
    if (!dav_xml_is(root, DAV_NS, "lockinfo"))
        return dav_err_new(req, 400, "expected DAV:lockinfo");
    struct dav_lock lk;
    memset(&lk, 0, sizeof(lk));
    bool have_scope = false, have_type = false;
    for (xmlNode *c = dav_xml_first_elem(root); c; c = dav_xml_next_elem(c)) {
        if (dav_xml_is(c, DAV_NS, "lockscope")) {
            xmlNode *s = dav_xml_first_elem(c);
            if (dav_xml_is(s, DAV_NS, "exclusive"))
                lk.exclusive = true;
            else if (!dav_xml_is(s, DAV_NS, "shared"))
                return dav_err_new(req, 400, "unknown lock scope");
            have_scope = true;
        } else if (dav_xml_is(c, DAV_NS, "locktype")) {
            if (!dav_xml_is(dav_xml_first_elem(c), DAV_NS, "write"))
                return dav_err_new(req, 400, "only write locks exist");
            have_type = true;
        } else if (dav_xml_is(c, DAV_NS, "owner")) {
            lk.owner_xml = dav_xml_dump_elem(req->arena, c);
        }
    }
    if (!have_scope || !have_type)
        return dav_err_new(req, 400, "lockinfo needs lockscope and locktype");
    /* Every lock discovery and listing of the tree repeats it. */
    if (lk.owner_xml != NULL && strlen(lk.owner_xml) > DAV_LOCK_OWNER_MAX)
        return dav_err_new(req, 400, "DAV:owner over %d bytes",
                           DAV_LOCK_OWNER_MAX);
    if (lk.owner_xml == NULL && req->principal != NULL) {
        /* Show who holds the lock even when the client names nobody. */
        struct buf ob;
        buf_init(&ob, req->arena, 64);
        buf_puts(&ob, "<D:owner xmlns:D=\"DAV:\">");
        buf_xml_escape(&ob, req->principal->name,
                       strlen(req->principal->name));
        buf_puts(&ob, "</D:owner>");
        lk.owner_xml = buf_cstr(&ob);
    }

    /* Conflicts: RFC 4918 §6.1 / §7. */
    bool is_coll = t->exists && t->res.kind == DAV_KIND_COLLECTION;
    struct dav_lock *others;
    size_t nothers;
    enum dav_store_rc rc = st->locks_find(req, t->space.id, t->path,
                                          depth == DAV_DEPTH_INFINITY &&
                                                  is_coll
                                              ? DAV_LOCKS_BELOW
                                              : 0,
                                          &others, &nothers);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "locks");
    if (nothers >= DAV_LOCKS_MAX_SHARED)
        return dav_err_new(req, 403, "%d shared locks cover this resource "
                                     "already", DAV_LOCKS_MAX_SHARED);
    for (size_t i = 0; i < nothers; i++) {
        if (others[i].exclusive || lk.exclusive) {
            size_t tl = strlen(t->path);
            const char *href = lock_root_href(req, t, others[i].root);
            /* RFC 4918 §9.10.3: a lock below the Request-URI that keeps
             * it from being granted on the whole tree is a 207 naming
             * that resource (423), and the Request-URI (424).  One the
             * principal may not read is not named: the tree as a whole
             * is locked to them. */
            if (href != NULL && strncmp(others[i].root, t->path, tl) == 0 &&
                others[i].root[tl] == '/') {
                struct buf b;
                dav_multistatus_begin(req, &b);
                dav_ms_status(&b, href, 423);
                dav_ms_status(&b, dav_href_of(req, req->arena, t), 424);
                dav_multistatus_end(req, &b);
                return NULL;
            }
            struct dav_err *e = dav_err_cond(req, 423, DAV_NS,
                                             "no-conflicting-lock",
                                             "conflicting lock");
            e->href = href;
            return e;
        }
    }

    int status = 200;
    if (!t->exists) {
        /* RFC 4918 §7.3: LOCK on an unmapped URL creates an empty
         * resource (not a lock-null one) and answers 201; a calendar home
         * holds calendars only (MKCALENDAR makes them). */
        if (dav_target_is_calendar(t))
            return dav_err_new(req, 405, "only a calendar is made here");
        struct dav_target parent;
        err = dav_target_parent(req, t, &parent);
        if (err != NULL)
            return err;
        if (!parent.exists || parent.res.kind != DAV_KIND_COLLECTION)
            return dav_err_new(req, 409, "parent collection missing");
        err = dav_locks_check(req, t, false, true);
        if (err != NULL)
            return err;
        rc = st->create(req, t->space.id, t->path, DAV_KIND_FILE, &t->res);
        /* Created since the lookup by a concurrent request: start again,
         * to see it and the lock it may carry. */
        if (rc == DAV_STORE_EXISTS)
            rc = DAV_STORE_RETRY;
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "create");
        t->exists = true;
        status = 201;
    }
    char *uuid = uuid_new(req->arena);
    lk.token = arena_printf(req->arena, "urn:uuid:%s", uuid);
    lk.space_id = t->space.id;
    lk.root = t->path;
    lk.infinite = depth == DAV_DEPTH_INFINITY;
    lk.principal_id = req->principal != NULL ? req->principal->id : 0;
    lk.timeout = timeout;
    rc = st->lock_create(req, &lk);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "lock");
    lock_response(req, status, t, &lk, true);
    return NULL;
}

struct dav_err *
dav_method_unlock(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    const char *h = dav_req_header(req, "Lock-Token");
    if (h == NULL)
        return dav_err_new(req, 400, "UNLOCK needs a Lock-Token header");
    struct str v = str_trim(str_c(h));
    if (v.len < 3 || v.p[0] != '<' || v.p[v.len - 1] != '>')
        return dav_err_new(req, 400, "malformed Lock-Token header");
    const char *token = arena_strndup(req->arena, v.p + 1, v.len - 2);
    /* RFC 9110 §13.2.1: a false precondition leaves the lock. */
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err;
    err = dav_target_locks(req, t);
    if (err != NULL)
        return err;
    for (size_t i = 0; i < t->nlocks; i++) {
        const struct dav_lock *lk = &t->locks[i];
        if (strcmp(lk->token, token) != 0)
            continue;
        /* RFC 3744 §3.5: the lock's creator, or whoever holds
         * DAV:unlock (managers), may remove it. */
        if (req->principal != NULL && lk->principal_id != 0 &&
            lk->principal_id != req->principal->id &&
            dav_check_priv(req, t, DAV_PRIV_UNLOCK) != NULL)
            return dav_err_cond(req, 403, DAV_NS, "need-privileges",
                                "lock held by another principal");
        enum dav_store_rc rc = req->srv->store->lock_remove(req, token);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "unlock");
        dav_respond(req, 204, NULL, "", 0);
        return NULL;
    }
    /* RFC 4918 §9.11.1 */
    return dav_err_cond(req, 409, DAV_NS, "lock-token-matches-request-uri",
                        "no such lock on this resource");
}
