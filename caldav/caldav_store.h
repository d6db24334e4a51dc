/*
 * caldav/caldav_store.h -- storage operations of CalDAV, implemented by
 * db/pg_caldav.c.  Same conventions as dav/dav_store.h: results in the
 * request arena, enum dav_store_rc, inside the request's transaction.
 */
#ifndef PARVIS_CALDAV_STORE_H
#define PARVIS_CALDAV_STORE_H

#include "dav/dav_store.h"

/* Seconds since the epoch; these stand for "unbounded". */
#define CALDAV_TIME_MIN INT64_MIN
#define CALDAV_TIME_MAX INT64_MAX

/* What the index keeps of one calendar object resource. */
struct caldav_index {
    const char *uid;
    const char *component;    /* VEVENT, VTODO, VJOURNAL, VFREEBUSY */
    int64_t start;            /* first instance's start, or CALDAV_TIME_MIN */
    int64_t end;              /* last instance's end, or CALDAV_TIME_MAX */
    bool recurring;
    /* One instance, whose overlap with any range is that of [start, end):
     * a time-range filter on its component needs no parsing. */
    bool exact;
};

/* A calendar object with its iCalendar text. */
struct caldav_object {
    struct dav_resource res;
    const char *data;         /* NULL when not asked for (objects_open) */
    bool exact;               /* caldav_index.exact */
};

/* An open range of objects (objects_open), owned by the request. */
struct caldav_cursor;

struct caldav_store_ops {
    /* Create a calendar collection at path (parent must exist). */
    enum dav_store_rc (*calendar_create)(struct dav_req *req,
                                         int64_t space_id, const char *path,
                                         const char *components,
                                         struct dav_resource *out);
    /* Record (or replace) the index and text of an object resource. */
    enum dav_store_rc (*object_index)(struct dav_req *req,
                                      const struct dav_resource *res,
                                      int64_t calendar_id,
                                      const struct caldav_index *ix,
                                      const char *data);
    /* The path of another object of the calendar with this UID, or
     * NOTFOUND. */
    enum dav_store_rc (*uid_find)(struct dav_req *req, int64_t calendar_id,
                                  const char *uid, int64_t except_id,
                                  const char **path);
    /* The UID the index holds for object resource res_id (in the
     * request's arena), or NOTFOUND when it has no index entry. */
    enum dav_store_rc (*object_uid)(struct dav_req *req, int64_t res_id,
                                    const char **uid);
    /* Objects of a calendar whose component is 'component' (NULL: any)
     * and whose range overlaps [start, end), by name, read page by page
     * with objects_next from one snapshot (a cursor in the request's
     * transaction; one open at a time).  Without 'exact_data', exact
     * objects come without their data. */
    enum dav_store_rc (*objects_open)(struct dav_req *req,
                                      int64_t calendar_id,
                                      const char *component, int64_t start,
                                      int64_t end, bool exact_data,
                                      struct caldav_cursor **out);
    /* The next page of objects, in 'a'; *last once none follow. */
    enum dav_store_rc (*objects_next)(struct dav_req *req,
                                      struct caldav_cursor *c,
                                      struct arena *a,
                                      struct caldav_object **out, size_t *n,
                                      bool *last);
    /* Objects of a calendar by in-space path (multiget), in 'a'. */
    enum dav_store_rc (*objects_by_path)(struct dav_req *req,
                                         int64_t calendar_id,
                                         const char *const *paths,
                                         size_t npaths, struct arena *a,
                                         struct caldav_object **out,
                                         size_t *n);
};

#endif
