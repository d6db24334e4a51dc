/*
 * tests/unit/fakes/fake_store.c -- the in-memory store of
 * fake_store.h: every operation of struct dav_store_ops, transactions
 * by snapshot, and failure injection for torture tests.
 *
 * Test code: it uses malloc/free for its own state (which outlives
 * requests); what it hands to dav/ is copied into req->arena, as the real
 * store does.  Linear searches throughout: the stores of unit tests hold a
 * handful of rows.  Each operation mirrors the SQL of db/pg_store.c, and
 * the change log mirrors the triggers of db/migrations/0004 (statement
 * level: a tree bound, unbound or moved is logged at its root only).
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
    bool guest;
    time_t expires;           /* wall clock; 0: never */
    int64_t personal_space;   /* 0: not made yet */
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
    bool personal;
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
    /* the current revision, denormalized (rev_id 0: none) */
    int64_t rev_id;
    int32_t rev_num;
    int64_t size;
    char *ctype;
    unsigned char sha[32];
    time_t created;
    time_t modified;
    int64_t created_by;
    /* a calendar (a row of table calendars) */
    bool calendar;
    char *components;
    /* approval; approval_state points to one of approval_states[] */
    const char *approval_state;
    char *approval_comment;
    int64_t approved_rev;
    int64_t approved_by;
    time_t approved_at;
    int64_t submitted_by;
    /* the root of a tree in the trash */
    char *trashed_from;
    int64_t trashed_by;
    time_t trashed_at;
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
    time_t created;
    char *comment;
    bool approved;
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

/* A row of the change log (table changes). */
struct fs_change {
    int64_t seq;
    int64_t space_id;
    int64_t collection_id;
    char *name;
    bool deleted;
};

/* A file renamed to a temporary name (renamed_away). */
struct fs_away {
    int64_t space_id;
    char *from;
    char *to;
    int64_t resource_id;
    int64_t rev_id;
    int64_t user_id;
    int64_t doc_id;           /* a kept copy's document; 0: a rename */
    time_t at;
};

/* A row of the audit trail; 0 and NULL stand for SQL NULL. */
struct fs_audit {
    int64_t id;
    time_t at;
    char *principal;
    char *client;
    char *user_agent;
    char *action;
    int64_t space_id;
    char *path;
    int64_t resource_id;
    int64_t revision_id;
    int status;
    char *detail;
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
    VEC(struct fs_change) changes;
    VEC(struct fs_audit) audit;
    VEC(struct fs_away) aways;
    int64_t next_id;
    int64_t change_seq;       /* the sequences of db/migrations */
    int64_t trash_seq;
    int64_t audit_seq;
    int64_t disk_free;
    time_t now;
};

static const char *const approval_states[] = { "draft", "submitted",
                                               "approved", "rejected" };

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

static char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
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

/* The strings of a row: freed, or duplicated in place (after a memberwise
 * copy, so that the copy owns its own). */
static void
res_fields_free(struct fs_res *r)
{
    free(r->path);
    free(r->ctype);
    free(r->components);
    free(r->approval_comment);
    free(r->trashed_from);
}

static void
res_fields_dup(struct fs_res *r)
{
    r->path = xstrdup(r->path);
    r->ctype = xstrdup(r->ctype);
    r->components = xstrdup(r->components);
    r->approval_comment = xstrdup(r->approval_comment);
    r->trashed_from = xstrdup(r->trashed_from);
}

static void
rev_fields_free(struct fs_rev *v)
{
    free(v->ctype);
    free(v->chunks);
    free(v->comment);
}

static void
rev_fields_dup(struct fs_rev *v)
{
    v->ctype = xstrdup(v->ctype);
    v->chunks = xmemdup(v->chunks, v->nchunks * sizeof(*v->chunks));
    v->comment = xstrdup(v->comment);
}

static void
prop_fields_free(struct fs_prop *p)
{
    free(p->ns);
    free(p->name);
    free(p->xml);
}

static void
audit_fields_free(struct fs_audit *a)
{
    free(a->principal);
    free(a->client);
    free(a->user_agent);
    free(a->action);
    free(a->path);
    free(a->detail);
}

static void
audit_fields_dup(struct fs_audit *a)
{
    a->principal = xstrdup(a->principal);
    a->client = xstrdup(a->client);
    a->user_agent = xstrdup(a->user_agent);
    a->action = xstrdup(a->action);
    a->path = xstrdup(a->path);
    a->detail = xstrdup(a->detail);
}

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
    for (size_t i = 0; i < s->res.n; i++)
        res_fields_free(&s->res.v[i]);
    for (size_t i = 0; i < s->props.n; i++)
        prop_fields_free(&s->props.v[i]);
    for (size_t i = 0; i < s->chunks.n; i++)
        free(s->chunks.v[i].data);
    for (size_t i = 0; i < s->revs.n; i++)
        rev_fields_free(&s->revs.v[i]);
    for (size_t i = 0; i < s->locks.n; i++)
        lock_free(&s->locks.v[i]);
    for (size_t i = 0; i < s->changes.n; i++)
        free(s->changes.v[i].name);
    for (size_t i = 0; i < s->audit.n; i++)
        audit_fields_free(&s->audit.v[i]);
    for (size_t i = 0; i < s->aways.n; i++) {
        free(s->aways.v[i].from);
        free(s->aways.v[i].to);
    }
    free(s->users.v);
    free(s->spaces.v);
    free(s->members.v);
    free(s->res.v);
    free(s->props.v);
    free(s->chunks.v);
    free(s->revs.v);
    free(s->locks.v);
    free(s->app_passwords.v);
    free(s->aces.v);
    free(s->changes.v);
    free(s->audit.v);
    free(s->aways.v);
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
    VCOPY(c->changes, s->changes);
    VCOPY(c->audit, s->audit);
    VCOPY(c->aways, s->aways);
    for (size_t i = 0; i < c->aways.n; i++) {
        c->aways.v[i].from = xstrdup(s->aways.v[i].from);
        c->aways.v[i].to = xstrdup(s->aways.v[i].to);
    }
    for (size_t i = 0; i < c->users.n; i++)
        c->users.v[i].name = xstrdup(s->users.v[i].name);
    for (size_t i = 0; i < c->spaces.n; i++) {
        c->spaces.v[i].slug = xstrdup(s->spaces.v[i].slug);
        c->spaces.v[i].title = xstrdup(s->spaces.v[i].title);
    }
    for (size_t i = 0; i < c->members.n; i++)
        c->members.v[i].role = xstrdup(s->members.v[i].role);
    for (size_t i = 0; i < c->res.n; i++)
        res_fields_dup(&c->res.v[i]);
    for (size_t i = 0; i < c->props.n; i++) {
        c->props.v[i].ns = xstrdup(s->props.v[i].ns);
        c->props.v[i].name = xstrdup(s->props.v[i].name);
        c->props.v[i].xml = xstrdup(s->props.v[i].xml);
    }
    for (size_t i = 0; i < c->chunks.n; i++)
        c->chunks.v[i].data = xmemdup(s->chunks.v[i].data,
                                      s->chunks.v[i].len);
    for (size_t i = 0; i < c->revs.n; i++)
        rev_fields_dup(&c->revs.v[i]);
    for (size_t i = 0; i < c->locks.n; i++) {
        c->locks.v[i].token = xstrdup(s->locks.v[i].token);
        c->locks.v[i].root = xstrdup(s->locks.v[i].root);
        c->locks.v[i].owner_xml = xstrdup(s->locks.v[i].owner_xml);
    }
    for (size_t i = 0; i < c->changes.n; i++)
        c->changes.v[i].name = xstrdup(s->changes.v[i].name);
    for (size_t i = 0; i < c->audit.n; i++)
        audit_fields_dup(&c->audit.v[i]);
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

/* The logical clock: one tick per stamped change. */
static time_t
tick(void)
{
    return cur.now++;
}

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

/* The parent path of 'path', malloc'd; NULL for the root. */
static char *
parent_of(const char *path)
{
    long pl = parent_len(path);
    return pl < 0 ? NULL : xstrndup(path, (size_t)pl);
}

static bool
in_subtree(const char *path, const char *root)
{
    size_t rl = strlen(root);
    return strncmp(path, root, rl) == 0 &&
           (path[rl] == '\0' || path[rl] == '/');
}

/* path LIKE 'prefix%' */
static bool
has_prefix(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
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

static struct fs_space *
space_by_id(int64_t id)
{
    for (size_t i = 0; i < cur.spaces.n; i++)
        if (cur.spaces.v[i].id == id)
            return &cur.spaces.v[i];
    return NULL;
}

static struct fs_user *
user_by_id(int64_t id)
{
    for (size_t i = 0; i < cur.users.n; i++)
        if (cur.users.v[i].id == id)
            return &cur.users.v[i];
    return NULL;
}

/* The name of user id in req->arena; NULL if none (a LEFT JOIN). */
static const char *
user_name_of(struct dav_req *req, int64_t id)
{
    const struct fs_user *u = id != 0 ? user_by_id(id) : NULL;
    return u != NULL ? arena_strdup(req->arena, u->name) : NULL;
}

/* The parent of 'path' exists and is a collection. */
static bool
parent_ok(int64_t space_id, const char *path)
{
    char *parent = parent_of(path);
    if (parent == NULL)
        return false;
    const struct fs_res *p = res_find(space_id, parent);
    free(parent);
    return p != NULL && p->kind == DAV_KIND_COLLECTION;
}

/* A new row (as INSERT INTO resources with its defaults). */
static struct fs_res *
res_new(int64_t space_id, const char *path, enum dav_kind kind,
        int64_t created_by, time_t now)
{
    struct fs_res *r = VPUSH(cur.res);
    r->id = cur.next_id++;
    r->space_id = space_id;
    r->path = xstrdup(path);
    r->kind = kind;
    r->created = r->modified = now;
    r->created_by = created_by;
    r->approval_state = approval_states[0];
    return r;
}

/*
 * Log a change of the member at (space, path) in its parent collection,
 * as the triggers do: nothing for a space root, nor when the parent is
 * gone.
 */
static void
log_change(int64_t space_id, const char *path, bool deleted)
{
    char *parent = parent_of(path);
    if (parent == NULL)
        return;
    const struct fs_res *p = res_find(space_id, parent);
    free(parent);
    if (p == NULL)
        return;
    int64_t collection = p->id;
    char *name = xstrdup(base_name(path));
    struct fs_change *c = VPUSH(cur.changes);
    c->seq = ++cur.change_seq;
    c->space_id = space_id;
    c->collection_id = collection;
    c->name = name;
    c->deleted = deleted;
}

/* The columns of RES_SELECT with the current revision (RES_COLS). */
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
    out->created_by_name = user_name_of(req, r->created_by);
    out->subtype = r->calendar ? DAV_SUBTYPE_CALENDAR : DAV_SUBTYPE_PLAIN;
    out->components = r->calendar ? arena_strdup(req->arena, r->components)
                                  : NULL;
    out->approval_state = arena_strdup(req->arena, r->approval_state);
    out->approval_comment = arena_strdup(req->arena, r->approval_comment);
    out->approved_rev = r->approved_rev;
    out->approved_by = user_name_of(req, r->approved_by);
    out->approved_at = r->approved_at;
    out->trashed_from = arena_strdup(req->arena, r->trashed_from);
    out->trashed_by = user_name_of(req, r->trashed_by);
    out->trashed_at = r->trashed_at;
}

/* The same as published (RES_FROM_PUBLISHED): the revision columns are
 * those of the approved revision, which a file serves. */
static void
res_out_published(struct dav_req *req, const struct fs_res *r,
                  struct dav_resource *out)
{
    res_out(req, r, out);
    const struct fs_rev *v = r->approved_rev != 0 ? rev_by_id(r->approved_rev)
                                                  : NULL;
    out->rev_num = v != NULL ? v->num : 0;
    out->size = v != NULL ? v->size : 0;
    out->content_type = v != NULL ? arena_strdup(req->arena, v->ctype) : NULL;
    memset(out->sha256, 0, 32);
    if (v != NULL)
        memcpy(out->sha256, v->sha, 32);
    if (out->kind == DAV_KIND_FILE)
        out->rev_id = r->approved_rev;
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

/* A principal granted something in the space by an entry: for the user,
 * or for the members of a space the user belongs to. */
static bool
ace_grants_user(int64_t space_id, int64_t user_id)
{
    for (size_t i = 0; i < cur.aces.n; i++) {
        const struct fs_ace *a = &cur.aces.v[i];
        if (a->space_id != space_id || !a->grant)
            continue;
        if (a->user ? a->principal_id == user_id
                    : role_of(a->principal_id, user_id) != NULL)
            return true;
    }
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

/* Reads without a transaction: the fake keeps its snapshot all the same
 * (a read-only request changes nothing to restore). */
static enum dav_store_rc
fs_read_begin(struct dav_req *req)
{
    return fs_txn_begin(req);
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

/* expires_at IS NOT NULL AND expires_at <= now() */
static bool
user_expired(const struct fs_user *u)
{
    return u->expires != 0 && u->expires <= time(NULL);
}

static enum dav_store_rc
fs_user_by_name(struct dav_req *req, const char *name, struct dav_user *out)
{
    FAIL_POINT();
    for (size_t i = 0; i < cur.users.n; i++) {
        const struct fs_user *u = &cur.users.v[i];
        if (strcmp(u->name, name) != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->id = u->id;
        out->name = arena_strdup(req->arena, name);
        out->display_name = ""; /* coalesce(display_name, '') */
        out->email = "";
        out->disabled = u->disabled || user_expired(u);
        out->guest = u->guest;
        out->expires = u->expires;
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

static enum dav_store_rc fs_principal_valid(struct dav_req *req,
                                           int64_t user_id, int64_t app_id);

/* One call, as one statement in PostgreSQL: one fail point. */
static enum dav_store_rc
fs_space_lookup(struct dav_req *req, const char *slug, int64_t user_id,
                int64_t app_id, const char *path, bool *principal_ok,
                struct dav_space *space, bool *space_found,
                struct dav_resource *res, bool *found)
{
    FAIL_POINT();
    unsigned long saved = calls, saved_k = fail_k;
    fail_k = 0; /* the parts below are not calls of their own */
    enum dav_store_rc rc = fs_principal_valid(req, user_id, app_id);
    *principal_ok = rc == DAV_STORE_OK;
    rc = fs_space_for_user(req, slug, user_id, space);
    *space_found = rc == DAV_STORE_OK;
    *found = false;
    if (*space_found && path != NULL) {
        const struct fs_res *r = res_find(space->id, path);
        if (r != NULL) {
            res_out(req, r, res);
            *found = true;
        }
    }
    calls = saved;
    fail_k = saved_k;
    return DAV_STORE_OK;
}

/* The fake has no snapshots to name: no read's target is kept
 * (decision 0027). */
static const char *
fs_stamp_now(struct dav_req *req, time_t *db_now)
{
    (void)req;
    *db_now = 0;
    return NULL;
}

static const char *
fs_stamp_of(struct dav_req *req, const char *snapshot)
{
    (void)req;
    (void)snapshot;
    return NULL;
}

/* Nor any answer (decision 0029). */
static bool
fs_read_whole(struct dav_req *req)
{
    (void)req;
    return false;
}

static int
res_name_cmp(const void *a, const void *b)
{
    const struct dav_resource *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int
res_path_cmp(const void *a, const void *b)
{
    const struct dav_resource *x = a, *y = b;
    return strcmp(x->path, y->path);
}

/* r is a member of the collection at (space_id, path) */
static bool
is_member_of(const struct fs_res *r, int64_t space_id, const char *path)
{
    size_t pl = strlen(path);
    return r->space_id == space_id && parent_len(r->path) == (long)pl &&
           strncmp(r->path, path, pl) == 0;
}

static enum dav_store_rc
fs_children(struct dav_req *req, int64_t space_id, const char *path,
            struct dav_resource **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++)
        if (is_member_of(&cur.res.v[i], space_id, path))
            res_out(req, &cur.res.v[i], &(*out)[(*n)++]);
    qsort(*out, *n, sizeof(**out), res_name_cmp);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_children_count(struct dav_req *req, int64_t space_id, const char *path,
                  int64_t *n)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++)
        if (is_member_of(&cur.res.v[i], space_id, path))
            (*n)++;
    return DAV_STORE_OK;
}

/* Paged listings: the members and their dead properties are copied when
 * the listing opens (the snapshot), then handed out 'list_page' at a
 * time. */
static size_t list_page = 3;

struct dav_store_cursor {
    struct dav_store_member *v;
    size_t n, next;
};

static void props_collect(struct dav_req *req, int64_t space_id,
                          const int64_t *ids, size_t nids,
                          struct dav_dead_prop **out, size_t *n);

static int
listed_name_cmp(const void *a, const void *b)
{
    const struct dav_store_member *x = a, *y = b;
    return strcmp(x->res.name, y->res.name);
}

static enum dav_store_rc
fs_children_open(struct dav_req *req, int64_t space_id, const char *path,
                 bool dead, int64_t expected, struct dav_store_cursor **out)
{
    (void)expected;
    FAIL_POINT();
    need_txn();
    struct dav_store_cursor *c = arena_alloc(req->arena, sizeof(*c));
    c->v = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(*c->v));
    for (size_t i = 0; i < cur.res.n; i++)
        if (is_member_of(&cur.res.v[i], space_id, path))
            res_out(req, &cur.res.v[i], &c->v[c->n++].res);
    qsort(c->v, c->n, sizeof(*c->v), listed_name_cmp);
    for (size_t i = 0; dead && i < c->n; i++)
        props_collect(req, space_id, &c->v[i].res.id, 1, &c->v[i].dead,
                      &c->v[i].ndead);
    *out = c;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_children_next(struct dav_req *req, struct dav_store_cursor *c,
                 struct arena *a, struct dav_store_member **out, size_t *n,
                 bool *last)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    size_t k = c->n - c->next;
    if (k > list_page)
        k = list_page;
    *out = arena_alloc(a, (k + 1) * sizeof(**out));
    memcpy(*out, c->v + c->next, k * sizeof(**out));
    c->next += k;
    *n = k;
    *last = c->next == c->n;
    return DAV_STORE_OK;
}

void
fake_store_set_list_page(size_t n)
{
    list_page = n > 0 ? n : 1;
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
    props_collect(req, space_id, ids, nids, out, n);
    return DAV_STORE_OK;
}

static void
props_collect(struct dav_req *req, int64_t space_id, const int64_t *ids,
              size_t nids, struct dav_dead_prop **out, size_t *n)
{
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
}

static enum dav_store_rc
fs_prop_set(struct dav_req *req, const struct dav_resource *res,
            const char *ns, const char *name, const char *xml)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    const struct fs_res *r = res_by_id(res->id);
    if (r == NULL)
        return DAV_STORE_CONFLICT; /* as db/: a foreign key violation */
    /* props_log_insert / props_log_update: the resource changed */
    log_change(r->space_id, r->path, false);
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
            prop_fields_free(p);
            VDEL(cur.props, i);
            /* props_log_delete */
            const struct fs_res *r = res_by_id(res->id);
            if (r != NULL)
                log_change(r->space_id, r->path, false);
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
    int64_t creator = req->principal != NULL ? req->principal->id : 0;
    const struct fs_res *r = res_new(space_id, path, kind, creator, tick());
    log_change(space_id, path, false);
    /* as db/: only what the INSERT returns */
    memset(out, 0, sizeof(*out));
    out->id = r->id;
    out->space_id = space_id;
    out->path = arena_strdup(req->arena, path);
    out->name = arena_strdup(req->arena, base_name(path));
    out->kind = kind;
    out->created = out->modified = r->created;
    out->created_by = creator;
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

/* Make revision v (of r) current, as UPDATE resources SET current_rev,
 * modified_at = now(), approval_state = 'draft' does. */
static void
res_set_current(struct fs_res *r, const struct fs_rev *v, time_t now)
{
    r->rev_id = v->id;
    r->rev_num = v->num;
    r->size = v->size;
    free(r->ctype);
    r->ctype = xstrdup(v->ctype);
    memcpy(r->sha, v->sha, 32);
    r->modified = now;
    r->approval_state = approval_states[0];
    log_change(r->space_id, r->path, false);
}

static int32_t
next_rev_num(int64_t resource_id)
{
    int32_t num = 0;
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].resource_id == resource_id &&
            cur.revs.v[i].num > num)
            num = cur.revs.v[i].num;
    return num + 1;
}

static enum dav_store_rc
fs_revision_add(struct dav_req *req, struct dav_resource *res,
                int64_t author_id, int64_t size, const char *content_type,
                const unsigned char sha256[32],
                const struct dav_chunk_ref *chunks, size_t nchunks)
{
    FAIL_POINT();
    need_txn();
    struct fs_res *r;
    if (res->id == 0) {
        /* A new file, made with its first revision (as db/, one call). */
        if (res_find(res->space_id, res->path) != NULL)
            return DAV_STORE_EXISTS;
        if (!parent_ok(res->space_id, res->path))
            return DAV_STORE_CONFLICT;
        const struct fs_res *made = res_new(res->space_id, res->path,
                                            DAV_KIND_FILE, author_id, tick());
        log_change(res->space_id, res->path, false);
        res->id = made->id;
        res->kind = DAV_KIND_FILE;
        res->created = made->created;
        res->created_by = author_id;
    }
    r = res_by_id(res->id);
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

    time_t now = tick();
    struct fs_rev *v = VPUSH(cur.revs);
    v->id = cur.next_id++;
    v->space_id = r->space_id;
    v->resource_id = r->id;
    v->num = next_rev_num(r->id);
    v->author = author_id;
    v->size = size;
    v->ctype = xstrdup(content_type);
    memcpy(v->sha, sha256, 32);
    v->chunks = xmemdup(chunks, nchunks * sizeof(*chunks));
    v->nchunks = nchunks;
    v->created = now;
    res_set_current(r, v, now);

    /* as db/: the caller's copy gets the revision's columns only */
    res->rev_id = r->rev_id;
    res->rev_num = r->rev_num;
    res->size = size;
    res->content_type = arena_strdup(req->arena, content_type);
    memcpy(res->sha256, sha256, 32);
    res->modified = r->modified;
    return DAV_STORE_OK;
}

/* The chunk list of content (space, sha): the blob of db/, which any
 * revision with that content carries; the given revision first. */
static const struct fs_rev *
blob_find(int64_t space_id, const unsigned char sha[32], int64_t rev_id)
{
    const struct fs_rev *v = rev_by_id(rev_id);
    if (v != NULL && v->space_id == space_id && memcmp(v->sha, sha, 32) == 0)
        return v;
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].space_id == space_id &&
            memcmp(cur.revs.v[i].sha, sha, 32) == 0)
            return &cur.revs.v[i];
    return NULL;
}

static enum dav_store_rc
fs_content_chunks(struct dav_req *req, const struct dav_resource *res,
                  struct dav_chunk_ref **out, size_t *n)
{
    FAIL_POINT();
    const struct fs_rev *v = blob_find(res->space_id, res->sha256,
                                       res->rev_id);
    size_t nchunks = v != NULL ? v->nchunks : 0;
    *out = arena_alloc(req->arena, (nchunks + 1) * sizeof(**out));
    int64_t off = 0;
    for (size_t i = 0; i < nchunks; i++) {
        (*out)[i] = v->chunks[i];
        (*out)[i].offset = off;
        off += v->chunks[i].size;
    }
    *n = nchunks;
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

/* The fake is a node without caches: every read goes to chunk_read, so
 * that the fault injection reaches each chunk of a streamed GET. */
static bool
fs_chunk_local(struct dav_req *req, int64_t space_id,
               const unsigned char sha256[32], int64_t off, size_t len,
               void *dst)
{
    (void)req;
    (void)space_id;
    (void)sha256;
    (void)off;
    (void)len;
    (void)dst;
    return false;
}

/* Nor does it hold files of whole contents. */
static int
fs_content_fd(struct dav_req *req, int64_t space_id,
              const unsigned char sha256[32], uint64_t size)
{
    (void)req;
    (void)space_id;
    (void)sha256;
    (void)size;
    return -1;
}

/* ---- tree operations ----------------------------------------------------- */

/* The rows that go with a resource (ON DELETE CASCADE). */
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
        prop_fields_free(p);
        VDEL(cur.props, i - 1);
    }
    for (size_t i = cur.revs.n; i > 0; i--) {
        struct fs_rev *v = &cur.revs.v[i - 1];
        if (v->resource_id != id)
            continue;
        rev_fields_free(v);
        VDEL(cur.revs, i - 1);
    }
}

/* Delete the tree at (space, root), its locks, and log its unbinding. */
static void
remove_tree(int64_t space_id, const char *path)
{
    char *root = xstrdup(path);
    locks_drop_subtree(space_id, root);
    for (size_t i = cur.res.n; i > 0; i--) {
        struct fs_res *r = &cur.res.v[i - 1];
        if (r->space_id != space_id || !in_subtree(r->path, root))
            continue;
        delete_resource_rows(r->id);
        res_fields_free(r);
        VDEL(cur.res, i - 1);
    }
    log_change(space_id, root, true);
    free(root);
}

static enum dav_store_rc
fs_remove(struct dav_req *req, int64_t space_id, const char *path)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    if (res_find(space_id, path) == NULL)
        return DAV_STORE_NOTFOUND;
    remove_tree(space_id, path);
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

static bool
has_props(int64_t resource_id)
{
    for (size_t k = 0; k < cur.props.n; k++)
        if (cur.props.v[k].resource_id == resource_id)
            return true;
    return false;
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
    int64_t *nids = xmalloc((n + 1) * sizeof(*nids));
    time_t now = tick();
    /* copy_tree, in the order of its parts: bare rows (no creator,
     * calendar, approval or trash), logged as one change of the parent */
    for (size_t i = 0; i < n; i++) {
        const struct fs_res *o = res_by_id(ids[i]);
        char *path = rebase(o->path, src, dst);
        enum dav_kind kind = o->kind;
        nids[i] = res_new(dst_space, path, kind, 0, now)->id; /* o moves */
        free(path);
    }
    log_change(dst_space, dst, false);
    /* then revision 1 of each with the source's current content */
    for (size_t i = 0; i < n; i++) {
        const struct fs_res *o = res_by_id(ids[i]);
        const struct fs_rev *ov = o->rev_id != 0 ? rev_by_id(o->rev_id)
                                                 : NULL;
        if (ov == NULL)
            continue;
        struct fs_rev nv = *ov;
        nv.id = cur.next_id++;
        nv.space_id = dst_space;
        nv.resource_id = nids[i];
        nv.num = 1;
        nv.author = author_id;
        nv.created = now;
        nv.comment = NULL;
        nv.approved = false;
        nv.ctype = xstrdup(ov->ctype);
        nv.chunks = xmemdup(ov->chunks, ov->nchunks * sizeof(*ov->chunks));
        for (size_t k = 0; k < nv.nchunks; k++)
            chunk_share(src_space, dst_space, nv.chunks[k].sha256);
        *VPUSH(cur.revs) = nv;
        struct fs_res *c = res_by_id(nids[i]);
        c->rev_id = nv.id;
        c->rev_num = 1;
        c->size = nv.size;
        c->ctype = xstrdup(nv.ctype);
        memcpy(c->sha, nv.sha, 32);
    }
    /* then the dead properties */
    for (size_t i = 0; i < n; i++) {
        if (!has_props(ids[i]))
            continue;
        size_t np = cur.props.n;
        for (size_t k = 0; k < np; k++) {
            if (cur.props.v[k].resource_id != ids[i])
                continue;
            struct fs_prop p = cur.props.v[k];
            p.space_id = dst_space;
            p.resource_id = nids[i];
            p.ns = xstrdup(p.ns);
            p.name = xstrdup(p.name);
            p.xml = xstrdup(p.xml);
            *VPUSH(cur.props) = p;
        }
        log_change(dst_space, res_by_id(nids[i])->path, false);
    }
    free(ids);
    free(nids);
    return DAV_STORE_OK;
}

/* move_tree (and move_space_rows, copy_content): the tree keeps its rows;
 * its root forgets having been in the trash. */
static enum dav_store_rc
move_tree(int64_t src_space, const char *src_path, int64_t dst_space,
          const char *dst_path)
{
    enum dav_store_rc rc = tree_checks(src_space, src_path, dst_space,
                                       dst_path);
    if (rc != DAV_STORE_OK)
        return rc;
    char *src = xstrdup(src_path), *dst = xstrdup(dst_path);
    size_t n;
    int64_t *ids = subtree_ids(src_space, src, false, &n);
    /* as db/: the locks of the moved tree do not follow it */
    locks_drop_subtree(src_space, src);
    for (size_t i = 0; i < n; i++) {
        struct fs_res *r = res_by_id(ids[i]);
        if (strcmp(r->path, src) == 0) {
            free(r->trashed_from);
            r->trashed_from = NULL;
            r->trashed_by = 0;
            r->trashed_at = 0;
        }
        char *np = rebase(r->path, src, dst);
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
    /* resources_log_update: gone from the old parent, in the new one */
    log_change(src_space, src, true);
    log_change(dst_space, dst, false);
    free(ids);
    free(src);
    free(dst);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_move(struct dav_req *req, int64_t src_space, const char *src,
        int64_t dst_space, const char *dst)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    return move_tree(src_space, src, dst_space, dst);
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
              unsigned scope, struct dav_lock **out, size_t *n)
{
    bool descendants = (scope & DAV_LOCKS_BELOW) != 0;
    /* the parent's length, or -1 when its locks are not wanted */
    long plen = (scope & DAV_LOCKS_PARENT) ? parent_len(path) : -1;
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
        bool parent = plen >= 0 && strlen(lk->root) == (size_t)plen &&
                      strncmp(lk->root, path, (size_t)plen) == 0;
        if (at || (above && lk->infinite) || (descendants && below) ||
            parent)
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
    const struct fs_space *sp = space_by_id(space_id);
    if (sp == NULL)
        return DAV_STORE_NOTFOUND;
    /* the current content, the trash's excepted */
    *used = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id == space_id && r->rev_id != 0 &&
            !has_prefix(r->path, DAV_TRASH_FOLDER "/"))
            *used += r->size;
    }
    *limit = sp->quota;
    *disk_free = cur.disk_free;
    return DAV_STORE_OK;
}

/* One request at a time here: holding the space is only checked for. */
static enum dav_store_rc
fs_quota_lock(struct dav_req *req, int64_t space_id)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    return space_by_id(space_id) != NULL ? DAV_STORE_OK : DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fs_tree_size(struct dav_req *req, int64_t space_id, const char *path,
             int64_t *bytes, int64_t *members)
{
    (void)req;
    FAIL_POINT();
    *bytes = 0;
    *members = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id != space_id || !in_subtree(r->path, path))
            continue;
        (*members)++;
        if (r->rev_id != 0)
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
    if (r != NULL && r->modified != mtime) {
        r->modified = mtime;
        log_change(r->space_id, r->path, false);
    }
    return DAV_STORE_OK; /* as db/: an UPDATE of no row */
}

/* ---- principals and access control entries ------------------------------- */

static enum dav_store_rc
fs_principal_valid(struct dav_req *req, int64_t user_id, int64_t app_id)
{
    (void)req;
    FAIL_POINT();
    const struct fs_user *u = user_by_id(user_id);
    if (u == NULL || u->disabled || user_expired(u))
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
    const struct fs_space *s = space_by_id(id);
    return arena_strdup(req->arena, s != NULL ? s->slug : "");
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
    for (size_t i = cur.aces.n; i > 0; i--)
        if (cur.aces.v[i - 1].resource_id == res->id)
            VDEL(cur.aces, i - 1);
    if (n > 0 && res_by_id(res->id) == NULL)
        return DAV_STORE_CONFLICT; /* as db/: a foreign key violation */
    for (size_t i = 0; i < n; i++) {
        if (aces[i].privs == 0) {
            violations++; /* the database refuses it */
            return DAV_STORE_ERROR;
        }
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
        d->display_name = ""; /* coalesce(display_name, '') */
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
        d->display_name = "";
        d->email = "";
        d->disabled = u->disabled;
        d->guest = u->guest;
        d->expires = u->expires;
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

/* ---- personal spaces and calendars --------------------------------------- */

static enum dav_store_rc
fs_personal_space(struct dav_req *req, int64_t user_id, const char *user_name,
                  struct dav_space *out)
{
    FAIL_POINT();
    struct fs_user *u = user_by_id(user_id);
    const struct fs_space *s = u != NULL && u->personal_space != 0
                                   ? space_by_id(u->personal_space)
                                   : NULL;
    if (s != NULL) {
        space_out(req, s, "manager", out);
        return DAV_STORE_OK;
    }
    /* personal_space_make: the space, its root, its manager and its
     * calendar folder, unless the slug is taken */
    need_txn();
    char slug[32];
    snprintf(slug, sizeof(slug), "p-%lld", (long long)user_id);
    for (size_t i = 0; i < cur.spaces.n; i++)
        if (strcmp(cur.spaces.v[i].slug, slug) == 0)
            return DAV_STORE_NOTFOUND;
    if (u == NULL)
        return DAV_STORE_CONFLICT; /* members.user_id: a foreign key */
    time_t now = tick();
    struct fs_space *ns = VPUSH(cur.spaces);
    ns->id = cur.next_id++;
    ns->slug = xstrdup(slug);
    ns->title = xstrdup(user_name);
    ns->quota = -1;
    ns->created = now;
    ns->personal = true;
    int64_t sid = ns->id;
    /* one statement: /.calendars is no change of a member of an
     * existing collection */
    res_new(sid, "", DAV_KIND_COLLECTION, user_id, now);
    res_new(sid, DAV_CAL_FOLDER, DAV_KIND_COLLECTION, user_id, now);
    struct fs_member *m = VPUSH(cur.members);
    m->space_id = sid;
    m->user_id = user_id;
    m->role = xstrdup("manager");
    u->personal_space = sid;
    space_out(req, space_by_id(sid), "manager", out);
    return DAV_STORE_OK;
}

static int
calendar_ref_cmp(const void *a, const void *b)
{
    const struct dav_calendar_ref *x = a, *y = b;
    if (x->personal != y->personal)
        return x->personal ? -1 : 1;
    int c = strcmp(x->space.slug, y->space.slug);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static enum dav_store_rc
fs_calendars_of_user(struct dav_req *req, int64_t user_id,
                     struct dav_calendar_ref **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (!r->calendar || !is_member_of(r, r->space_id, DAV_CAL_FOLDER))
            continue;
        /* members only (not principals of access control entries) */
        const char *role = role_of(r->space_id, user_id);
        const struct fs_space *s = space_by_id(r->space_id);
        if (role == NULL || s == NULL)
            continue;
        struct dav_calendar_ref *c = &(*out)[(*n)++];
        space_out(req, s, role, &c->space);
        res_out(req, r, &c->res);
        c->name = c->res.name;
        c->personal = s->personal;
    }
    qsort(*out, *n, sizeof(**out), calendar_ref_cmp);
    return DAV_STORE_OK;
}

/* ---- change log ---------------------------------------------------------- */

/* Each change is a transaction of its own, ended at once: the mark is
 * the change after the collection's newest, none seen from it on; the
 * horizon, the change after the newest of all. */
static void
collection_mark(int64_t collection_id, struct dav_sync_mark *mark,
                int64_t *horizon)
{
    int64_t last = 0, newest = 0;
    for (size_t i = 0; i < cur.changes.n; i++) {
        const struct fs_change *c = &cur.changes.v[i];
        if (c->collection_id == collection_id && c->seq > last)
            last = c->seq;
        if (c->seq > newest)
            newest = c->seq;
    }
    mark->from = last + 1;
    mark->seen = 0;
    *horizon = newest + 1;
}

static enum dav_store_rc
fs_collection_mark(struct dav_req *req, int64_t collection_id,
                   struct dav_sync_mark *mark)
{
    (void)req;
    FAIL_POINT();
    int64_t horizon;
    collection_mark(collection_id, mark, &horizon);
    return DAV_STORE_OK;
}

struct name_change {
    const char *name;
    bool deleted;
};

static int
name_change_cmp(const void *a, const void *b)
{
    const struct name_change *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static enum dav_store_rc
fs_changes_since(struct dav_req *req, int64_t collection_id, int64_t from,
                 const char ***names, bool **deleted, size_t *n,
                 struct dav_sync_mark *now)
{
    FAIL_POINT();
    int64_t horizon;
    collection_mark(collection_id, now, &horizon);
    if (from > horizon)
        return DAV_STORE_NOTFOUND;
    /* DISTINCT ON (name) ... ORDER BY name, seq DESC: the last change of
     * each name (the log is in seq order) */
    struct name_change *nc = xmalloc((cur.changes.n + 1) * sizeof(*nc));
    size_t k = 0;
    for (size_t i = 0; i < cur.changes.n; i++) {
        const struct fs_change *c = &cur.changes.v[i];
        if (c->collection_id != collection_id || c->seq < from)
            continue;
        size_t j = 0;
        while (j < k && strcmp(nc[j].name, c->name) != 0)
            j++;
        nc[j].name = c->name;
        nc[j].deleted = c->deleted;
        if (j == k)
            k++;
    }
    qsort(nc, k, sizeof(*nc), name_change_cmp);
    *names = arena_alloc(req->arena, (k + 1) * sizeof(**names));
    *deleted = arena_alloc(req->arena, (k + 1) * sizeof(**deleted));
    for (size_t i = 0; i < k; i++) {
        (*names)[i] = arena_strdup(req->arena, nc[i].name);
        (*deleted)[i] = nc[i].deleted;
    }
    *n = k;
    free(nc);
    return DAV_STORE_OK;
}

/* ---- history and approval ------------------------------------------------ */

static enum dav_store_rc
fs_revision_time(struct dav_req *req, int64_t rev_id, int64_t *created)
{
    (void)req;
    FAIL_POINT();
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].id == rev_id) {
            *created = cur.revs.v[i].created;
            return DAV_STORE_OK;
        }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fs_revisions(struct dav_req *req, int64_t resource_id,
             struct dav_revision **out, size_t *n)
{
    FAIL_POINT();
    const struct fs_rev **vs = xmalloc((cur.revs.n + 1) * sizeof(*vs));
    size_t k = 0;
    for (size_t i = 0; i < cur.revs.n; i++)
        if (cur.revs.v[i].resource_id == resource_id)
            vs[k++] = &cur.revs.v[i];
    /* ORDER BY num (nums are unique per resource) */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && vs[j - 1]->num > vs[j]->num; j--) {
            const struct fs_rev *t = vs[j];
            vs[j] = vs[j - 1];
            vs[j - 1] = t;
        }
    *out = arena_alloc(req->arena, (k + 1) * sizeof(**out));
    for (size_t i = 0; i < k; i++) {
        struct dav_revision *x = &(*out)[i];
        const char *author = user_name_of(req, vs[i]->author);
        x->id = vs[i]->id;
        x->num = vs[i]->num;
        x->author = author != NULL ? author : "";
        x->created = vs[i]->created;
        x->size = vs[i]->size;
        x->content_type = arena_strdup(req->arena, vs[i]->ctype);
        memcpy(x->sha256, vs[i]->sha, 32);
        x->comment = arena_strdup(req->arena, vs[i]->comment);
        x->approved = vs[i]->approved;
    }
    *n = k;
    free(vs);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_revision_restore(struct dav_req *req, struct dav_resource *res,
                    int64_t rev_id, int64_t author_id, const char *note)
{
    FAIL_POINT();
    need_txn();
    /* the source: a revision of the same space (of any file) */
    const struct fs_rev *src = rev_by_id(rev_id);
    if (src == NULL || src->space_id != res->space_id)
        return DAV_STORE_NOTFOUND;
    struct fs_res *r = res_by_id(res->id);
    if (r == NULL)
        return DAV_STORE_CONFLICT; /* revisions.resource_id: a foreign key */
    time_t now = tick();
    struct fs_rev nv = *src;
    nv.id = cur.next_id++;
    nv.space_id = res->space_id;
    nv.resource_id = r->id;
    nv.num = next_rev_num(r->id);
    nv.author = author_id;
    nv.created = now;
    nv.approved = false;
    char comment[64];
    snprintf(comment, sizeof(comment), "restored from revision %d",
             (int)src->num);
    nv.comment = xstrdup(note != NULL ? note : comment);
    nv.ctype = xstrdup(src->ctype);
    nv.chunks = xmemdup(src->chunks, src->nchunks * sizeof(*src->chunks));
    struct fs_rev *v = VPUSH(cur.revs); /* src may move */
    *v = nv;
    res_set_current(r, v, now);
    res->rev_id = r->rev_id;
    res->rev_num = r->rev_num;
    res->size = r->size;
    res->content_type = arena_strdup(req->arena, r->ctype);
    memcpy(res->sha256, r->sha, 32);
    res->modified = r->modified;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_approval_set(struct dav_req *req, const struct dav_resource *res,
                const char *state, int64_t by)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    const char *st = NULL;
    for (size_t i = 0; i < sizeof(approval_states) / sizeof(*approval_states);
         i++)
        if (state != NULL && strcmp(state, approval_states[i]) == 0)
            st = approval_states[i];
    if (st == NULL) {
        violations++; /* the CHECK constraint refuses it */
        return DAV_STORE_ERROR;
    }
    struct fs_res *r = res_by_id(res->id);
    if (r == NULL)
        return DAV_STORE_OK; /* an UPDATE of no row */
    r->approval_state = st;
    if (strcmp(st, "approved") == 0) {
        r->approved_rev = r->rev_id;
        r->approved_by = by;
        r->approved_at = tick();
        struct fs_rev *v = r->rev_id != 0 ? rev_by_id(r->rev_id) : NULL;
        if (v != NULL)
            v->approved = true;
    } else if (strcmp(st, "submitted") == 0) {
        r->submitted_by = by;
    } else if (strcmp(st, "rejected") == 0 && r->approved_rev != 0 &&
               r->approved_rev == r->rev_id) {
        r->approved_rev = 0;
        r->approved_by = 0;
        r->approved_at = 0;
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_approval_comment_set(struct dav_req *req, const struct dav_resource *res,
                        const char *comment)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    struct fs_res *r = res_by_id(res->id);
    if (r != NULL) {
        free(r->approval_comment);
        r->approval_comment = xstrdup(comment);
    }
    return DAV_STORE_OK;
}

/* PUBLISHED_ONLY: approved files, and folders holding one; never the
 * trash or the calendars. */
static bool
published(const struct fs_res *r)
{
    if (has_prefix(r->path, DAV_TRASH_FOLDER) ||
        has_prefix(r->path, DAV_CAL_FOLDER))
        return false;
    if (r->kind == DAV_KIND_FILE)
        return r->approved_rev != 0;
    if (r->path[0] == '\0')
        return true;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *f = &cur.res.v[i];
        if (f->space_id == r->space_id && f->approved_rev != 0 &&
            in_subtree(f->path, r->path) && strcmp(f->path, r->path) != 0)
            return true;
    }
    return false;
}

static enum dav_store_rc
fs_published_lookup(struct dav_req *req, int64_t space_id, const char *path,
                    struct dav_resource *out)
{
    FAIL_POINT();
    const struct fs_res *r = res_find(space_id, path);
    if (r == NULL || !published(r))
        return DAV_STORE_NOTFOUND;
    res_out_published(req, r, out);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_published_children(struct dav_req *req, int64_t space_id,
                      const char *path, struct dav_resource **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (is_member_of(r, space_id, path) && published(r))
            res_out_published(req, r, &(*out)[(*n)++]);
    }
    qsort(*out, *n, sizeof(**out), res_name_cmp);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_submitted(struct dav_req *req, int64_t space_id, struct dav_resource **out,
             size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.res.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.res.n; i++) {
        const struct fs_res *r = &cur.res.v[i];
        if (r->space_id == space_id &&
            strcmp(r->approval_state, "submitted") == 0 &&
            !has_prefix(r->path, DAV_TRASH_FOLDER))
            res_out(req, r, &(*out)[(*n)++]);
    }
    qsort(*out, *n, sizeof(**out), res_path_cmp);
    return DAV_STORE_OK;
}

/* ---- trash --------------------------------------------------------------- */

/* The fake is a node without caches: nothing to give back. */
static void
fs_content_cold(struct dav_req *req, int64_t space_id,
                const unsigned char sha256[32])
{
    (void)req;
    (void)space_id;
    (void)sha256;
}

static enum dav_store_rc
fs_trash(struct dav_req *req, int64_t space_id, const char *path, int64_t by,
         const char **entry)
{
    FAIL_POINT();
    need_txn();
    /* stricter than db/, whose UPDATE of no row would succeed */
    if (res_find(space_id, path) == NULL)
        return DAV_STORE_NOTFOUND;
    /* trash_folder */
    if (res_find(space_id, DAV_TRASH_FOLDER) == NULL) {
        res_new(space_id, DAV_TRASH_FOLDER, DAV_KIND_COLLECTION, 0, tick());
        log_change(space_id, DAV_TRASH_FOLDER, false);
    }
    /* trash_entry: a number of a sequence shared by all spaces */
    char name[64];
    snprintf(name, sizeof(name), "%s/%lld", DAV_TRASH_FOLDER,
             (long long)++cur.trash_seq);
    enum dav_store_rc rc = move_tree(space_id, path, space_id, name);
    if (rc != DAV_STORE_OK)
        return rc;
    /* trash_mark */
    struct fs_res *r = res_find(space_id, name);
    r->trashed_from = xstrdup(path);
    r->trashed_by = by;
    r->trashed_at = tick();
    *entry = arena_strdup(req->arena, name);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_tree_has_approved(struct dav_req *req, int64_t space_id, const char *path,
                     bool *yes)
{
    (void)req;
    FAIL_POINT();
    *yes = false;
    for (size_t i = 0; i < cur.revs.n && !*yes; i++) {
        const struct fs_rev *v = &cur.revs.v[i];
        const struct fs_res *r = v->approved ? res_by_id(v->resource_id)
                                             : NULL;
        *yes = r != NULL && r->space_id == space_id &&
               in_subtree(r->path, path);
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_renamed_away_note(struct dav_req *req, int64_t space_id, const char *from,
                     const char *to, int64_t resource_id, int64_t rev_id,
                     int64_t user_id, int64_t doc_id)
{
    (void)req;
    FAIL_POINT();
    struct fs_away *a = NULL;
    for (size_t i = 0; i < cur.aways.n && a == NULL; i++)
        if (cur.aways.v[i].space_id == space_id &&
            strcmp(cur.aways.v[i].from, from) == 0)
            a = &cur.aways.v[i];
    if (a == NULL) {
        a = VPUSH(cur.aways);
        a->space_id = space_id;
        a->from = xstrdup(from);
    } else {
        free(a->to);
    }
    a->to = xstrdup(to);
    a->resource_id = resource_id;
    a->rev_id = rev_id;
    a->user_id = user_id;
    a->doc_id = doc_id;
    a->at = tick();
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_renamed_away_take(struct dav_req *req, int64_t space_id, const char *path,
                     int64_t user_id, int within, const char **to,
                     int64_t *resource_id, int64_t *rev_id)
{
    FAIL_POINT();
    for (size_t i = 0; i < cur.aways.n; i++) {
        struct fs_away *a = &cur.aways.v[i];
        if (a->space_id != space_id || strcmp(a->from, path) != 0 ||
            a->user_id != user_id || a->doc_id != 0 ||
            cur.now - a->at > within)
            continue;
        *to = arena_strdup(req->arena, a->to);
        *resource_id = a->resource_id;
        *rev_id = a->rev_id;
        free(a->from);
        free(a->to);
        VDEL(cur.aways, i);
        return DAV_STORE_OK;
    }
    return DAV_STORE_NOTFOUND;
}

/* The fake's approximation: no digest of the dead properties. */
static enum dav_store_rc
fs_disposable(struct dav_req *req, const struct dav_resource *res,
              const char *path, const char *audit_path, bool lock_name,
              bool *yes)
{
    (void)req;
    FAIL_POINT();
    *yes = false;
    const struct fs_res *r = res_by_id(res->id);
    if (r == NULL || r->space_id != res->space_id ||
        strcmp(r->path, path) != 0 ||
        strcmp(r->approval_state, "draft") != 0)
        return DAV_STORE_OK;
    size_t nrevs = 0;
    for (size_t i = 0; i < cur.revs.n; i++) {
        const struct fs_rev *v = &cur.revs.v[i];
        if (v->resource_id != r->id)
            continue;
        if (v->approved)
            return DAV_STORE_OK;
        nrevs++;
    }
    for (size_t i = 0; i < cur.aways.n && !*yes; i++) {
        const struct fs_away *a = &cur.aways.v[i];
        *yes = a->doc_id != 0 && a->space_id == r->space_id &&
               a->resource_id == r->id && a->rev_id == r->rev_id &&
               strcmp(a->from, path) == 0 && res_by_id(a->doc_id) != NULL;
    }
    for (size_t i = 0; i < cur.audit.n && !*yes && lock_name && nrevs == 1;
         i++) {
        const struct fs_audit *a = &cur.audit.v[i];
        *yes = a->space_id == r->space_id && a->resource_id == r->id &&
               a->path != NULL && strcmp(a->path, audit_path) == 0 &&
               a->status == 201 && (strcmp(a->action, "PUT") == 0 ||
                                    strcmp(a->action, "LOCK") == 0);
    }
    return DAV_STORE_OK;
}

/* ---- audit trail --------------------------------------------------------- */

static int
receipt_cmp(const void *a, const void *b)
{
    const struct dav_receipt *x = a, *y = b;
    return strcmp(x->user, y->user);
}

/* Add user u's receipt to out[0..*n) unless there already (UNION). */
static void
receipt_add(struct dav_req *req, const struct fs_user *u, int64_t rev_id,
            struct dav_receipt *out, size_t *n)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(out[i].user, u->name) == 0)
            return;
    time_t first = 0;
    for (size_t i = 0; i < cur.audit.n && rev_id != 0; i++) {
        const struct fs_audit *a = &cur.audit.v[i];
        if (strcmp(a->action, "GET") != 0 ||
            (a->status != 200 && a->status != 206) ||
            a->revision_id != rev_id || a->principal == NULL ||
            strcmp(a->principal, u->name) != 0)
            continue;
        if (first == 0 || a->at < first)
            first = a->at;
    }
    out[*n].user = arena_strdup(req->arena, u->name);
    out[*n].read_at = first;
    (*n)++;
}

static enum dav_store_rc
fs_receipts(struct dav_req *req, const struct dav_resource *res,
            struct dav_receipt **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.members.n + cur.aces.n + 1) *
                                       sizeof(**out));
    *n = 0;
    /* the members of the space, and the users granted something there */
    for (size_t i = 0; i < cur.members.n; i++)
        if (cur.members.v[i].space_id == res->space_id)
            receipt_add(req, user_by_id(cur.members.v[i].user_id),
                        res->approved_rev, *out, n);
    for (size_t i = 0; i < cur.aces.n; i++) {
        const struct fs_ace *a = &cur.aces.v[i];
        if (a->space_id == res->space_id && a->user && a->grant)
            receipt_add(req, user_by_id(a->principal_id), res->approved_rev,
                        *out, n);
    }
    qsort(*out, *n, sizeof(**out), receipt_cmp);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_audit_of(struct dav_req *req, int64_t space_id, const char *path,
            struct dav_audit **out, size_t *n)
{
    FAIL_POINT();
    *out = arena_alloc(req->arena, (cur.audit.n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < cur.audit.n; i++) {
        const struct fs_audit *a = &cur.audit.v[i];
        /* space_id = $1 AND path = $2: a NULL never matches */
        if (a->space_id == 0 || a->space_id != space_id || a->path == NULL ||
            strcmp(a->path, path) != 0)
            continue;
        struct dav_audit *d = &(*out)[(*n)++];
        memset(d, 0, sizeof(*d));
        d->at = a->at;
        d->action = arena_strdup(req->arena, a->action);
        d->principal = arena_strdup(req->arena, a->principal);
        d->status = a->status;
        d->revision_id = a->revision_id;
        d->detail = arena_strdup(req->arena, a->detail);
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
fs_audit_add(struct dav_req *req, const struct dav_audit *a)
{
    (void)req;
    FAIL_POINT();
    need_txn();
    if (a->action == NULL) {
        violations++; /* NOT NULL */
        return DAV_STORE_ERROR;
    }
    struct fs_audit *r = VPUSH(cur.audit);
    r->id = ++cur.audit_seq;
    /* clock_timestamp(), without moving the clock of the data: a refused
     * request leaves the data as it was */
    r->at = cur.now;
    r->principal = xstrdup(a->principal);
    r->client = xstrdup(a->client);
    r->user_agent = xstrdup(a->user_agent);
    r->action = xstrdup(a->action);
    r->space_id = a->space_id;
    r->path = xstrdup(a->path);
    r->resource_id = a->resource_id;
    r->revision_id = a->revision_id;
    r->status = a->status;
    r->detail = xstrdup(a->detail);
    return DAV_STORE_OK;
}

static const struct dav_store_ops ops = {
    .txn_begin = fs_txn_begin,
    .read_begin = fs_read_begin,
    .txn_commit = fs_txn_commit,
    .txn_rollback = fs_txn_rollback,
    .user_by_name = fs_user_by_name,
    .space_for_user = fs_space_for_user,
    .space_lookup = fs_space_lookup,
    .stamp_now = fs_stamp_now,
    .stamp_of = fs_stamp_of,
    .read_whole = fs_read_whole,
    .spaces_of_user = fs_spaces_of_user,
    .lookup = fs_lookup,
    .children = fs_children,
    .children_count = fs_children_count,
    .children_open = fs_children_open,
    .children_next = fs_children_next,
    .props_get = fs_props_get,
    .prop_set = fs_prop_set,
    .prop_remove = fs_prop_remove,
    .create = fs_create,
    .chunk_put = fs_chunk_put,
    .revision_add = fs_revision_add,
    .content_chunks = fs_content_chunks,
    .chunk_read = fs_chunk_read,
    .chunk_local = fs_chunk_local,
    .content_fd = fs_content_fd,
    .remove = fs_remove,
    .copy = fs_copy,
    .move = fs_move,
    .ping = fs_ping,
    .locks_find = fs_locks_find,
    .lock_create = fs_lock_create,
    .lock_refresh = fs_lock_refresh,
    .lock_remove = fs_lock_remove,
    .quota_get = fs_quota_get,
    .quota_lock = fs_quota_lock,
    .tree_size = fs_tree_size,
    .mtime_set = fs_mtime_set,
    .principal_valid = fs_principal_valid,
    .app_passwords = fs_app_passwords,
    .aces_find = fs_aces_find,
    .aces_replace = fs_aces_replace,
    .space_members = fs_space_members,
    .users_visible = fs_users_visible,
    .personal_space = fs_personal_space,
    .calendars_of_user = fs_calendars_of_user,
    .collection_mark = fs_collection_mark,
    .changes_since = fs_changes_since,
    .revisions = fs_revisions,
    .revision_time = fs_revision_time,
    .revision_restore = fs_revision_restore,
    .approval_set = fs_approval_set,
    .approval_comment_set = fs_approval_comment_set,
    .published_lookup = fs_published_lookup,
    .published_children = fs_published_children,
    .submitted = fs_submitted,
    .trash = fs_trash,
    .content_cold = fs_content_cold,
    .tree_has_approved = fs_tree_has_approved,
    .renamed_away_note = fs_renamed_away_note,
    .renamed_away_take = fs_renamed_away_take,
    .disposable = fs_disposable,
    .receipts = fs_receipts,
    .audit_of = fs_audit_of,
    .audit_add = fs_audit_add,
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
    res_new(id, "", DAV_KIND_COLLECTION, 0, tick());
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
    struct fs_space *s = space_by_id(space_id);
    if (s != NULL)
        s->quota = bytes;
}

void
fake_store_set_disk_free(int64_t bytes)
{
    cur.disk_free = bytes;
}

void
fake_store_set_user_disabled(int64_t user_id, bool disabled)
{
    struct fs_user *u = user_by_id(user_id);
    if (u != NULL)
        u->disabled = disabled;
}

void
fake_store_set_guest(int64_t user_id, time_t expires)
{
    struct fs_user *u = user_by_id(user_id);
    if (u != NULL) {
        u->guest = true;
        u->expires = expires;
    }
}

int64_t
fake_store_add_calendar(int64_t space_id, const char *name,
                        const char *components)
{
    /* as parvis_space_calendars and cal_create, triggers included */
    if (res_find(space_id, DAV_CAL_FOLDER) == NULL) {
        res_new(space_id, DAV_CAL_FOLDER, DAV_KIND_COLLECTION, 0, tick());
        log_change(space_id, DAV_CAL_FOLDER, false);
    }
    char *path = xmalloc(strlen(DAV_CAL_FOLDER) + strlen(name) + 2);
    sprintf(path, "%s/%s", DAV_CAL_FOLDER, name);
    struct fs_res *r = res_new(space_id, path, DAV_KIND_COLLECTION, 0,
                               tick());
    r->calendar = true;
    r->components = xstrdup(components);
    int64_t id = r->id;
    log_change(space_id, path, false);
    free(path);
    return id;
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
    int64_t rid = r->id;
    struct fs_ace *a = VPUSH(cur.aces);
    a->space_id = space_id;
    a->resource_id = rid;
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

const char *
fake_store_trashed_from(int64_t space_id, const char *path)
{
    const struct fs_res *r = res_find(space_id, path);
    return r != NULL ? r->trashed_from : NULL;
}

const char *
fake_store_approval_state(int64_t space_id, const char *path)
{
    const struct fs_res *r = res_find(space_id, path);
    return r != NULL ? r->approval_state : NULL;
}

size_t
fake_store_audit_count(const char *action, const char *path, int status)
{
    size_t n = 0;
    for (size_t i = 0; i < cur.audit.n; i++) {
        const struct fs_audit *a = &cur.audit.v[i];
        if (action != NULL && strcmp(a->action, action) != 0)
            continue;
        if (path != NULL && (a->path == NULL || strcmp(a->path, path) != 0))
            continue;
        if (status != 0 && a->status != status)
            continue;
        n++;
    }
    return n;
}

size_t
fake_store_change_count(void)
{
    return cur.changes.n;
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

static const char *
or_dash(const char *s)
{
    return s != NULL ? s : "-";
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
    fprintf(f, "next_id %lld now %lld disk_free %lld change_seq %lld "
            "trash_seq %lld\n", (long long)cur.next_id, (long long)cur.now,
            (long long)cur.disk_free, (long long)cur.change_seq,
            (long long)cur.trash_seq);
    for (size_t i = 0; i < cur.users.n; i++) {
        const struct fs_user *u = &cur.users.v[i];
        fprintf(f, "user %lld %s%s%s expires %lld personal %lld\n",
                (long long)u->id, u->name, u->disabled ? " disabled" : "",
                u->guest ? " guest" : "", (long long)u->expires,
                (long long)u->personal_space);
    }
    for (size_t i = 0; i < cur.app_passwords.n; i++) {
        const struct fs_app_password *p = &cur.app_passwords.v[i];
        fprintf(f, "app_password %lld user %lld%s sha ", (long long)p->id,
                (long long)p->user_id, p->revoked ? " revoked" : "");
        dump_sha(f, p->sha);
        fputc('\n', f);
    }
    for (size_t i = 0; i < cur.spaces.n; i++)
        fprintf(f, "space %lld %s %s quota %lld created %lld%s\n",
                (long long)cur.spaces.v[i].id, cur.spaces.v[i].slug,
                cur.spaces.v[i].title, (long long)cur.spaces.v[i].quota,
                (long long)cur.spaces.v[i].created,
                cur.spaces.v[i].personal ? " personal" : "");
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
                (long long)r->size, or_dash(r->ctype),
                (long long)r->created, (long long)r->created_by,
                (long long)r->modified);
        dump_sha(f, r->sha);
        fputc('\n', f);
        if (r->calendar)
            fprintf(f, "  calendar %s\n", or_dash(r->components));
        fprintf(f, "  approval %s comment %s rev %lld by %lld at %lld "
                "submitted_by %lld\n", r->approval_state,
                or_dash(r->approval_comment), (long long)r->approved_rev,
                (long long)r->approved_by, (long long)r->approved_at,
                (long long)r->submitted_by);
        if (r->trashed_from != NULL)
            fprintf(f, "  trashed from \"%s\" by %lld at %lld\n",
                    r->trashed_from, (long long)r->trashed_by,
                    (long long)r->trashed_at);
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
                    "type %s created %lld%s comment %s sha ", (long long)v->id,
                    (long long)v->space_id, (int)v->num, (long long)v->author,
                    (long long)v->size, or_dash(v->ctype),
                    (long long)v->created, v->approved ? " approved" : "",
                    or_dash(v->comment));
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
                or_dash(lk->owner_xml));
    }
    for (size_t i = 0; i < cur.changes.n; i++) {
        const struct fs_change *c = &cur.changes.v[i];
        fprintf(f, "change %lld space %lld collection %lld \"%s\"%s\n",
                (long long)c->seq, (long long)c->space_id,
                (long long)c->collection_id, c->name,
                c->deleted ? " deleted" : "");
    }
    for (size_t i = 0; i < cur.aways.n; i++) {
        const struct fs_away *w = &cur.aways.v[i];
        fprintf(f, "renamed away space %lld \"%s\" to \"%s\" res %lld "
                "rev %lld user %lld doc %lld at %lld\n",
                (long long)w->space_id, w->from, w->to,
                (long long)w->resource_id, (long long)w->rev_id,
                (long long)w->user_id, (long long)w->doc_id,
                (long long)w->at);
    }
    /* the audit trail (its sequence is its last id: rows stay) */
    for (size_t i = 0; i < cur.audit.n; i++) {
        const struct fs_audit *a = &cur.audit.v[i];
        fprintf(f, "audit %lld at %lld %s principal %s client %s agent %s "
                "space %lld \"%s\" res %lld rev %lld status %d detail %s\n",
                (long long)a->id, (long long)a->at, a->action,
                or_dash(a->principal), or_dash(a->client),
                or_dash(a->user_agent), (long long)a->space_id,
                or_dash(a->path), (long long)a->resource_id,
                (long long)a->revision_id, a->status, or_dash(a->detail));
    }
    /* rows that lost their resource would be a bug of the fake */
    for (size_t k = 0; k < cur.props.n; k++)
        if (res_by_id(cur.props.v[k].resource_id) == NULL)
            fprintf(f, "orphan prop %s\n", cur.props.v[k].name);
    for (size_t k = 0; k < cur.revs.n; k++)
        if (res_by_id(cur.revs.v[k].resource_id) == NULL)
            fprintf(f, "orphan rev %lld\n", (long long)cur.revs.v[k].id);
    for (size_t k = 0; k < cur.aces.n; k++)
        if (res_by_id(cur.aces.v[k].resource_id) == NULL)
            fprintf(f, "orphan ace %lld\n",
                    (long long)cur.aces.v[k].resource_id);
    fclose(f);
    return text;
}
