/*
 * tests/fuzz/fake_caldav.c -- the CalDAV store operations in memory (see
 * fake_caldav.h), following db/pg_caldav.c's contract: results in
 * req->arena, NOTFOUND for a UID nobody else uses.
 */
#include "tests/fuzz/fake_caldav.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav.h"
#include "tests/unit/fakes/fake_store.h"

struct entry {
    int64_t calendar_id;
    int64_t resource_id;
    int64_t space_id;
    char *path;
    char *uid;
    char *component;
    int64_t start, end;
    bool exact;
    char *data;
};

static struct entry *entries;
static size_t nentries, cap;
static unsigned long writes;

static char *
xstrdup(const char *s)
{
    char *d = strdup(s != NULL ? s : "");
    if (d == NULL)
        abort();
    return d;
}

static void
entry_free(struct entry *e)
{
    free(e->path);
    free(e->uid);
    free(e->component);
    free(e->data);
}

void
fake_caldav_reset(void)
{
    for (size_t i = 0; i < nentries; i++)
        entry_free(&entries[i]);
    free(entries);
    entries = NULL;
    nentries = cap = 0;
    writes = 0;
}

unsigned long
fake_caldav_writes(void)
{
    return writes;
}

/* The resource of an entry as the store has it now; false if gone. */
static bool
current(struct dav_req *req, const struct entry *e, struct dav_resource *out)
{
    return fake_store_ops()->lookup(req, e->space_id, e->path, false, out) ==
               DAV_STORE_OK &&
           out->id == e->resource_id;
}

static enum dav_store_rc
fc_calendar_create(struct dav_req *req, int64_t space_id, const char *path,
                   const char *components, struct dav_resource *out)
{
    static const char prefix[] = DAV_CAL_FOLDER "/";
    size_t pl = sizeof(prefix) - 1;
    if (strncmp(path, prefix, pl) != 0 || path[pl] == '\0' ||
        strchr(path + pl, '/') != NULL)
        return DAV_STORE_CONFLICT;
    if (fake_store_exists(space_id, path))
        return DAV_STORE_EXISTS;
    fake_store_add_calendar(space_id, path + pl, components);
    return fake_store_ops()->lookup(req, space_id, path, false, out);
}

static enum dav_store_rc
fc_object_index(struct dav_req *req, const struct dav_resource *res,
                int64_t calendar_id, const struct caldav_index *ix,
                const char *data)
{
    (void)req;
    writes++;
    struct entry *e = NULL;
    for (size_t i = 0; i < nentries && e == NULL; i++)
        if (entries[i].resource_id == res->id)
            e = &entries[i];
    if (e != NULL) {
        entry_free(e);
    } else {
        if (nentries == cap) {
            cap = cap ? 2 * cap : 16;
            entries = realloc(entries, cap * sizeof(*entries));
            if (entries == NULL)
                abort();
        }
        e = &entries[nentries++];
    }
    e->calendar_id = calendar_id;
    e->resource_id = res->id;
    e->space_id = res->space_id;
    e->path = xstrdup(res->path);
    e->uid = xstrdup(ix->uid);
    e->component = xstrdup(ix->component);
    e->start = ix->start;
    e->end = ix->end;
    e->exact = ix->exact;
    e->data = xstrdup(data);
    return DAV_STORE_OK;
}

static enum dav_store_rc
fc_uid_find(struct dav_req *req, int64_t calendar_id, const char *uid,
            int64_t except_id, const char **path)
{
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = &entries[i];
        struct dav_resource r;
        if (e->calendar_id == calendar_id && e->resource_id != except_id &&
            strcmp(e->uid, uid) == 0 && current(req, e, &r)) {
            *path = arena_strdup(req->arena, e->path);
            return DAV_STORE_OK;
        }
    }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
fc_object_uid(struct dav_req *req, int64_t res_id, const char **uid)
{
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = &entries[i];
        struct dav_resource r;
        if (e->resource_id == res_id && current(req, e, &r)) {
            *uid = arena_strdup(req->arena, e->uid);
            return DAV_STORE_OK;
        }
    }
    return DAV_STORE_NOTFOUND;
}

static void
push(struct arena *a, struct caldav_object **out, size_t *n, size_t *ocap,
     const struct dav_resource *r, const char *data, bool exact)
{
    if (*n == *ocap) {
        size_t c = *ocap ? 2 * *ocap : 8;
        struct caldav_object *v = arena_alloc(a, c * sizeof(*v));
        if (*n > 0)
            memcpy(v, *out, *n * sizeof(*v));
        *out = v;
        *ocap = c;
    }
    (*out)[*n].res = *r;
    (*out)[*n].data = data != NULL ? arena_strdup(a, data) : NULL;
    (*out)[*n].exact = exact;
    (*n)++;
}

/* The matching objects, collected at open; handed out a few at a time so
 * that the reports' paging is exercised. */
#define FAKE_PAGE 3

struct caldav_cursor {
    struct caldav_object *objs;
    size_t n, next;
};

static enum dav_store_rc
fc_objects_open(struct dav_req *req, int64_t calendar_id,
                const char *component, int64_t start, int64_t end,
                bool exact_data, struct caldav_cursor **out)
{
    struct caldav_cursor *c = arena_alloc(req->arena, sizeof(*c));
    size_t ocap = 0;
    c->objs = NULL;
    c->n = c->next = 0;
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = &entries[i];
        struct dav_resource r;
        if (e->calendar_id != calendar_id ||
            (component != NULL && strcasecmp(component, e->component) != 0) ||
            !(e->start < end && e->end > start) || !current(req, e, &r))
            continue;
        push(req->arena, &c->objs, &c->n, &ocap, &r,
             e->exact && !exact_data ? NULL : e->data, e->exact);
    }
    *out = c;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fc_objects_next(struct dav_req *req, struct caldav_cursor *c, struct arena *a,
                struct caldav_object **out, size_t *n, bool *last)
{
    (void)req;
    size_t k = c->n - c->next < FAKE_PAGE ? c->n - c->next : FAKE_PAGE;
    *out = arena_alloc(a, (k + 1) * sizeof(**out));
    if (k > 0) /* c->objs is NULL when the cursor found nothing */
        memcpy(*out, c->objs + c->next, k * sizeof(**out));
    c->next += k;
    *n = k;
    *last = c->next == c->n;
    return DAV_STORE_OK;
}

static enum dav_store_rc
fc_objects_by_path(struct dav_req *req, int64_t calendar_id,
                   const char *const *paths, size_t npaths, struct arena *a,
                   struct caldav_object **out, size_t *n)
{
    size_t ocap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = &entries[i];
        bool wanted = false;
        for (size_t k = 0; k < npaths && !wanted; k++)
            wanted = strcmp(paths[k], e->path) == 0;
        struct dav_resource r;
        if (e->calendar_id == calendar_id && wanted && current(req, e, &r))
            push(a, out, n, &ocap, &r, e->data, e->exact);
    }
    return DAV_STORE_OK;
}

static const struct caldav_store_ops ops = {
    .calendar_create = fc_calendar_create,
    .object_index = fc_object_index,
    .uid_find = fc_uid_find,
    .object_uid = fc_object_uid,
    .objects_open = fc_objects_open,
    .objects_next = fc_objects_next,
    .objects_by_path = fc_objects_by_path,
};

const struct caldav_store_ops *
fake_caldav_ops(void)
{
    return &ops;
}
