/*
 * dav/props.c -- live properties of the DAV core, PROPFIND and PROPPATCH
 * (RFC 4918 §9.1, §9.2, §15).
 *
 * A PROPFIND costs a few store calls (the lookup; for a listing, a count,
 * the target's dead properties and the locks) and then one query per page
 * of members, two when their dead properties are asked.  Members the
 * principal may not read are left out (DESIGN.md "Access control").
 *
 * A Depth 1 listing of a collection of a space streams: members are read
 * page by page from one snapshot and written out as each page is done, so
 * memory does not grow with the collection (dav_ms_stream).  Listings of
 * the virtual collections (principals, calendar homes, views) are built
 * in memory: they hold few members, or are bounded otherwise.
 *
 * Known limits: Depth: infinity is refused (RFC 4918 §9.1 allows it,
 * with DAV:propfind-finite-depth); a Depth 1 listing of more than
 * max_propfind_members members is refused too (403
 * DAV:number-of-matches-within-limits), before the first byte.
 */
#include "dav/dav_int.h"

#include "core/lcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- live property getters ---------------------------------------------- */

/* Targets backed by a resource of a space (views included). */
static bool
is_space(const struct dav_target *t)
{
    return t->area == DAV_AREA_SPACE || t->area == DAV_AREA_HISTORY ||
           t->area == DAV_AREA_PUBLISHED || t->area == DAV_AREA_APPROVALS;
}

static bool
get_resourcetype(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (t->area == DAV_AREA_PRINCIPAL_USER ||
        t->area == DAV_AREA_PRINCIPAL_SPACE)
        buf_puts(out, "<D:principal/>");
    else if (!is_space(t) || t->res.kind == DAV_KIND_COLLECTION)
        buf_puts(out, "<D:collection/>");
    if (req->srv->reg->restype != NULL)
        req->srv->reg->restype(req, t, out);
    return true;
}

static bool
get_creationdate(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_space(t))
        return false;
    char d[21];
    rfc3339_format(t->res.created, d);
    buf_puts(out, d);
    return true;
}

static bool
get_displayname(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    const char *name;
    switch (t->area) {
    case DAV_AREA_ROOT:
        name = "Parvis";
        break;
    case DAV_AREA_DAVROOT:
        name = "dav";
        break;
    case DAV_AREA_SPACES:
        name = "spaces";
        break;
    case DAV_AREA_PRINCIPALS:
        name = "principals";
        break;
    case DAV_AREA_PRINCIPAL_USERS:
        name = "users";
        break;
    case DAV_AREA_PRINCIPAL_SPACES:
        name = "spaces";
        break;
    case DAV_AREA_PRINCIPAL_USER:
        name = t->user.display_name != NULL && t->user.display_name[0] != '\0'
                   ? t->user.display_name
                   : t->slug;
        break;
    case DAV_AREA_PRINCIPAL_SPACE:
        name = t->space.title;
        break;
    case DAV_AREA_CALENDARS:
        name = "calendars";
        break;
    case DAV_AREA_CAL_HOME:
        name = t->cal_user;
        break;
    case DAV_AREA_SPACE:
    default:
        if (t->flat_name != NULL)
            name = t->flat_name; /* a revision, or an approvals entry */
        else if (t->res.trashed_from != NULL)
            name = t->res.trashed_from[0] == '/' ? strrchr(
                                                       t->res.trashed_from,
                                                       '/') + 1
                                                 : t->res.trashed_from;
        else
            name = t->path[0] == '\0' ? t->space.title : t->res.name;
        break;
    }
    if (name == NULL)
        return false;
    buf_xml_escape(out, name, strlen(name));
    return true;
}

static bool
get_contentlength(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_space(t) || t->res.kind != DAV_KIND_FILE)
        return false;
    buf_printf(out, "%lld", (long long)t->res.size);
    return true;
}

static bool
get_contenttype(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_space(t) || t->res.kind != DAV_KIND_FILE)
        return false;
    const char *ct = t->res.content_type != NULL ? t->res.content_type
                                                 : "application/octet-stream";
    buf_xml_escape(out, ct, strlen(ct));
    return true;
}

static bool
get_etag(struct dav_req *req, struct arena *a, const struct dav_target *t,
         struct buf *out)
{
    (void)req;
    if (!is_space(t))
        return false;
    const char *e = dav_etag_of(a, &t->res);
    buf_xml_text(out, e, strlen(e));
    return true;
}

static bool
get_lastmodified(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_space(t))
        return false;
    char d[30];
    /* RFC 4918 §15.7: the Last-Modified a GET would answer. */
    http_date_format(dav_last_modified(&t->res), d);
    buf_puts(out, d);
    return true;
}

/* RFC 4331: quota of the space, on every collection of it. */
static bool
quota_load(struct dav_req *req, const struct dav_target *t)
{
    if (t->area != DAV_AREA_SPACE || t->res.kind != DAV_KIND_COLLECTION)
        return false;
    if (!req->quota_loaded) {
        enum dav_store_rc rc = req->srv->store->quota_get(
            req, t->space.id, &req->quota_used, &req->quota_limit,
            &req->quota_free);
        if (rc != DAV_STORE_OK)
            return false;
        req->quota_loaded = true;
    }
    return true;
}

static bool
get_quota_used(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (!quota_load(req, t))
        return false;
    buf_printf(out, "%lld", (long long)req->quota_used);
    return true;
}

static bool
get_quota_available(struct dav_req *req, struct arena *a,
                    const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (!quota_load(req, t))
        return false;
    int64_t avail;
    if (req->quota_limit >= 0) {
        avail = req->quota_limit - req->quota_used;
        if (avail < 0)
            avail = 0;
        if (req->quota_free >= 0 && req->quota_free < avail)
            avail = req->quota_free;
    } else if (req->quota_free >= 0) {
        avail = req->quota_free;
    } else {
        return false;
    }
    buf_printf(out, "%lld", (long long)avail);
    return true;
}

/* Windows Mini-Redirector properties (CLIENTS.md §1 item 3). */
#define MS_NS "urn:schemas-microsoft-com:"

static bool
get_win32_attributes(struct dav_req *req, struct arena *a,
                     const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_space(t))
        return false;
    /* FILE_ATTRIBUTE_DIRECTORY or FILE_ATTRIBUTE_ARCHIVE */
    buf_puts(out, t->res.kind == DAV_KIND_COLLECTION ? "00000010"
                                                     : "00000020");
    return true;
}

static struct dav_err *
set_win32_mtime(struct dav_req *req, const struct dav_target *t,
                const char *value)
{
    time_t when;
    if (value == NULL || !http_date_parse(str_trim(str_c(value)), &when))
        return NULL; /* kept as given; the shown time stays */
    enum dav_store_rc rc = req->srv->store->mtime_set(req, &t->res, when);
    return dav_err_from_store(req, rc, "mtime");
}

static const struct dav_prop_def dav_live_props[] = {
    { DAV_NS, "resourcetype", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_resourcetype, NULL },
    { DAV_NS, "creationdate", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_creationdate, NULL },
    /* RFC 4918 §15.2: displayname is not protected; a dead value set by
     * PROPPATCH takes precedence over the computed one. */
    { DAV_NS, "displayname", DAV_P_ALLPROP, get_displayname, NULL },
    { DAV_NS, "getcontentlength", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_contentlength, NULL },
    { DAV_NS, "getcontenttype", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_contenttype, NULL },
    { DAV_NS, "getetag", DAV_P_PROTECTED | DAV_P_ALLPROP, get_etag, NULL },
    { DAV_NS, "getlastmodified", DAV_P_PROTECTED | DAV_P_ALLPROP,
      get_lastmodified, NULL },
    { DAV_NS, "quota-available-bytes", DAV_P_PROTECTED, get_quota_available, NULL },
    { DAV_NS, "quota-used-bytes", DAV_P_PROTECTED, get_quota_used, NULL },
    { MS_NS, "Win32FileAttributes", 0, get_win32_attributes, NULL },
    { MS_NS, "Win32LastModifiedTime", 0, NULL, set_win32_mtime },
};

void
dav_props_register(struct dav_registry *r)
{
    dav_registry_add_props(r, dav_live_props,
                           sizeof(dav_live_props) / sizeof(dav_live_props[0]));
}

/* ---- PROPFIND ---------------------------------------------------------------- */

enum pf_kind { PF_ALLPROP, PF_PROPNAME, PF_PROP };

struct pf_name {
    const char *ns;
    const char *name;
};

struct pf_request {
    enum pf_kind kind;
    bool compact;            /* leave out what the client never reads */
    struct pf_name *names;   /* PF_PROP, or allprop's include */
    size_t nnames;
};

static unsigned
max_props(const struct dav_req *req)
{
    return req->srv->max_props > 0 ? req->srv->max_props : DAV_DEFAULT_PROPS;
}

static struct dav_err *
too_many_props(struct dav_req *req)
{
    return dav_err_new(req, 413, "more than %u properties in one request",
                       max_props(req));
}

struct dav_err *
dav_prop_names(struct dav_req *req, const struct dav_xml_elem *prop,
               const char ***names, size_t *nnames)
{
    size_t n = 0;
    for (struct dav_xml_elem *p = dav_elem_first(prop); p != NULL;
         p = dav_elem_next(p))
        n++;
    if (n > max_props(req))
        return too_many_props(req);
    const char **v = arena_alloc(req->arena, (2 * n + 1) * sizeof(*v));
    size_t k = 0;
    for (struct dav_xml_elem *p = dav_elem_first(prop); p != NULL;
         p = dav_elem_next(p)) {
        v[k++] = dav_elem_ns(p);
        v[k++] = dav_elem_name(p);
    }
    *names = v;
    *nnames = k;
    return NULL;
}

static struct dav_err *
parse_propfind(struct dav_req *req, struct pf_request *pf)
{
    xmlDocPtr doc;
    struct dav_err *err = dav_xml_parse(req, &doc);
    pf->kind = PF_ALLPROP;
    if (err != NULL || doc == NULL)
        return err;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!dav_xml_is(root, DAV_NS, "propfind"))
        return dav_err_new(req, 400, "expected DAV:propfind");
    xmlNode *c = dav_xml_first_elem(root);
    if (c == NULL)
        return dav_err_new(req, 400, "empty DAV:propfind");
    xmlNode *props = NULL;
    if (dav_xml_is(c, DAV_NS, "allprop")) {
        pf->kind = PF_ALLPROP;
        xmlNode *inc = dav_xml_next_elem(c);
        if (dav_xml_is(inc, DAV_NS, "include"))
            props = inc;
    } else if (dav_xml_is(c, DAV_NS, "propname")) {
        pf->kind = PF_PROPNAME;
    } else if (dav_xml_is(c, DAV_NS, "prop")) {
        pf->kind = PF_PROP;
        props = c;
    } else {
        return dav_err_new(req, 400, "unknown PROPFIND element");
    }
    if (props == NULL)
        return NULL;
    size_t n = 0;
    for (xmlNode *p = dav_xml_first_elem(props); p; p = dav_xml_next_elem(p))
        n++;
    if (n > max_props(req))
        return too_many_props(req);
    pf->names = arena_alloc(req->arena, (n + 1) * sizeof(*pf->names));
    for (xmlNode *p = dav_xml_first_elem(props); p; p = dav_xml_next_elem(p)) {
        pf->names[pf->nnames].ns = arena_strdup(req->arena, dav_xml_ns(p));
        pf->names[pf->nnames].name =
            arena_strdup(req->arena, (const char *)p->name);
        pf->nnames++;
    }
    return NULL;
}

struct pf_member {
    struct dav_target t;
    struct dav_dead_prop *dead;
    size_t ndead;
};

/* Whether allprop leaves a stored value of a property of this definition
 * (NULL: not known by name) to the registry: listed by it (DAV_P_ALLPROP),
 * or protected.  Otherwise the value is given as stored. */
static bool
allprop_lists(const struct dav_prop_def *d)
{
    return d != NULL && (d->flags & (DAV_P_ALLPROP | DAV_P_PROTECTED)) != 0;
}

static const struct dav_dead_prop *
find_dead(const struct pf_member *m, const char *ns, const char *name)
{
    for (size_t i = 0; i < m->ndead; i++)
        if (strcmp(m->dead[i].name, name) == 0 &&
            strcmp(m->dead[i].ns, ns) == 0)
            return &m->dead[i];
    return NULL;
}

static void
emit_live(struct buf *b, const struct dav_prop_def *d, struct buf *val)
{
    if (val->len == 0) {
        dav_xml_open(b, d->ns, d->name, true);
        return;
    }
    dav_xml_open(b, d->ns, d->name, false);
    buf_append(b, val->p, val->len);
    dav_xml_close(b, d->ns, d->name);
}

/*
 * One property of one member: a protected live property is computed; a
 * writable one shows its stored value if it has one, else its computed
 * value; anything else is a dead property.  Unknown ones go to 'missing'
 * (NULL: dropped silently, for allprop).
 */
static void
emit_one(struct dav_req *req, struct arena *scratch, struct buf *ok,
         struct buf *missing, const struct pf_member *m,
         const struct dav_prop_def *d, const char *ns, const char *name,
         struct buf *val)
{
    const struct dav_dead_prop *dp = find_dead(m, ns, name);
    if (dp != NULL && (d == NULL || (d->flags & DAV_P_PROTECTED) == 0)) {
        dav_xml_put_stored(ok, dp->xml);
        return;
    }
    val->len = 0;
    if (d != NULL && d->get != NULL && d->get(req, scratch, &m->t, val)) {
        emit_live(ok, d, val);
        return;
    }
    if (missing != NULL)
        dav_xml_open(missing, ns, name, true);
}

static void
emit_member(struct dav_req *req, struct arena *scratch, struct buf *b,
            const struct pf_member *m, const struct pf_request *pf)
{
    const struct dav_registry *reg = req->srv->reg;
    const char *href = dav_href_of(req, scratch, &m->t);
    struct buf ok, missing, val;
    buf_init(&ok, scratch, 1024);
    buf_init(&missing, scratch, 64);
    buf_init(&val, scratch, 256);

    if (pf->kind == PF_PROPNAME) {
        for (size_t i = 0; i < reg->nprops; i++) {
            const struct dav_prop_def *d = reg->props[i];
            val.len = 0;
            if (find_dead(m, d->ns, d->name) != NULL ||
                (d->get != NULL && d->get(req, scratch, &m->t, &val)))
                dav_xml_open(&ok, d->ns, d->name, true);
        }
        for (size_t i = 0; i < m->ndead; i++)
            if (dav_registry_prop(reg, m->dead[i].ns, m->dead[i].name) == NULL)
                dav_xml_open(&ok, m->dead[i].ns, m->dead[i].name, true);
    } else if (pf->kind == PF_ALLPROP) {
        for (size_t i = 0; i < reg->nprops; i++) {
            const struct dav_prop_def *d = reg->props[i];
            if ((d->flags & DAV_P_ALLPROP) == 0)
                continue;
            if (pf->compact && (strcmp(d->name, "supportedlock") == 0 ||
                                (strcmp(d->name, "lockdiscovery") == 0 &&
                                 m->t.nlocks == 0)))
                continue;
            emit_one(req, scratch, &ok, NULL, m, d, d->ns, d->name, &val);
        }
        /* Every dead property (RFC 4918 §9.1), those known by name but
         * not listed by allprop (Win32 times, calendar colours) too. */
        for (size_t i = 0; i < m->ndead; i++)
            if (!allprop_lists(dav_registry_prop(reg, m->dead[i].ns,
                                                 m->dead[i].name)))
                dav_xml_put_stored(&ok, m->dead[i].xml);
    }
    /* Named properties: PF_PROP, or allprop's DAV:include. */
    for (size_t i = 0; i < pf->nnames; i++) {
        const struct pf_name *n = &pf->names[i];
        const struct dav_prop_def *d = dav_registry_prop(reg, n->ns, n->name);
        if (pf->kind == PF_ALLPROP &&
            ((d != NULL && (d->flags & DAV_P_ALLPROP) != 0) ||
             (!allprop_lists(d) && find_dead(m, n->ns, n->name) != NULL)))
            continue; /* already there */
        emit_one(req, scratch, &ok, &missing, m, d, n->ns, n->name, &val);
    }

    buf_puts(b, "<D:response><D:href>");
    buf_xml_text(b, href, strlen(href));
    buf_puts(b, "</D:href>");
    if (ok.len > 0 || missing.len == 0) {
        buf_puts(b, "<D:propstat><D:prop>");
        buf_append(b, ok.p, ok.len);
        buf_puts(b, "</D:prop><D:status>");
        buf_puts(b, dav_status_line(200));
        buf_puts(b, "</D:status></D:propstat>");
    }
    if (missing.len > 0) {
        buf_puts(b, "<D:propstat><D:prop>");
        buf_append(b, missing.p, missing.len);
        buf_puts(b, "</D:prop><D:status>");
        buf_puts(b, dav_status_line(404));
        buf_puts(b, "</D:status></D:propstat>");
    }
    buf_puts(b, "</D:response>");
}

static int
member_cmp(const void *x, const void *y)
{
    const struct pf_member *a = *(struct pf_member *const *)x;
    const struct pf_member *b = *(struct pf_member *const *)y;
    if (a->t.space.id != b->t.space.id)
        return a->t.space.id < b->t.space.id ? -1 : 1;
    if (a->t.res.id != b->t.res.id)
        return a->t.res.id < b->t.res.id ? -1 : 1;
    return 0;
}

/* Does the request need dead properties at all? */
static bool
needs_dead(const struct dav_req *req, const struct pf_request *pf)
{
    if (pf->kind != PF_PROP)
        return true;
    for (size_t i = 0; i < pf->nnames; i++) {
        const struct dav_prop_def *d =
            dav_registry_prop(req->srv->reg, pf->names[i].ns,
                              pf->names[i].name);
        if (d == NULL || (d->flags & DAV_P_PROTECTED) == 0)
            return true;
    }
    return false;
}

/* Does the request ask for a property computed from locks? */
static bool
needs_locks(const struct dav_req *req, const struct pf_request *pf)
{
    if (pf->kind == PF_ALLPROP)
        return true;
    for (size_t i = 0; i < pf->nnames; i++) {
        const struct dav_prop_def *d =
            dav_registry_prop(req->srv->reg, pf->names[i].ns,
                              pf->names[i].name);
        if (d != NULL && (d->flags & DAV_P_LOCKS) != 0)
            return true;
    }
    return false;
}

static struct pf_member *
virtual_member(struct dav_req *req, enum dav_area area)
{
    struct pf_member *m = arena_alloc(req->arena, sizeof(*m));
    m->t.area = area;
    m->t.path = "";
    m->t.exists = true;
    m->t.res.kind = DAV_KIND_COLLECTION;
    return m;
}

static struct dav_err *
virtual_children(struct dav_req *req, struct pf_member **out, size_t *n)
{
    const struct dav_store_ops *st = req->srv->store;
    const struct dav_target *t = &req->target;
    int64_t me = req->principal->id;
    *n = 0;
    *out = NULL;
    switch (t->area) {
    case DAV_AREA_ROOT:
        *out = virtual_member(req, DAV_AREA_DAVROOT);
        *n = 1;
        return NULL;
    case DAV_AREA_DAVROOT: {
        struct pf_member *m = arena_alloc(req->arena, 3 * sizeof(*m));
        m[0] = *virtual_member(req, DAV_AREA_SPACES);
        m[1] = *virtual_member(req, DAV_AREA_PRINCIPALS);
        m[2] = *virtual_member(req, DAV_AREA_CALENDARS);
        *out = m;
        *n = 3;
        return NULL;
    }
    case DAV_AREA_PRINCIPALS: {
        struct pf_member *m = arena_alloc(req->arena, 2 * sizeof(*m));
        m[0] = *virtual_member(req, DAV_AREA_PRINCIPAL_USERS);
        m[1] = *virtual_member(req, DAV_AREA_PRINCIPAL_SPACES);
        *out = m;
        *n = 2;
        return NULL;
    }
    case DAV_AREA_CALENDARS: {
        struct pf_member *m = virtual_member(req, DAV_AREA_CAL_HOME);
        m->t.cal_user = req->principal->name;
        *out = m;
        *n = 1;
        return NULL;
    }
    case DAV_AREA_CAL_HOME: {
        struct dav_calendar_ref *cals;
        size_t nc;
        enum dav_store_rc rc = st->calendars_of_user(req, me, &cals, &nc);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "calendars");
        struct pf_member *m = arena_alloc(req->arena, (nc + 1) * sizeof(*m));
        size_t k = 0;
        for (size_t i = 0; i < nc; i++) {
            struct dav_target *c = &m[k].t;
            memset(&m[k], 0, sizeof(m[k]));
            c->area = DAV_AREA_SPACE;
            c->space = cals[i].space;
            c->slug = cals[i].space.slug;
            c->res = cals[i].res;
            c->path = cals[i].res.path;
            c->exists = true;
            c->cal_user = req->principal->name;
            c->cal_name = cals[i].personal
                              ? cals[i].name
                              : arena_printf(req->arena, "%s.%s",
                                             cals[i].space.slug,
                                             cals[i].name);
            c->base_path = cals[i].res.path;
            c->url_base = dav_calendar_url(req->arena, c->cal_user,
                                           c->cal_name);
            if (dav_check_priv(req, c, DAV_PRIV_READ) != NULL)
                continue;
            k++;
        }
        *out = m;
        *n = k;
        return NULL;
    }
    case DAV_AREA_PRINCIPAL_USERS: {
        struct dav_user *u;
        size_t nu;
        enum dav_store_rc rc = st->users_visible(req, me, NULL, &u, &nu);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "users");
        struct pf_member *m = arena_alloc(req->arena, (nu + 1) * sizeof(*m));
        for (size_t i = 0; i < nu; i++) {
            m[i] = *virtual_member(req, DAV_AREA_PRINCIPAL_USER);
            m[i].t.slug = u[i].name;
            m[i].t.user = u[i];
        }
        *out = m;
        *n = nu;
        return NULL;
    }
    case DAV_AREA_SPACES:
    case DAV_AREA_PRINCIPAL_SPACES: {
        struct dav_space *spaces;
        size_t ns;
        enum dav_store_rc rc = st->spaces_of_user(req, me, &spaces, &ns);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "spaces");
        struct pf_member *m = arena_alloc(req->arena, (ns + 1) * sizeof(*m));
        size_t k = 0;
        for (size_t i = 0; i < ns; i++) {
            bool principal = t->area == DAV_AREA_PRINCIPAL_SPACES;
            if (principal && spaces[i].role[0] == '\0')
                continue; /* not a member: no group principal for them */
            m[k] = *virtual_member(req, principal ? DAV_AREA_PRINCIPAL_SPACE
                                                  : DAV_AREA_SPACE);
            m[k].t.slug = spaces[i].slug;
            m[k].t.space = spaces[i];
            if (!principal) {
                rc = st->lookup(req, spaces[i].id, "", false, &m[k].t.res);
                if (rc == DAV_STORE_NOTFOUND)
                    continue;
                if (rc != DAV_STORE_OK)
                    return dav_err_from_store(req, rc, "space root");
                /* A space reached only through entries below its root is
                 * listed only if its root is readable. */
                if (dav_check_priv(req, &m[k].t, DAV_PRIV_READ) != NULL)
                    continue;
            }
            k++;
        }
        *out = m;
        *n = k;
        return NULL;
    }
    case DAV_AREA_HISTORY:
    case DAV_AREA_PUBLISHED:
    case DAV_AREA_APPROVALS: {
        struct dav_target *ts;
        size_t nt;
        struct dav_err *err = dav_view_children(req, t, &ts, &nt);
        if (err != NULL)
            return err;
        struct pf_member *m = arena_alloc(req->arena, (nt + 1) * sizeof(*m));
        for (size_t i = 0; i < nt; i++)
            m[i].t = ts[i];
        *out = m;
        *n = nt;
        return NULL;
    }
    default:
        return NULL;
    }
}

/* RFC 4918 defines no paging; RFC 3744 §9.4 and RFC 4791 §7.8 name this
 * precondition for an answer with too many members.  The same bound holds
 * for the resources one COPY makes. */
unsigned
dav_max_members(const struct dav_req *req)
{
    return req->srv->max_propfind_members > 0
               ? req->srv->max_propfind_members
               : DAV_DEFAULT_PROPFIND_MEMBERS;
}

static struct dav_err *
too_many_members(struct dav_req *req, size_t n)
{
    return dav_err_cond(req, 403, DAV_NS, "number-of-matches-within-limits",
                        "%zu members, over max_propfind_members (%u)", n,
                        dav_max_members(req));
}

/* ---- Depth 1 listing of a collection of a space ------------------------ */

/*
 * The members come from the store page by page and go out as each page is
 * written (dav_ms_stream), so that memory stays bounded by a page however
 * large the collection: each page brings its members' dead properties,
 * and the locks below the collection, read once before, are assigned per
 * page.
 */
struct pf_listing {
    const struct pf_request *pf;
    const struct dav_target *parent;
    struct dav_store_cursor *cur;
    bool with_locks;
    struct dav_lock *locks;    /* on the collection and below */
    size_t nlocks;
    struct arena *scratch;     /* one member's */
};

static struct dav_err *
listing_page(struct dav_req *req, void *state, struct arena *a,
             struct buf *out, bool *done)
{
    struct pf_listing *ls = state;
    const struct dav_target *t = ls->parent;
    struct dav_store_member *rows;
    size_t n;
    enum dav_store_rc rc = req->srv->store->children_next(req, ls->cur, a,
                                                          &rows, &n, done);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "children");
    /* Every field used is set below: not zeroed first. */
    struct pf_member *kids = arena_alloc_raw(a, (n + 1) * sizeof(*kids));
    struct dav_target **ts = arena_alloc_raw(a, (n + 1) * sizeof(*ts));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        kids[k].t = *t;
        kids[k].t.path = rows[i].res.path;
        kids[k].t.res = rows[i].res;
        kids[k].t.exists = true;
        kids[k].dead = rows[i].dead;
        kids[k].ndead = rows[i].ndead;
        /* Per-member access check: unreadable members vanish. */
        if (dav_member_hidden(req, &rows[i].res) ||
            (t->cal_name == NULL && dav_reserved_path(rows[i].res.path)) ||
            dav_check_priv(req, &kids[k].t, DAV_PRIV_READ) != NULL)
            continue;
        ts[k] = &kids[k].t;
        k++;
    }
    if (ls->with_locks)
        dav_locks_assign(a, ls->locks, ls->nlocks, ts, k);
    for (size_t i = 0; i < k; i++) {
        arena_reset(ls->scratch);
        emit_member(req, ls->scratch, out, &kids[i], ls->pf);
    }
    return NULL;
}

/* ---- the listing cache (core/lcache.c, decision 0026) ------------------ */

static void
key_add(struct sha256 *s, const void *p, size_t n)
{
    uint64_t len = n;
    sha256_update(s, &len, sizeof(len));
    if (n > 0)
        sha256_update(s, p, n);
}

/*
 * The cache key of this PROPFIND's answer, if it may be kept: everything
 * the answer is computed from besides the database.  Not quota-available-
 * bytes, which follows the disk's free space too; nor, below, an answer
 * showing a lock, whose timeout counts down.  'kind' tells a listing's
 * key (decision 0026) from a Depth 0 answer's (0029).
 */
static bool
answer_key(struct dav_req *req, const struct pf_request *pf,
           const char *kind, unsigned char key[32])
{
    if (req->principal == NULL)
        return false;
    for (size_t i = 0; i < pf->nnames; i++)
        if (strcmp(pf->names[i].ns, DAV_NS) == 0 &&
            strcmp(pf->names[i].name, "quota-available-bytes") == 0)
            return false;
    const char *depth = dav_req_header(req, "Depth");
    int64_t who[3] = { req->principal->id, req->app_password_id,
                       req->principal->guest };
    bool compact = pf->compact;
    struct sha256 s;
    sha256_init(&s);
    key_add(&s, kind, strlen(kind));
    key_add(&s, who, sizeof(who));
    key_add(&s, req->url, strlen(req->url));
    key_add(&s, depth != NULL ? depth : "", depth != NULL ? strlen(depth) : 0);
    key_add(&s, &compact, sizeof(compact));
    key_add(&s, req->body.p, req->body.len);
    sha256_final(&s, key);
    return true;
}

/* A served entry, held until the request's arena goes with the answer. */
struct lcache_hold {
    struct lcache *cache;
    struct lcache_entry *entry;
};

static void
lcache_release_cb(void *obj)
{
    struct lcache_hold *h = obj;
    lcache_release(h->cache, h->entry);
}

/* Answer from 'cache', if it holds this answer at this stamp. */
static bool
answer_cached(struct dav_req *req, struct lcache *cache, const char *stamp,
              const unsigned char key[32], const char *what)
{
    char *body;
    size_t len;
    struct lcache_entry *e = lcache_get(cache, key, stamp, &body, &len);
    if (e == NULL)
        return false;
    struct lcache_hold *h = arena_alloc(req->arena, sizeof(*h));
    h->cache = cache;
    h->entry = e;
    arena_defer(req->arena, lcache_release_cb, h);
    struct buf b = { .arena = NULL, .p = body, .len = len, .cap = len };
    dav_respond_buf(req, 207, "application/xml; charset=utf-8", &b);
    log_msg(LOG_DEBUG, req->id, NULL, "%s from the cache", what);
    return true;
}

/* A Depth 0 answer in a space may be kept (decision 0029): its target was
 * found with a stamp (a read, decision 0027), a number of the same source
 * as the answers' stamps. */
static bool
single_key(struct dav_req *req, const struct pf_request *pf,
           unsigned char key[32])
{
    return req->srv->answers != NULL && req->read_stamp != NULL &&
           req->target.area == DAV_AREA_SPACE &&
           answer_key(req, pf, "single", key);
}

/*
 * Everything that can refuse the request (the member limit, the store
 * failing before the first page) is done here, before the first byte.
 */
static struct dav_err *
propfind_listing(struct dav_req *req, const struct pf_request *pf,
                 struct pf_member *self)
{
    const struct dav_store_ops *st = req->srv->store;
    const struct dav_target *t = &req->target;
    unsigned char key[32];
    bool keep = req->srv->lcache != NULL && req->db_snapshot != NULL &&
                answer_key(req, pf, "listing", key);
    if (keep && answer_cached(req, req->srv->lcache, req->db_snapshot, key,
                              "listing"))
        return NULL;
    /* Counted before the access checks that may hide some: the bound
     * is on the work, which a streamed answer no longer keeps in memory. */
    int64_t count;
    enum dav_store_rc rc = st->children_count(req, t->space.id, t->path,
                                              &count);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "children");
    if (count > (int64_t)dav_max_members(req))
        return too_many_members(req, (size_t)count);

    bool dead = needs_dead(req, pf);
    if (dead) {
        rc = st->props_get(req, t->space.id, &t->res.id, 1, &self->dead,
                           &self->ndead);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "properties");
    }
    struct pf_listing *ls = arena_alloc(req->arena, sizeof(*ls));
    struct pf_request *pfc = arena_alloc(req->arena, sizeof(*pfc));
    *pfc = *pf; /* the handler's copy is gone when the stream runs */
    ls->pf = pfc;
    ls->parent = t;
    ls->with_locks = needs_locks(req, pf);
    if (ls->with_locks) {
        rc = st->locks_find(req, t->space.id, t->path,
                            count > 0 ? DAV_LOCKS_BELOW : 0, &ls->locks,
                            &ls->nlocks);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "locks");
        struct dav_target *ts[1] = { &self->t };
        dav_locks_assign(req->arena, ls->locks, ls->nlocks, ts, 1);
    }
    rc = st->children_open(req, t->space.id, t->path, dead, count, &ls->cur);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "children");
    ls->scratch = arena_child(req->arena);

    /* Room for the first page as it is usually written (some 800 bytes a
     * member with every property, less with a few named), so that it is
     * not copied as it grows; and for the copy kept of the whole. */
    size_t per = pf->kind == PF_PROP && pf->nnames < 8 ? 200 + 80 * pf->nnames
                                                      : 800;
    struct buf b;
    buf_init(&b, req->arena, 4096 + (size_t)(count < 500 ? count : 500) * per);
    dav_ms_begin(&b);
    emit_member(req, ls->scratch, &b, self, pf);
    if (keep && (!ls->with_locks || ls->nlocks == 0))
        dav_ms_keep(req, key, 4096 + (size_t)count * per);
    return dav_ms_stream(req, &b, listing_page, ls);
}

struct dav_err *
dav_method_propfind(struct dav_req *req)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_target *t = &req->target;
    enum dav_depth depth = DAV_DEPTH_INFINITY;
    const char *dh = dav_req_header(req, "Depth");
    if (dh != NULL && !dav_parse_depth(str_c(dh), &depth))
        return dav_err_new(req, 400, "bad Depth header");
    struct pf_request pf;
    memset(&pf, 0, sizeof(pf));
    struct dav_err *err = parse_propfind(req, &pf);
    /* The Windows Mini-Redirector lists folders with allprop and refuses
     * answers past ~1 MB (FileAttributesLimitInBytes); it learns about
     * locking from OPTIONS, so supportedlock (~230 bytes per member) and
     * empty lockdiscovery elements are left out for it.  CLIENTS.md §4.1. */
    const char *ua = dav_req_header(req, "User-Agent");
    pf.compact = ua != NULL && strstr(ua, "Microsoft-WebDAV-MiniRedir") != NULL;
    if (err != NULL)
        return err;
    /* RFC 4918 §9.1: servers may refuse Depth: infinity on a collection
     * with this precondition; on a file it is Depth 0 (§9.1.1, a missing
     * Depth header included). */
    if (depth == DAV_DEPTH_INFINITY && t->exists &&
        t->res.kind == DAV_KIND_FILE)
        depth = DAV_DEPTH_0;
    if (depth == DAV_DEPTH_INFINITY)
        return dav_err_cond(req, 403, DAV_NS, "propfind-finite-depth",
                            "Depth: infinity refused");
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    /* RFC 9110 §13.2.1, before any answer (a cached one included). */
    err = dav_check_conditions(req, t);
    if (err != NULL)
        return err;
    unsigned char key[32];
    bool keep = depth == DAV_DEPTH_0 && single_key(req, &pf, key);
    if (keep && answer_cached(req, req->srv->answers, req->read_stamp, key,
                              "answer"))
        return NULL;

    struct pf_member self;
    memset(&self, 0, sizeof(self));
    self.t = *t;
    struct pf_member *kids = NULL;
    size_t nkids = 0;
    bool is_coll = t->area != DAV_AREA_SPACE ||
                   t->res.kind == DAV_KIND_COLLECTION;
    if (t->area == DAV_AREA_PRINCIPAL_USER ||
        t->area == DAV_AREA_PRINCIPAL_SPACE)
        is_coll = false;
    if (is_space(t))
        is_coll = t->res.kind == DAV_KIND_COLLECTION;
    if (depth == DAV_DEPTH_1 && is_coll && t->area == DAV_AREA_SPACE)
        return propfind_listing(req, &pf, &self);
    if (depth == DAV_DEPTH_1 && is_coll) {
        err = virtual_children(req, &kids, &nkids);
        if (err != NULL)
            return err;
    }

    if (nkids > dav_max_members(req))
        return too_many_members(req, nkids);

    /* Dead properties of every member: one store call per space (there is
     * one, but for calendar homes), matched to members by a merge walk
     * over both lists sorted by resource id. */
    if (needs_dead(req, &pf)) {
        struct pf_member **all = arena_alloc(req->arena,
                                             (nkids + 1) * sizeof(*all));
        size_t nall = 0;
        if (self.t.area == DAV_AREA_SPACE)
            all[nall++] = &self;
        for (size_t i = 0; i < nkids; i++)
            if (kids[i].t.area == DAV_AREA_SPACE)
                all[nall++] = &kids[i];
        qsort(all, nall, sizeof(*all), member_cmp);
        int64_t *ids = arena_alloc(req->arena, (nall + 1) * sizeof(*ids));
        for (size_t a = 0; a < nall;) {
            size_t b = a;
            while (b < nall && all[b]->t.space.id == all[a]->t.space.id) {
                ids[b - a] = all[b]->t.res.id;
                b++;
            }
            struct dav_dead_prop *dp;
            size_t ndp;
            enum dav_store_rc rc = st->props_get(req, all[a]->t.space.id, ids,
                                                 b - a, &dp, &ndp);
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "properties");
            /* Rows come ordered by resource id, like all[a..b). */
            size_t m = a;
            for (size_t i = 0; i < ndp;) {
                size_t j = i;
                while (j < ndp && dp[j].resource_id == dp[i].resource_id)
                    j++;
                while (m < b && all[m]->t.res.id < dp[i].resource_id)
                    m++;
                if (m < b && all[m]->t.res.id == dp[i].resource_id) {
                    all[m]->dead = &dp[i];
                    all[m]->ndead = j - i;
                }
                i = j;
            }
            a = b;
        }
    }

    /* Locks of a target of a space (its members are streamed). */
    if (self.t.area == DAV_AREA_SPACE && needs_locks(req, &pf)) {
        struct dav_lock *locks;
        size_t nlocks;
        enum dav_store_rc rc = st->locks_find(req, self.t.space.id,
                                              self.t.path, 0, &locks,
                                              &nlocks);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "locks");
        struct dav_target *ts[1] = { &self.t };
        dav_locks_assign(req->arena, locks, nlocks, ts, 1);
        keep = keep && nlocks == 0;
    }

    struct buf b;
    buf_init(&b, req->arena, 512 + nkids * 600);
    dav_ms_begin(&b);
    struct arena *scratch = arena_child(req->arena);
    emit_member(req, scratch, &b, &self, &pf);
    for (size_t i = 0; i < nkids; i++) {
        arena_reset(scratch);
        emit_member(req, scratch, &b, &kids[i], &pf);
    }
    arena_destroy(scratch);
    dav_ms_end(req, &b);
    /* Kept if every statement it was made of answered, from a server
     * taking writes: a property whose statement failed shows as missing
     * in an answer otherwise right, which a read has no COMMIT to reveal. */
    if (keep && st->read_whole != NULL && st->read_whole(req))
        lcache_put(req->srv->answers, key, req->read_stamp, b.p, b.len);
    return NULL;
}

/* ---- PROPPATCH ---------------------------------------------------------------- */

struct pp_op {
    bool set;
    xmlNode *node;
    const char *ns;
    const char *name;
    int status;
};

/* Dead properties are bounded per resource: every listing with allprop
 * carries them all, 500 members a page. */
static struct dav_err *
props_within_bounds(struct dav_req *req, const struct dav_target *t)
{
    struct dav_dead_prop *props;
    size_t n;
    enum dav_store_rc rc = req->srv->store->props_get(
        req, t->space.id, &t->res.id, 1, &props, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "properties");
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(props[i].xml);
    if (n > DAV_PROPS_MAX || bytes > DAV_PROPS_BYTES_MAX)
        return dav_err_new(req, 507, "over %d properties or %d bytes of "
                                     "them on one resource",
                           DAV_PROPS_MAX, DAV_PROPS_BYTES_MAX);
    return NULL;
}

/* The propstats of the operations, grouped by status. */
static void
write_propstats(struct buf *b, const struct pp_op *ops, size_t nops)
{
    static const int order[] = { 200, 403, 424 };
    for (size_t s = 0; s < 3; s++) {
        bool any = false;
        for (size_t i = 0; i < nops; i++) {
            if (ops[i].status != order[s])
                continue;
            if (!any)
                buf_puts(b, "<D:propstat><D:prop>");
            any = true;
            dav_xml_open(b, ops[i].ns, ops[i].name, true);
        }
        if (!any)
            continue;
        buf_printf(b, "</D:prop><D:status>%s</D:status>",
                   dav_status_line(order[s]));
        if (order[s] == 403)
            buf_puts(b, "<D:error><D:cannot-modify-protected-property/>"
                        "</D:error>");
        buf_puts(b, "</D:propstat>");
    }
}

/*
 * The PROPPATCH instructions of a DAV:set/DAV:remove list, applied to t
 * (all or nothing; RFC 4918 §9.2).  With 'respond' (PROPPATCH), the 207
 * body goes to req; otherwise (a resource being created, which sets its
 * resource type and the 'skip' properties itself) a failure is a 403
 * whose body is the element 'fail_root' holding a propstat per property.
 */
static struct dav_err *
props_apply(struct dav_req *req, struct dav_target *t,
            const struct dav_xml_elem *update, bool respond,
            const char *const *skip, const char *fail_root)
{
    bool failed = false;
    const struct dav_store_ops *st = req->srv->store;
    xmlNode *root = (xmlNode *)(uintptr_t)update;
    size_t nops = 0, cap = 16;
    struct pp_op *ops = arena_alloc(req->arena, cap * sizeof(*ops));
    for (xmlNode *c = dav_xml_first_elem(root); c; c = dav_xml_next_elem(c)) {
        bool set = dav_xml_is(c, DAV_NS, "set");
        if (!set && !dav_xml_is(c, DAV_NS, "remove"))
            return dav_err_new(req, 400, "unknown propertyupdate element");
        xmlNode *prop = dav_xml_first_elem(c);
        if (!dav_xml_is(prop, DAV_NS, "prop"))
            return dav_err_new(req, 400, "expected DAV:prop");
        for (xmlNode *p = dav_xml_first_elem(prop); p;
             p = dav_xml_next_elem(p)) {
            /* Creating methods (extended MKCOL, MKCALENDAR) set the
             * resource type themselves. */
            if (!respond && dav_xml_is(p, DAV_NS, "resourcetype"))
                continue;
            bool skipped = false;
            for (size_t k = 0; skip != NULL && skip[k] != NULL; k += 2)
                if (dav_xml_is(p, skip[k], skip[k + 1]))
                    skipped = true;
            if (skipped)
                continue;
            if (nops == max_props(req))
                return too_many_props(req);
            if (nops == cap) {
                struct pp_op *n = arena_alloc(req->arena,
                                              2 * cap * sizeof(*ops));
                memcpy(n, ops, cap * sizeof(*ops));
                ops = n;
                cap *= 2;
            }
            ops[nops].set = set;
            ops[nops].node = p;
            ops[nops].ns = dav_xml_ns(p);
            ops[nops].name = (const char *)p->name;
            ops[nops].status = 200;
            nops++;
        }
    }
    if (nops == 0 && respond)
        return dav_err_new(req, 400, "empty propertyupdate");

    /* RFC 4918 §9.2: all or nothing.  Check everything first. */
    for (size_t i = 0; i < nops; i++) {
        const struct dav_prop_def *d =
            dav_registry_prop(req->srv->reg, ops[i].ns, ops[i].name);
        /* Protected properties, and removing one that a setter keeps
         * (the approval state cannot be removed, only set). */
        if (d != NULL && ((d->flags & DAV_P_PROTECTED) != 0 ||
                          (!ops[i].set && (d->flags & DAV_P_SETTER) != 0))) {
            ops[i].status = 403;
            failed = true;
        }
    }
    bool grew = false;
    if (!failed) {
        for (size_t i = 0; i < nops; i++) {
            enum dav_store_rc rc;
            if (ops[i].set) {
                const char *xml = dav_xml_dump_elem(req->arena, ops[i].node);
                if (xml == NULL)
                    return dav_err_new(req, 400, "unserializable property");
                if (strlen(xml) > DAV_PROP_VALUE_MAX)
                    return dav_err_new(req, 507, "a property over %d bytes",
                                       DAV_PROP_VALUE_MAX);
                grew = true;
                const struct dav_prop_def *d = dav_registry_prop(
                    req->srv->reg, ops[i].ns, ops[i].name);
                rc = d != NULL && (d->flags & DAV_P_SETTER) != 0
                         ? DAV_STORE_OK
                         : st->prop_set(req, &t->res, ops[i].ns,
                                        ops[i].name, xml);
                if (rc == DAV_STORE_OK && d != NULL && d->set != NULL) {
                    xmlChar *txt = xmlNodeGetContent(ops[i].node);
                    const char *v = txt != NULL
                                        ? arena_strdup(req->arena,
                                                       (const char *)txt)
                                        : NULL;
                    xmlFree(txt);
                    struct dav_err *e = d->set(req, t, v);
                    if (e != NULL)
                        return e;
                }
            } else {
                rc = st->prop_remove(req, &t->res, ops[i].ns, ops[i].name);
                if (rc == DAV_STORE_NOTFOUND)
                    rc = DAV_STORE_OK; /* removing an absent one is fine */
            }
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "property");
        }
    } else {
        for (size_t i = 0; i < nops; i++)
            if (ops[i].status == 200)
                ops[i].status = 424;
    }
    if (grew) {
        struct dav_err *e = props_within_bounds(req, t);
        if (e != NULL)
            return e;
    }
    if (!respond && failed && fail_root != NULL) {
        struct buf b;
        buf_init(&b, req->arena, 512 + nops * 128);
        dav_xml_root_open(&b, fail_root);
        write_propstats(&b, ops, nops);
        buf_printf(&b, "</%s>\n", fail_root);
        struct dav_err *e = dav_err_new(req, 403, "a property cannot be "
                                                  "set");
        e->body = buf_cstr(&b);
        return e;
    }
    if (!respond)
        return NULL;

    struct buf b;
    buf_init(&b, req->arena, 512 + nops * 128);
    dav_ms_begin(&b);
    const char *href = dav_href_of(req, req->arena, t);
    buf_puts(&b, "<D:response><D:href>");
    buf_xml_text(&b, href, strlen(href));
    buf_puts(&b, "</D:href>");
    write_propstats(&b, ops, nops);
    buf_puts(&b, "</D:response>");
    dav_ms_end(req, &b);
    return NULL;
}

struct dav_err *
dav_props_apply_new(struct dav_req *req, struct dav_target *t,
                    const struct dav_xml_elem *update,
                    const char *const *skip, const char *root)
{
    return props_apply(req, t, update, false, skip, root);
}

struct dav_err *
dav_method_proppatch(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    if (t->area != DAV_AREA_SPACE)
        return dav_err_new(req, 403, "virtual collections have no "
                                     "writable properties");
    /* RFC 9110 §13.1: a false precondition, no change. */
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err;
    xmlDocPtr doc;
    err = dav_xml_parse(req, &doc);
    if (err != NULL)
        return err;
    if (doc == NULL)
        return dav_err_new(req, 400, "PROPPATCH needs a body");
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!dav_xml_is(root, DAV_NS, "propertyupdate"))
        return dav_err_new(req, 400, "expected DAV:propertyupdate");
    return props_apply(req, t, (const struct dav_xml_elem *)root, true,
                       NULL, NULL);
}

bool
dav_member_hidden(const struct dav_req *req, const struct dav_resource *res)
{
    if (req->srv->show_apple_files || res->name == NULL)
        return false;
    bool apple = strncmp(res->name, "._", 2) == 0 ||
                 strcmp(res->name, ".DS_Store") == 0;
    if (!apple)
        return false;
    int64_t me = req->principal != NULL ? req->principal->id : 0;
    return res->created_by != me;
}

void
dav_props_render(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, const char *const *names,
                 size_t nnames, struct buf *found, struct buf *missing)
{
    struct pf_member m;
    memset(&m, 0, sizeof(m));
    m.t = *t;
    if (t->area == DAV_AREA_SPACE && t->exists) {
        for (size_t i = 0; i + 1 < nnames; i += 2) {
            const struct dav_prop_def *d =
                dav_registry_prop(req->srv->reg, names[i], names[i + 1]);
            if (d != NULL && (d->flags & DAV_P_PROTECTED) != 0)
                continue;
            int64_t id = t->res.id;
            req->srv->store->props_get(req, t->space.id, &id, 1, &m.dead,
                                       &m.ndead);
            break;
        }
    }
    struct buf val;
    buf_init(&val, a, 256);
    for (size_t i = 0; i + 1 < nnames; i += 2) {
        const struct dav_prop_def *d =
            dav_registry_prop(req->srv->reg, names[i], names[i + 1]);
        emit_one(req, a, found, missing, &m, d, names[i], names[i + 1], &val);
    }
}
