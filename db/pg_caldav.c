/*
 * db/pg_caldav.c -- caldav/caldav_store.h on PostgreSQL.
 *
 * Calendar objects keep their index (UID, component, time range as a
 * tstzrange with a GiST index) and their text in calendar_objects, so a
 * time-range query reads only candidate rows in one statement, with the
 * text needed to decide the exact answer.
 */
#include "db/db_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "caldav/caldav_store.h"
#include "dav/dav.h"

/* The columns objects_from reads. */
#define OBJ_META                                                              \
    "r.id, r.space_id, rp.path, r.name, coalesce(r.current_rev, 0), "        \
    "coalesce(r.cur_size, 0), encode(r.cur_sha256, 'hex'), "                  \
    "floor(extract(epoch FROM r.modified_at))::bigint, o.exact, "
#define OBJ_COLS OBJ_META "o.data "
/* The rp.path of OBJ_META for members of calendar 'cal': the calendar's
 * path, found once (parvis_path, decision 0034; MATERIALIZED, or the
 * planner would call it again for every row), then their names. */
#define CAL_PATH(cal)                                                         \
    "WITH cp AS MATERIALIZED (SELECT parvis_path(" cal ") AS path) "
#define CAL_OBJ_PATH                                                          \
    "CROSS JOIN cp "                                                         \
    "CROSS JOIN LATERAL (SELECT cp.path || '/' || r.name AS path) rp "

/* A calendar-query's candidates, read through a cursor (as the listings
 * of db/pg_store.c, docs/decisions/0010): $1 calendar, $2 component or
 * NULL, $3 and $4 the range's ends as text for to_timestamp(), $5 whether
 * exact objects come with their data.  Sent after "DECLARE <name> ". */
#define CAL_PAGE 200
static const char cal_open_sql[] =
    "NO SCROLL CURSOR FOR " CAL_PATH("$1::bigint") "SELECT " OBJ_META
    "CASE WHEN $5::boolean OR NOT o.exact THEN o.data END "
    "FROM calendar_objects o JOIN resources r ON r.id = o.resource_id "
    CAL_OBJ_PATH
    "WHERE o.calendar_id = $1::bigint AND ($2::text IS NULL OR "
    "o.component = $2::text) AND o.trange && "
    "tstzrange(to_timestamp($3::double precision), "
    "to_timestamp($4::double precision), '[)') ORDER BY r.name";

/* Each open names its own cursor, parvis_cal_<n>: free-busy-query opens a
 * second one in the same transaction, and one read to its end is left to
 * the transaction's end rather than closed by one more round trip on
 * every calendar-query.  Unique within a transaction is enough, so the
 * counter may wrap around. */
static atomic_uint cal_cursors;

struct caldav_cursor {
    const char *fetch_sql;       /* FETCH of its page from it */
    bool end;
};

static const struct pg_stmt stmts[] = {
    { "cal_create",
      "WITH r AS (INSERT INTO resources (space_id, parent_id, name, "
      "kind, created_by) SELECT $1, p.id, $3, 0, nullif($5, 0) "
      "FROM parvis_resolve($1, $2) p(id) WHERE p.id IS NOT NULL "
      "ON CONFLICT (parent_id, name) DO NOTHING RETURNING id, created_at) "
      "INSERT INTO calendars (resource_id, space_id, components) "
      "SELECT id, $1, string_to_array($4, ',') FROM r "
      "RETURNING resource_id, "
      "(SELECT floor(extract(epoch FROM created_at))::bigint FROM r)" },
    { "cal_index",
      "INSERT INTO calendar_objects (resource_id, space_id, calendar_id, uid, "
      "component, trange, recurring, data, exact) VALUES ($1, $2, $3, $4, "
      "$5, tstzrange(to_timestamp($6::double precision), "
      "to_timestamp($7::double precision), '[)'), $8, $9, $10) "
      "ON CONFLICT (resource_id) DO UPDATE SET uid = excluded.uid, "
      "component = excluded.component, trange = excluded.trange, "
      "recurring = excluded.recurring, data = excluded.data, "
      "exact = excluded.exact, "
      "calendar_id = excluded.calendar_id" },
    /* Writers of one UID in one calendar, one at a time up to their
     * commit: the check that it is not used yet, then the index row. */
    { "cal_uid_lock",
      "SELECT pg_advisory_xact_lock(hashtextextended('calendar uid ' || $1 "
      "|| ' ' || $2, 0))" },
    { "cal_uid",
      "SELECT parvis_path(r.id) FROM calendar_objects o JOIN resources r "
      "ON r.id = o.resource_id WHERE o.calendar_id = $1 AND o.uid = $2 "
      "AND o.resource_id <> $3" },
    { "cal_object_uid",
      "SELECT uid FROM calendar_objects WHERE resource_id = $1" },
    { "cal_paths",
      CAL_PATH("$1::bigint") "SELECT " OBJ_COLS
      /* $3, the paths' last segments: each found by one probe of UNIQUE
       * (parent_id, name), then kept if its path is one of $2.  The
       * LIMIT keeps the probe per name whatever the statistics say:
       * before the first ANALYZE of a freshly filled calendar, the
       * planner took it for a few rows and filtered all its members by
       * the names instead (5 ms for 100 of 2,000, against 1 ms). */
      "FROM unnest($3::text[]) AS n(name) CROSS JOIN LATERAL "
      "(SELECT * FROM resources x WHERE x.parent_id = $1 AND "
      "x.name = n.name LIMIT 1) r "
      "JOIN calendar_objects o ON o.resource_id = r.id "
      CAL_OBJ_PATH
      "WHERE rp.path = ANY ($2::text[]) AND o.calendar_id = $1" },
};

bool
pg_caldav_prepare_all(PGconn *pg)
{
    return pg_prepare_stmts(pg, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* "±infinity" or seconds, as text for to_timestamp(). */
static const char *
ts(struct dav_req *req, int64_t t)
{
    if (t == CALDAV_TIME_MIN)
        return "-infinity";
    if (t == CALDAV_TIME_MAX)
        return "infinity";
    return arena_printf(req->arena, "%lld", (long long)t);
}

static enum dav_store_rc
pg_cal_create(struct dav_req *req, int64_t space_id, const char *path,
              const char *components, struct dav_resource *out)
{
    enum dav_store_rc rc;
    const char *slash = strrchr(path, '/');
    const char *parent = arena_strndup(req->arena, path,
                                       (size_t)(slash - path));
    int64_t creator = req->principal != NULL ? req->principal->id : 0;
    const char *v[5] = { pg_i64(req, space_id), parent, slash + 1,
                         components, pg_i64(req, creator) };
    PGresult *r = pg_run(req, "cal_create", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_EXISTS;
    memset(out, 0, sizeof(*out));
    out->id = pg_col_i64(r, 0, 0);
    out->space_id = space_id;
    out->path = arena_strdup(req->arena, path);
    out->name = arena_strdup(req->arena, slash + 1);
    out->kind = DAV_KIND_COLLECTION;
    out->subtype = DAV_SUBTYPE_CALENDAR;
    out->components = arena_strdup(req->arena, components);
    out->created = out->modified = (time_t)pg_col_i64(r, 0, 1);
    out->created_by = creator;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_cal_index(struct dav_req *req, const struct dav_resource *res,
             int64_t calendar_id, const struct caldav_index *ix,
             const char *data)
{
    const char *v[10] = { pg_i64(req, res->id), pg_i64(req, res->space_id),
                          pg_i64(req, calendar_id), ix->uid, ix->component,
                          ts(req, ix->start), ts(req, ix->end),
                          ix->recurring ? "true" : "false", data,
                          ix->exact ? "true" : "false" };
    /* Its answer can wait: it goes with the next statement, or the
     * COMMIT, beside the audit row. */
    return pg_run_first(req, "cal_index", 10, v);
}

static enum dav_store_rc
pg_cal_uid(struct dav_req *req, int64_t calendar_id, const char *uid,
           int64_t except_id, const char **path)
{
    enum dav_store_rc rc;
    const char *v[3] = { pg_i64(req, calendar_id), uid,
                         pg_i64(req, except_id) };
    rc = pg_run_first(req, "cal_uid_lock", 2, v);
    if (rc != DAV_STORE_OK)
        return rc;
    PGresult *r = pg_run(req, "cal_uid", 3, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    *path = arena_strdup(req->arena, PQgetvalue(r, 0, 0));
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_cal_object_uid(struct dav_req *req, int64_t res_id, const char **uid)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, res_id) };
    PGresult *r = pg_run(req, "cal_object_uid", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    *uid = arena_strdup(req->arena, PQgetvalue(r, 0, 0));
    return DAV_STORE_OK;
}

static void
objects_from(struct arena *a, PGresult *r, struct caldav_object **out,
             size_t *n)
{
    int rows = PQntuples(r);
    *out = arena_alloc(a, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct caldav_object *o = &(*out)[i];
        o->res.id = pg_col_i64(r, i, 0);
        o->res.space_id = pg_col_i64(r, i, 1);
        o->res.path = arena_strdup(a, PQgetvalue(r, i, 2));
        o->res.name = arena_strdup(a, PQgetvalue(r, i, 3));
        o->res.kind = DAV_KIND_FILE;
        o->res.rev_id = pg_col_i64(r, i, 4);
        o->res.size = pg_col_i64(r, i, 5);
        o->res.content_type = "text/calendar; charset=utf-8";
        pg_hex_decode32(PQgetvalue(r, i, 6), o->res.sha256);
        o->res.modified = (time_t)pg_col_i64(r, i, 7);
        o->exact = PQgetvalue(r, i, 8)[0] == 't';
        o->data = PQgetisnull(r, i, 9)
                      ? NULL
                      : arena_strndup(a, PQgetvalue(r, i, 9),
                                      (size_t)PQgetlength(r, i, 9));
    }
    *n = (size_t)rows;
}

static enum dav_store_rc
pg_cal_open(struct dav_req *req, int64_t calendar_id, const char *component,
            int64_t start, int64_t end, bool exact_data,
            struct caldav_cursor **out)
{
    enum dav_store_rc rc;
    const char *v[5] = { pg_i64(req, calendar_id), component,
                         ts(req, start), ts(req, end),
                         exact_data ? "true" : "false" };
    unsigned num = atomic_fetch_add_explicit(&cal_cursors, 1,
                                             memory_order_relaxed);
    const char *sql = arena_printf(req->arena, "DECLARE parvis_cal_%u %s",
                                   num, cal_open_sql);
    if (pg_run_sql(req, req->arena, sql, 5, v, &rc) == NULL)
        return rc;
    *out = arena_alloc(req->arena, sizeof(**out));
    (*out)->fetch_sql = arena_printf(
        req->arena, "FETCH FORWARD " PG_STR(CAL_PAGE) " FROM parvis_cal_%u",
        num);
    (*out)->end = false;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_cal_next(struct dav_req *req, struct caldav_cursor *c, struct arena *a,
            struct caldav_object **out, size_t *n, bool *last)
{
    *out = NULL;
    *n = 0;
    *last = true;
    if (c->end)
        return DAV_STORE_OK;
    enum dav_store_rc rc;
    PGresult *r = pg_run_sql(req, a, c->fetch_sql, 0, NULL, &rc);
    if (r == NULL)
        return rc;
    objects_from(a, r, out, n);
    c->end = *n < CAL_PAGE;
    *last = c->end;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_cal_paths(struct dav_req *req, int64_t calendar_id,
             const char *const *paths, size_t npaths, struct arena *a,
             struct caldav_object **out, size_t *n)
{
    enum dav_store_rc rc;
    struct buf b, names;
    buf_init(&b, a, 256);
    buf_init(&names, a, 256);
    buf_puts(&b, "{");
    buf_puts(&names, "{");
    for (size_t i = 0; i < npaths; i++) {
        const char *slash = strrchr(paths[i], '/');
        const char *name = slash != NULL ? slash + 1 : paths[i];
        pg_array_elem(&b, i == 0, paths[i], strlen(paths[i]));
        pg_array_elem(&names, i == 0, name, strlen(name));
    }
    buf_puts(&b, "}");
    buf_puts(&names, "}");
    const char *v[3] = { arena_printf(a, "%lld", (long long)calendar_id),
                         buf_cstr(&b), buf_cstr(&names) };
    PGresult *r = pg_run_in(req, a, "cal_paths", 3, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    objects_from(a, r, out, n);
    return DAV_STORE_OK;
}

static const struct caldav_store_ops pg_caldav_ops = {
    .calendar_create = pg_cal_create,
    .object_index = pg_cal_index,
    .uid_find = pg_cal_uid,
    .object_uid = pg_cal_object_uid,
    .objects_open = pg_cal_open,
    .objects_next = pg_cal_next,
    .objects_by_path = pg_cal_paths,
};

const struct caldav_store_ops *
db_caldav_ops(void)
{
    return &pg_caldav_ops;
}
