/*
 * tests/unit/fakes/fake_store.c -- the in-memory store of
 * fake_store.h: every operation of struct dav_store_ops, transactions
 * by snapshot, and failure injection for torture tests.
 *
 * Test code: it uses malloc/free for its own state (which outlives
 * requests); what it hands to dav/ is copied into req->arena, as the real
 * store does.  Linear searches throughout: the stores of unit tests hold a
 * handful of rows.
 */
#include "tests/unit/fakes/fake_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav.h"

/* ---- state --------------------------------------------------------------- */

struct fs_user {
    int64_t id;
    char *name;
    bool disabled;
};

struct fs_app_password {
    int64_t id;
    int64_t user_id;
    unsigned char sha[32];
    bool revoked;
};

struct fs_ace {
    int64_t space_id;
    int64_t resource_id;
    bool user;                /* else the members of space principal_id */
    int64_t principal_id;
    bool grant;
    unsigned privs;
    int position;
};

struct fs_space {
    int64_t id;
    char *slug;
    char *title;
    int64_t quota;            /* bytes, -1: none */
    time_t created;
};

struct fs_member {
    int64_t space_id;
    int64_t user_id;
    char *role;
};

struct fs_res {
    int64_t id;
    int64_t space_id;
    char *path;
    enum dav_kind kind;
    int64_t rev_id;
    int32_t rev_num;
    int64_t size;
    char *ctype;
    unsigned char sha[32];
    time_t created;
    time_t modified;
    int64_t created_by;
};

struct fs_prop {
    int64_t space_id;
    int64_t resource_id;
    char *ns;
    char *name;
    char *xml;
};

struct fs_chunk {
    int64_t space_id;
    unsigned char sha[32];
    size_t len;
    char *data;
};

struct fs_rev {
    int64_t id;
    int64_t space_id;
    int64_t resource_id;
    int32_t num;
    int64_t author;
    int64_t size;
    char *ctype;
    unsigned char sha[32];
    struct dav_chunk_ref *chunks;
    size_t nchunks;
};

struct fs_lock {
    char *token;
    int64_t space_id;
    char *root;
    bool infinite;
    bool exclusive;
    char *owner_xml;
    int64_t principal_id;
    int32_t timeout;
    time_t expires;           /* wall clock, as the database's now() */
    int64_t seq;              /* creation order */
};

#define VEC(T) \
    struct {   \
        T *v;  \
        size_t n, cap; \
    }

struct fs_state {
    VEC(struct fs_user) users;
    VEC(struct fs_space) spaces;
    VEC(struct fs_member) members;
    VEC(struct fs_res) res;
    VEC(struct fs_prop) props;
    VEC(struct fs_chunk) chunks;
    VEC(struct fs_rev) revs;
    VEC(struct fs_lock) locks;
    VEC(struct fs_app_password) app_passwords;
    VEC(struct fs_ace) aces;
    int64_t next_id;
    int64_t disk_free;
    time_t now;
};

static struct fs_state cur;
static struct fs_state *snap;
static bool in_txn;
static unsigned long calls;
static unsigned long fail_k;
static enum dav_store_rc fail_rc = DAV_STORE_ERROR;
static bool fired;
static unsigned long violations;

static void lock_free(struct fs_lock *lk);

static void *
xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

static char *
xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static void *
xmemdup(const void *s, size_t n)
{
    void *p = xmalloc(n);
    if (n > 0)
        memcpy(p, s, n);
    return p;
}

static void
vec_grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return;
    *cap = *cap > 0 ? *cap * 2 : 8;
    void *p = realloc(*v, *cap * elem);
    if (p == NULL)
        abort();
    *v = p;
}

/* Append a zeroed element and return it. */
#define VPUSH(vec)                                                        \
    (vec_grow((void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)), \
     memset(&(vec).v[(vec).n], 0, sizeof(*(vec).v)), &(vec).v[(vec).n++])

/* Remove element i, keeping the order. */
#define VDEL(vec, i)                                          \
    (memmove(&(vec).v[(i)], &(vec).v[(i) + 1],                \
             ((vec).n - (i) - 1) * sizeof(*(vec).v)),         \
     (vec).n--)

#define VCOPY(dst, src)                                                    \
    ((dst).n = (src).n, (dst).cap = (src).n,                               \
     (dst).v = xmemdup((src).v, (src).n * sizeof(*(src).v)))

static void
state_free(struct fs_state *s)
{
    for (size_t i = 0; i < s->users.n; i++)
        free(s->users.v[i].name);
    for (size_t i = 0; i < s->spaces.n; i++) {
        free(s->spaces.v[i].slug);
        free(s->spaces.v[i].title);
    }
    for (size_t i = 0; i < s->members.n; i++)
        free(s->members.v[i].role);
    for (size_t i = 0; i < s->res.n; i++) {
        free(s->res.v[i].path);
        free(s->res.v[i].ctype);
    }
    for (size_t i = 0; i < s->props.n; i++) {
        free(s->props.v[i].ns);
        free(s->props.v[i].name);
        free(s->props.v[i].xml);
    }
    for (size_t i = 0; i < s->chunks.n; i++)
        free(s->chunks.v[i].data);
    for (size_t i = 0; i < s->revs.n; i++) {
        free(s->revs.v[i].ctype);
        free(s->revs.v[i].chunks);
    }
    free(s->users.v);
    free(s->spaces.v);
    free(s->members.v);
    free(s->res.v);
    free(s->props.v);
    free(s->chunks.v);
    for (size_t i = 0; i < s->locks.n; i++)
        lock_free(&s->locks.v[i]);
    free(s->revs.v);
    free(s->locks.v);
    free(s->app_passwords.v);
    free(s->aces.v);
    memset(s, 0, sizeof(*s));
}

static struct fs_state *
state_copy(const struct fs_state *s)
{
    struct fs_state *c = xmalloc(sizeof(*c));
    *c = *s;
    VCOPY(c->users, s->users);
    VCOPY(c->spaces, s->spaces);
    VCOPY(c->members, s->members);
    VCOPY(c->res, s->res);
    VCOPY(c->props, s->props);
    VCOPY(c->chunks, s->chunks);
    VCOPY(c->revs, s->revs);
    VCOPY(c->locks, s->locks);
    VCOPY(c->app_passwords, s->app_passwords);
    VCOPY(c->aces, s->aces);
    for (size_t i = 0; i < c->users.n; i++)
        c->users.v[i].name = xstrdup(s->users.v[i].name);
    for (size_t i = 0; i < c->spaces.n; i++) {
        c->spaces.v[i].slug = xstrdup(s->spaces.v[i].slug);
        c->spaces.v[i].title = xstrdup(s->spaces.v[i].title);
    }
    for (size_t i = 0; i < c->members.n; i++)
        c->members.v[i].role = xstrdup(s->members.v[i].role);
    for (size_t i = 0; i < c->res.n; i++) {
        c->res.v[i].path = xstrdup(s->res.v[i].path);
        c->res.v[i].ctype = xstrdup(s->res.v[i].ctype);
    }
    for (size_t i = 0; i < c->props.n; i++) {
        c->props.v[i].ns = xstrdup(s->props.v[i].ns);
        c->props.v[i].name = xstrdup(s->props.v[i].name);
        c->props.v[i].xml = xstrdup(s->props.v[i].xml);
    }
    for (size_t i = 0; i < c->chunks.n; i++)
        c->chunks.v[i].data = xmemdup(s->chunks.v[i].data,
                                      s->chunks.v[i].len);
    for (size_t i = 0; i < c->revs.n; i++) {
        c->revs.v[i].ctype = xstrdup(s->revs.v[i].ctype);
        c->revs.v[i].chunks =
            xmemdup(s->revs.v[i].chunks,
                    s->revs.v[i].nchunks * sizeof(struct dav_chunk_ref));
    }
    for (size_t i = 0; i < c->locks.n; i++) {
        c->locks.v[i].token = xstrdup(s->locks.v[i].token);
        c->locks.v[i].root = xstrdup(s->locks.v[i].root);
        c->locks.v[i].owner_xml = xstrdup(s->locks.v[i].owner_xml);
    }
    return c;
}

static void
lock_free(struct fs_lock *lk)
{
    free(lk->token);
    free(lk->root);
    free(lk->owner_xml);
}

/* Remove the locks rooted at or below (space, root). */
static void
locks_drop_subtree(int64_t space_id, const char *root);

/* ---- injector and checks ------------------------------------------------- */

/* Count a call; true when this one must fail. */
static bool
inject(void)
{
    calls++;
    if (fail_k != 0 && calls == fail_k) {
        fired = true;
        return true;
    }
    return false;
}

#define FAIL_POINT()        \
    do {                    \
        if (inject())       \
            return fail_rc; \
    } while (0)

static void
need_txn(void)
{
    if (!in_txn)
        violations++;
}

/* ---- lookups ------------------------------------------------------------- */

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

/* Length of the parent path of 'path', or -1 for the root "". */
static long
parent_len(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? (long)(s - path) : -1;
}

static bool
in_subtree(const char *path, const char *root)
{
    size_t rl = strlen(root);
    return strncmp(path, root, rl) == 0 &&
           (path[rl] == '\0' || path[rl] == '/');
}

static struct fs_res *
res_find(int64_t space_id, const char *path)
{
    for (size_t i = 0; i < cur.res.n; i++)
        if (cur.res.v[i].space_id == space_id &&
            strcmp(cur.res.v[i].path, path) == 0)
            return &cur.res.v[i];
    return NULL;
}

static struct fs_res *
res_by_id(int64_t id)
{
    for (size_t i = 0; i < cur.res.n; i++)
        if (cur.res.v[i].id == id)
            return &cur.res.v[i];
    return NULL;
}

static struct fs_rev *
rev_by_id(int64_t id)
{
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].id == id)
            return &cur.revs.v[i];
    return NULL;
}

static struct fs_chunk *
chunk_find(int64_t space_id, const unsigned char sha[32])
{
    for (size_t i = 0; i < cur.chunks.n; i++)
        if (cur.chunks.v[i].space_id == space_id &&
            memcmp(cur.chunks.v[i].sha, sha, 32) == 0)
            return &cur.chunks.v[i];
    return NULL;
}

/* The parent of 'path' exists and is a collection. */
static bool
parent_ok(int64_t space_id, const char *path)
{
    long pl = parent_len(path);
    if (pl < 0)
        return false;
    char *parent = xmalloc((size_t)pl + 1);
    memcpy(parent, path, (size_t)pl);
    parent[pl] = '\0';
    const struct fs_res *p = res_find(space_id, parent);
    free(parent);
    return p != NULL && p->kind == DAV_KIND_COLLECTION;
}

static void
res_out(struct dav_req *req, const struct fs_res *r, struct dav_resource *out)
{
    memset(out, 0, sizeof(*out));
    out->id = r->id;
    out->space_id = r->space_id;
    out->path = arena_strdup(req->arena, r->path);
    out->name = arena_strdup(req->arena, base_name(r->path));
    out->kind = r->kind;
    out->rev_id = r->rev_id;
    out->rev_num = r->rev_num;
    out->size = r->size;
    out->content_type = arena_strdup(req->arena, r->ctype);
    memcpy(out->sha256, r->sha, 32);
    out->created = r->created;
    out->modified = r->modified;
    out->created_by = r->created_by;
    out->created_by_name = NULL;
    for (size_t i = 0; i < cur.users.n; i++)
        if (cur.users.v[i].id == r->created_by)
            out->created_by_name = arena_strdup(req->arena,
                                                cur.users.v[i].name);
}

static const char *
role_of(int64_t space_id, int64_t user_id)
{
    for (size_t i = 0; i < cur.members.n; i++)
        if (cur.members.v[i].space_id == space_id &&
            cur.members.v[i].user_id == user_id)
            return cur.members.v[i].role;
    return NULL;
}

static bool
space_has_aces(int64_t space_id)
{
    for (size_t i = 0; i < cur.aces.n; i++)
        if (cur.aces.v[i].space_id == space_id)
            return true;
    return false;
}

/* A user with no role who is granted something there by an entry. */
static bool
ace_grants_user(int64_t space_id, int64_t user_id)
{
    for (size_t i = 0; i < cur.aces.n; i++)
        if (cur.aces.v[i].space_id == space_id && cur.aces.v[i].user &&
            cur.aces.v[i].principal_id == user_id && cur.aces.v[i].grant)
            return true;
    return false;
}

static void
space_out(struct dav_req *req, const struct fs_space *s, const char *role,
          struct dav_space *out)
{
    memset(out, 0, sizeof(*out));
    out->has_aces = space_has_aces(s->id);
    out->id = s->id;
    out->slug = arena_strdup(req->arena, s->slug);
    out->title = arena_strdup(req->arena, s->title);
    out->role = arena_strdup(req->arena, role);
    out->quota = s->quota;
    out->created = s->created;
}

/* Make chunk (space, sha) available in dst_space too. */
static void
chunk_share(int64_t src_space, int64_t dst_space, const unsigned char sha[32])
{
    if (src_space == dst_space || chunk_find(dst_space, sha) != NULL)
        return;
    const struct fs_chunk *c = chunk_find(src_space, sha);
    if (c == NULL) {
        violations++;
        return;
    }
    size_t len = c->len;
    char *data = xmemdup(c->data, len);
    struct fs_chunk *n = VPUSH(cur.chunks); /* may move c */
    n->space_id = dst_space;
    memcpy(n->sha, sha, 32);
    n->len = len;
    n->data = data;
}

/* ---- transactions -------------------------------------------------------- */

static enum dav_store_rc
fs_txn_begin(struct dav_req *req)
{
    FAIL_POINT();
    if (in_txn) {
        violations++;
        return DAV_STORE_ERROR;
    }
    snap = state_copy(&cur);
    in_txn = true;
    req->store_conn = &cur;
    return DAV_STORE_OK;
}

static void
restore_snapshot(void)
{
    state_free(&cur);
    cur = *snap;
    free(snap);
    snap = NULL;
}

static enum dav_store_rc
fs_txn_commit(struct dav_req *req)
{
    if (!in_txn) {
        calls++;
        violations++;
        return DAV_STORE_ERROR;
    }
    req->store_conn = NULL;
    in_txn = false;
    if (inject()) {
        /* A failed COMMIT leaves nothing behind. */
        restore_snapshot();
        return fail_rc;
    }
    state_free(snap);
    free(snap);
    snap = NULL;
    return DAV_STORE_OK;
}

static void
fs_txn_rollback(struct dav_req *req)
{
    calls++; /* counted, but cannot fail */
    req->store_conn = NULL;
    if (!in_txn) {
        violations++;
        return;
    }
    in_txn = false;
    restore_snapshot();
}

/* ---- principals and spaces ----------------------------------------------- */

static enum dav_store_rc
fs_user_by_name(struct dav_req *req, const char *name, struct dav_user *out)
{
    FAIL_POINT();
    for (size_t i = 0; i < cur.users.n; i++) {
        if (strcmp(cur.users.v[i].name, name) != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->id = cur.users.v[i].id;
        out->name = arena_strdup(req->arena, name);
        out->display_name = out->name;
        out->email = "";
        return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fs_space_for_user(struct dav_req *req, const char *slug, int64_t user_id,
                  struct dav_space *out)
{
    FAIL_POINT();
    for (size_t i = 0; i < cur.spaces.n; i++) {
        if (strcmp(cur.spaces.v[i].slug, slug) != 0)
            continue;
        const char *role = role_of(cur.spaces.v[i].id, user_id);
        if (role == NULL && !ace_grants_user(cur.spaces.v[i].id, user_id))
            return DAV_STORE_NOTFOUND;
        space_out(req, &cur.spaces.v[i], role != NULL ? role : "", out);
        return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

static int
space_slug_cmp(const void *a, const void *b)
{
    const struct dav_space *x = a, *y = b;
    return strcmp(x->slug, y->slug);
}

static enum dav_store_rc
fs_spaces_of_user(struct dav_req *req, int64_t user_id,
                  struct dav_space **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.spaces.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.spaces.n; i++) {
        const char *role = role_of(cur.spaces.v[i].id, user_id);
        if (role != NULL || ace_grants_user(cur.spaces.v[i].id, user_id))
            space_out(req, &cur.spaces.v[i], role != NULL ? role : "",
                      &(*out)[(*n)++]);
    }
    qsort(*out, *n, sizeof(**out), space_slug_cmp);
    return DAV_STORE_OK;
}

/* ---- resources and properties -------------------------------------------- */

static enum dav_store_rc
fs_lookup(struct dav_req *req, int64_t space_id, const char *path,
          bool lock_row, struct dav_resource *out)
{
    FAIL_POINT();
    if (lock_row)
        need_txn();
    const struct fs_res *r = res_find(space_id, path);
    if (r == NULL)
        return DAV_STORE_NOTFOUND;
    res_out(req, r, out);
    return DAV_STORE_OK;
}

static int
res_name_cmp(const void *a, const void *b)
{
    const struct dav_resource *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static enum dav_store_rc
fs_children(struct dav_req *req, int64_t space_id, const char *path,
            struct dav_resource **out, size_t *n)
{
    FAIL_POINT();
    size_t pl = strlen(path);
    *out = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id != space_id || parent_len(r->path) != (long)pl ||
            strncmp(r->path, path, pl) != 0)
            continue;
        res_out(req, r, &(*out)[(*n)++]);
    }
    qsort(*out, *n, sizeof(**out), res_name_cmp);
    return DAV_STORE_OK;
}

static int
prop_cmp(const void *a, const void *b)
{
    const struct dav_dead_prop *x = a, *y = b;
    if (x->resource_id != y->resource_id)
        return x->resource_id < y->resource_id ? -1 : 1;
    int c = strcmp(x->ns, y->ns);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static enum dav_store_rc
fs_props_get(struct dav_req *req, int64_t space_id, const int64_t *ids,
             size_t nids, struct dav_dead_prop **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.props.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.props.n; i++) {
        const struct fs_prop *p = &cur.props.v[i];
        if (p->space_id != space_id)
            continue;
        bool wanted = false;
        for (size_t k = 0; k < nids && !wanted; k++)
            wanted = ids[k] == p->resource_id;
        if (!wanted)
            continue;
        struct dav_dead_prop *d = &(*out)[(*n)++];
        d->resource_id = p->resource_id;
        d->ns = arena_strdup(req->arena, p->ns);
        d->name = arena_strdup(req->arena, p->name);
        d->xml = arena_strdup(req->arena, p->xml);
    }
    /* Rows ordered by resource, as db/ returns them. */
    qsort(*out, *n, sizeof(**out), prop_cmp);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_prop_set(struct dav_req *req, const struct dav_resource *res,
            const char *ns, const char *name, const char *xml)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    if (res_by_id(res->id) == NULL)
        return DAV_STORE_NOTFOUND;
    for (size_t i = 0; i < cur.props.n; i++) {
        struct fs_prop *p = &cur.props.v[i];
        if (p->resource_id == res->id && strcmp(p->ns, ns) == 0 &&
            strcmp(p->name, name) == 0) {
            free(p->xml);
            p->xml = xstrdup(xml);
            return DAV_STORE_OK;
        }
    }
    struct fs_prop *p = VPUSH(cur.props);
    p->space_id = res->space_id;
    p->resource_id = res->id;
    p->ns = xstrdup(ns);
    p->name = xstrdup(name);
    p->xml = xstrdup(xml);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_prop_remove(struct dav_req *req, const struct dav_resource *res,
               const char *ns, const char *name)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    for (size_t i = 0; i < cur.props.n; i++) {
        struct fs_prop *p = &cur.props.v[i];
        if (p->resource_id == res->id && strcmp(p->ns, ns) == 0 &&
            strcmp(p->name, name) == 0) {
            free(p->ns);
            free(p->name);
            free(p->xml);
            VDEL(cur.props, i);
            return DAV_STORE_OK;
        }
    }
    return DAV_STORE_OK; /* as db/: removing an absent property is fine */
}

static enum dav_store_rc
fs_create(struct dav_req *req, int64_t space_id, const char *path,
          enum dav_kind kind, struct dav_resource *out)
{
    FAIL_POINT();
    need_txn();
    if (res_find(space_id, path) != NULL)
        return DAV_STORE_EXISTS;
    if (!parent_ok(space_id, path))
        return DAV_STORE_CONFLICT;
    struct fs_res *r = VPUSH(cur.res);
    r->id = cur.next_id++;
    r->space_id = space_id;
    r->path = xstrdup(path);
    r->kind = kind;
    r->created = r->modified = cur.now++;
    r->created_by = req->principal != NULL ? req->principal->id : 0;
    res_out(req, r, out);
    return DAV_STORE_OK;
}

/* ---- content ------------------------------------------------------------- */

static enum dav_store_rc
fs_chunk_put(struct dav_req *req, int64_t space_id,
             const unsigned char sha256[32], const void *data, size_t len)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    unsigned char check[32];
    sha256_once(data, len, check);
    if (memcmp(check, sha256, 32) != 0 || len > DAV_CHUNK_SIZE)
        violations++;
    if (chunk_find(space_id, sha256) != NULL)
        return DAV_STORE_OK; /* content-addressed: kept once */
    struct fs_chunk *c = VPUSH(cur.chunks);
    c->space_id = space_id;
    memcpy(c->sha, sha256, 32);
    c->len = len;
    c->data = xmemdup(data, len);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_revision_add(struct dav_req *req, struct dav_resource *res,
                int64_t author_id, int64_t size, const char *content_type,
                const unsigned char sha256[32],
                const struct dav_chunk_ref *chunks, size_t nchunks)
{
    FAIL_POINT();
    need_txn();
    struct fs_res *r = res_by_id(res->id);
    if (r == NULL)
        return DAV_STORE_NOTFOUND;
    /* The chunks must be stored, contiguous, and make up the content. */
    struct sha256 whole;
    sha256_init(&whole);
    int64_t off = 0;
    for (size_t i = 0; i < nchunks; i++) {
        const struct fs_chunk *c = chunk_find(r->space_id, chunks[i].sha256);
        if (c == NULL || chunks[i].offset != off ||
            (size_t)chunks[i].size != c->len) {
            violations++;
            return DAV_STORE_ERROR;
        }
        sha256_update(&whole, c->data, c->len);
        off += chunks[i].size;
    }
    unsigned char check[32];
    sha256_final(&whole, check);
    if (off != size || memcmp(check, sha256, 32) != 0)
        violations++;

    int32_t num = 0;
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].resource_id == r->id && cur.revs.v[i].num > num)
            num = cur.revs.v[i].num;
    struct fs_rev *v = VPUSH(cur.revs);
    v->id = cur.next_id++;
    v->space_id = r->space_id;
    v->resource_id = r->id;
    v->num = num + 1;
    v->author = author_id;
    v->size = size;
    v->ctype = xstrdup(content_type);
    memcpy(v->sha, sha256, 32);
    v->chunks = xmemdup(chunks, nchunks * sizeof(*chunks));
    v->nchunks = nchunks;

    r->rev_id = v->id;
    r->rev_num = v->num;
    r->size = size;
    free(r->ctype);
    r->ctype = xstrdup(content_type);
    memcpy(r->sha, sha256, 32);
    r->modified = cur.now++;

    res->rev_id = r->rev_id;
    res->rev_num = r->rev_num;
    res->size = size;
    res->content_type = arena_strdup(req->arena, content_type);
    memcpy(res->sha256, sha256, 32);
    res->modified = r->modified;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_content_chunks(struct dav_req *req, const struct dav_resource *res,
                  struct dav_chunk_ref **out, size_t *n)
{
    FAIL_POINT();
    const struct fs_rev *v = rev_by_id(res->rev_id);
    if (v == NULL)
        return DAV_STORE_NOTFOUND;
    *out = arena_alloc(req->arena, (v->nchunks + 1) * sizeof(**out));
    int64_t off = 0;
    for (size_t i = 0; i < v->nchunks; i++) {
        (*out)[i] = v->chunks[i];
        (*out)[i].offset = off;
        off += v->chunks[i].size;
    }
    *n = v->nchunks;
    if (off != res->size)
        return DAV_STORE_ERROR; /* as db/: incomplete content */
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_chunk_read(struct dav_req *req, int64_t space_id,
              const unsigned char sha256[32], int64_t off, size_t len,
              void *dst)
{
    (void)req;
    FAIL_POINT();
    const struct fs_chunk *c = chunk_find(space_id, sha256);
    if (c == NULL)
        return DAV_STORE_NOTFOUND;
    if (off < 0 || (size_t)off > c->len || len > c->len - (size_t)off)
        return DAV_STORE_ERROR;
    memcpy(dst, c->data + off, len);
    return DAV_STORE_OK;
}

/* ---- tree operations ----------------------------------------------------- */

static void
delete_resource_rows(int64_t id)
{
    for (size_t i = cur.aces.n; i > 0; i--)
        if (cur.aces.v[i - 1].resource_id == id)
            VDEL(cur.aces, i - 1);
    for (size_t i = cur.props.n; i > 0; i--) {
        struct fs_prop *p = &cur.props.v[i - 1];
        if (p->resource_id != id)
            continue;
        free(p->ns);
        free(p->name);
        free(p->xml);
        VDEL(cur.props, i - 1);
    }
    for (size_t i = cur.revs.n; i > 0; i--) {
        struct fs_rev *v = &cur.revs.v[i - 1];
        if (v->resource_id != id)
            continue;
        free(v->ctype);
        free(v->chunks);
        VDEL(cur.revs, i - 1);
    }
}

static enum dav_store_rc
fs_remove(struct dav_req *req, int64_t space_id, const char *path)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    if (res_find(space_id, path) == NULL)
        return DAV_STORE_NOTFOUND;
    char *root = xstrdup(path);
    locks_drop_subtree(space_id, root);
    for (size_t i = cur.res.n; i > 0; i--) {
        struct fs_res *r = &cur.res.v[i - 1];
        if (r->space_id != space_id || !in_subtree(r->path, root))
            continue;
        delete_resource_rows(r->id);
        free(r->path);
        free(r->ctype);
        VDEL(cur.res, i - 1);
    }
    free(root);
    return DAV_STORE_OK;
}

static int
path_cmp(const void *a, const void *b)
{
    const struct fs_res *x = res_by_id(*(const int64_t *)a);
    const struct fs_res *y = res_by_id(*(const int64_t *)b);
    return strcmp(x->path, y->path);
}

/* Ids of the resources of the tree at (space, root), parents first. */
static int64_t *
subtree_ids(int64_t space_id, const char *root, bool only_root, size_t *n)
{
    int64_t *ids = xmalloc((cur.res.n + 1) * sizeof(*ids));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id != space_id || !in_subtree(r->path, root))
            continue;
        if (only_root && strcmp(r->path, root) != 0)
            continue;
        ids[(*n)++] = r->id;
    }
    qsort(ids, *n, sizeof(*ids), path_cmp);
    return ids;
}

static char *
rebase(const char *path, const char *src, const char *dst)
{
    const char *rest = path + strlen(src);
    size_t dl = strlen(dst), rl = strlen(rest);
    char *p = xmalloc(dl + rl + 1);
    memcpy(p, dst, dl);
    memcpy(p + dl, rest, rl + 1);
    return p;
}

static enum dav_store_rc
tree_checks(int64_t src_space, const char *src, int64_t dst_space,
            const char *dst)
{
    if (res_find(src_space, src) == NULL)
        return DAV_STORE_NOTFOUND;
    if (res_find(dst_space, dst) != NULL)
        return DAV_STORE_EXISTS;
    if (!parent_ok(dst_space, dst))
        return DAV_STORE_CONFLICT;
    if (src_space == dst_space && in_subtree(dst, src)) {
        violations++; /* dav/ must refuse this before */
        return DAV_STORE_CONFLICT;
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_copy(struct dav_req *req, int64_t src_space, const char *src,
        int64_t dst_space, const char *dst, bool depth0, int64_t author_id)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    enum dav_store_rc rc = tree_checks(src_space, src, dst_space, dst);
    if (rc != DAV_STORE_OK)
        return rc;
    size_t n;
    int64_t *ids = subtree_ids(src_space, src, depth0, &n);
    time_t now = cur.now++;
    for (size_t i = 0; i < n; i++) {
        const struct fs_res *o = res_by_id(ids[i]);
        struct fs_res copy = *o;
        copy.id = cur.next_id++;
        copy.space_id = dst_space;
        copy.path = rebase(o->path, src, dst);
        copy.ctype = xstrdup(o->ctype);
        copy.created = copy.modified = now;
        copy.created_by = 0; /* as db/: copies record no creator */
        copy.rev_id = 0;
        copy.rev_num = 0;
        if (o->rev_id != 0) {
            /* Copies get revision 1 with the source's current content. */
            const struct fs_rev *ov = rev_by_id(o->rev_id);
            struct fs_rev nv = *ov;
            nv.id = cur.next_id++;
            nv.space_id = dst_space;
            nv.resource_id = copy.id;
            nv.num = 1;
            nv.author = author_id;
            nv.ctype = xstrdup(ov->ctype);
            nv.chunks = xmemdup(ov->chunks,
                                ov->nchunks * sizeof(*ov->chunks));
            for (size_t k = 0; k < nv.nchunks; k++)
                chunk_share(src_space, dst_space, nv.chunks[k].sha256);
            *VPUSH(cur.revs) = nv;
            copy.rev_id = nv.id;
            copy.rev_num = 1;
        }
        int64_t oid = o->id;
        *VPUSH(cur.res) = copy; /* o may move from here on */
        size_t np = cur.props.n;
        for (size_t k = 0; k < np; k++) {
            if (cur.props.v[k].resource_id != oid)
                continue;
            struct fs_prop p = cur.props.v[k];
            p.space_id = dst_space;
            p.resource_id = copy.id;
            p.ns = xstrdup(p.ns);
            p.name = xstrdup(p.name);
            p.xml = xstrdup(p.xml);
            *VPUSH(cur.props) = p;
        }
    }
    free(ids);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_move(struct dav_req *req, int64_t src_space, const char *src,
        int64_t dst_space, const char *dst)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    enum dav_store_rc rc = tree_checks(src_space, src, dst_space, dst);
    if (rc != DAV_STORE_OK)
        return rc;
    size_t n;
    int64_t *ids = subtree_ids(src_space, src, false, &n);
    time_t now = cur.now++;
    /* as db/: the locks of the moved tree do not follow it */
    locks_drop_subtree(src_space, src);
    for (size_t i = 0; i < n; i++) {
        struct fs_res *r = res_by_id(ids[i]);
        char *np = rebase(r->path, src, dst);
        if (strcmp(r->path, src) == 0)
            r->modified = now;
        free(r->path);
        r->path = np;
        r->space_id = dst_space;
        for (size_t k = 0; k < cur.props.n; k++)
            if (cur.props.v[k].resource_id == r->id)
                cur.props.v[k].space_id = dst_space;
        for (size_t k = 0; k < cur.aces.n; k++)
            if (cur.aces.v[k].resource_id == r->id)
                cur.aces.v[k].space_id = dst_space;
        for (size_t k = 0; k < cur.revs.n; k++) {
            struct fs_rev *v = &cur.revs.v[k];
            if (v->resource_id != ids[i])
                continue;
            for (size_t c = 0; c < v->nchunks; c++)
                chunk_share(v->space_id, dst_space, v->chunks[c].sha256);
            v->space_id = dst_space;
        }
    }
    free(ids);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_ping(struct dav_req *req)
{
    (void)req;
    FAIL_POINT();
    return DAV_STORE_OK;
}

/* ---- locks and quota ----------------------------------------------------- */

static void
locks_drop_subtree(int64_t space_id, const char *root)
{
    for (size_t i = cur.locks.n; i > 0; i--) {
        struct fs_lock *lk = &cur.locks.v[i - 1];
        if (lk->space_id != space_id || !in_subtree(lk->root, root))
            continue;
        lock_free(lk);
        VDEL(cur.locks, i - 1);
    }
}

static bool
lock_live(const struct fs_lock *lk)
{
    return lk->expires > time(NULL);
}

static int
lock_order_cmp(const void *a, const void *b)
{
    const struct fs_lock *x = *(const struct fs_lock *const *)a;
    const struct fs_lock *y = *(const struct fs_lock *const *)b;
    int c = strcmp(x->root, y->root);
    if (c != 0)
        return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static enum dav_store_rc
fs_locks_find(struct dav_req *req, int64_t space_id, const char *path,
              bool descendants, struct dav_lock **out, size_t *n)
{
    FAIL_POINT();
    const struct fs_lock **hits = xmalloc((cur.locks.n + 1) * sizeof(*hits));
    size_t k = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < cur.locks.n; i++) {
        const struct fs_lock *lk = &cur.locks.v[i];
        if (lk->space_id != space_id || !lock_live(lk))
            continue;
        bool at = strcmp(lk->root, path) == 0;
        /* rooted at an ancestor ("" is the ancestor of everything) */
        bool above = in_subtree(path, lk->root) && !at;
        bool below = strncmp(lk->root, path, pl) == 0 && lk->root[pl] == '/';
        if (at || (above && lk->infinite) || (descendants && below))
            hits[k++] = lk;
    }
    qsort(hits, k, sizeof(*hits), lock_order_cmp);
    *out = arena_alloc(req->arena, (k + 1) * sizeof(**out));
    for (size_t i = 0; i < k; i++) {
        struct dav_lock *d = &(*out)[i];
        d->token = arena_strdup(req->arena, hits[i]->token);
        d->space_id = space_id;
        d->root = arena_strdup(req->arena, hits[i]->root);
        d->infinite = hits[i]->infinite;
        d->exclusive = hits[i]->exclusive;
        d->owner_xml = arena_strdup(req->arena, hits[i]->owner_xml);
        d->principal_id = hits[i]->principal_id;
        d->timeout = hits[i]->timeout;
        d->expires = hits[i]->expires;
    }
    *n = k;
    free(hits);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_lock_create(struct dav_req *req, struct dav_lock *lk)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    for (size_t i = cur.locks.n; i > 0; i--) {
        struct fs_lock *o = &cur.locks.v[i - 1];
        if (strcmp(o->token, lk->token) == 0) {
            violations++; /* tokens are unique */
            return DAV_STORE_EXISTS;
        }
        if (o->space_id == lk->space_id && !lock_live(o)) {
            lock_free(o); /* as db/: expired locks are collected here */
            VDEL(cur.locks, i - 1);
        }
    }
    struct fs_lock *n = VPUSH(cur.locks);
    n->token = xstrdup(lk->token);
    n->space_id = lk->space_id;
    n->root = xstrdup(lk->root);
    n->infinite = lk->infinite;
    n->exclusive = lk->exclusive;
    n->owner_xml = xstrdup(lk->owner_xml);
    n->principal_id = lk->principal_id;
    n->timeout = lk->timeout;
    n->expires = time(NULL) + lk->timeout;
    n->seq = cur.next_id++;
    lk->expires = n->expires;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_lock_refresh(struct dav_req *req, struct dav_lock *lk, int32_t timeout)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    for (size_t i = 0; i < cur.locks.n; i++) {
        struct fs_lock *o = &cur.locks.v[i];
        if (strcmp(o->token, lk->token) != 0 || !lock_live(o))
            continue;
        o->timeout = timeout;
        o->expires = time(NULL) + timeout;
        lk->timeout = timeout;
        lk->expires = o->expires;
        return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fs_lock_remove(struct dav_req *req, const char *token)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    for (size_t i = 0; i < cur.locks.n; i++) {
        if (strcmp(cur.locks.v[i].token, token) == 0) {
            lock_free(&cur.locks.v[i]);
            VDEL(cur.locks, i);
            break;
        }
    }
    return DAV_STORE_OK; /* as db/ */
}

static enum dav_store_rc
fs_quota_get(struct dav_req *req, int64_t space_id, int64_t *used,
             int64_t *limit, int64_t *disk_free)
{
    (void)req;
    FAIL_POINT();
    const struct fs_space *sp = NULL;
    for (size_t i = 0; i < cur.spaces.n && sp == NULL; i++)
        if (cur.spaces.v[i].id == space_id)
            sp = &cur.spaces.v[i];
    if (sp == NULL)
        return DAV_STORE_NOTFOUND;
    *used = 0;
    for (size_t i = 0; i < cur.res.n; i++)
        if (cur.res.v[i].space_id == space_id && cur.res.v[i].rev_id != 0)
            *used += cur.res.v[i].size;
    *limit = sp->quota;
    *disk_free = cur.disk_free;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_tree_size(struct dav_req *req, int64_t space_id, const char *path,
             int64_t *bytes)
{
    (void)req;
    FAIL_POINT();
    *bytes = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id == space_id && r->rev_id != 0 &&
            in_subtree(r->path, path))
            *bytes += r->size;
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_mtime_set(struct dav_req *req, const struct dav_resource *res,
             time_t mtime)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    struct fs_res *r = res_by_id(res->id);
    if (r != NULL)
        r->modified = mtime;
    return DAV_STORE_OK; /* as db/: an UPDATE of no row */
}

/* ---- principals and access control entries ------------------------------- */

static const struct fs_user *
user_by_id(int64_t id)
{
    for (size_t i = 0; i < cur.users.n; i++)
        if (cur.users.v[i].id == id)
            return &cur.users.v[i];
    return NULL;
}

static enum dav_store_rc
fs_principal_valid(struct dav_req *req, int64_t user_id, int64_t app_id)
{
    (void)req;
    FAIL_POINT();
    const struct fs_user *u = user_by_id(user_id);
    if (u == NULL || u->disabled)
        return DAV_STORE_NOTFOUND;
    if (app_id == 0)
        return DAV_STORE_OK;
    for (size_t i = 0; i < cur.app_passwords.n; i++) {
        const struct fs_app_password *p = &cur.app_passwords.v[i];
        if (p->id == app_id && p->user_id == user_id && !p->revoked)
            return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fs_app_passwords(struct dav_req *req, int64_t user_id,
                 struct dav_app_password **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena,
                       (cur.app_passwords.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.app_passwords.n; i++) {
        const struct fs_app_password *p = &cur.app_passwords.v[i];
        if (p->user_id != user_id || p->revoked)
            continue;
        (*out)[*n].id = p->id;
        memcpy((*out)[*n].sha256, p->sha, 32);
        (*n)++;
    }
    return DAV_STORE_OK;
}

static const char *
principal_name(struct dav_req *req, bool user, int64_t id)
{
    if (user) {
        const struct fs_user *u = user_by_id(id);
        return arena_strdup(req->arena, u != NULL ? u->name : "");
    }
    for (size_t i = 0; i < cur.spaces.n; i++)
        if (cur.spaces.v[i].id == id)
            return arena_strdup(req->arena, cur.spaces.v[i].slug);
    return "";
}

static int
ace_out_cmp(const void *a, const void *b)
{
    const struct fs_ace *x = *(const struct fs_ace *const *)a;
    const struct fs_ace *y = *(const struct fs_ace *const *)b;
    int c = strcmp(res_by_id(x->resource_id)->path,
                   res_by_id(y->resource_id)->path);
    if (c != 0)
        return c;
    return (x->position > y->position) - (x->position < y->position);
}

static enum dav_store_rc
fs_aces_find(struct dav_req *req, int64_t space_id, const char *path,
             int64_t principal_id, struct dav_ace **out, size_t *n)
{
    FAIL_POINT();
    const struct fs_ace **hits = xmalloc((cur.aces.n + 1) * sizeof(*hits));
    size_t k = 0;
    for (size_t i = 0; i < cur.aces.n; i++) {
        const struct fs_ace *a = &cur.aces.v[i];
        const struct fs_res *r = res_by_id(a->resource_id);
        if (a->space_id != space_id || r == NULL)
            continue;
        /* on 'path' or one of its ancestors */
        if (path != NULL && !in_subtree(path, r->path))
            continue;
        if (principal_id != 0) {
            bool applies = a->user ? a->principal_id == principal_id
                                   : role_of(a->principal_id,
                                             principal_id) != NULL;
            if (!applies)
                continue;
        }
        hits[k++] = a;
    }
    qsort(hits, k, sizeof(*hits), ace_out_cmp);
    *out = arena_alloc(req->arena, (k + 1) * sizeof(**out));
    for (size_t i = 0; i < k; i++) {
        struct dav_ace *d = &(*out)[i];
        d->path = arena_strdup(req->arena,
                               res_by_id(hits[i]->resource_id)->path);
        d->user = hits[i]->user;
        d->principal_id = hits[i]->principal_id;
        d->principal_name = principal_name(req, hits[i]->user,
                                           hits[i]->principal_id);
        d->grant = hits[i]->grant;
        d->privs = hits[i]->privs;
    }
    *n = k;
    free(hits);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_aces_replace(struct dav_req *req, const struct dav_resource *res,
                const struct dav_ace *aces, size_t n)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    if (res_by_id(res->id) == NULL)
        return DAV_STORE_NOTFOUND;
    for (size_t i = cur.aces.n; i > 0; i--)
        if (cur.aces.v[i - 1].resource_id == res->id)
            VDEL(cur.aces, i - 1);
    for (size_t i = 0; i < n; i++) {
        if (aces[i].privs == 0)
            violations++; /* the database refuses it */
        struct fs_ace *a = VPUSH(cur.aces);
        a->space_id = res->space_id;
        a->resource_id = res->id;
        a->user = aces[i].user;
        a->principal_id = aces[i].principal_id;
        a->grant = aces[i].grant;
        a->privs = aces[i].privs;
        a->position = (int)i;
    }
    return DAV_STORE_OK;
}

static int
member_name_cmp(const void *a, const void *b)
{
    const struct dav_member *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static enum dav_store_rc
fs_space_members(struct dav_req *req, int64_t space_id,
                 struct dav_member **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.members.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.members.n; i++) {
        const struct fs_member *m = &cur.members.v[i];
        const struct fs_user *u = user_by_id(m->user_id);
        if (m->space_id != space_id || u == NULL)
            continue;
        struct dav_member *d = &(*out)[(*n)++];
        d->name = arena_strdup(req->arena, u->name);
        d->display_name = d->name;
        d->role = arena_strdup(req->arena, m->role);
    }
    qsort(*out, *n, sizeof(**out), member_name_cmp);
    return DAV_STORE_OK;
}

static int
user_name_cmp(const void *a, const void *b)
{
    const struct dav_user *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static bool
share_a_space(int64_t a, int64_t b)
{
    for (size_t i = 0; i < cur.members.n; i++)
        if (cur.members.v[i].user_id == a &&
            role_of(cur.members.v[i].space_id, b) != NULL)
            return true;
    return false;
}

static enum dav_store_rc
fs_users_visible(struct dav_req *req, int64_t viewer_id, const char *name,
                 struct dav_user **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.users.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.users.n; i++) {
        const struct fs_user *u = &cur.users.v[i];
        if (name != NULL && strcmp(u->name, name) != 0)
            continue;
        if (u->id != viewer_id && !share_a_space(viewer_id, u->id))
            continue;
        struct dav_user *d = &(*out)[(*n)++];
        memset(d, 0, sizeof(*d));
        d->id = u->id;
        d->name = arena_strdup(req->arena, u->name);
        d->password_hash = "";
        d->display_name = d->name;
        d->email = "";
        d->disabled = u->disabled;
    }
    qsort(*out, *n, sizeof(**out), user_name_cmp);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_space_by_slug(struct dav_req *req, const char *slug, struct dav_space *out)
{
    FAIL_POINT();
    for (size_t i = 0; i < cur.spaces.n; i++) {
        if (strcmp(cur.spaces.v[i].slug, slug) != 0)
            continue;
        space_out(req, &cur.spaces.v[i], "", out);
        out->has_aces = false; /* as db/ */
        return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

static const struct dav_store_ops ops = {
    .txn_begin = fs_txn_begin,
    .txn_commit = fs_txn_commit,
    .txn_rollback = fs_txn_rollback,
    .user_by_name = fs_user_by_name,
    .space_for_user = fs_space_for_user,
    .spaces_of_user = fs_spaces_of_user,
    .lookup = fs_lookup,
    .children = fs_children,
    .props_get = fs_props_get,
    .prop_set = fs_prop_set,
    .prop_remove = fs_prop_remove,
    .create = fs_create,
    .chunk_put = fs_chunk_put,
    .revision_add = fs_revision_add,
    .content_chunks = fs_content_chunks,
    .chunk_read = fs_chunk_read,
    .remove = fs_remove,
    .copy = fs_copy,
    .move = fs_move,
    .ping = fs_ping,
    .locks_find = fs_locks_find,
    .lock_create = fs_lock_create,
    .lock_refresh = fs_lock_refresh,
    .lock_remove = fs_lock_remove,
    .quota_get = fs_quota_get,
    .tree_size = fs_tree_size,
    .mtime_set = fs_mtime_set,
    .principal_valid = fs_principal_valid,
    .app_passwords = fs_app_passwords,
    .aces_find = fs_aces_find,
    .aces_replace = fs_aces_replace,
    .space_members = fs_space_members,
    .users_visible = fs_users_visible,
    .space_by_slug = fs_space_by_slug,
};

const struct dav_store_ops *
fake_store_ops(void)
{
    return &ops;
}

/* ---- test API ------------------------------------------------------------ */

void
fake_store_free(void)
{
    state_free(&cur);
    if (snap != NULL) {
        state_free(snap);
        free(snap);
        snap = NULL;
    }
    in_txn = false;
}

void
fake_store_reset(void)
{
    fake_store_free();
    cur.next_id = 1;
    cur.now = FAKE_STORE_EPOCH;
    cur.disk_free = -1;
    calls = 0;
    fail_k = 0;
    fail_rc = DAV_STORE_ERROR;
    fired = false;
    violations = 0;
}

int64_t
fake_store_add_user(const char *name)
{
    struct fs_user *u = VPUSH(cur.users);
    u->id = cur.next_id++;
    u->name = xstrdup(name);
    return u->id;
}

int64_t
fake_store_add_space(const char *slug, const char *title)
{
    struct fs_space *s = VPUSH(cur.spaces);
    s->id = cur.next_id++;
    s->slug = xstrdup(slug);
    s->title = xstrdup(title);
    s->quota = -1;
    s->created = cur.now;
    int64_t id = s->id;
    struct fs_res *r = VPUSH(cur.res);
    r->id = cur.next_id++;
    r->space_id = id;
    r->path = xstrdup("");
    r->kind = DAV_KIND_COLLECTION;
    r->created = r->modified = cur.now++;
    return id;
}

void
fake_store_add_member(int64_t space_id, int64_t user_id, const char *role)
{
    struct fs_member *m = VPUSH(cur.members);
    m->space_id = space_id;
    m->user_id = user_id;
    m->role = xstrdup(role);
}

void
fake_store_set_quota(int64_t space_id, int64_t bytes)
{
    for (size_t i = 0; i < cur.spaces.n; i++)
        if (cur.spaces.v[i].id == space_id)
            cur.spaces.v[i].quota = bytes;
}

void
fake_store_set_disk_free(int64_t bytes)
{
    cur.disk_free = bytes;
}

void
fake_store_set_user_disabled(int64_t user_id, bool disabled)
{
    for (size_t i = 0; i < cur.users.n; i++)
        if (cur.users.v[i].id == user_id)
            cur.users.v[i].disabled = disabled;
}

int64_t
fake_store_add_app_password(int64_t user_id, const unsigned char sha256[32])
{
    struct fs_app_password *p = VPUSH(cur.app_passwords);
    p->id = cur.next_id++;
    p->user_id = user_id;
    memcpy(p->sha, sha256, 32);
    return p->id;
}

void
fake_store_revoke_app_password(int64_t id)
{
    for (size_t i = 0; i < cur.app_passwords.n; i++)
        if (cur.app_passwords.v[i].id == id)
            cur.app_passwords.v[i].revoked = true;
}

bool
fake_store_add_ace(int64_t space_id, const char *path, bool user,
                   int64_t principal_id, bool grant, unsigned privs)
{
    const struct fs_res *r = res_find(space_id, path);
    if (r == NULL)
        return false;
    int pos = 0;
    for (size_t i = 0; i < cur.aces.n; i++)
        if (cur.aces.v[i].resource_id == r->id)
            pos++;
    struct fs_ace *a = VPUSH(cur.aces);
    a->space_id = space_id;
    a->resource_id = r->id;
    a->user = user;
    a->principal_id = principal_id;
    a->grant = grant;
    a->privs = privs;
    a->position = pos;
    return true;
}

size_t
fake_store_lock_count(void)
{
    return cur.locks.n;
}

time_t
fake_store_mtime(int64_t space_id, const char *path)
{
    const struct fs_res *r = res_find(space_id, path);
    return r != NULL ? r->modified : (time_t)-1;
}

void
fake_store_fail_at_rc(unsigned long k, enum dav_store_rc rc)
{
    fail_k = k;
    fail_rc = rc;
    calls = 0;
    fired = false;
}

void
fake_store_fail_at(unsigned long k)
{
    fake_store_fail_at_rc(k, DAV_STORE_ERROR);
}

unsigned long
fake_store_calls(void)
{
    return calls;
}

bool
fake_store_failed(void)
{
    return fired;
}

bool
fake_store_in_txn(void)
{
    return in_txn;
}

unsigned long
fake_store_violations(void)
{
    return violations;
}

size_t
fake_store_chunk_count(void)
{
    return cur.chunks.n;
}

int
fake_store_revision_count(int64_t space_id, const char *path)
{
    const struct fs_res *r = res_find(space_id, path);
    if (r == NULL)
        return -1;
    int n = 0;
    for (size_t i = 0; i < cur.revs.n; i++)
        n += cur.revs.v[i].resource_id == r->id;
    return n;
}

bool
fake_store_exists(int64_t space_id, const char *path)
{
    return res_find(space_id, path) != NULL;
}

static void
dump_sha(FILE *f, const unsigned char sha[32])
{
    char hex[65];
    hex_encode(sha, 32, hex);
    fputs(hex, f);
}

static int
fs_res_id_cmp(const void *a, const void *b)
{
    const struct fs_res *x = *(const struct fs_res *const *)a;
    const struct fs_res *y = *(const struct fs_res *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

char *
fake_store_dump(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    fprintf(f, "next_id %lld now %lld disk_free %lld\n",
            (long long)cur.next_id, (long long)cur.now,
            (long long)cur.disk_free);
    for (size_t i = 0; i < cur.users.n; i++)
        fprintf(f, "user %lld %s%s\n", (long long)cur.users.v[i].id,
                cur.users.v[i].name,
                cur.users.v[i].disabled ? " disabled" : "");
    for (size_t i = 0; i < cur.app_passwords.n; i++) {
        const struct fs_app_password *p = &cur.app_passwords.v[i];
        fprintf(f, "app_password %lld user %lld%s sha ", (long long)p->id,
                (long long)p->user_id, p->revoked ? " revoked" : "");
        dump_sha(f, p->sha);
        fputc('\n', f);
    }
    for (size_t i = 0; i < cur.spaces.n; i++)
        fprintf(f, "space %lld %s %s quota %lld\n",
                (long long)cur.spaces.v[i].id, cur.spaces.v[i].slug,
                cur.spaces.v[i].title, (long long)cur.spaces.v[i].quota);
    for (size_t i = 0; i < cur.members.n; i++)
        fprintf(f, "member %lld %lld %s\n",
                (long long)cur.members.v[i].space_id,
                (long long)cur.members.v[i].user_id, cur.members.v[i].role);
    /* resources in id order, whatever the order of the array */
    const struct fs_res **rs = xmalloc((cur.res.n + 1) * sizeof(*rs));
    for (size_t i = 0; i < cur.res.n; i++)
        rs[i] = &cur.res.v[i];
    qsort(rs, cur.res.n, sizeof(*rs), fs_res_id_cmp);
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = rs[i];
        fprintf(f, "res %lld space %lld \"%s\" kind %d rev %lld/%d size %lld "
                "type %s created %lld by %lld modified %lld sha ",
                (long long)r->id, (long long)r->space_id, r->path,
                (int)r->kind, (long long)r->rev_id, (int)r->rev_num,
                (long long)r->size, r->ctype != NULL ? r->ctype : "-",
                (long long)r->created, (long long)r->created_by,
                (long long)r->modified);
        dump_sha(f, r->sha);
        fputc('\n', f);
        for (size_t k = 0; k < cur.props.n; k++) {
            const struct fs_prop *p = &cur.props.v[k];
            if (p->resource_id == r->id)
                fprintf(f, "  prop space %lld {%s}%s = %s\n",
                        (long long)p->space_id, p->ns, p->name, p->xml);
        }
        for (size_t k = 0; k < cur.aces.n; k++) {
            const struct fs_ace *a = &cur.aces.v[k];
            if (a->resource_id == r->id)
                fprintf(f, "  ace space %lld #%d %s %lld %s %#x\n",
                        (long long)a->space_id, a->position,
                        a->user ? "user" : "space",
                        (long long)a->principal_id,
                        a->grant ? "grant" : "deny", a->privs);
        }
        for (size_t k = 0; k < cur.revs.n; k++) {
            const struct fs_rev *v = &cur.revs.v[k];
            if (v->resource_id != r->id)
                continue;
            fprintf(f, "  rev %lld space %lld num %d author %lld size %lld "
                    "type %s sha ", (long long)v->id, (long long)v->space_id,
                    (int)v->num, (long long)v->author, (long long)v->size,
                    v->ctype != NULL ? v->ctype : "-");
            dump_sha(f, v->sha);
            for (size_t c = 0; c < v->nchunks; c++) {
                fprintf(f, " [%lld+%d ", (long long)v->chunks[c].offset,
                        (int)v->chunks[c].size);
                dump_sha(f, v->chunks[c].sha256);
                fputc(']', f);
            }
            fputc('\n', f);
        }
    }
    free(rs);
    for (size_t i = 0; i < cur.chunks.n; i++) {
        const struct fs_chunk *c = &cur.chunks.v[i];
        unsigned char d[32];
        sha256_once(c->data, c->len, d);
        fprintf(f, "chunk space %lld len %zu sha ", (long long)c->space_id,
                c->len);
        dump_sha(f, c->sha);
        fputs(" data ", f);
        dump_sha(f, d);
        fputc('\n', f);
    }
    /* locks without their expiry time, which is the wall clock's */
    for (size_t i = 0; i < cur.locks.n; i++) {
        const struct fs_lock *lk = &cur.locks.v[i];
        fprintf(f, "lock %s space %lld \"%s\" %s %s principal %lld "
                "timeout %d owner %s\n", lk->token, (long long)lk->space_id,
                lk->root, lk->infinite ? "infinity" : "0",
                lk->exclusive ? "exclusive" : "shared",
                (long long)lk->principal_id, (int)lk->timeout,
                lk->owner_xml != NULL ? lk->owner_xml : "-");
    }
    /* rows that lost their resource would be a bug of the fake */
    for (size_t k = 0; k < cur.props.n; k++)
        if (res_by_id(cur.props.v[k].resource_id) == NULL)
            fprintf(f, "orphan prop %s\n", cur.props.v[k].name);
    for (size_t k = 0; k < cur.revs.n; k++)
        if (res_by_id(cur.revs.v[k].resource_id) == NULL)
            fprintf(f, "orphan rev %lld\n", (long long)cur.revs.v[k].id);
    fclose(f);
    return text;
}
