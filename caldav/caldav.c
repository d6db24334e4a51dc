/*
 * caldav/caldav.c -- CalDAV's registration into the DAV core: calendar
 * properties (RFC 4791 §5.2, §6.2.1; Apple and CalendarServer
 * extensions), DAV:resourcetype of calendars, MKCALENDAR (§5.3.1),
 * extended MKCOL (RFC 5689) and the checks of a PUT into a calendar
 * (§5.3.2): size, iCalendar validity, one UID per resource.
 *
 * Calendars are collections of a space under DAV_CAL_FOLDER, reached
 * through /dav/calendars/<user>/ (dav/core.c maps the URLs).
 */
#include "caldav/caldav_int.h"

#include <string.h>

#define APPLE_NS "http://apple.com/ns/ical/"

const struct caldav_store_ops *caldav_store;

/* ---- limits -------------------------------------------------------------- */

size_t
caldav_max_resource_size(const struct dav_req *req)
{
    return req->srv->max_resource_size > 0 ? req->srv->max_resource_size
                                           : CALDAV_DEFAULT_RESOURCE_SIZE;
}

unsigned
caldav_max_instances(const struct dav_req *req)
{
    return req->srv->max_instances > 0 ? req->srv->max_instances
                                       : CALDAV_DEFAULT_INSTANCES;
}

unsigned
caldav_max_attendees(const struct dav_req *req)
{
    return req->srv->max_attendees > 0 ? req->srv->max_attendees
                                       : CALDAV_DEFAULT_ATTENDEES;
}

static bool
is_calendar(const struct dav_target *t)
{
    return t->area == DAV_AREA_SPACE && t->exists &&
           t->res.subtype == DAV_SUBTYPE_CALENDAR;
}

/* ---- properties ---------------------------------------------------------- */

static void
restype(struct dav_req *req, const struct dav_target *t, struct buf *out)
{
    (void)req;
    if (is_calendar(t))
        buf_puts(out, "<C:calendar/>");
}

static bool
get_home_set(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    if (t->area != DAV_AREA_PRINCIPAL_USER)
        return false;
    struct buf h;
    buf_init(&h, a, 64);
    buf_puts(&h, "/dav/calendars/");
    buf_url_escape(&h, t->slug, strlen(t->slug));
    buf_puts(&h, "/");
    buf_puts(out, "<D:href>");
    buf_xml_text(out, h.p, h.len);
    buf_puts(out, "</D:href>");
    return true;
}

static bool
get_components(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_calendar(t))
        return false;
    const char *p = t->res.components != NULL ? t->res.components : "VEVENT";
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t l = comma != NULL ? (size_t)(comma - p) : strlen(p);
        buf_puts(out, "<C:comp name=\"");
        buf_xml_escape(out, p, l);
        buf_puts(out, "\"/>");
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return true;
}

static bool
get_calendar_data_types(struct dav_req *req, struct arena *a,
                        const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_calendar(t))
        return false;
    buf_puts(out, "<C:calendar-data content-type=\"text/calendar\" "
                  "version=\"2.0\"/>");
    return true;
}

static bool
calendar_const(const struct dav_target *t, struct buf *out, const char *v)
{
    if (!is_calendar(t))
        return false;
    buf_puts(out, v);
    return true;
}

static bool
calendar_int(const struct dav_target *t, struct buf *out, size_t v)
{
    if (!is_calendar(t))
        return false;
    buf_printf(out, "%zu", v);
    return true;
}

static bool
get_max_size(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)a;
    return calendar_int(t, out, caldav_max_resource_size(req));
}

static bool
get_min_date(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    (void)a;
    return calendar_const(t, out, CALDAV_MIN_DATE);
}

static bool
get_max_date(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    (void)a;
    return calendar_const(t, out, CALDAV_MAX_DATE);
}

static bool
get_max_instances(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    (void)a;
    return calendar_int(t, out, caldav_max_instances(req));
}

static bool
get_max_attendees(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    (void)a;
    return calendar_int(t, out, caldav_max_attendees(req));
}

/* Writable calendar properties: stored values win; these are defaults. */
static bool
get_description(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    (void)out;
    return is_calendar(t);
}

static bool
get_timezone(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    (void)a;
    (void)out;
    (void)t;
    return false; /* UTC unless a calendar-timezone is stored */
}

/* RFC 4791 §5.2.2: a calendar-timezone is an iCalendar object holding
 * one VTIMEZONE and nothing else; otherwise MKCALENDAR and PROPPATCH
 * fail with CALDAV:valid-calendar-data (§5.3.1.1). */
static struct dav_err *
set_timezone(struct dav_req *req, const struct dav_target *t,
             const char *value)
{
    (void)t;
    size_t len = value != NULL ? strlen(value) : 0;
    icalcomponent *vcal = len > 0 && dav_utf8_valid(value, len)
                              ? caldav_ical_parse(req->arena, value, len)
                              : NULL;
    int zones = 0, others = 0;
    for (icalcomponent *c = vcal != NULL
                                ? icalcomponent_get_first_component(
                                      vcal, ICAL_ANY_COMPONENT)
                                : NULL;
         c != NULL;
         c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
        if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT)
            zones++;
        else
            others++;
    }
    if (vcal == NULL || zones != 1 || others != 0)
        return dav_err_cond(req, 403, CALDAV_NS, "valid-calendar-data",
                            "calendar-timezone is not one VTIMEZONE");
    return NULL;
}

static bool
get_color(struct dav_req *req, struct arena *a, const struct dav_target *t,
          struct buf *out)
{
    (void)req;
    (void)a;
    return calendar_const(t, out, "#3A6EA5FF");
}

static const struct dav_prop_def caldav_props[] = {
    { CALDAV_NS, "calendar-home-set", DAV_P_PROTECTED, get_home_set, NULL },
    { CALDAV_NS, "supported-calendar-component-set", DAV_P_PROTECTED,
      get_components, NULL },
    { CALDAV_NS, "supported-calendar-data", DAV_P_PROTECTED,
      get_calendar_data_types, NULL },
    { CALDAV_NS, "max-resource-size", DAV_P_PROTECTED, get_max_size, NULL },
    { CALDAV_NS, "min-date-time", DAV_P_PROTECTED, get_min_date, NULL },
    { CALDAV_NS, "max-date-time", DAV_P_PROTECTED, get_max_date, NULL },
    { CALDAV_NS, "max-instances", DAV_P_PROTECTED, get_max_instances, NULL },
    { CALDAV_NS, "max-attendees-per-instance", DAV_P_PROTECTED,
      get_max_attendees, NULL },
    { CALDAV_NS, "calendar-description", 0, get_description, NULL },
    { CALDAV_NS, "calendar-timezone", 0, get_timezone, set_timezone },
    { APPLE_NS, "calendar-color", 0, get_color, NULL },
    { APPLE_NS, "calendar-order", 0, NULL, NULL },
};

/* ---- MKCALENDAR and extended MKCOL ------------------------------------------ */

/* Component names from a supported-calendar-component-set element. */
static struct dav_err *
components_of(struct dav_req *req, const struct dav_xml_elem *set,
              const char **out)
{
    struct buf b;
    buf_init(&b, req->arena, 32);
    for (struct dav_xml_elem *c = dav_elem_first(set); c != NULL;
         c = dav_elem_next(c)) {
        if (!dav_elem_is(c, CALDAV_NS, "comp"))
            continue;
        const char *n = dav_elem_attr(req, c, "name");
        if (n == NULL)
            return dav_err_new(req, 400, "comp without name");
        size_t l = strlen(n);
        static const char *ok[] = { "VEVENT", "VTODO", "VJOURNAL",
                                    "VFREEBUSY" };
        bool known = false;
        for (size_t i = 0; i < 4; i++)
            if (strlen(ok[i]) == l && strncmp(ok[i], n, l) == 0)
                known = true;
        if (!known)
            return dav_err_cond(req, 403, CALDAV_NS,
                                "supported-calendar-component",
                                "unsupported component");
        if (b.len > 0)
            buf_puts(&b, ",");
        buf_append(&b, n, l);
    }
    *out = b.len > 0 ? buf_cstr(&b) : "VEVENT,VTODO";
    return NULL;
}

/* Find the first DAV:set/DAV:prop child named (ns,name) of an update. */
static struct dav_xml_elem *
set_prop(const struct dav_xml_elem *update, const char *ns, const char *name)
{
    for (struct dav_xml_elem *s = dav_elem_first(update); s != NULL;
         s = dav_elem_next(s)) {
        if (!dav_elem_is(s, DAV_NS, "set"))
            continue;
        struct dav_xml_elem *prop = dav_elem_child(s, DAV_NS, "prop");
        struct dav_xml_elem *p = prop != NULL
                                     ? dav_elem_child(prop, ns, name)
                                     : NULL;
        if (p != NULL)
            return p;
    }
    return NULL;
}

/* Set by create_calendar itself, not by PROPPATCH. */
static const char *const created_props[] = {
    CALDAV_NS, "supported-calendar-component-set", NULL,
};

static struct dav_err *
create_calendar(struct dav_req *req, const struct dav_xml_elem *update)
{
    struct dav_target *t = &req->target;
    /* RFC 4791 §5.3.1.1: only at a calendar's place in a calendar home. */
    if (t->area != DAV_AREA_SPACE || !dav_target_is_calendar(t))
        return dav_err_cond(req, 403, CALDAV_NS,
                            "calendar-collection-location-ok",
                            "calendars are made in a calendar home");
    if (t->exists)
        return dav_err_cond(req, 405, DAV_NS, "resource-must-be-null",
                            "already exists");
    struct dav_err *cond = dav_check_conditions(req, t);
    if (cond != NULL)
        return cond;
    const char *components = "VEVENT,VTODO";
    if (update != NULL) {
        struct dav_xml_elem *set = set_prop(update, CALDAV_NS,
                                            "supported-calendar-component-set");
        if (set != NULL) {
            struct dav_err *err = components_of(req, set, &components);
            if (err != NULL)
                return err;
        }
    }
    enum dav_store_rc rc = caldav_store->calendar_create(
        req, t->space.id, t->path, components, &t->res);
    if (rc == DAV_STORE_EXISTS)
        return dav_err_cond(req, 405, DAV_NS, "resource-must-be-null",
                            "already exists");
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "calendar");
    t->exists = true;
    if (update != NULL) {
        /* RFC 4791 §5.3.1.2, RFC 5689 §3: a property that cannot be set
         * fails the whole request, each told in the answer. */
        struct dav_err *err = dav_props_apply_new(
            req, t, update, created_props,
            strcmp(req->method, "MKCALENDAR") == 0 ? "C:mkcalendar-response"
                                                   : "D:mkcol-response");
        if (err != NULL)
            return err;
    }
    dav_respond_empty(req, 201);
    dav_resp_header_add(req, "Cache-Control", "no-cache");
    return NULL;
}

static struct dav_err *
method_mkcalendar(struct dav_req *req)
{
    struct dav_xml_elem *root;
    struct dav_err *err = dav_body_root(req, &root);
    if (err != NULL)
        return err;
    if (root != NULL && !dav_elem_is(root, CALDAV_NS, "mkcalendar"))
        return dav_err_new(req, 400, "expected C:mkcalendar");
    return create_calendar(req, root);
}

/* A calendar home holds calendars (collection_place). */
static struct dav_err *
only_calendars(struct dav_req *req)
{
    return dav_err_cond(req, 403, CALDAV_NS, "calendar-collection-location-ok",
                        "only calendars in a calendar home");
}

/* RFC 5689: MKCOL with a body sets the resource type and properties. */
static struct dav_err *
method_mkcol(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    bool in_home = false;
    if (t->area == DAV_AREA_SPACE && !t->exists && t->path[0] != '\0') {
        struct dav_target parent;
        struct dav_err *err = dav_target_parent(req, t, &parent);
        if (err != NULL)
            return err;
        /* RFC 4791 §4.2: no collection inside a calendar. */
        if (is_calendar(&parent))
            return dav_err_cond(req, 403, CALDAV_NS,
                                "calendar-collection-location-ok",
                                "no collection inside a calendar");
        in_home = strcmp(parent.path, DAV_CAL_FOLDER) == 0;
    }
    struct dav_xml_elem *root;
    struct dav_err *err = dav_body_root(req, &root);
    /* RFC 4918 §9.3: a body the server does not understand is 415. */
    if (err != NULL)
        return err->status == 400
                   ? dav_err_new(req, 415, "unsupported MKCOL body")
                   : err;
    if (root == NULL)
        return in_home ? only_calendars(req) : dav_method_mkcol(req);
    if (!dav_elem_is(root, DAV_NS, "mkcol"))
        return dav_err_new(req, 415, "unsupported MKCOL body");
    /* RFC 5689 §3: a collection, or a calendar; nothing else is made. */
    struct dav_xml_elem *rt = set_prop(root, DAV_NS, "resourcetype");
    bool calendar = false;
    if (rt != NULL) {
        bool coll = false, other = false;
        for (struct dav_xml_elem *c = dav_elem_first(rt); c != NULL;
             c = dav_elem_next(c)) {
            if (dav_elem_is(c, DAV_NS, "collection"))
                coll = true;
            else if (dav_elem_is(c, CALDAV_NS, "calendar"))
                calendar = true;
            else
                other = true;
        }
        if (!coll || other)
            return dav_err_cond(req, 403, DAV_NS, "valid-resourcetype",
                                "a collection or a calendar only");
    }
    if (calendar)
        return create_calendar(req, root);
    if (in_home)
        return only_calendars(req);
    err = dav_method_mkcol(req);
    if (err != NULL)
        return err;
    err = dav_props_apply_new(req, t, root, NULL, "D:mkcol-response");
    if (err != NULL)
        return err;
    dav_respond_empty(req, 201);
    return NULL;
}

static const struct dav_method_def caldav_methods[] = {
    { "MKCALENDAR", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_TARGET_PARENT |
      DAV_M_CHECK_LOCKS | DAV_M_LOCK_PARENT, DAV_PRIV_BIND, NULL, NULL,
      method_mkcalendar },
    { "MKCOL", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_TARGET_PARENT |
      DAV_M_CHECK_LOCKS | DAV_M_LOCK_PARENT, DAV_PRIV_BIND, NULL, NULL,
      method_mkcol },
};

/* ---- PUT into a calendar (RFC 4791 §5.3.2) ------------------------------------- */

struct put_ext {
    struct caldav_index ix;
    const char *data;
};

static struct dav_err *
too_large(struct dav_req *req)
{
    /* RFC 4791 §5.3.2.1: CALDAV:max-resource-size. */
    return dav_err_cond(req, 403, CALDAV_NS, "max-resource-size",
                        "calendar object over %zu bytes",
                        caldav_max_resource_size(req));
}

/* Is a Content-Type text/calendar, whatever its parameters (RFC 9110
 * §8.3.1: the media type is case-insensitive)? */
static bool
is_calendar_type(const char *ct)
{
    const char *semi = strchr(ct, ';');
    struct str type = { ct, semi != NULL ? (size_t)(semi - ct) : strlen(ct) };
    return str_case_eq_c(str_trim(type), "text/calendar");
}

static struct dav_err *
put_prepare(struct dav_req *req, const struct dav_target *parent,
            size_t *keep_max)
{
    (void)parent;
    /* RFC 4791 §5.3.2.1: CALDAV:supported-calendar-data.  A PUT without
     * Content-Type is taken for iCalendar and checked as such; COPY and
     * MOVE carry no body of their own. */
    const char *ct = dav_req_header(req, "Content-Type");
    if (strcmp(req->method, "PUT") == 0 && ct != NULL && ct[0] != '\0' &&
        !is_calendar_type(ct))
        return dav_err_cond(req, 403, CALDAV_NS, "supported-calendar-data",
                            "not text/calendar");
    uint64_t n;
    size_t max = caldav_max_resource_size(req);
    if (dav_req_announced_len(req, &n) && n > max)
        return too_large(req);
    *keep_max = max;
    return NULL;
}

/* RFC 5545 §3.1.4 and §3.3.11: UTF-8, and no control character but HTAB
 * (and the CRLF of content lines).  Reports carry the text into XML,
 * which cannot hold the others. */
static bool
ical_text_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return false;
    }
    return dav_utf8_valid(s, n);
}

static struct dav_err *
put_check(struct dav_req *req, const struct dav_target *parent,
          const char *body, size_t len, const char **content_type)
{
    if (!ical_text_valid(body, len))
        return dav_err_cond(req, 403, CALDAV_NS, "valid-calendar-data",
                            "not UTF-8, or a control character");
    icalcomponent *vcal = caldav_ical_parse(req->arena, body, len);
    if (vcal == NULL)
        return dav_err_cond(req, 403, CALDAV_NS, "valid-calendar-data",
                            "not iCalendar data");
    struct dav_err *err = caldav_ical_check_values(req, vcal, body, len);
    if (err != NULL)
        return err;
    struct put_ext *x = arena_alloc(req->arena, sizeof(*x));
    err = caldav_ical_validate(req, vcal, parent->res.components, &x->ix);
    if (err != NULL)
        return err;
    const struct dav_target *t = &req->target;
    enum dav_store_rc rc;
    if (t->exists) {
        /* RFC 4791 §5.3.2.1: no-uid-conflict also forbids overwriting an
         * object resource with one of another UID. */
        const char *old;
        rc = caldav_store->object_uid(req, t->res.id, &old);
        if (rc == DAV_STORE_OK && strcmp(old, x->ix.uid) != 0) {
            err = dav_err_cond(req, 403, CALDAV_NS, "no-uid-conflict",
                               "the resource holds another UID");
            err->href = dav_href_of(req, req->arena, t);
            return err;
        }
        if (rc != DAV_STORE_OK && rc != DAV_STORE_NOTFOUND)
            return dav_err_from_store(req, rc, "uid");
    }
    const char *other;
    rc = caldav_store->uid_find(req, parent->res.id, x->ix.uid, t->res.id,
                                &other);
    if (rc == DAV_STORE_OK) {
        /* RFC 4791 §5.3.2.1: no-uid-conflict names the other resource. */
        struct dav_target o = *t;
        o.path = other;
        o.exists = true;
        o.res.kind = DAV_KIND_FILE;
        err = dav_err_cond(req, 403, CALDAV_NS, "no-uid-conflict",
                           "UID already used in this calendar");
        err->href = dav_href_of(req, req->arena, &o);
        return err;
    }
    if (rc != DAV_STORE_NOTFOUND)
        return dav_err_from_store(req, rc, "uid");
    x->data = arena_strndup(req->arena, body, len);
    req->ext_state = x;
    *content_type = "text/calendar; charset=utf-8";
    return NULL;
}

static struct dav_err *
put_after(struct dav_req *req, const struct dav_target *parent)
{
    struct put_ext *x = req->ext_state;
    enum dav_store_rc rc = caldav_store->object_index(
        req, &req->target.res, parent->res.id, &x->ix, x->data);
    return dav_err_from_store(req, rc, "calendar index");
}

/* RFC 4791 §5.3.2.1 (CALDAV:calendar-collection-location-ok) and §4.2,
 * for COPY and MOVE of a collection, or of anything to a calendar's
 * place: nothing but calendar objects goes into a calendar (as MKCOL
 * there is refused), nothing but calendars into a calendar home, and a
 * calendar only to a calendar's place in its own space's calendar home.
 * A copy, or a move into another space (a copy there), would arrive as a
 * plain folder, not a calendar, so a calendar is only moved, renamed or
 * restored from the trash. */
static struct dav_err *
collection_place(struct dav_req *req, const struct dav_target *src,
                 const struct dav_target *dst,
                 const struct dav_target *dparent, bool move)
{
    bool home = strcmp(dparent->path, DAV_CAL_FOLDER) == 0;
    if (is_calendar(dparent))
        return dav_err_cond(req, 403, CALDAV_NS,
                            "calendar-collection-location-ok",
                            "no collection inside a calendar");
    if (!is_calendar(src))
        return home ? only_calendars(req) : NULL;
    if (!home || !move || dst->space.id != src->space.id)
        return dav_err_cond(req, 403, CALDAV_NS,
                            "calendar-collection-location-ok",
                            "a calendar is only moved within its space's "
                            "calendar home");
    return NULL;
}

static const struct dav_put_hook caldav_put_hook = {
    .prepare = put_prepare,
    .too_large = too_large,
    .check = put_check,
    .after = put_after,
    .place = collection_place,
};

void
caldav_register(struct dav_registry *r, const struct caldav_store_ops *store)
{
    caldav_store = store;
    dav_registry_add_props(r, caldav_props,
                           sizeof(caldav_props) / sizeof(caldav_props[0]));
    dav_registry_add_methods(r, caldav_methods,
                             sizeof(caldav_methods) /
                                 sizeof(caldav_methods[0]));
    dav_registry_set_restype(r, restype);
    dav_registry_set_put_hook(r, &caldav_put_hook);
    /* RFC 4791 §5.1, RFC 5689 §3 */
    dav_registry_add_class(r, "calendar-access");
    dav_registry_add_class(r, "extended-mkcol");
    caldav_reports_register(r);
}
