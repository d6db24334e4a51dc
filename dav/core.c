/*
 * dav/core.c -- the request lifecycle and the dispatcher of the DAV core.
 *
 * Order of work for a request (STYLE.md 1): method table lookup (501),
 * body policy (415, 413), authentication (acl hook), one database
 * transaction, target resolution, the privilege declared in the method
 * table (acl hook), the handler, commit or rollback.  Transactions that
 * the database aborts for serialization or deadlock are retried a bounded
 * number of times; for a streaming method only up to its prepare step,
 * since a streamed body cannot be replayed.
 *
 * Streaming methods (PUT) run authentication, access check and their
 * prepare step before the first body byte, inside the transaction that
 * their handler later commits, so that a refused upload is answered before
 * the client sends it (Expect: 100-continue) and a killed upload leaves
 * nothing behind.
 */
#include "dav/dav_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


#define DAV_TXN_ATTEMPTS 3

/* ---- registry ----------------------------------------------------------- */

struct dav_registry *
dav_registry_new(void)
{
    struct dav_registry *r = calloc(1, sizeof(*r));
    if (r == NULL)
        core_fatal("out of memory");
    return r;
}

void
dav_registry_add_methods(struct dav_registry *r,
                         const struct dav_method_def *defs, size_t n)
{
    r->methods = realloc(r->methods, (r->nmethods + n) * sizeof(*r->methods));
    if (r->methods == NULL)
        core_fatal("out of memory");
    for (size_t i = 0; i < n; i++)
        r->methods[r->nmethods++] = &defs[i];
}

void
dav_registry_add_props(struct dav_registry *r, const struct dav_prop_def *defs,
                       size_t n)
{
    r->props = realloc(r->props, (r->nprops + n) * sizeof(*r->props));
    if (r->props == NULL)
        core_fatal("out of memory");
    for (size_t i = 0; i < n; i++)
        r->props[r->nprops++] = &defs[i];
}

void
dav_registry_set_restype(struct dav_registry *r, dav_restype_fn fn)
{
    r->restype = fn;
}

void
dav_registry_add_class(struct dav_registry *r, const char *token)
{
    size_t n = r->classes != NULL ? strlen(r->classes) : 0;
    char *c = realloc(r->classes, n + strlen(token) + 3);
    if (c == NULL)
        core_fatal("out of memory");
    snprintf(c + n, strlen(token) + 3, "%s%s", n > 0 ? ", " : "", token);
    r->classes = c;
}

void
dav_registry_set_put_hook(struct dav_registry *r,
                          const struct dav_put_hook *hook)
{
    r->put_hook = hook;
}

void
dav_registry_set_auth(struct dav_registry *r, dav_authn_fn authn,
                      dav_authz_fn authz)
{
    r->authn = authn;
    r->authz = authz;
}

const struct dav_method_def *
dav_registry_method(const struct dav_registry *r, const char *name)
{
    /* Later registrations override earlier ones (extensions win). */
    for (size_t i = r->nmethods; i > 0; i--)
        if (strcmp(r->methods[i - 1]->name, name) == 0)
            return r->methods[i - 1];
    return NULL;
}

void
dav_registry_add_reports(struct dav_registry *r,
                         const struct dav_report_def *defs, size_t n)
{
    r->reports = realloc(r->reports, (r->nreports + n) * sizeof(*r->reports));
    if (r->reports == NULL)
        core_fatal("out of memory");
    for (size_t i = 0; i < n; i++)
        r->reports[r->nreports++] = &defs[i];
}

const struct dav_report_def *
dav_registry_report(const struct dav_registry *r, const char *ns,
                    const char *name)
{
    for (size_t i = 0; i < r->nreports; i++)
        if (strcmp(r->reports[i]->name, name) == 0 &&
            strcmp(r->reports[i]->ns, ns) == 0)
            return r->reports[i];
    return NULL;
}

const struct dav_prop_def *
dav_registry_prop(const struct dav_registry *r, const char *ns,
                  const char *name)
{
    for (size_t i = 0; i < r->nprops; i++)
        if (strcmp(r->props[i]->name, name) == 0 &&
            strcmp(r->props[i]->ns, ns) == 0)
            return r->props[i];
    return NULL;
}

static const struct dav_method_def dav_methods[] = {
    { "OPTIONS", DAV_M_NO_AUTH, DAV_PRIV_NONE, NULL, NULL,
      dav_method_options },
    { "PROPFIND", DAV_M_BODY_XML | DAV_M_READ_DEPTH0, DAV_PRIV_READ, NULL,
      NULL, dav_method_propfind },
    { "PROPPATCH", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_CHECK_LOCKS,
      DAV_PRIV_WRITE_PROPS, NULL, NULL, dav_method_proppatch },
    { "GET", DAV_M_NO_BODY | DAV_M_READ_ONLY, DAV_PRIV_READ, NULL, NULL,
      dav_method_get },
    { "HEAD", DAV_M_NO_BODY | DAV_M_READ_ONLY, DAV_PRIV_READ, NULL, NULL,
      dav_method_get },
    { "PUT", DAV_M_BODY_STREAM | DAV_M_WRITE | DAV_M_TARGET_PARENT |
      DAV_M_CHECK_LOCKS | DAV_M_LOCK_PARENT, DAV_PRIV_WRITE_CONTENT, dav_method_put_prepare, dav_method_put_body,
      dav_method_put },
    { "MKCOL", DAV_M_NO_BODY | DAV_M_WRITE | DAV_M_TARGET_PARENT |
      DAV_M_CHECK_LOCKS | DAV_M_LOCK_PARENT, DAV_PRIV_BIND, NULL, NULL, dav_method_mkcol },
    { "DELETE", DAV_M_NO_BODY | DAV_M_WRITE | DAV_M_CHECK_LOCKS |
      DAV_M_LOCK_TREE | DAV_M_LOCK_PARENT, DAV_PRIV_UNBIND, NULL, NULL,
      dav_method_delete },
    { "COPY", DAV_M_BODY_XML | DAV_M_WRITE, DAV_PRIV_READ, NULL, NULL,
      dav_method_copy },
    /* Visible to whom may read it, or see a calendar's busy time: each
     * report then asks its own privilege (dav_method_report). */
    { "REPORT", DAV_M_BODY_XML, DAV_PRIV_READ_FREE_BUSY, NULL, NULL,
      dav_method_report },
    { "MOVE", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_CHECK_LOCKS |
      DAV_M_LOCK_TREE | DAV_M_LOCK_PARENT, DAV_PRIV_UNBIND, NULL, NULL,
      dav_method_move },
};

void
dav_register(struct dav_registry *r)
{
    dav_registry_add_methods(r, dav_methods,
                             sizeof(dav_methods) / sizeof(dav_methods[0]));
    dav_props_register(r);
    dav_lock_register(r);
    dav_sync_register(r);
    dav_views_register(r);
}

/* ---- errors --------------------------------------------------------------- */

struct dav_err *
dav_err_new(struct dav_req *req, int status, const char *fmt, ...)
{
    struct dav_err *e = arena_alloc(req->arena, sizeof(*e));
    va_list ap;
    va_start(ap, fmt);
    e->status = status;
    e->msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return e;
}

struct dav_err *
dav_err_cond(struct dav_req *req, int status, const char *ns,
             const char *cond, const char *fmt, ...)
{
    struct dav_err *e = arena_alloc(req->arena, sizeof(*e));
    va_list ap;
    va_start(ap, fmt);
    e->status = status;
    e->cond_ns = ns;
    e->cond = cond;
    e->msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return e;
}

struct dav_err *
dav_err_from_store(struct dav_req *req, enum dav_store_rc rc, const char *what)
{
    switch (rc) {
    case DAV_STORE_OK:
        return NULL;
    case DAV_STORE_NOTFOUND:
        return dav_err_new(req, 404, "not found: %s", what);
    case DAV_STORE_EXISTS:
        return dav_err_new(req, 405, "already exists: %s", what);
    case DAV_STORE_CONFLICT:
        return dav_err_new(req, 409, "conflict: %s", what);
    case DAV_STORE_RETRY: {
        struct dav_err *e = dav_err_new(req, 503, "database busy: %s", what);
        return e;
    }
    case DAV_STORE_ERROR:
    default:
        return dav_err_new(req, 503, "database unavailable: %s", what);
    }
}

static bool
err_is_retry(const struct dav_err *e)
{
    return e != NULL && e->status == 503 && e->msg != NULL &&
           strncmp(e->msg, "database busy", 13) == 0;
}

const char *
dav_status_line(int status)
{
    switch (status) {
    case 200: return "HTTP/1.1 200 OK";
    case 201: return "HTTP/1.1 201 Created";
    case 204: return "HTTP/1.1 204 No Content";
    case 206: return "HTTP/1.1 206 Partial Content";
    case 207: return "HTTP/1.1 207 Multi-Status";
    case 304: return "HTTP/1.1 304 Not Modified";
    case 400: return "HTTP/1.1 400 Bad Request";
    case 401: return "HTTP/1.1 401 Unauthorized";
    case 403: return "HTTP/1.1 403 Forbidden";
    case 404: return "HTTP/1.1 404 Not Found";
    case 405: return "HTTP/1.1 405 Method Not Allowed";
    case 409: return "HTTP/1.1 409 Conflict";
    case 412: return "HTTP/1.1 412 Precondition Failed";
    case 413: return "HTTP/1.1 413 Content Too Large";
    case 415: return "HTTP/1.1 415 Unsupported Media Type";
    case 416: return "HTTP/1.1 416 Range Not Satisfiable";
    case 423: return "HTTP/1.1 423 Locked";
    case 424: return "HTTP/1.1 424 Failed Dependency";
    case 429: return "HTTP/1.1 429 Too Many Requests";
    case 500: return "HTTP/1.1 500 Internal Server Error";
    case 501: return "HTTP/1.1 501 Not Implemented";
    case 502: return "HTTP/1.1 502 Bad Gateway";
    case 503: return "HTTP/1.1 503 Service Unavailable";
    case 507: return "HTTP/1.1 507 Insufficient Storage";
    default: return "HTTP/1.1 500 Internal Server Error";
    }
}

void
dav_respond(struct dav_req *req, int status, const char *ctype,
            const char *body, size_t len)
{
    req->status = status;
    req->stream = NULL;
    req->stream_file = NULL;
    buf_init(&req->resp_body, req->arena, len + 1);
    buf_append(&req->resp_body, body, len);
    req->resp_has_body = len > 0;
    if (ctype != NULL)
        dav_resp_header_add(req, "Content-Type", ctype);
}

void
dav_respond_buf(struct dav_req *req, int status, const char *ctype,
                struct buf *b)
{
    req->status = status;
    req->stream = NULL;
    req->stream_file = NULL;
    req->resp_body = *b;
    req->resp_has_body = b->len > 0;
    if (ctype != NULL)
        dav_resp_header_add(req, "Content-Type", ctype);
}

bool
dav_target_is_calendar(const struct dav_target *t)
{
    return t->cal_name != NULL && t->base_path != NULL &&
           strcmp(t->path, t->base_path) == 0;
}

/* Does method 'm' apply to 't' as it is now? */
static bool
method_applies(const struct dav_method_def *m, const struct dav_target *t)
{
    const char *n = m->name;
    if (strcmp(n, "OPTIONS") == 0)
        return true;
    if (t->area != DAV_AREA_SPACE) {
        /* Virtual collections and views are read; a revision of the
         * history is copied back (restored). */
        if (strcmp(n, "COPY") == 0)
            return t->area == DAV_AREA_HISTORY && t->is_rev;
        return (m->flags & DAV_M_WRITE) == 0;
    }
    /* The trash takes nothing in (check_declared_priv): its entries are
     * read, moved out or purged. */
    if (t->base_path != NULL && strcmp(t->base_path, DAV_TRASH_FOLDER) == 0)
        return (m->flags & DAV_M_WRITE) == 0 || strcmp(n, "DELETE") == 0 ||
               strcmp(n, "UNLOCK") == 0 ||
               (strcmp(n, "MOVE") == 0 &&
                strcmp(t->path, DAV_TRASH_FOLDER) != 0);
    bool makes = strcmp(n, "PUT") == 0 || strcmp(n, "MKCOL") == 0 ||
                 strcmp(n, "MKCALENDAR") == 0;
    if (!t->exists) {
        /* RFC 4791 §5.3.1.1: a calendar only at its place in a home, and
         * nothing else there (MKCOL: RFC 5689's, of a calendar). */
        if (dav_target_is_calendar(t))
            return strcmp(n, "MKCALENDAR") == 0 || strcmp(n, "MKCOL") == 0;
        if (strcmp(n, "MKCALENDAR") == 0)
            return false;
        /* RFC 4918 §7.3: an unmapped URL is made, or locked. */
        return makes || strcmp(n, "LOCK") == 0;
    }
    /* RFC 4918 §9.3.1, §9.7.2: nothing is made over a resource, and a
     * collection takes no PUT. */
    if (makes)
        return strcmp(n, "PUT") == 0 && t->res.kind == DAV_KIND_FILE;
    /* The space root is neither deleted nor moved. */
    if (t->path[0] == '\0')
        return strcmp(n, "DELETE") != 0 && strcmp(n, "MOVE") != 0;
    return true;
}

const char *
dav_allow(struct dav_req *req)
{
    const struct dav_registry *reg = req->srv->reg;
    /* Without a principal, only a virtual target is known. */
    const struct dav_target *t = req->principal != NULL ||
                                         req->target.area != DAV_AREA_SPACE
                                     ? &req->target
                                     : NULL;
    struct buf allow;
    buf_init(&allow, req->arena, 128);
    for (size_t i = 0; i < reg->nmethods; i++) {
        const char *name = reg->methods[i]->name;
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || strcmp(reg->methods[k]->name, name) == 0;
        if (dup)
            continue;
        /* The definition that serves it: the last registered. */
        if (t != NULL && !method_applies(dav_registry_method(reg, name), t))
            continue;
        buf_printf(&allow, "%s%s", allow.len > 0 ? ", " : "", name);
    }
    return buf_cstr(&allow);
}

void
dav_err_render(struct dav_req *req, const struct dav_err *err)
{
    req->resp_headers = NULL;
    if (err->status >= 500)
        log_msg(LOG_ERROR, req->id, NULL, "%s %s: %s", req->method, req->url,
                err->msg);
    else
        log_msg(LOG_DEBUG, req->id, NULL, "%s %s: %d %s", req->method,
                req->url, err->status, err->msg);
    if (err->status == 401) {
        const char *realm = req->srv->realm != NULL ? req->srv->realm
                                                    : "Parvis";
        dav_resp_header_add(req, "WWW-Authenticate",
                            arena_printf(req->arena,
                                         "Basic realm=\"%s\", charset=\"UTF-8\"",
                                         realm));
    }
    if (err->status == 503)
        dav_resp_header_add(req, "Retry-After", "5");
    /* RFC 9110 §15.5.6: a 405 lists what the target supports. */
    if (err->status == 405)
        dav_resp_header_add(req, "Allow", dav_allow(req));
    if (err->body != NULL) {
        dav_respond(req, err->status, "application/xml; charset=utf-8",
                    err->body, strlen(err->body));
        return;
    }
    if (err->cond != NULL) {
        /* RFC 4918 §16: the precondition goes in a DAV:error body. */
        struct buf b;
        buf_init(&b, req->arena, 256);
        buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        if (strcmp(err->cond_ns, DAV_NS) == 0) {
            buf_printf(&b, "<D:error xmlns:D=\"DAV:\"><D:%s", err->cond);
            if (err->href != NULL) {
                buf_printf(&b, "><D:href>");
                buf_xml_escape(&b, err->href, strlen(err->href));
                buf_printf(&b, "</D:href></D:%s>", err->cond);
            } else {
                buf_puts(&b, "/>");
            }
            buf_puts(&b, "</D:error>\n");
        } else {
            buf_printf(&b, "<D:error xmlns:D=\"DAV:\" xmlns:X=\"");
            buf_xml_escape(&b, err->cond_ns, strlen(err->cond_ns));
            if (err->href != NULL) {
                buf_printf(&b, "\"><X:%s><D:href>", err->cond);
                buf_xml_escape(&b, err->href, strlen(err->href));
                buf_printf(&b, "</D:href></X:%s></D:error>\n", err->cond);
            } else {
                buf_printf(&b, "\"><X:%s/></D:error>\n", err->cond);
            }
        }
        dav_respond_buf(req, err->status, "application/xml; charset=utf-8",
                        &b);
        return;
    }
    const char *line = dav_status_line(err->status);
    char *text = arena_printf(req->arena, "%s\n", line + 9);
    dav_respond(req, err->status, "text/plain; charset=utf-8", text,
                strlen(text));
}

/* ---- request lifecycle ------------------------------------------------------ */

static atomic_ulong req_counter;

static size_t
dav_max_xml_body(const struct dav_req *req)
{
    return req->srv->max_xml_body > 0 ? req->srv->max_xml_body
                                      : 1024 * 1024;
}

struct dav_req *
dav_req_create(const struct dav_server *srv, const char *method,
               const char *url, const char *client_addr, dav_header_fn hfn,
               void *hctx)
{
    struct arena *a = arena_create();
    struct dav_req *req = arena_alloc(a, sizeof(*req));
    req->arena = a;
    req->srv = srv;
    req->method = arena_strdup(a, method);
    const char *q = strchr(url, '?');
    req->url = q != NULL ? arena_strndup(a, url, (size_t)(q - url))
                         : arena_strdup(a, url);
    req->client_addr = arena_strdup(a, client_addr != NULL ? client_addr : "-");
    req->header_fn = hfn;
    req->header_ctx = hctx;
    req->id = arena_printf(a, "%lx",
                           (unsigned long)atomic_fetch_add(&req_counter, 1) + 1);
    req->status = 500;
    return req;
}

const char *
dav_req_header(struct dav_req *req, const char *name)
{
    return req->header_fn != NULL ? req->header_fn(req->header_ctx, name)
                                  : NULL;
}

bool
dav_req_announced_len(struct dav_req *req, uint64_t *n)
{
    const char *cl = dav_req_header(req, "Content-Length");
    return cl != NULL && str_to_u64(str_trim(str_c(cl)), n);
}

void
dav_resp_header_add(struct dav_req *req, const char *name, const char *value)
{
    struct dav_resp_header *h = arena_alloc(req->arena, sizeof(*h));
    h->name = name;
    h->value = arena_strdup(req->arena, value);
    struct dav_resp_header **pp = &req->resp_headers;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = h;
}

static void
txn_end(struct dav_req *req, bool commit, struct dav_err **err)
{
    if (!req->in_txn)
        return;
    /* A streamed answer reading in the transaction ends it itself
     * (dav_stream_txn_end). */
    if (commit && *err == NULL && req->stream_txn)
        return;
    req->stream_txn = false;
    if (commit && *err == NULL) {
        enum dav_store_rc rc = req->srv->store->txn_commit(req);
        req->in_txn = false;
        if (rc != DAV_STORE_OK)
            *err = dav_err_from_store(req, rc, "commit");
        else
            dav_ms_keep_end(req);
        return;
    }
    req->srv->store->txn_rollback(req);
    req->in_txn = false;
}

static struct dav_err *
txn_start(struct dav_req *req)
{
    enum dav_store_rc rc = req->srv->store->txn_begin(req);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "begin");
    req->in_txn = true;
    req->read_lease = false;
    return NULL;
}

/* A read-only request's connection, without BEGIN and COMMIT: a GET finds
 * the account, the space and the resource with one statement and reads
 * content chunks, which are immutable, so no snapshot is needed to answer
 * it (docs/decisions/0011-reads-without-transaction.md). */
static struct dav_err *
read_start(struct dav_req *req)
{
    if (req->srv->store->read_begin == NULL)
        return txn_start(req);
    enum dav_store_rc rc = req->srv->store->read_begin(req);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "begin");
    req->in_txn = true;
    req->read_lease = true;
    return NULL;
}

static bool
under(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Is path a reserved folder of a space (calendars, trash) or below one? */
bool
dav_in_reserved(const char *path)
{
    return under(path, DAV_CAL_FOLDER) || under(path, DAV_TRASH_FOLDER);
}

bool
dav_reserved_path(const char *path)
{
    return strcmp(path, DAV_CAL_FOLDER) == 0 ||
           strcmp(path, DAV_TRASH_FOLDER) == 0;
}

const char *
dav_calendar_url(struct arena *a, const char *user, const char *cal)
{
    struct buf b;
    buf_init(&b, a, 64);
    buf_puts(&b, "/dav/calendars/");
    buf_url_escape(&b, user, strlen(user));
    buf_puts(&b, "/");
    buf_url_escape(&b, cal, strlen(cal));
    return buf_cstr(&b);
}

/*
 * /dav/calendars/<user>/<cal>/rest: <cal> is "<slug>.<name>" for a
 * calendar of space <slug>, or "<name>" for one of the user's personal
 * space.  Sets slug, base_path and the full in-space path.
 */
static struct dav_err *
calendar_target_map(struct dav_req *req, struct dav_target *t)
{
    if (req->principal == NULL ||
        strcmp(req->principal->name, t->cal_user) != 0)
        return dav_err_new(req, 404, "no calendar home %s", t->cal_user);
    const char *dot = strchr(t->cal_name, '.');
    const char *name;
    if (dot != NULL) {
        t->slug = arena_strndup(req->arena, t->cal_name,
                                (size_t)(dot - t->cal_name));
        name = dot + 1;
    } else {
        req->store_stamp = NULL;
        enum dav_store_rc rc = req->srv->store->personal_space(
            req, req->principal->id, req->principal->name, &t->space);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "personal space");
        /* The first read for the request's target: its stamp, as
         * dav_target_resolve takes space_lookup's. */
        if (t == &req->target && req->db_snapshot == NULL)
            req->db_snapshot = req->store_stamp;
        t->slug = t->space.slug;
        name = t->cal_name;
    }
    if (name[0] == '\0')
        return dav_err_new(req, 404, "no calendar");
    t->base_path = arena_printf(req->arena, "%s/%s", DAV_CAL_FOLDER, name);
    t->path = arena_printf(req->arena, "%s%s", t->base_path, t->path);
    t->url_base = dav_calendar_url(req->arena, t->cal_user, t->cal_name);
    return NULL;
}

static struct dav_err *
principal_refused(struct dav_req *req)
{
    return dav_err_new(req, 401, "authentication required: account "
                                 "disabled, expired or revoked");
}

/* The account check left to the target's statement, done on its own when
 * the target is resolved otherwise. */
static struct dav_err *
principal_check(struct dav_req *req)
{
    if (!req->principal_unchecked)
        return NULL;
    req->principal_unchecked = false;
    enum dav_store_rc rc = req->srv->store->principal_valid(
        req, req->principal->id, req->app_password_id);
    if (rc == DAV_STORE_NOTFOUND)
        return principal_refused(req);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "principal");
    return NULL;
}

struct dav_err *
dav_target_resolve(struct dav_req *req, struct dav_target *t, bool lock_row)
{
    const struct dav_store_ops *st = req->srv->store;
    t->exists = false;
    if (req->principal_unchecked &&
        (t->area != DAV_AREA_SPACE || t->cal_name != NULL ||
         t->space.id != 0 || st->space_lookup == NULL ||
         dav_in_reserved(t->path))) {
        struct dav_err *err = principal_check(req);
        if (err != NULL)
            return err;
    }
    int64_t viewer = req->principal != NULL ? req->principal->id : 0;
    if (t->area == DAV_AREA_PRINCIPAL_USER) {
        struct dav_user *u;
        size_t n;
        enum dav_store_rc rc = st->users_visible(req, viewer, t->slug, &u, &n);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "principal");
        if (n == 0)
            return dav_err_new(req, 404, "no principal %s", t->slug);
        t->user = u[0];
        t->exists = true;
        t->res.kind = DAV_KIND_COLLECTION;
        return NULL;
    }
    if (t->area == DAV_AREA_PRINCIPAL_SPACE) {
        enum dav_store_rc rc = st->space_for_user(req, t->slug, viewer,
                                                  &t->space);
        /* A space's group principal is seen by its members only. */
        if (rc == DAV_STORE_NOTFOUND ||
            (rc == DAV_STORE_OK && t->space.role[0] == '\0'))
            return dav_err_new(req, 404, "no principal %s", t->slug);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "principal");
        t->exists = true;
        t->res.kind = DAV_KIND_COLLECTION;
        return NULL;
    }
    if (t->area == DAV_AREA_CAL_HOME) {
        /* A calendar home belongs to its user alone. */
        if (req->principal == NULL ||
            strcmp(req->principal->name, t->cal_user) != 0)
            return dav_err_new(req, 404, "no calendar home %s", t->cal_user);
        t->exists = true;
        t->res.kind = DAV_KIND_COLLECTION;
        return NULL;
    }
    if (t->area == DAV_AREA_HISTORY || t->area == DAV_AREA_PUBLISHED ||
        t->area == DAV_AREA_APPROVALS) {
        if (t->space.id == 0) {
            enum dav_store_rc rc = st->space_for_user(req, t->slug, viewer,
                                                      &t->space);
            if (rc == DAV_STORE_NOTFOUND)
                return dav_err_new(req, 404, "no space %s", t->slug);
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "space");
        }
        return dav_view_resolve(req, t);
    }
    if (t->area != DAV_AREA_SPACE) {
        t->exists = true;
        t->res.kind = DAV_KIND_COLLECTION;
        return NULL;
    }
    if (t->cal_name != NULL && t->base_path == NULL) {
        struct dav_err *err = calendar_target_map(req, t);
        if (err != NULL)
            return err;
    } else if (t->base_path == NULL && dav_in_reserved(t->path)) {
        /* Calendars are reached through calendar homes only. */
        return dav_err_new(req, 404, "reserved name");
    }
    if (t->space.id == 0 && st->space_lookup != NULL) {
        /* The space, the resource and the account in one statement (a
         * writer finds and locks the resource's row with a statement of
         * its own: FOR UPDATE cannot reach into the outer join). */
        bool principal_ok, space_found;
        /* A read's target may be known already (decision 0027). */
        bool keep = !lock_row && t == &req->target && req->read_lease;
        unsigned char key[32];
        if (!keep || !dav_lookup_cached(req, t, viewer, key, &principal_ok,
                                        &space_found)) {
            enum dav_store_rc rc = st->space_lookup(
                req, t->slug, viewer, req->app_password_id,
                lock_row ? NULL : t->path, &principal_ok, &t->space,
                &space_found, &t->res, &t->exists);
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "lookup");
            if (keep)
                dav_lookup_keep(req, t, key, principal_ok, space_found);
        }
        /* The request's target is resolved first: nothing of its answer
         * has been read yet (an If header's targets come later). */
        if (t == &req->target && req->db_snapshot == NULL)
            req->db_snapshot = req->store_stamp;
        if (req->principal_unchecked) {
            req->principal_unchecked = false;
            if (!principal_ok)
                return principal_refused(req);
        }
        if (!space_found)
            return dav_err_new(req, 404, "no space %s for this user", t->slug);
        if (!lock_row)
            return NULL;
    }
    if (t->space.id == 0) {
        enum dav_store_rc rc = st->space_for_user(req, t->slug, viewer,
                                                  &t->space);
        if (rc == DAV_STORE_NOTFOUND)
            return dav_err_new(req, 404, "no space %s for this user", t->slug);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "space");
    }
    enum dav_store_rc rc = st->lookup(req, t->space.id, t->path, lock_row,
                                      &t->res);
    if (rc == DAV_STORE_OK) {
        t->exists = true;
        return NULL;
    }
    if (rc == DAV_STORE_NOTFOUND)
        return NULL;
    return dav_err_from_store(req, rc, "lookup");
}

const char *
dav_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

struct dav_err *
dav_target_parent(struct dav_req *req, const struct dav_target *t,
                  struct dav_target *parent)
{
    /* The request's target's parent is asked for by the privilege check
     * and again by the method: looked up once. */
    bool ours = t == &req->target;
    if (ours && req->target_parent != NULL) {
        *parent = *req->target_parent;
        return NULL;
    }
    *parent = *t;
    const char *slash = strrchr(t->path, '/');
    size_t n = slash != NULL ? (size_t)(slash - t->path) : 0;
    parent->path = arena_strndup(req->arena, t->path, n);
    parent->trailing_slash = true;
    struct dav_err *err = dav_target_resolve(req, parent, false);
    if (err == NULL && ours) {
        req->target_parent = arena_alloc(req->arena, sizeof(*parent));
        *req->target_parent = *parent;
    }
    return err;
}

struct dav_err *
dav_check_priv(struct dav_req *req, const struct dav_target *t, unsigned priv)
{
    if (priv == DAV_PRIV_NONE || req->srv->reg->authz == NULL)
        return NULL;
    return req->srv->reg->authz(req, t, priv);
}

static struct dav_err *check_declared_priv(struct dav_req *req);
static void audit_alone(struct dav_req *req, int status);
static struct dav_err *check_locks(struct dav_req *req);

/* One attempt at what a streaming method does before its body: the
 * transaction, authentication, the target, privilege and lock checks,
 * then the method's prepare(). */
static struct dav_err *
prepare_stream_once(struct dav_req *req)
{
    struct dav_err *err = txn_start(req);
    if (err != NULL)
        return err;
    if (req->srv->reg->authn != NULL) {
        err = req->srv->reg->authn(req);
        if (err != NULL)
            return err;
    }
    err = dav_target_resolve(req, &req->target, true);
    if (err != NULL)
        return err;
    err = check_declared_priv(req);
    if (err != NULL)
        return err;
    err = check_locks(req);
    if (err != NULL)
        return err;
    return req->mdef->prepare(req);
}

bool
dav_req_begin(struct dav_req *req, bool has_body)
{
    struct dav_err *err = NULL;
    bool notfound = false;

    req->mdef = dav_registry_method(req->srv->reg, req->method);
    if (req->mdef == NULL) {
        err = dav_err_new(req, 501, "method %s not implemented", req->method);
        goto fail;
    }
    if (!dav_path_parse(req->arena, req->url, &req->target, &notfound)) {
        err = dav_err_new(req, notfound ? 404 : 400, "bad request path");
        goto fail;
    }
    /* RFC 4918 §8.4: a body the method does not define is refused. */
    if (has_body && (req->mdef->flags & DAV_M_NO_BODY) != 0) {
        err = dav_err_new(req, 415, "%s takes no body", req->method);
        goto fail;
    }
    if ((req->mdef->flags & DAV_M_BODY_STREAM) == 0) {
        /* An XML body announced larger than allowed is refused before a
         * byte of it is read (and before "100 Continue"). */
        uint64_t announced;
        if (has_body && dav_req_announced_len(req, &announced) &&
            announced > dav_max_xml_body(req)) {
            err = dav_err_new(req, 413, "request body over %zu bytes",
                              dav_max_xml_body(req));
            goto fail;
        }
        return false;
    }

    /* Streaming: authenticate, check and prepare before the body.  No
     * byte of the body is read yet, so a transaction conflict is retried
     * here as dav_req_finish() retries the other methods. */
    struct dav_target saved = req->target;
    for (int attempt = 0; attempt < DAV_TXN_ATTEMPTS; attempt++) {
        if (attempt > 0) {
            txn_end(req, false, &err);
            log_msg(LOG_INFO, req->id, NULL, "retrying transaction");
        }
        req->target = saved;
        req->resp_headers = NULL;
        req->principal = NULL;
        req->principal_unchecked = false;
        req->target_parent = NULL;
        err = prepare_stream_once(req);
        if (!err_is_retry(err))
            break;
    }
    if (err != NULL)
        goto fail;
    return false;

fail:
    txn_end(req, false, &err);
    dav_err_render(req, err);
    req->responded = true;
    if (err->status != 503)
        audit_alone(req, err->status);
    return true;
}

void
dav_req_body(struct dav_req *req, const char *data, size_t len)
{
    if (req->responded || len == 0)
        return;
    req->body_len += len;
    if (req->mdef != NULL && (req->mdef->flags & DAV_M_BODY_STREAM) != 0) {
        if (req->body_err == NULL)
            req->body_err = req->mdef->body(req, data, len);
        return;
    }
    size_t max = dav_max_xml_body(req);
    if (req->body_too_large || req->body.len + len > max) {
        req->body_too_large = true;
        return;
    }
    if (req->body.arena == NULL)
        buf_init(&req->body, req->arena, len + 1 > 4096 ? len + 1 : 4096);
    buf_append(&req->body, data, len);
}

/* Check the method's declared privilege on the target or its parent.
 * An unreadable parent answers like a missing one (409). */
static struct dav_err *
check_declared_priv(struct dav_req *req)
{
    const struct dav_method_def *m = req->mdef;
    struct dav_target *t = &req->target;
    /* The trash takes nothing in: items leave it (MOVE) or are purged. */
    if (t->base_path != NULL && strcmp(t->base_path, DAV_TRASH_FOLDER) == 0 &&
        (m->flags & DAV_M_WRITE) != 0 && strcmp(m->name, "DELETE") != 0 &&
        strcmp(m->name, "MOVE") != 0 && strcmp(m->name, "UNLOCK") != 0)
        return dav_err_new(req, 403, "the trash is read-only");
    if (m->required_priv == DAV_PRIV_NONE)
        return NULL;
    if (t->area == DAV_AREA_SPACE && !t->exists &&
        (m->flags & DAV_M_TARGET_PARENT) != 0 && t->path[0] != '\0') {
        struct dav_target parent;
        struct dav_err *err = dav_target_parent(req, t, &parent);
        if (err != NULL)
            return err;
        if (!parent.exists)
            return NULL; /* the handler answers 409 */
        err = dav_check_priv(req, &parent, DAV_PRIV_BIND);
        /* An unreadable parent must look like a missing one. */
        if (err != NULL && err->status == 404)
            return dav_err_new(req, 409, "parent collection missing");
        return err;
    }
    struct dav_err *err = dav_check_priv(req, t, m->required_priv);
    /* Creating over something unreadable: as if its parent were missing. */
    if (err != NULL && err->status == 404 &&
        (m->flags & DAV_M_TARGET_PARENT) != 0 && t->area == DAV_AREA_SPACE)
        return dav_err_new(req, 409, "parent collection missing");
    return err;
}

/*
 * Central lock policy (lighttpd's per-method flags): the If header is
 * evaluated for every request on a space (RFC 4918 §10.4.1), and methods
 * flagged DAV_M_CHECK_LOCKS must hold the tokens of the locks on what they
 * modify.  COPY and MOVE check their destination themselves.
 */
static struct dav_err *
check_locks(struct dav_req *req)
{
    const struct dav_method_def *m = req->mdef;
    struct dav_target *t = &req->target;
    if (t->area != DAV_AREA_SPACE || strcmp(m->name, "LOCK") == 0)
        return NULL;
    struct dav_err *err = dav_if_evaluate(req);
    if (err != NULL || (m->flags & DAV_M_CHECK_LOCKS) == 0)
        return err;
    bool tree = (m->flags & DAV_M_LOCK_TREE) != 0 && t->exists &&
                t->res.kind == DAV_KIND_COLLECTION;
    bool parent = (m->flags & DAV_M_LOCK_PARENT) != 0 &&
                  (!t->exists || (m->flags & DAV_M_LOCK_TREE) != 0);
    return dav_locks_check(req, t, tree, parent);
}

/*
 * The audit trail (DESIGN.md "Storage"): every mutating request, every
 * failed login, and reads by guests and of the published view.  A
 * successful change is audited in its own transaction; anything else in
 * one of its own.
 */
static bool
audit_wanted(struct dav_req *req, int status)
{
    if (req->mdef == NULL)
        return false;
    /* A request refused before anyone was authenticated did nothing and
     * names no one (and clients send one without credentials before each
     * authenticated request): not audited, so that anyone cannot grow the
     * trail.  A failed login is. */
    if (status == 401 || req->principal == NULL)
        return status == 401 && dav_req_header(req, "Authorization") != NULL;
    if ((req->mdef->flags & DAV_M_WRITE) != 0)
        return true;
    bool get = strcmp(req->method, "GET") == 0;
    if (get && (status == 200 || status == 206) && req->principal != NULL &&
        req->target.exists && req->target.res.kind == DAV_KIND_FILE)
        return req->audit_read || req->principal->guest;
    /* A REPORT hands out what it finds (calendar-multiget and
     * calendar-query return the events' text): a guest's is traced as its
     * GETs are. */
    if (strcmp(req->method, "REPORT") == 0 && status == 207)
        return req->principal->guest;
    return false;
}

/* A header's value for the audit trail: any bytes may come, the trail
 * takes UTF-8 text (a value it refused would lose the row). */
static const char *
audit_text(struct dav_req *req, const char *v)
{
    if (v == NULL)
        return NULL;
    return str_log_clip(req->arena, v, 512, true);
}

/* The view a read went through, for a row filed under the file's own
 * path (as parvisctl audit --path and P:audit-trail look it up); NULL for
 * the space itself and places that are no file's. */
static const char *
audit_view(const struct dav_target *t)
{
    if (t->slug == NULL || t->path == NULL)
        return NULL;
    switch (t->area) {
    case DAV_AREA_PUBLISHED: return "published view";
    case DAV_AREA_HISTORY: return "history";
    case DAV_AREA_APPROVALS: return "approvals";
    default: return NULL;
    }
}

static enum dav_store_rc
audit_row(struct dav_req *req, const struct dav_target *t, int status,
          const char *detail)
{
    const char *view = audit_view(t);
    if (view != NULL && t->is_rev)
        view = arena_printf(req->arena, "%s, revision %d", view,
                            (int)t->rev.num);
    if (view != NULL)
        detail = detail != NULL
                     ? arena_printf(req->arena, "%s: %s", view, detail)
                     : view;
    struct dav_audit a = {
        .action = req->audit_action != NULL ? req->audit_action
                  : status == 401           ? "LOGIN_FAILED"
                                            : req->method,
        .principal = req->principal != NULL ? req->principal->name
                                            : req->log_user,
        .client = req->client_addr,
        .user_agent = audit_text(req, dav_req_header(req, "User-Agent")),
        .space_id = t->space.id,
        .path = (t->area == DAV_AREA_SPACE && t->slug != NULL) ||
                        view != NULL
                    ? arena_printf(req->arena, "%s%s", t->slug, t->path)
                    : req->url,
        .resource_id = t->exists ? t->res.id : 0,
        .revision_id = t->exists ? t->res.rev_id : 0,
        .status = status,
        .detail = detail,
    };
    return req->srv->store->audit_add(req, &a);
}

static enum dav_store_rc
audit_add(struct dav_req *req, int status)
{
    return audit_row(req, &req->target, status, req->audit_detail);
}

struct dav_err *
dav_audit_also(struct dav_req *req, const struct dav_target *t,
               const char *detail)
{
    if (req->srv->store->audit_add == NULL)
        return NULL;
    enum dav_store_rc rc = audit_row(req, t, req->status, detail);
    return rc == DAV_STORE_OK ? NULL : dav_err_from_store(req, rc, "audit");
}

/* After a failure: the audit row in a transaction of its own. */
static void
audit_alone(struct dav_req *req, int status)
{
    if (!audit_wanted(req, status) || req->srv->store->audit_add == NULL)
        return;
    if (req->srv->store->txn_begin(req) != DAV_STORE_OK)
        return;
    req->in_txn = true;
    req->read_lease = false;
    if (audit_add(req, status) == DAV_STORE_OK &&
        req->srv->store->txn_commit(req) == DAV_STORE_OK) {
        req->in_txn = false;
        return;
    }
    if (req->in_txn)
        req->srv->store->txn_rollback(req);
    req->in_txn = false;
    log_msg(LOG_ERROR, req->id, NULL, "cannot write the audit trail");
}

/* Before commit: the audit row of a successful request, in its txn. */
static struct dav_err *
audit_in_txn(struct dav_req *req)
{
    if (!audit_wanted(req, req->status) ||
        req->srv->store->audit_add == NULL)
        return NULL;
    return dav_err_from_store(req, audit_add(req, req->status), "audit");
}

/* The audit row of a successful read-only request, in a transaction of
 * its own: a read that must be audited is refused if it cannot be. */
static struct dav_err *
audit_read(struct dav_req *req)
{
    if (!audit_wanted(req, req->status) ||
        req->srv->store->audit_add == NULL)
        return NULL;
    struct dav_err *err = txn_start(req);
    if (err == NULL)
        err = audit_in_txn(req);
    txn_end(req, true, &err);
    return err;
}

static struct dav_err *
run_once(struct dav_req *req)
{
    struct dav_err *err = NULL;
    bool noauth = (req->mdef->flags & DAV_M_NO_AUTH) != 0;

    bool read_only = (req->mdef->flags & DAV_M_READ_ONLY) != 0;
    if ((req->mdef->flags & DAV_M_READ_DEPTH0) != 0) {
        const char *depth = dav_req_header(req, "Depth");
        read_only = depth != NULL && strcmp(depth, "0") == 0;
    }

    if (noauth && req->target.area != DAV_AREA_SPACE)
        return req->mdef->handler(req);
    err = read_only ? read_start(req) : txn_start(req);
    if (err != NULL)
        return err;
    if (!noauth && req->srv->reg->authn != NULL) {
        err = req->srv->reg->authn(req);
        if (err != NULL)
            goto out;
    }
    if (noauth && req->principal == NULL) {
        /* OPTIONS: with credentials verified lately (the credential
         * cache: no password check, no failure counted, no wait),
         * answered for the target as its principal sees it (Allow);
         * otherwise from the namespace alone, never refused. */
        bool creds = dav_req_header(req, "Authorization") != NULL &&
                     req->srv->reg->authn != NULL;
        req->authn_cached_only = true;
        if (creds && req->srv->reg->authn(req) != NULL)
            req->principal = NULL;
        req->authn_cached_only = false;
        if (req->principal != NULL &&
            dav_target_resolve(req, &req->target, false) != NULL)
            req->principal = NULL;
        /* What it may not read is absent for it: answered as a missing
         * resource, to the byte. */
        if (req->principal != NULL && req->target.exists &&
            dav_check_priv(req, &req->target, DAV_PRIV_READ) != NULL)
            req->target.exists = false;
        err = req->mdef->handler(req);
        goto out;
    }
    err = dav_target_resolve(req, &req->target,
                             (req->mdef->flags & DAV_M_WRITE) != 0);
    if (err != NULL)
        goto out;
    err = check_declared_priv(req);
    if (err != NULL)
        goto out;
    err = check_locks(req);
    if (err != NULL)
        goto out;
    err = req->mdef->handler(req);
    if (err == NULL && !read_only)
        err = audit_in_txn(req);
out:
    txn_end(req, true, &err);
    if (err == NULL && read_only)
        err = audit_read(req);
    return err;
}

void
dav_req_finish(struct dav_req *req)
{
    struct dav_err *err = NULL;
    if (req->responded)
        return;
    req->responded = true;
    if (req->body_too_large) {
        err = dav_err_new(req, 413, "request body over %zu bytes",
                          dav_max_xml_body(req));
        goto out;
    }
    if ((req->mdef->flags & DAV_M_BODY_STREAM) != 0) {
        err = req->body_err;
        if (err == NULL)
            err = req->mdef->handler(req);
        if (err == NULL)
            err = audit_in_txn(req);
        txn_end(req, true, &err);
        goto out;
    }
    struct dav_target saved = req->target;
    for (int attempt = 0; attempt < DAV_TXN_ATTEMPTS; attempt++) {
        req->target = saved;
        req->resp_headers = NULL;
        req->principal = NULL;
        req->principal_unchecked = false;
        req->target_parent = NULL;
        req->stream = NULL;
        req->stream_file = NULL;
        req->stream_txn = false;
        req->db_snapshot = NULL;
        req->store_stamp = NULL;
        req->read_stamp = NULL;
        req->principal_until = 0;
        dav_ms_keep_abort(req);
        err = run_once(req);
        if (!err_is_retry(err))
            break;
        log_msg(LOG_INFO, req->id, NULL, "retrying transaction");
    }
out:
    if (err != NULL) {
        dav_err_render(req, err);
        if (err->status != 503)
            audit_alone(req, err->status);
    }
}

/* A streamed answer that did not reach its end (the client went away, or
 * a page could not be read) has its transaction rolled back, with the
 * audit row written in it: a read that must be audited (a guest's REPORT)
 * is traced all the same, in a transaction of its own, as cut off, since
 * part of the answer may have gone out. */
static void
stream_cut_audit(struct dav_req *req)
{
    req->audit_detail =
        req->audit_detail != NULL
            ? arena_printf(req->arena, "%s; answer cut off", req->audit_detail)
            : "answer cut off";
    audit_alone(req, req->status);
}

void
dav_req_destroy(struct dav_req *req)
{
    if (req == NULL)
        return;
    if (req->in_txn) {
        req->srv->store->txn_rollback(req);
        req->in_txn = false;
        if (req->stream_txn) {
            req->stream_txn = false;
            stream_cut_audit(req);
        }
    }
    arena_destroy(req->arena);
}

bool
dav_stream_txn_end(struct dav_req *req, bool ok)
{
    req->stream_txn = false;
    struct dav_err *err = ok ? NULL : dav_err_new(req, 500, "stream failed");
    txn_end(req, true, &err);
    if (err != NULL)
        stream_cut_audit(req);  /* a page or the commit failed */
    return err == NULL;
}

/* ---- hrefs, ETags, conditions ----------------------------------------------- */

const char *
dav_space_href(struct arena *a, const char *slug, const char *path,
               bool collection)
{
    struct buf b;
    buf_init(&b, a, 64 + strlen(path) * 3);
    buf_puts(&b, "/dav/spaces/");
    buf_url_escape(&b, slug, strlen(slug));
    buf_url_escape(&b, path, strlen(path));
    if (collection)
        buf_puts(&b, "/");
    return buf_cstr(&b);
}

const char *
dav_principal_href(struct arena *a, bool user, const char *name)
{
    struct buf b;
    buf_init(&b, a, 64);
    buf_puts(&b, user ? "/dav/principals/users/" : "/dav/principals/spaces/");
    buf_url_escape(&b, name, strlen(name));
    buf_puts(&b, "/");
    return buf_cstr(&b);
}

const char *
dav_href_of(struct dav_req *req, struct arena *a, const struct dav_target *t)
{
    (void)req;
    switch (t->area) {
    case DAV_AREA_ROOT:
        return "/";
    case DAV_AREA_DAVROOT:
        return "/dav/";
    case DAV_AREA_SPACES:
        return "/dav/spaces/";
    case DAV_AREA_PRINCIPALS:
        return "/dav/principals/";
    case DAV_AREA_PRINCIPAL_USERS:
        return "/dav/principals/users/";
    case DAV_AREA_PRINCIPAL_SPACES:
        return "/dav/principals/spaces/";
    case DAV_AREA_PRINCIPAL_USER:
        return dav_principal_href(a, true, t->slug);
    case DAV_AREA_PRINCIPAL_SPACE:
        return dav_principal_href(a, false, t->slug);
    case DAV_AREA_CALENDARS:
        return "/dav/calendars/";
    case DAV_AREA_HISTORY:
    case DAV_AREA_PUBLISHED:
    case DAV_AREA_APPROVALS:
        return dav_view_href(a, t);
    case DAV_AREA_CAL_HOME: {
        struct buf b;
        buf_init(&b, a, 64);
        buf_puts(&b, "/dav/calendars/");
        buf_url_escape(&b, t->cal_user, strlen(t->cal_user));
        buf_puts(&b, "/");
        return buf_cstr(&b);
    }
    case DAV_AREA_SPACE:
    default:
        if (t->url_base != NULL && t->base_path != NULL) {
            bool coll = !t->exists ? t->trailing_slash
                                   : t->res.kind == DAV_KIND_COLLECTION;
            struct buf b;
            buf_init(&b, a, 128);
            buf_puts(&b, t->url_base);
            const char *rest = t->path + strlen(t->base_path);
            buf_url_escape(&b, rest, strlen(rest));
            if (coll)
                buf_puts(&b, "/");
            return buf_cstr(&b);
        }
        return dav_space_href(a, t->slug, t->path,
                              !t->exists ? t->trailing_slash
                                         : t->res.kind == DAV_KIND_COLLECTION);
    }
}

const char *
dav_etag_of(struct arena *a, const struct dav_resource *res)
{
    if (res->kind == DAV_KIND_COLLECTION)
        return arena_printf(a, "\"c%lld-%lld\"", (long long)res->id,
                            (long long)res->modified);
    /* The first 128 bits of the content's SHA-256: strong, and short
     * enough for clients that copy ETags into fixed-size If headers. */
    static const unsigned char empty_sha[16] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
        0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    };
    char *e = arena_alloc_raw(a, 35);
    e[0] = '"';
    hex_encode(res->rev_id == 0 ? empty_sha : res->sha256, 16, e + 1);
    e[33] = '"';
    e[34] = '\0';
    return e;
}

time_t
dav_last_modified(const struct dav_resource *res)
{
    /* RFC 7232 §2.2.1: an origin server MUST NOT send a Last-Modified
     * later than its Date; a time in the future is sent as the Date.
     * libmicrohttpd dates the answer later than this call. */
    time_t now = time(NULL);
    return res->modified > now ? now : res->modified;
}

/* The time If-Modified-Since and If-Unmodified-Since are compared with
 * when 'since' alone does not settle them: the Last-Modified, or for a
 * file the time its current content was stored when that is later, since
 * a client may have set an older modification time than the date of a
 * content it read before. */
static struct dav_err *
condition_time(struct dav_req *req, const struct dav_target *t, time_t since,
               time_t *out)
{
    *out = dav_last_modified(&t->res);
    if (*out > since || t->area != DAV_AREA_SPACE ||
        t->res.kind != DAV_KIND_FILE || t->res.rev_id == 0)
        return NULL;
    int64_t created;
    enum dav_store_rc rc = req->srv->store->revision_time(req, t->res.rev_id,
                                                          &created);
    if (rc == DAV_STORE_OK && created > (int64_t)*out)
        *out = (time_t)created;
    return rc == DAV_STORE_OK || rc == DAV_STORE_NOTFOUND
               ? NULL
               : dav_err_from_store(req, rc, "revision");
}

struct dav_err *
dav_check_conditions(struct dav_req *req, const struct dav_target *t)
{
    bool safe = strcmp(req->method, "GET") == 0 ||
                strcmp(req->method, "HEAD") == 0;
    const char *etag = t->exists && t->area == DAV_AREA_SPACE
                           ? dav_etag_of(req->arena, &t->res)
                           : NULL;
    time_t mtime;
    struct dav_err *err;
    const char *h;

    /* RFC 9110 §13.2.2 step 1 / 2. */
    h = dav_req_header(req, "If-Match");
    if (h != NULL) {
        if (!dav_etag_list_match(str_c(h), etag, t->exists, false))
            return dav_err_new(req, 412, "If-Match failed");
    } else {
        h = dav_req_header(req, "If-Unmodified-Since");
        time_t since;
        /* The Last-Modified a client read back is no change since
         * (RFC 9110 §13.1.4), however long ago the time it set. */
        if (h != NULL && t->exists && http_date_parse(str_c(h), &since) &&
            dav_last_modified(&t->res) != since) {
            err = condition_time(req, t, since, &mtime);
            if (err != NULL)
                return err;
            if (mtime > since)
                return dav_err_new(req, 412, "If-Unmodified-Since failed");
        }
    }
    /* Step 3 / 4. */
    h = dav_req_header(req, "If-None-Match");
    if (h != NULL) {
        if (dav_etag_list_match(str_c(h), etag, t->exists, true)) {
            if (safe)
                return dav_err_new(req, 304, "not modified");
            return dav_err_new(req, 412, "If-None-Match failed");
        }
    } else if (safe) {
        h = dav_req_header(req, "If-Modified-Since");
        time_t since;
        if (h != NULL && t->exists && http_date_parse(str_c(h), &since)) {
            err = condition_time(req, t, since, &mtime);
            if (err != NULL)
                return err;
            if (mtime <= since)
                return dav_err_new(req, 304, "not modified");
        }
    }
    return NULL;
}

/* ---- REPORT (RFC 3253 §3.6) --------------------------------------------- */

struct dav_err *
dav_method_report(struct dav_req *req)
{
    xmlDocPtr doc;
    struct dav_err *err = dav_xml_parse(req, &doc);
    if (err != NULL)
        return err;
    if (doc == NULL)
        return dav_err_new(req, 400, "REPORT needs a body");
    if (!req->target.exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    xmlNode *root = xmlDocGetRootElement(doc);
    const struct dav_report_def *r =
        dav_registry_report(req->srv->reg, dav_xml_ns(root),
                            (const char *)root->name);
    /* Each report's own privilege: most need DAV:read, free-busy-query
     * CALDAV:read-free-busy only (RFC 4791 §6.1.1).  RFC 3253 §3.6: an
     * unsupported report is 403 supported-report, once the target is
     * seen to be readable (else it does not exist). */
    err = dav_check_priv(req, &req->target,
                         r != NULL ? r->required_priv : DAV_PRIV_READ);
    if (err == NULL && r == NULL)
        return dav_err_cond(req, 403, DAV_NS, "supported-report",
                            "unsupported report %s", root->name);
    if (err != NULL)
        return err;
    /* RFC 9110 §13.2.1; If-None-Match is 412 here, never 304. */
    err = dav_check_conditions(req, &req->target);
    if (err != NULL)
        return err;
    return r->handler(req, (const struct dav_xml_elem *)root);
}

bool
dav_url_to_target(struct dav_req *req, const char *url, struct dav_target *out)
{
    const char *path;
    bool other, notfound;
    if (!dav_parse_destination(req->arena, str_c(url),
                               dav_req_header(req, "Host"), &path, &other) ||
        other)
        return false;
    return dav_path_parse(req->arena, path, out, &notfound);
}

void
dav_respond_empty(struct dav_req *req, int status)
{
    dav_respond(req, status, NULL, "", 0);
}

void
dav_respond_xml(struct dav_req *req, int status, const char *xml)
{
    dav_respond(req, status, "application/xml; charset=utf-8", xml,
                strlen(xml));
}

void
dav_txn_pause(struct dav_req *req)
{
    if (!req->in_txn)
        return;
    req->srv->store->txn_rollback(req);
    req->in_txn = false;
    req->acl_cache = NULL;
}

struct dav_err *
dav_txn_resume(struct dav_req *req)
{
    if (req->in_txn)
        return NULL;
    return req->read_lease ? read_start(req) : txn_start(req);
}
