/*
 * caldav/reports.c -- the CalDAV reports: calendar-query (RFC 4791 §7.8,
 * filters of §9.7, collations of §7.5), calendar-multiget (§7.9) and
 * free-busy-query (§7.10), with calendar-data selection, expand,
 * limit-recurrence-set and limit-freebusy-set (§9.6).
 *
 * A calendar-query reads candidates from the time-range index through a
 * cursor, a page at a time, and libical decides each one; the answer
 * streams page by page (dav_multistatus_stream), as does a multiget's,
 * a hundred hrefs a page, so that memory stays bounded by a page whatever
 * the calendar's size.  The instances a report
 * writes out (expand, free-busy periods) are bounded by max_instances
 * over the whole report: past them it is refused (403 max-instances),
 * never cut short -- unless the answer has begun to stream (more than a
 * page of objects), in which case the body is broken off, so that the
 * client sees a truncated answer, not a complete-looking one.  A VALARM
 * time-range matches on the alarm's trigger times (§9.9), computed for
 * the instances of its parent within max_instances too.
 *
 * Whether an object matches a query depends on the object's text, the
 * query's filter and the zone of floating times alone, none of which
 * changes once written: a node remembers the answers libical gave
 * (match_memo), so that a query asked again (clients poll with the same
 * one) parses only the objects it has not seen.
 */
#include "caldav/caldav_int.h"

#include <pthread.h>
#include <strings.h>
#include <string.h>
#include <time.h>

/* ---- answers of the filter, remembered ------------------------------------------ */

/* Slots of the memo: direct-mapped by key, a newer answer replacing an
 * older; 33 bytes each (about 540 KiB), owned by this file for the
 * process's life. */
#define MATCH_MEMO_SLOTS 16384

static struct {
    pthread_mutex_t lock;
    struct {
        unsigned char key[32];
        unsigned char answer;    /* 0: empty, 1: no match, 2: match */
    } slot[MATCH_MEMO_SLOTS];
} match_memo = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
memo_slot(const unsigned char key[32])
{
    return ((size_t)key[0] | (size_t)key[1] << 8 | (size_t)key[2] << 16) %
           MATCH_MEMO_SLOTS;
}

/* 1 or 0 as remembered under 'key', -1 if not. */
static int
memo_get(const unsigned char key[32])
{
    size_t i = memo_slot(key);
    int answer = -1;
    pthread_mutex_lock(&match_memo.lock);
    if (match_memo.slot[i].answer != 0 &&
        memcmp(match_memo.slot[i].key, key, 32) == 0)
        answer = match_memo.slot[i].answer == 2;
    pthread_mutex_unlock(&match_memo.lock);
    return answer;
}

static void
memo_put(const unsigned char key[32], bool match)
{
    size_t i = memo_slot(key);
    pthread_mutex_lock(&match_memo.lock);
    memcpy(match_memo.slot[i].key, key, 32);
    match_memo.slot[i].answer = match ? 2 : 1;
    pthread_mutex_unlock(&match_memo.lock);
}

static void
ical_buffer_free_cb(void *p)
{
    icalmemory_free_buffer(p);
}

/* ---- request parts ----------------------------------------------------------- */

struct time_range {
    bool set;
    int64_t start, end;
};

static struct dav_err *
parse_time_range(struct dav_req *req, const struct dav_xml_elem *e,
                 struct time_range *out)
{
    const char *s = dav_elem_attr(req, e, "start");
    const char *en = dav_elem_attr(req, e, "end");
    out->set = true;
    out->start = CALDAV_TIME_MIN;
    out->end = CALDAV_TIME_MAX;
    if (s == NULL && en == NULL)
        return dav_err_cond(req, 400, CALDAV_NS, "valid-filter",
                            "time-range without start or end");
    if ((s != NULL && !caldav_parse_utc(s, &out->start)) ||
        (en != NULL && !caldav_parse_utc(en, &out->end)))
        return dav_err_cond(req, 400, CALDAV_NS, "valid-filter",
                            "time-range needs UTC date-times");
    if (out->end <= out->start)
        return dav_err_cond(req, 400, CALDAV_NS, "valid-filter",
                            "empty time-range");
    return NULL;
}

struct cdata {
    bool want;
    const struct dav_xml_elem *comp;    /* partial selection, or NULL */
    struct time_range expand;
    struct time_range limit_rec;        /* §9.6.6 */
    struct time_range limit_fb;         /* §9.6.7 */
};

/*
 * The subcomponents of parent of kind k, in an array from arena a; returns
 * their number.  libical keeps one iterator per component, so a walk that
 * calls anything walking parent again (caldav_instances does) must work
 * on such a list.
 */
static size_t
list_components(struct arena *a, icalcomponent *parent, icalcomponent_kind k,
                icalcomponent ***out)
{
    int n = icalcomponent_count_components(parent, k);
    *out = arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof(**out));
    size_t got = 0;
    for (icalcomponent *c = icalcomponent_get_first_component(parent, k);
         c != NULL && got < (size_t)(n > 0 ? n : 0);
         c = icalcomponent_get_next_component(parent, k))
        (*out)[got++] = c;
    return got;
}

/* ---- filters (RFC 4791 §9.7) ---------------------------------------------------- */

struct fctx {
    struct dav_req *req;
    icalcomponent *vcal;
    const char *raw;          /* the object's text */
    struct dav_err *err;
};

static bool
text_match(struct fctx *f, const struct dav_xml_elem *tm, const char *value)
{
    const char *coll = dav_elem_attr(f->req, tm, "collation");
    const char *neg = dav_elem_attr(f->req, tm, "negate-condition");
    const char *needle = dav_elem_text(f->req, tm);
    bool hit;
    if (value == NULL)
        value = "";
    if (coll == NULL || strcmp(coll, "i;ascii-casemap") == 0) {
        size_t nl = strlen(needle);
        hit = false;
        for (const char *p = value; !hit && *p != '\0'; p++)
            hit = strncasecmp(p, needle, nl) == 0;
        if (nl == 0)
            hit = true;
    } else if (strcmp(coll, "i;octet") == 0) {
        hit = strstr(value, needle) != NULL;
    } else if (strcmp(coll, "i;unicode-casemap") == 0) {
        const char *v = str_casefold(f->req->arena, value);
        const char *n = str_casefold(f->req->arena, needle);
        hit = v != NULL && n != NULL && strstr(v, n) != NULL;
    } else {
        f->err = dav_err_cond(f->req, 412, CALDAV_NS, "supported-collation",
                              "unsupported collation %s", coll);
        return false;
    }
    bool negate = neg != NULL && strcmp(neg, "yes") == 0;
    return negate ? !hit : hit;
}

/* The component path of a property in the object's text: each level is
 * a component name and its rank among its parent's components of that
 * name. */
#define RAW_DEPTH_MAX 8

struct raw_path {
    size_t n;
    const char *name[RAW_DEPTH_MAX];
    size_t rank[RAW_DEPTH_MAX];
};

/* The path of component c (VCALENDAR first); false if deeper than
 * RAW_DEPTH_MAX or of a kind libical has no name for.  Uses external
 * iterators: the callers' walks go on. */
static bool
raw_path_of(icalcomponent *c, struct raw_path *out)
{
    size_t n = 0;
    icalcomponent *chain[RAW_DEPTH_MAX];
    for (; c != NULL; c = icalcomponent_get_parent(c)) {
        if (n == RAW_DEPTH_MAX)
            return false;
        chain[n++] = c;
    }
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        icalcomponent *me = chain[n - 1 - i];
        icalcomponent *parent = icalcomponent_get_parent(me);
        icalcomponent_kind k = icalcomponent_isa(me);
        out->name[i] = icalcomponent_kind_to_string(k);
        out->rank[i] = 0;
        if (out->name[i] == NULL)
            return false;   /* a kind without a name is not found by it */
        if (parent == NULL)
            continue;
        for (icalcompiter it = icalcomponent_begin_component(parent, k);
             icalcompiter_deref(&it) != NULL &&
             icalcompiter_deref(&it) != me;
             icalcompiter_next(&it))
            out->rank[i]++;
    }
    return true;
}

/* Length of the physical line at p, without its CR LF. */
static size_t
raw_line_len(const char *p)
{
    size_t l = strcspn(p, "\n");
    return l > 0 && p[l - 1] == '\r' ? l - 1 : l;
}

/* The next physical line after p, or NULL. */
static const char *
raw_next(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl != NULL && nl[1] != '\0' ? nl + 1 : NULL;
}

/* Does the content line at p begin "NAME:" (or "NAME;")?  Compared
 * without case (RFC 5545 §3.1). */
static bool
raw_named(const char *p, size_t len, const char *name, char sep)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(p, name, n) == 0 &&
           (p[n] == sep || (sep == ';' && p[n] == ':'));
}

/*
 * The value of parameter 'param' on the content line of the
 * 'nth' property 'pname' of the component at 'path', read in the
 * object's text (unfolded, RFC 5545 §3.1); NULL when the line or the
 * parameter is not there.  For the parameters libical drops.
 */
static const char *
raw_param(struct arena *a, const char *raw, const struct raw_path *path,
          const char *pname, size_t nth, const char *param)
{
    size_t depth = 0, matched = 0, seen = 0, rank = 0;
    const char *line = NULL;
    for (const char *p = raw; p != NULL && line == NULL; p = raw_next(p)) {
        size_t len = raw_line_len(p);
        if (len == 0 || p[0] == ' ' || p[0] == '\t')
            continue;   /* a continuation */
        if (raw_named(p, len, "BEGIN", ':')) {
            if (depth == matched && matched < path->n &&
                len - 6 == strlen(path->name[matched]) &&
                strncasecmp(p + 6, path->name[matched], len - 6) == 0 &&
                rank++ == path->rank[matched]) {
                matched++;
                rank = 0;
            }
            depth++;
        } else if (raw_named(p, len, "END", ':')) {
            if (depth == matched && matched > 0)
                return NULL;   /* the component ends without it */
            depth--;
        } else if (depth == path->n && matched == path->n &&
                   raw_named(p, len, pname, ';') && seen++ == nth) {
            line = p;
        }
    }
    if (line == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, a, 256);
    buf_append(&b, line, raw_line_len(line));
    for (const char *q = raw_next(line); q != NULL && (q[0] == ' ' ||
                                                       q[0] == '\t');
         q = raw_next(q))
        buf_append(&b, q + 1, raw_line_len(q) - 1);
    const char *l = buf_cstr(&b);
    size_t nl = strlen(param);
    bool quoted = false;
    /* Parameters run from the name to the first ':' outside quotes. */
    for (const char *q = l; *q != '\0'; q++) {
        if (*q == '"')
            quoted = !quoted;
        if (quoted)
            continue;
        if (*q == ':')
            break;
        if (*q != ';' || strncasecmp(q + 1, param, nl) != 0 ||
            q[1 + nl] != '=')
            continue;
        const char *v = q + 2 + nl;
        if (*v == '"') {
            const char *close = strchr(v + 1, '"');
            size_t vl = close != NULL ? (size_t)(close - v - 1)
                                      : strlen(v + 1);
            return arena_strndup(a, v + 1, vl);
        }
        return arena_strndup(a, v, strcspn(v, ";:"));
    }
    return NULL;
}

/*
 * RFC 4791 §9.7.3: does property p, the nth of its name in its
 * component, satisfy the param-filter pf?  Its own parameters only
 * (§9.7.2: one property instance passes all the tests).
 */
static bool
param_filter(struct fctx *f, const struct dav_xml_elem *pf, icalproperty *p,
             size_t nth)
{
    const char *name = dav_elem_attr(f->req, pf, "name");
    if (name == NULL) {
        f->err = dav_err_cond(f->req, 400, CALDAV_NS, "valid-filter",
                              "param-filter without name");
        return false;
    }
    icalparameter *found = NULL;
    for (icalparameter *q = icalproperty_get_first_parameter(
             p, ICAL_ANY_PARAMETER);
         q != NULL;
         q = icalproperty_get_next_parameter(p, ICAL_ANY_PARAMETER)) {
        const char *qn = icalparameter_kind_to_string(icalparameter_isa(q));
        if (icalparameter_isa(q) == ICAL_X_PARAMETER)
            qn = icalparameter_get_xname(q);
        else if (icalparameter_isa(q) == ICAL_IANA_PARAMETER)
            qn = icalparameter_get_iana_name(q);
        if (qn != NULL && strcasecmp(qn, name) == 0) {
            found = q;
            break;
        }
    }
    const char *raw_value = NULL;
    struct raw_path path;
    if (found == NULL && f->raw != NULL &&
        raw_path_of(icalproperty_get_parent(p), &path)) {
        /* libical drops parameters it does not know (CURRENCY on
         * X-PARVIS-COST): look for ";NAME=" on this property's line of
         * the object's text. */
        const char *pname = icalproperty_isa(p) == ICAL_X_PROPERTY
                                ? icalproperty_get_x_name(p)
                                : icalproperty_kind_to_string(
                                      icalproperty_isa(p));
        if (pname != NULL)
            raw_value = raw_param(f->req->arena, f->raw, &path, pname, nth,
                                  name);
    }
    bool present = found != NULL || raw_value != NULL;
    if (dav_elem_child(pf, CALDAV_NS, "is-not-defined") != NULL)
        return !present;
    if (!present)
        return false;
    struct dav_xml_elem *tm = dav_elem_child(pf, CALDAV_NS, "text-match");
    if (tm == NULL)
        return true;
    if (found == NULL)
        return text_match(f, tm, raw_value);
    char *s = icalparameter_as_ical_string_r(found);
    if (s != NULL)
        arena_defer(f->req->arena, ical_buffer_free_cb, s);
    const char *eq = s != NULL ? strchr(s, '=') : NULL;
    return text_match(f, tm, eq != NULL ? eq + 1 : "");
}

/* Does p, the nth property of its name in its component, pass every
 * test of the prop-filter pf? */
static bool
prop_matches(struct fctx *f, const struct dav_xml_elem *pf, icalproperty *p,
             size_t nth)
{
    for (struct dav_xml_elem *c = dav_elem_first(pf); c != NULL;
         c = dav_elem_next(c)) {
        if (dav_elem_is(c, CALDAV_NS, "time-range")) {
            struct time_range tr;
            f->err = parse_time_range(f->req, c, &tr);
            if (f->err != NULL)
                return false;
            bool is_date;
            int64_t t = caldav_prop_time(f->vcal, p, &is_date);
            int64_t e = is_date ? caldav_day_after(t) : t;
            bool hit = e > t ? (t < tr.end && e > tr.start)
                             : (tr.start <= t && t < tr.end);
            if (!hit)
                return false;
        } else if (dav_elem_is(c, CALDAV_NS, "text-match")) {
            /* RFC 4791 §9.7.5: against the value, not its escaped form. */
            icalvalue *v = icalproperty_get_value(p);
            const char *text = v != NULL && icalvalue_isa(v) == ICAL_TEXT_VALUE
                                   ? icalvalue_get_text(v)
                                   : icalproperty_get_value_as_string(p);
            if (!text_match(f, c, text))
                return false;
        } else if (dav_elem_is(c, CALDAV_NS, "param-filter")) {
            if (!param_filter(f, c, p, nth))
                return false;
        }
        if (f->err != NULL)
            return false;
    }
    return true;
}

static bool
prop_filter(struct fctx *f, const struct dav_xml_elem *pf,
            icalcomponent *comp)
{
    const char *name = dav_elem_attr(f->req, pf, "name");
    if (name == NULL) {
        f->err = dav_err_cond(f->req, 400, CALDAV_NS, "valid-filter",
                              "prop-filter without name");
        return false;
    }
    icalproperty_kind k = icalproperty_string_to_kind(name);
    bool any = false;
    size_t nth = 0;
    for (icalproperty *p = icalcomponent_get_first_property(
             comp, k == ICAL_NO_PROPERTY ? ICAL_X_PROPERTY : k);
         p != NULL;
         p = icalcomponent_get_next_property(
             comp, k == ICAL_NO_PROPERTY ? ICAL_X_PROPERTY : k)) {
        if (k == ICAL_NO_PROPERTY || k == ICAL_X_PROPERTY) {
            const char *xn = icalproperty_get_x_name(p);
            if (xn == NULL || strcasecmp(xn, name) != 0)
                continue;
        }
        if (dav_elem_child(pf, CALDAV_NS, "is-not-defined") != NULL)
            return false;
        any = true;
        if (prop_matches(f, pf, p, nth++))
            return true;
        if (f->err != NULL)
            return false;
    }
    if (dav_elem_child(pf, CALDAV_NS, "is-not-defined") != NULL)
        return !any;
    return false;
}

static bool comp_filter(struct fctx *f, const struct dav_xml_elem *cf,
                        icalcomponent *parent);

/* Does one component satisfy the filter's prop- and comp-filters? */
static bool
comp_satisfies(struct fctx *f, const struct dav_xml_elem *cf,
               icalcomponent *c)
{
    for (struct dav_xml_elem *x = dav_elem_first(cf); x != NULL;
         x = dav_elem_next(x)) {
        if (dav_elem_is(x, CALDAV_NS, "prop-filter") && !prop_filter(f, x, c))
            return false;
        if (dav_elem_is(x, CALDAV_NS, "comp-filter") && !comp_filter(f, x, c))
            return false;
        if (f->err != NULL)
            return false;
    }
    return true;
}

static bool
comp_filter(struct fctx *f, const struct dav_xml_elem *cf,
            icalcomponent *parent)
{
    const char *name = dav_elem_attr(f->req, cf, "name");
    if (name == NULL) {
        f->err = dav_err_cond(f->req, 400, CALDAV_NS, "valid-filter",
                              "comp-filter without name");
        return false;
    }
    icalcomponent_kind k = icalcomponent_string_to_kind(name);
    bool undefined = dav_elem_child(cf, CALDAV_NS, "is-not-defined") != NULL;
    if (parent == NULL) {
        /* The top level: the VCALENDAR itself. */
        if (k != ICAL_VCALENDAR_COMPONENT)
            return undefined;
        if (undefined)
            return false;
        return comp_satisfies(f, cf, f->vcal);
    }
    /* Listed before any test: caldav_overlaps walks parent too. */
    icalcomponent **comps;
    size_t nc = list_components(f->req->arena, parent, k, &comps);
    if (undefined)
        return nc == 0;
    if (nc == 0)
        return false;
    struct dav_xml_elem *tr = dav_elem_child(cf, CALDAV_NS, "time-range");
    struct time_range r = { false, CALDAV_TIME_MIN, CALDAV_TIME_MAX };
    if (tr != NULL) {
        f->err = parse_time_range(f->req, tr, &r);
        if (f->err != NULL)
            return false;
        /* Recurrence is evaluated over the object's whole set; an
         * alarm's triggers, per alarm, below. */
        if (k != ICAL_VALARM_COMPONENT &&
            (parent != f->vcal ||
             !caldav_overlaps(f->vcal, k, r.start, r.end,
                              caldav_max_instances(f->req))))
            return false;
    }
    for (size_t i = 0; i < nc; i++) {
        /* RFC 4791 §9.9, VALARM: start <= trigger time < end, for the
         * triggers of the parent's instances. */
        if (r.set && k == ICAL_VALARM_COMPONENT &&
            !caldav_alarm_matches(f->vcal, parent, comps[i], r.start, r.end,
                                  caldav_max_instances(f->req)))
            continue;
        if (comp_satisfies(f, cf, comps[i]))
            return true;
    }
    return false;
}

/* The time range and component the filter asks of top-level components,
 * to select index candidates. */
static void
filter_scope(struct dav_req *req, const struct dav_xml_elem *filter,
             const char **component, struct time_range *tr)
{
    *component = NULL;
    tr->set = false;
    struct dav_xml_elem *cal = dav_elem_child(filter, CALDAV_NS,
                                              "comp-filter");
    if (cal == NULL)
        return;
    struct dav_xml_elem *inner = dav_elem_child(cal, CALDAV_NS,
                                                "comp-filter");
    if (inner == NULL ||
        dav_elem_child(inner, CALDAV_NS, "is-not-defined") != NULL)
        return;
    const char *name = dav_elem_attr(req, inner, "name");
    if (name != NULL)
        *component = name;
    struct dav_xml_elem *t = dav_elem_child(inner, CALDAV_NS, "time-range");
    if (t != NULL && parse_time_range(req, t, tr) != NULL)
        tr->set = false;
}

/* Does the filter ask only that a VEVENT overlap a valid time range (the
 * query calendar clients poll with)?  The index answers it for the
 * objects it marks exact (caldav_index.exact): the objects_open range
 * test is then the whole filter. */
static bool
range_only(struct dav_req *req, const struct dav_xml_elem *top)
{
    const char *cal = top != NULL ? dav_elem_attr(req, top, "name") : NULL;
    struct dav_xml_elem *inner = top != NULL ? dav_elem_first(top) : NULL;
    if (cal == NULL || strcmp(cal, "VCALENDAR") != 0 || inner == NULL ||
        dav_elem_next(inner) != NULL ||
        !dav_elem_is(inner, CALDAV_NS, "comp-filter"))
        return false;
    const char *name = dav_elem_attr(req, inner, "name");
    struct dav_xml_elem *tr = dav_elem_first(inner);
    struct time_range r;
    return name != NULL && strcmp(name, "VEVENT") == 0 && tr != NULL &&
           dav_elem_next(tr) == NULL &&
           dav_elem_is(tr, CALDAV_NS, "time-range") &&
           parse_time_range(req, tr, &r) == NULL;
}

/* ---- calendar-data output (RFC 4791 §9.6) --------------------------------------- */

/* RFC 4791 §9.6.5-§9.6.7: expand, limit-recurrence-set and
 * limit-freebusy-set require both start and end (a time-range, §9.9, may
 * leave one out); refused as a bad time-range is. */
static struct dav_err *
parse_full_range(struct dav_req *req, const struct dav_xml_elem *e,
                 struct time_range *out)
{
    if (dav_elem_attr(req, e, "start") == NULL ||
        dav_elem_attr(req, e, "end") == NULL)
        return dav_err_cond(req, 400, CALDAV_NS, "valid-filter",
                            "%s needs both start and end", dav_elem_name(e));
    return parse_time_range(req, e, out);
}

static struct dav_err *
parse_cdata(struct dav_req *req, const struct dav_xml_elem *e,
            struct cdata *out)
{
    memset(out, 0, sizeof(*out));
    out->want = true;
    for (struct dav_xml_elem *c = dav_elem_first(e); c != NULL;
         c = dav_elem_next(c)) {
        if (dav_elem_is(c, CALDAV_NS, "comp")) {
            out->comp = c;
        } else if (dav_elem_is(c, CALDAV_NS, "expand")) {
            struct dav_err *err = parse_full_range(req, c, &out->expand);
            if (err != NULL)
                return err;
        } else if (dav_elem_is(c, CALDAV_NS, "limit-recurrence-set")) {
            struct dav_err *err = parse_full_range(req, c, &out->limit_rec);
            if (err != NULL)
                return err;
        } else if (dav_elem_is(c, CALDAV_NS, "limit-freebusy-set")) {
            struct dav_err *err = parse_full_range(req, c, &out->limit_fb);
            if (err != NULL)
                return err;
        }
    }
    return NULL;
}

/* RFC 4791 §9.6.4: a property asked with novalue="yes" keeps its name
 * and parameters, and an empty value.  The value type is kept in a
 * VALUE parameter, which libical writes out only when it is not the
 * property's default, so the line reads as the original one did. */
static void
drop_value(icalproperty *p)
{
    icalvalue_kind k = icalvalue_isa(icalproperty_get_value(p));
    icalproperty_set_value(p, icalvalue_new_text(""));
    if (k != ICAL_TEXT_VALUE && k != ICAL_NO_VALUE &&
        icalproperty_get_first_parameter(p, ICAL_VALUE_PARAMETER) == NULL)
        icalproperty_add_parameter(p, icalparameter_new_from_value_string(
                                          ICAL_VALUE_PARAMETER,
                                          icalvalue_kind_to_string(k)));
}

/* Keep in c only what the C:comp selection names. */
static void
prune(struct dav_req *req, icalcomponent *c, const struct dav_xml_elem *sel)
{
    if (dav_elem_child(sel, CALDAV_NS, "allprop") == NULL) {
        icalproperty *next;
        for (icalproperty *p = icalcomponent_get_first_property(
                 c, ICAL_ANY_PROPERTY);
             p != NULL; p = next) {
            next = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY);
            const char *pn = icalproperty_get_property_name(p);
            const struct dav_xml_elem *keep = NULL;
            for (struct dav_xml_elem *x = dav_elem_first(sel);
                 x != NULL && keep == NULL; x = dav_elem_next(x)) {
                const char *n = dav_elem_is(x, CALDAV_NS, "prop")
                                    ? dav_elem_attr(req, x, "name")
                                    : NULL;
                if (n != NULL && pn != NULL && strcasecmp(n, pn) == 0)
                    keep = x;
            }
            if (keep == NULL) {
                icalcomponent_remove_property(c, p);
                icalproperty_free(p);
                continue;
            }
            const char *nv = dav_elem_attr(req, keep, "novalue");
            if (nv != NULL && strcmp(nv, "yes") == 0)
                drop_value(p);
        }
    }
    bool allcomp = dav_elem_child(sel, CALDAV_NS, "allcomp") != NULL;
    icalcomponent *next;
    for (icalcomponent *s = icalcomponent_get_first_component(
             c, ICAL_ANY_COMPONENT);
         s != NULL; s = next) {
        next = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT);
        if (allcomp)
            continue;
        const struct dav_xml_elem *match = NULL;
        for (struct dav_xml_elem *x = dav_elem_first(sel); x != NULL;
             x = dav_elem_next(x)) {
            const char *n = dav_elem_is(x, CALDAV_NS, "comp")
                                ? dav_elem_attr(req, x, "name")
                                : NULL;
            if (n != NULL &&
                icalcomponent_string_to_kind(n) == icalcomponent_isa(s))
                match = x;
        }
        if (match == NULL) {
            icalcomponent_remove_component(c, s);
            icalcomponent_free(s);
        } else {
            prune(req, s, match);
        }
    }
}

struct expand_ctx {
    icalcomponent *vcal;     /* the object expanded */
    icalcomponent *out;
    int64_t qs, qe;
    size_t *left;      /* instances the report may still expand */
    bool over;         /* it wanted more */
};

static struct icaltimetype
utc_time(int64_t t)
{
    return icaltime_from_timet_with_zone((time_t)t, 0,
                                         icaltimezone_get_utc_timezone());
}

static bool
expand_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
          int64_t rid)
{
    struct expand_ctx *x = ctx;
    bool has_start = icalcomponent_get_first_property(
                         comp, ICAL_DTSTART_PROPERTY) != NULL;
    /* RFC 4791 §9.6.5: the instances overlapping the window; a to-do
     * without DTSTART overlaps it as §9.9 says (by DUE, CREATED,
     * COMPLETED, or always). */
    bool hit;
    if (!has_start)
        hit = caldav_instance_matches(x->vcal, comp, start, end, x->qs,
                                      x->qe);
    else if (end > start)
        hit = start < x->qe && end > x->qs;
    else
        hit = x->qs <= start && start < x->qe;
    if (!hit)
        return true;
    if (*x->left == 0) {
        x->over = true;
        return false;
    }
    (*x->left)--;
    icalcomponent *inst = icalcomponent_new_clone(comp);
    static const icalproperty_kind drop[] = {
        ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
        ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_RECURRENCEID_PROPERTY,
    };
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        icalproperty *p;
        while ((p = icalcomponent_get_first_property(inst, drop[i])) != NULL) {
            icalcomponent_remove_property(inst, p);
            icalproperty_free(p);
        }
    }
    icalproperty *dur = icalcomponent_get_first_property(
        inst, ICAL_DURATION_PROPERTY);
    struct icaldurationtype d = dur != NULL
                                    ? icalproperty_get_duration(dur)
                                    : icaldurationtype_null_duration();
    if (dur != NULL && has_start && (d.days != 0 || d.weeks != 0)) {
        /* RFC 5545 §3.3.6: days of a duration are nominal, so not 24
         * hours from the UTC DTSTART written here across a change of
         * offset: the instance's end is written instead. */
        icalcomponent_remove_property(inst, dur);
        icalproperty_free(dur);
        dur = NULL;
        if (icalcomponent_isa(inst) == ICAL_VTODO_COMPONENT)
            icalcomponent_add_property(inst,
                                       icalproperty_new_due(utc_time(end)));
    }
    bool has_duration = dur != NULL;
    if (has_start)
        icalcomponent_add_property(inst,
                                   icalproperty_new_dtstart(utc_time(start)));
    if (icalcomponent_isa(inst) == ICAL_VTODO_COMPONENT) {
        /* RFC 5545 §3.6.2: a VTODO ends with DUE (or DURATION), never
         * DTEND; DUE moves with the instance, 'end' being the instance's
         * start plus the master's DTSTART-to-DUE (without DTSTART, DUE
         * itself). */
        icalproperty *due = icalcomponent_get_first_property(
            inst, ICAL_DUE_PROPERTY);
        if (due != NULL) {
            icalcomponent_remove_property(inst, due);
            icalproperty_free(due);
            icalcomponent_add_property(inst,
                                       icalproperty_new_due(utc_time(end)));
        }
    } else if (!has_duration && end > start) {
        icalcomponent_add_property(inst, icalproperty_new_dtend(utc_time(end)));
    }
    if (rid != 0)
        icalcomponent_add_property(inst,
                                   icalproperty_new_recurrenceid(utc_time(rid)));
    icalcomponent_add_component(x->out, inst);
    return true;
}

/* RFC 4791 §9.6.7: keep the FREEBUSY periods of fb overlapping tr. */
static void
limit_freebusy(icalcomponent *fb, const struct time_range *tr)
{
    icalproperty *p = icalcomponent_get_first_property(fb,
                                                       ICAL_FREEBUSY_PROPERTY);
    while (p != NULL) {
        icalproperty *next = icalcomponent_get_next_property(
            fb, ICAL_FREEBUSY_PROPERTY);
        struct icalperiodtype per = icalproperty_get_freebusy(p);
        int64_t s = (int64_t)icaltime_as_timet(per.start);
        int64_t e = icaltime_is_null_time(per.end)
                        ? s + icaldurationtype_as_int(per.duration)
                        : (int64_t)icaltime_as_timet(per.end);
        if (!(s < tr->end && e > tr->start)) {
            icalcomponent_remove_property(fb, p);
            icalproperty_free(p);
        }
        p = next;
    }
}

/* limit-recurrence-set (§9.6.6) and limit-freebusy-set (§9.6.7) on a copy
 * of an object. */
static void
apply_limits(struct dav_req *req, const struct cdata *cd, icalcomponent *copy)
{
    if (!cd->limit_rec.set && !cd->limit_fb.set)
        return;
    /* Listed first: caldav_override_impacts walks copy too. */
    icalcomponent **all;
    size_t na = list_components(req->arena, copy, ICAL_ANY_COMPONENT, &all);
    for (size_t i = 0; i < na; i++) {
        icalcomponent *c = all[i];
        icalcomponent_kind k = icalcomponent_isa(c);
        if (cd->limit_fb.set && k == ICAL_VFREEBUSY_COMPONENT)
            limit_freebusy(c, &cd->limit_fb);
        all[i] = NULL;
        if (cd->limit_rec.set &&
            (k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
             k == ICAL_VJOURNAL_COMPONENT) &&
            !caldav_override_impacts(copy, c, cd->limit_rec.start,
                                     cd->limit_rec.end,
                                     caldav_max_instances(req)))
            all[i] = c;   /* to drop */
    }
    /* Removed after the walk, which needs the whole object. */
    for (size_t i = 0; i < na; i++) {
        if (all[i] == NULL)
            continue;
        icalcomponent_remove_component(copy, all[i]);
        icalcomponent_free(all[i]);
    }
}

/* The error of a report that would expand more than max-instances. */
static struct dav_err *
too_many_instances(struct dav_req *req)
{
    /* RFC 4791 §5.2.8 announces the bound; CALDAV:max-instances, the
     * precondition of §5.3.2.1, names it for a report too. */
    return dav_err_cond(req, 403, CALDAV_NS, "max-instances",
                        "report expands more than max-instances (%u)",
                        caldav_max_instances(req));
}

/* Append <C:calendar-data> for one object.  Expansion takes from *left,
 * the instances the whole report may expand; past them, 403. */
static struct dav_err *
render_cdata(struct dav_req *req, const struct cdata *cd,
             const struct caldav_object *o, icalcomponent *parsed,
             size_t *left, struct buf *out)
{
    const char *text = o->data;
    char *owned = NULL;
    if (cd->expand.set || cd->comp != NULL || cd->limit_rec.set ||
        cd->limit_fb.set) {
        icalcomponent *vcal = parsed != NULL
                                  ? parsed
                                  : caldav_ical_parse(req->arena, o->data,
                                                      strlen(o->data));
        if (vcal != NULL) {
            icalcomponent *copy;
            if (cd->expand.set) {
                copy = icalcomponent_new_vcalendar();
                icalcomponent_add_property(copy,
                                           icalproperty_new_version("2.0"));
                icalcomponent_add_property(
                    copy, icalproperty_new_prodid("-//Parvis//CalDAV//EN"));
                struct expand_ctx x = { vcal, copy, cd->expand.start,
                                        cd->expand.end, left, false };
                static const icalcomponent_kind kinds[] = {
                    ICAL_VEVENT_COMPONENT, ICAL_VTODO_COMPONENT,
                    ICAL_VJOURNAL_COMPONENT,
                };
                for (size_t i = 0; i < 3 && !x.over; i++)
                    if (!caldav_instances(vcal, kinds[i], cd->expand.start,
                                          cd->expand.end,
                                          caldav_max_instances(req),
                                          expand_cb, &x))
                        x.over = true;
                if (x.over) {
                    icalcomponent_free(copy);
                    return too_many_instances(req);
                }
            } else {
                copy = icalcomponent_new_clone(vcal);
                apply_limits(req, cd, copy);
            }
            if (cd->comp != NULL)
                prune(req, copy, cd->comp);
            owned = icalcomponent_as_ical_string_r(copy);
            if (owned != NULL)
                arena_defer(req->arena, ical_buffer_free_cb, owned);
            icalcomponent_free(copy);
            if (owned != NULL)
                text = owned;
        }
    }
    buf_puts(out, "<C:calendar-data>");
    buf_xml_text(out, text, strlen(text));
    buf_puts(out, "</C:calendar-data>");
    return NULL;
}

/* ---- responses ------------------------------------------------------------------ */

struct props_req {
    const char **names;      /* { ns, name } pairs but calendar-data */
    size_t n;
    struct cdata cd;
    size_t instances_left;   /* what expand may still produce */
};

static struct dav_err *
parse_props(struct dav_req *req, const struct dav_xml_elem *root,
            struct props_req *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->instances_left = caldav_max_instances(req);
    struct dav_xml_elem *prop = dav_elem_child(root, DAV_NS, "prop");
    struct dav_err *err = dav_prop_names(req, prop, &pr->names, &pr->n);
    if (err != NULL)
        return err;
    size_t k = 0;
    for (size_t i = 0; i < pr->n; i += 2) {
        if (strcmp(pr->names[i], CALDAV_NS) == 0 &&
            strcmp(pr->names[i + 1], "calendar-data") == 0)
            continue;
        pr->names[k++] = pr->names[i];
        pr->names[k++] = pr->names[i + 1];
    }
    pr->n = k;
    struct dav_xml_elem *cd = dav_elem_child(prop, CALDAV_NS,
                                             "calendar-data");
    if (cd != NULL) {
        err = parse_cdata(req, cd, &pr->cd);
        if (err != NULL)
            return err;
    }
    if (prop == NULL && dav_elem_child(root, DAV_NS, "allprop") == NULL &&
        dav_elem_child(root, DAV_NS, "propname") == NULL)
        return dav_err_new(req, 400, "report without DAV:prop");
    return NULL;
}

/* The target of object 'o' of calendar 'cal'. */
static void
object_target(const struct dav_target *cal, const struct caldav_object *o,
              struct dav_target *t)
{
    *t = *cal;
    t->path = o->res.path;
    t->res = o->res;
    t->exists = true;
    t->locks_loaded = true;
    t->nlocks = 0;
}

static struct dav_err *
object_response(struct dav_req *req, struct arena *scratch,
                const struct dav_target *cal, const struct caldav_object *o,
                icalcomponent *parsed, struct props_req *pr, bool missing_status,
                struct buf *b)
{
    struct dav_target t;
    object_target(cal, o, &t);
    /* An object an access control entry hides from the principal is
     * absent, as at its own URL: left out of a query, 404 in a multiget
     * (DESIGN.md "Access control"). */
    if (dav_check_priv(req, &t, DAV_PRIV_READ) != NULL) {
        if (missing_status)
            dav_ms_status_href(b, dav_href_of(req, scratch, &t), 404);
        return NULL;
    }
    struct buf found, missing;
    buf_init(&found, scratch, 1024);
    buf_init(&missing, scratch, 64);
    dav_props_render(req, scratch, &t, pr->names, pr->n, &found, &missing);
    if (pr->cd.want) {
        struct dav_err *err = render_cdata(req, &pr->cd, o, parsed,
                                           &pr->instances_left, &found);
        if (err != NULL)
            return err;
    }
    dav_multistatus_response(b, dav_href_of(req, scratch, &t),
                             buf_cstr(&found), buf_cstr(&missing));
    return NULL;
}

static bool
calendar_target(const struct dav_target *t)
{
    return t->area == DAV_AREA_SPACE && t->exists &&
           t->res.subtype == DAV_SUBTYPE_CALENDAR;
}

/*
 * RFC 4791 §7.3: the zone floating date-times are read in, into *out
 * (NULL: UTC).  A calendar-query's CALDAV:timezone ('tz', or NULL) comes
 * first (§9.8), then the calendar's CALDAV:calendar-timezone (§5.2.2).
 */
static struct dav_err *
floating_zone(struct dav_req *req, const struct dav_target *cal,
              const struct dav_xml_elem *tz, icaltimezone **out,
              const char **text_out)
{
    *out = NULL;
    *text_out = "";
    if (tz != NULL) {
        *out = caldav_zone_parse(req->arena, dav_elem_text(req, tz));
        if (*out == NULL)
            return dav_err_cond(req, 400, CALDAV_NS, "valid-calendar-data",
                                "timezone is not one VTIMEZONE");
        return NULL;
    }
    struct dav_dead_prop *props;
    size_t n;
    enum dav_store_rc rc = req->srv->store->props_get(
        req, cal->space.id, &cal->res.id, 1, &props, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "properties");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(props[i].ns, CALDAV_NS) != 0 ||
            strcmp(props[i].name, "calendar-timezone") != 0)
            continue;
        const char *text = dav_xml_text(req, props[i].xml);
        *out = caldav_zone_parse(req->arena, text);
        *text_out = text != NULL ? text : "";
    }
    return NULL;
}

/* ---- calendar-query ------------------------------------------------------------- */

struct query_pages {
    struct dav_target cal;
    const char *only;            /* a single object, for Depth 0 on it */
    struct props_req pr;
    const struct dav_xml_elem *top;   /* the filter's comp-filter */
    bool range_only;             /* range_only(top) */
    icaltimezone *zone;          /* of floating times (floating_zone) */
    /* What an object's match depends on besides its text: the request's
     * body (its filter and CALDAV:timezone), the calendar's zone and
     * max_instances. */
    unsigned char query_key[32];
    struct caldav_cursor *cur;
};

/* The memo's key of an object's match in this query. */
static void
match_key(const struct query_pages *q, const char *data, unsigned char key[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, q->query_key, 32);
    sha256_update(&s, data, strlen(data));
    sha256_final(&s, key);
}

/* The next page of candidates: those that match are written to 'out'. */
static struct dav_err *
query_page(struct dav_req *req, void *state, struct arena *a, struct buf *out,
           bool *done)
{
    struct query_pages *q = state;
    struct caldav_object *objs;
    size_t n;
    enum dav_store_rc rc = caldav_store->objects_next(req, q->cur, a, &objs,
                                                      &n, done);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "calendar objects");
    struct arena *scratch = arena_child(a);
    struct dav_err *err = NULL;
    caldav_floating_zone_set(q->zone);
    for (size_t i = 0; i < n && err == NULL; i++) {
        if (q->only != NULL && strcmp(objs[i].res.path, q->only) != 0)
            continue;
        arena_reset(scratch);
        bool sure = q->range_only && objs[i].exact;
        /* The filter's answer for this text, if libical gave it before. */
        unsigned char key[32];
        int known = -1;
        bool decide = !sure && q->top != NULL;
        if (decide) {
            match_key(q, objs[i].data, key);
            known = memo_get(key);
        }
        /* Each object is parsed into the scratch arena, so a query holds
         * one parsed object at a time. */
        icalcomponent *vcal = NULL;
        if ((!sure && (!decide || known < 0)) || q->pr.cd.want) {
            vcal = caldav_ical_parse(scratch, objs[i].data,
                                     strlen(objs[i].data));
            if (vcal == NULL)
                continue;
        }
        struct fctx f = { req, vcal, objs[i].data, NULL };
        bool match = !decide || known == 1 ||
                     (known < 0 && comp_filter(&f, q->top, NULL));
        err = f.err;
        if (decide && known < 0 && err == NULL)
            memo_put(key, match);
        if (err == NULL && match)
            err = object_response(req, scratch, &q->cal, &objs[i], vcal,
                                  &q->pr, false, out);
    }
    caldav_floating_zone_set(NULL);
    arena_destroy(scratch);
    return err;
}

static struct dav_err *
report_query(struct dav_req *req, const struct dav_xml_elem *root)
{
    struct dav_target *t = &req->target;
    struct query_pages *q = arena_alloc(req->arena, sizeof(*q));
    q->cal = *t;
    q->only = NULL;
    if (!calendar_target(t)) {
        if (t->area != DAV_AREA_SPACE || t->res.kind != DAV_KIND_FILE)
            return dav_err_new(req, 403, "calendar-query needs a calendar");
        struct dav_err *err = dav_target_parent(req, t, &q->cal);
        if (err != NULL)
            return err;
        if (!calendar_target(&q->cal))
            return dav_err_new(req, 403, "not in a calendar");
        q->only = t->path;
    }
    struct dav_err *err = parse_props(req, root, &q->pr);
    if (err != NULL)
        return err;
    struct dav_xml_elem *filter = dav_elem_child(root, CALDAV_NS, "filter");
    if (filter == NULL)
        return dav_err_cond(req, 400, CALDAV_NS, "valid-filter",
                            "calendar-query needs a filter");
    const char *component;
    struct time_range tr;
    filter_scope(req, filter, &component, &tr);
    q->top = dav_elem_child(filter, CALDAV_NS, "comp-filter");
    q->range_only = range_only(req, q->top);
    const char *zone_text;
    err = floating_zone(req, &q->cal,
                        dav_elem_child(root, CALDAV_NS, "timezone"),
                        &q->zone, &zone_text);
    if (err != NULL)
        return err;
    /* A series is expanded up to max_instances: its answer depends on it
     * (fixed for the process, but not for every server of a process). */
    uint64_t lens[3] = { req->body.len, strlen(zone_text),
                         caldav_max_instances(req) };
    struct sha256 qs;
    sha256_init(&qs);
    sha256_update(&qs, "calendar-query", 15);
    sha256_update(&qs, lens, sizeof(lens));
    sha256_update(&qs, req->body.p, req->body.len);
    sha256_update(&qs, zone_text, strlen(zone_text));
    sha256_final(&qs, q->query_key);
    /* RFC 4791 §7.8: Depth: 0 applies the query to the calendar itself,
     * which is no calendar object: no response.  (Without Depth, the
     * members are searched, as clients that omit it expect.) */
    const char *depth = dav_req_header(req, "Depth");
    if (q->only == NULL && depth != NULL &&
        str_eq_c(str_trim(str_c(depth)), "0")) {
        struct buf b;
        dav_multistatus_begin(req, &b);
        dav_multistatus_end(req, &b);
        return NULL;
    }
    enum dav_store_rc rc = caldav_store->objects_open(
        req, q->cal.res.id, component, tr.set ? tr.start : CALDAV_TIME_MIN,
        tr.set ? tr.end : CALDAV_TIME_MAX,
        !q->range_only || q->pr.cd.want, &q->cur);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "calendar objects");
    struct buf b;
    dav_multistatus_begin(req, &b);
    return dav_multistatus_stream(req, &b, query_page, q);
}

/* ---- calendar-multiget ---------------------------------------------------------- */

/* hrefs of a calendar-multiget looked up, and answered, at once */
#define MULTIGET_PAGE 100

struct multiget_pages {
    const struct dav_target *cal;
    struct props_req pr;
    const char **hrefs;
    const char **paths;          /* in-space path of each, or "" */
    size_t nh;
    size_t next;                 /* first href of the next page */
};

/* Open-addressing tables of strings, for a multiget's hrefs and paths:
 * the capacity for n keys (a power of two, at least twice n, so never
 * full), and the slot of s: where it is, or the empty slot where it
 * would go. */
static size_t
table_cap(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

static size_t
string_slot(const char *const *table, size_t cap, const char *s)
{
    size_t i = (size_t)caldav_fnv1a(s) & (cap - 1);
    while (table[i] != NULL && strcmp(table[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static struct dav_err *
multiget_page(struct dav_req *req, void *state, struct arena *a,
              struct buf *out, bool *done)
{
    struct multiget_pages *m = state;
    size_t from = m->next;
    size_t to = m->nh - from > MULTIGET_PAGE ? from + MULTIGET_PAGE : m->nh;
    struct caldav_object *objs;
    size_t n;
    enum dav_store_rc rc = caldav_store->objects_by_path(
        req, m->cal->res.id, m->paths + from, to - from, a, &objs, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "calendar objects");
    /* The objects found, by path, so that each href is matched in a
     * probe or a few, not by comparing it with every object. */
    size_t cap = table_cap(n);
    const char **keys = arena_alloc(a, cap * sizeof(*keys));
    const struct caldav_object **found = arena_alloc(a, cap * sizeof(*found));
    for (size_t k = 0; k < n; k++) {
        size_t j = string_slot(keys, cap, objs[k].res.path);
        keys[j] = objs[k].res.path;
        found[j] = &objs[k];
    }
    struct arena *scratch = arena_child(a);
    struct dav_err *err = NULL;
    for (size_t i = from; i < to && err == NULL; i++) {
        arena_reset(scratch);
        const struct caldav_object *o =
            found[string_slot(keys, cap, m->paths[i])];
        if (o == NULL)
            dav_ms_status_href(out, m->hrefs[i], 404);
        else
            err = object_response(req, scratch, m->cal, o, NULL, &m->pr,
                                  true, out);
    }
    arena_destroy(scratch);
    m->next = to;
    *done = to == m->nh;
    return err;
}

/* Whether s was seen already among the strings of the table (see
 * table_cap); adds it if not. */
static bool
seen_before(const char **table, size_t cap, const char *s)
{
    size_t i = string_slot(table, cap, s);
    if (table[i] != NULL)
        return true;
    table[i] = s;
    return false;
}

static struct dav_err *
report_multiget(struct dav_req *req, const struct dav_xml_elem *root)
{
    struct dav_target *t = &req->target;
    if (!calendar_target(t))
        return dav_err_new(req, 403, "calendar-multiget needs a calendar");
    struct multiget_pages *m = arena_alloc(req->arena, sizeof(*m));
    m->cal = t;
    struct dav_err *err = parse_props(req, root, &m->pr);
    if (err != NULL)
        return err;
    size_t cap = 16, nh = 0;
    const char **hrefs = arena_alloc(req->arena, cap * sizeof(*hrefs));
    const char **paths = arena_alloc(req->arena, cap * sizeof(*paths));
    for (struct dav_xml_elem *h = dav_elem_first(root); h != NULL;
         h = dav_elem_next(h)) {
        if (!dav_elem_is(h, DAV_NS, "href"))
            continue;
        if (nh == cap) {
            const char **a = arena_alloc(req->arena, 2 * cap * sizeof(*a));
            const char **p = arena_alloc(req->arena, 2 * cap * sizeof(*p));
            memcpy(a, hrefs, cap * sizeof(*a));
            memcpy(p, paths, cap * sizeof(*p));
            hrefs = a;
            paths = p;
            cap *= 2;
        }
        const char *href = str_trim(str_c(dav_elem_text(req, h))).p;
        hrefs[nh] = href;
        struct dav_target ht;
        paths[nh] = "";
        /* Only objects of this very calendar, through the same URL form. */
        if (dav_url_to_target(req, href, &ht) && ht.cal_name != NULL &&
            t->cal_name != NULL && strcmp(ht.cal_name, t->cal_name) == 0 &&
            strcmp(ht.cal_user, t->cal_user) == 0 && ht.path[0] == '/')
            paths[nh] = arena_printf(req->arena, "%s%s", t->base_path,
                                     ht.path);
        nh++;
    }
    if (nh == 0)
        return dav_err_new(req, 400, "calendar-multiget without href");
    /* Each object once, however often it is named (every answer may be
     * max_resource_size long); and no more than a listing may show. */
    size_t tcap = table_cap(nh);
    const char **table = arena_alloc(req->arena, tcap * sizeof(*table));
    size_t kept = 0;
    for (size_t i = 0; i < nh; i++) {
        if (seen_before(table, tcap, hrefs[i]))
            continue;
        hrefs[kept] = hrefs[i];
        paths[kept] = paths[i];
        kept++;
    }
    nh = kept;
    if (nh > dav_max_members(req))
        return dav_err_cond(req, 403, DAV_NS,
                            "number-of-matches-within-limits",
                            "calendar-multiget of %zu objects", nh);
    m->hrefs = hrefs;
    m->paths = paths;
    m->nh = nh;
    m->next = 0;
    struct buf b;
    dav_multistatus_begin(req, &b);
    return dav_multistatus_stream(req, &b, multiget_page, m);
}

/* ---- free-busy-query ------------------------------------------------------------ */

struct fb_ctx {
    icalcomponent *vcal;
    icalcomponent *fb;
    int64_t qs, qe;
    size_t left;       /* busy periods the report may still add */
    bool over;         /* it wanted more */
};

/* One busy period [start, end) of the answer, clipped to the query,
 * with its FBTYPE (BUSY when fbtype is ICAL_FBTYPE_BUSY or none). */
static bool
busy_add(struct fb_ctx *f, int64_t start, int64_t end,
         icalparameter_fbtype fbtype)
{
    if (end <= start || start >= f->qe || end <= f->qs)
        return true;
    if (f->left == 0) {
        f->over = true;
        return false;
    }
    f->left--;
    int64_t s = start < f->qs ? f->qs : start;
    int64_t e = end > f->qe ? f->qe : end;
    struct icalperiodtype p;
    memset(&p, 0, sizeof(p));
    p.start = utc_time(s);
    p.end = utc_time(e);
    p.duration = icaldurationtype_null_duration();
    icalproperty *fbp = icalproperty_new_freebusy(p);
    if (fbtype != ICAL_FBTYPE_BUSY && fbtype != ICAL_FBTYPE_NONE)
        icalproperty_add_parameter(fbp, icalparameter_new_fbtype(fbtype));
    icalcomponent_add_property(f->fb, fbp);
    return true;
}

static bool
busy_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
        int64_t rid)
{
    struct fb_ctx *f = ctx;
    (void)rid;
    icalproperty *tp = icalcomponent_get_first_property(comp,
                                                        ICAL_TRANSP_PROPERTY);
    if (tp != NULL && icalproperty_get_transp(tp) == ICAL_TRANSP_TRANSPARENT)
        return true;
    icalproperty_status st = icalcomponent_get_status(comp);
    if (st == ICAL_STATUS_CANCELLED)
        return true;
    return busy_add(f, start, end,
                    st == ICAL_STATUS_TENTATIVE ? ICAL_FBTYPE_BUSYTENTATIVE
                                                : ICAL_FBTYPE_BUSY);
}

/* RFC 4791 §7.10: the FREEBUSY periods of the VFREEBUSY components of
 * f->vcal that are not FBTYPE=FREE, with their FBTYPE. */
static bool
stored_busy(struct fb_ctx *f)
{
    for (icalcomponent *c = icalcomponent_get_first_component(
             f->vcal, ICAL_VFREEBUSY_COMPONENT);
         c != NULL;
         c = icalcomponent_get_next_component(f->vcal,
                                              ICAL_VFREEBUSY_COMPONENT)) {
        for (icalproperty *p = icalcomponent_get_first_property(
                 c, ICAL_FREEBUSY_PROPERTY);
             p != NULL;
             p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
            icalparameter *fp = icalproperty_get_first_parameter(
                p, ICAL_FBTYPE_PARAMETER);
            icalparameter_fbtype type = fp != NULL
                                            ? icalparameter_get_fbtype(fp)
                                            : ICAL_FBTYPE_BUSY;
            if (type == ICAL_FBTYPE_FREE)
                continue;
            int64_t s, e;
            caldav_freebusy_period(f->vcal, p, &s, &e);
            if (!busy_add(f, s, e, type))
                return false;
        }
    }
    return true;
}

/* The busy periods of the objects of component 'kind' (VEVENT or
 * VFREEBUSY) that the index puts in the query's range, a page of
 * candidates at a time, each parsed in turn: memory holds one page and
 * one parsed object, and the busy periods. */
static enum dav_store_rc
busy_of(struct dav_req *req, icalcomponent_kind kind, struct fb_ctx *f)
{
    struct caldav_cursor *cur;
    enum dav_store_rc rc = caldav_store->objects_open(
        req, req->target.res.id, icalcomponent_kind_to_string(kind), f->qs,
        f->qe, true, &cur);
    if (rc != DAV_STORE_OK)
        return rc;
    struct arena *page = arena_child(req->arena);
    struct arena *scratch = arena_child(req->arena);
    for (bool last = false; !last && !f->over && rc == DAV_STORE_OK;) {
        arena_reset(page);
        struct caldav_object *objs;
        size_t n;
        rc = caldav_store->objects_next(req, cur, page, &objs, &n, &last);
        for (size_t i = 0; rc == DAV_STORE_OK && i < n && !f->over; i++) {
            arena_reset(scratch);
            /* What one may not read is not counted either. */
            struct dav_target ot;
            object_target(&req->target, &objs[i], &ot);
            if (dav_check_priv(req, &ot, DAV_PRIV_READ_FREE_BUSY) != NULL)
                continue;
            f->vcal = caldav_ical_parse(scratch, objs[i].data,
                                        strlen(objs[i].data));
            if (f->vcal == NULL)
                continue;
            bool ok = kind == ICAL_VFREEBUSY_COMPONENT
                          ? stored_busy(f)
                          : caldav_instances(f->vcal, kind, f->qs, f->qe,
                                             caldav_max_instances(req),
                                             busy_cb, f);
            if (!ok)
                f->over = true;
        }
    }
    arena_destroy(scratch);
    arena_destroy(page);
    return rc;
}

static struct dav_err *
report_freebusy(struct dav_req *req, const struct dav_xml_elem *root)
{
    struct dav_target *t = &req->target;
    if (!calendar_target(t))
        return dav_err_new(req, 403, "free-busy-query needs a calendar");
    struct dav_xml_elem *tre = dav_elem_child(root, CALDAV_NS, "time-range");
    if (tre == NULL)
        return dav_err_new(req, 400, "free-busy-query needs a time-range");
    /* RFC 4791 §7.10: the VFREEBUSY answered spans the time-range, from
     * DTSTART to DTEND: both ends are needed. */
    struct time_range tr;
    struct dav_err *err = parse_full_range(req, tre, &tr);
    if (err != NULL)
        return err;
    /* RFC 4791 §7.3: the calendar's zone only, for a free-busy-query. */
    icaltimezone *zone;
    const char *zone_text;
    err = floating_zone(req, t, NULL, &zone, &zone_text);
    if (err != NULL)
        return err;
    icalcomponent *out = icalcomponent_new_vcalendar();
    icalcomponent_add_property(out, icalproperty_new_version("2.0"));
    icalcomponent_add_property(out,
                               icalproperty_new_prodid("-//Parvis//CalDAV//EN"));
    icalcomponent *fb = icalcomponent_new_vfreebusy();
    icalcomponent_add_property(fb, icalproperty_new_dtstamp(
                                       utc_time((int64_t)time(NULL))));
    icalcomponent_add_property(fb, icalproperty_new_dtstart(utc_time(tr.start)));
    icalcomponent_add_property(fb, icalproperty_new_dtend(utc_time(tr.end)));
    icalcomponent_add_component(out, fb);
    struct fb_ctx f = { NULL, fb, tr.start, tr.end,
                        caldav_max_instances(req), false };
    /* RFC 4791 §7.10: the events' busy time, and the periods of the
     * VFREEBUSY components stored in the calendar. */
    caldav_floating_zone_set(zone);
    enum dav_store_rc rc = busy_of(req, ICAL_VEVENT_COMPONENT, &f);
    if (rc == DAV_STORE_OK && !f.over)
        rc = busy_of(req, ICAL_VFREEBUSY_COMPONENT, &f);
    caldav_floating_zone_set(NULL);
    if (rc != DAV_STORE_OK) {
        icalcomponent_free(out);   /* and fb with it */
        return dav_err_from_store(req, rc, "calendar objects");
    }
    if (f.over) {
        icalcomponent_free(out);   /* and fb with it */
        return too_many_instances(req);
    }
    char *text = icalcomponent_as_ical_string_r(out);
    if (text != NULL)
        arena_defer(req->arena, ical_buffer_free_cb, text);
    icalcomponent_free(out);
    dav_respond(req, 200, "text/calendar; charset=utf-8", text,
                text != NULL ? strlen(text) : 0);
    return NULL;
}

static const struct dav_report_def caldav_reports[] = {
    { CALDAV_NS, "calendar-query", DAV_PRIV_READ, DAV_R_DEPTH_OK,
      report_query },
    { CALDAV_NS, "calendar-multiget", DAV_PRIV_READ, DAV_R_DEPTH_OK,
      report_multiget },
    { CALDAV_NS, "free-busy-query", DAV_PRIV_READ_FREE_BUSY,
      DAV_R_DEPTH_OK, report_freebusy },
};

void
caldav_reports_register(struct dav_registry *r)
{
    dav_registry_add_reports(r, caldav_reports,
                             sizeof(caldav_reports) / sizeof(caldav_reports[0]));
}
