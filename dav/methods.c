/*
 * dav/methods.c -- OPTIONS, GET/HEAD, PUT, MKCOL, DELETE, COPY and MOVE
 * (RFC 4918 §9.3-§9.9, RFC 9110 §9.3 and §14 for Range).
 *
 * PUT streams: the body is cut into DAV_CHUNK_SIZE pieces that go to the
 * store as they arrive, inside the request's transaction; the revision row
 * is written last.  GET streams the chunks back one at a time.  Neither
 * holds more than one chunk in memory.
 */
#include "dav/dav_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- OPTIONS ------------------------------------------------------------ */

struct dav_err *
dav_method_options(struct dav_req *req)
{
    /* Windows and Office probe anonymously (CLIENTS.md §1): answer
     * without authentication on every path. */
    const struct dav_registry *reg = req->srv->reg;
    dav_resp_header_add(req, "DAV",
                        reg->classes != NULL
                            ? arena_printf(req->arena, "1, 2, 3, %s",
                                           reg->classes)
                            : "1, 2, 3");
    dav_resp_header_add(req, "MS-Author-Via", "DAV");
    /* RFC 9110 §10.2.1: the methods the target supports; all of the
     * registry when it is not resolved (no authentication). */
    dav_resp_header_add(req, "Allow", dav_allow(req));
    dav_resp_header_add(req, "Accept-Ranges", "bytes");
    dav_respond(req, 200, NULL, "", 0);
    return NULL;
}

/* ---- GET / HEAD --------------------------------------------------------------- */

struct get_stream {
    int64_t space_id;
    struct dav_chunk_ref *chunks;
    size_t nchunks;
    uint64_t start;      /* first byte served */
    size_t cur;          /* index of the cached chunk, or SIZE_MAX */
    size_t at;           /* index of the chunk read last */
    char *cache;         /* one chunk */
    size_t cache_size;   /* bytes of cache */
};

static long
get_stream_read(struct dav_req *req, uint64_t pos, char *dst, size_t max)
{
    struct get_stream *gs = req->mstate;
    uint64_t abs = gs->start + pos;
    size_t i = gs->at;
    /* Reads are sequential: move forward from the chunk read last. */
    if (i < gs->nchunks && (uint64_t)gs->chunks[i].offset > abs)
        i = 0;
    while (i < gs->nchunks &&
           (uint64_t)(gs->chunks[i].offset + gs->chunks[i].size) <= abs)
        i++;
    if (i >= gs->nchunks)
        return 0;
    gs->at = i;
    const struct dav_chunk_ref *c = &gs->chunks[i];
    size_t off = (size_t)(abs - (uint64_t)c->offset);
    size_t n = (size_t)c->size - off;
    if (n > max)
        n = max;
    if (gs->cur != i) {
        if (c->size < 0 || (size_t)c->size > gs->cache_size)
            return -1;
        /* Held by this node: straight into the response's buffer. */
        const struct dav_store_ops *st = req->srv->store;
        if (st->chunk_local != NULL &&
            st->chunk_local(req, gs->space_id, c->sha256, (int64_t)off, n,
                            dst))
            return (long)n;
        enum dav_store_rc rc = st->chunk_read(
            req, gs->space_id, c->sha256, 0, (size_t)c->size, gs->cache);
        if (rc != DAV_STORE_OK)
            return -1;
        gs->cur = i;
    }
    memcpy(dst, gs->cache + off, n);
    return (long)n;
}

/* A body sent from the node's file of the whole content: read from it
 * should the HTTP layer not send the file itself. */
static long
get_stream_file_read(struct dav_req *req, uint64_t pos, char *dst,
                     size_t max)
{
    const struct dav_stream_file *f = req->stream_file;
    for (;;) {
        ssize_t n = pread(f->fd, dst, max, (off_t)(f->off + pos));
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : (long)n;
    }
}

static void
stream_file_close(void *obj)
{
    struct dav_stream_file *f = obj;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* Serve [start, start+len) from the node's file of the whole content, if
 * it holds one: no database read, and the bytes go out by sendfile. */
static bool
get_from_file(struct dav_req *req, const struct dav_resource *res,
              uint64_t start)
{
    const struct dav_store_ops *st = req->srv->store;
    if (st->content_fd == NULL || res->size <= 0)
        return false;
    int fd = st->content_fd(req, req->target.space.id, res->sha256,
                            (uint64_t)res->size);
    if (fd < 0)
        return false;
    struct dav_stream_file *f = arena_alloc(req->arena, sizeof(*f));
    f->fd = fd;
    f->off = start;
    arena_defer(req->arena, stream_file_close, f);
    req->stream_file = f;
    return true;
}

static void
add_validators(struct dav_req *req, const struct dav_resource *res)
{
    char d[30];
    dav_resp_header_add(req, "ETag", dav_etag_of(req->arena, res));
    http_date_format(dav_last_modified(res), d);
    dav_resp_header_add(req, "Last-Modified", d);
}

/* Parse a single "bytes=a-b" range against size; false = ignore Range. */
static bool
parse_range(struct str h, uint64_t size, uint64_t *start, uint64_t *end,
            bool *unsatisfiable)
{
    *unsatisfiable = false;
    h = str_trim(h);
    if (!str_starts_with_c(h, "bytes="))
        return false;
    struct str r = { h.p + 6, h.len - 6 };
    if (memchr(r.p, ',', r.len) != NULL)
        return false; /* multiple ranges: serve the whole representation */
    const char *dash = memchr(r.p, '-', r.len);
    if (dash == NULL)
        return false;
    struct str a = str_trim((struct str){ r.p, (size_t)(dash - r.p) });
    struct str b = str_trim((struct str){ dash + 1,
                                          r.len - (size_t)(dash - r.p) - 1 });
    uint64_t x, y;
    if (a.len == 0) {
        /* suffix range: last y bytes */
        if (!str_to_u64(b, &y))
            return false;
        if (y == 0 || size == 0) {
            *unsatisfiable = true;
            return true;
        }
        *start = y >= size ? 0 : size - y;
        *end = size - 1;
        return true;
    }
    if (!str_to_u64(a, &x))
        return false;
    if (b.len == 0) {
        y = size > 0 ? size - 1 : 0;
    } else {
        if (!str_to_u64(b, &y) || y < x)
            return false;
        if (y >= size)
            y = size - 1;
    }
    if (x >= size) {
        *unsatisfiable = true;
        return true;
    }
    *start = x;
    *end = y;
    return true;
}

static bool
view_area(const struct dav_target *t)
{
    return t->area == DAV_AREA_HISTORY || t->area == DAV_AREA_PUBLISHED ||
           t->area == DAV_AREA_APPROVALS;
}

static struct dav_err *
get_collection(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    struct buf b;
    buf_init(&b, req->arena, 4096);
    const char *href = dav_href_of(req, req->arena, t);
    buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                 "<title>");
    buf_xml_escape(&b, href, strlen(href));
    buf_puts(&b, "</title></head><body><h1>");
    buf_xml_escape(&b, href, strlen(href));
    buf_puts(&b, "</h1><ul>\n");
    if (t->area == DAV_AREA_SPACE) {
        struct dav_resource *rs;
        size_t n;
        enum dav_store_rc rc = req->srv->store->children(req, t->space.id,
                                                         t->path, &rs, &n);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "children");
        for (size_t i = 0; i < n; i++) {
            struct dav_target c = *t;
            c.path = rs[i].path;
            c.res = rs[i];
            if (dav_member_hidden(req, &rs[i]) ||
                (t->cal_name == NULL &&
                 dav_reserved_path(rs[i].path)) ||
                dav_check_priv(req, &c, DAV_PRIV_READ) != NULL)
                continue;
            const char *h = dav_href_of(req, req->arena, &c);
            buf_puts(&b, "<li><a href=\"");
            buf_xml_escape(&b, h, strlen(h));
            buf_puts(&b, "\">");
            buf_xml_escape(&b, rs[i].name, strlen(rs[i].name));
            if (rs[i].kind == DAV_KIND_COLLECTION)
                buf_puts(&b, "/");
            buf_puts(&b, "</a></li>\n");
        }
    } else if (t->area == DAV_AREA_SPACES) {
        struct dav_space *sp;
        size_t n;
        enum dav_store_rc rc = req->srv->store->spaces_of_user(
            req, req->principal->id, &sp, &n);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "spaces");
        for (size_t i = 0; i < n; i++) {
            const char *h = dav_space_href(req->arena, sp[i].slug, "", true);
            buf_puts(&b, "<li><a href=\"");
            buf_xml_escape(&b, h, strlen(h));
            buf_puts(&b, "\">");
            buf_xml_escape(&b, sp[i].title, strlen(sp[i].title));
            buf_puts(&b, "</a></li>\n");
        }
    } else if (view_area(t)) {
        struct dav_target *ts;
        size_t n;
        struct dav_err *err = dav_view_children(req, t, &ts, &n);
        if (err != NULL)
            return err;
        for (size_t i = 0; i < n; i++) {
            const char *h = dav_href_of(req, req->arena, &ts[i]);
            const char *name = ts[i].is_rev || ts[i].flat_name != NULL
                                   ? ts[i].flat_name
                                   : ts[i].res.name;
            buf_puts(&b, "<li><a href=\"");
            buf_xml_escape(&b, h, strlen(h));
            buf_puts(&b, "\">");
            buf_xml_escape(&b, name, strlen(name));
            buf_puts(&b, "</a></li>\n");
        }
    } else {
        const char *h = t->area == DAV_AREA_ROOT ? "/dav/" : "/dav/spaces/";
        buf_printf(&b, "<li><a href=\"%s\">%s</a></li>\n", h, h);
    }
    buf_puts(&b, "</ul></body></html>\n");
    dav_respond_buf(req, 200, "text/html; charset=utf-8", &b);
    if (t->area == DAV_AREA_SPACE)
        add_validators(req, &t->res);
    return NULL;
}

struct dav_err *
dav_method_get(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    bool listing = (t->area != DAV_AREA_SPACE && !view_area(t)) ||
                   t->res.kind == DAV_KIND_COLLECTION;
    struct dav_err *err = dav_check_conditions(req, t);
    /* A listing changes with its members, which a collection's ETag does
     * not follow: it is always sent whole, never 304. */
    if (err != NULL && err->status == 304 && listing)
        err = NULL;
    if (err != NULL && err->status == 304) {
        /* RFC 9110 §15.4.5: 304 carries the validators, no body. */
        dav_respond(req, 304, NULL, "", 0);
        add_validators(req, &t->res);
        return NULL;
    }
    if (err != NULL)
        return err;
    if (listing)
        return get_collection(req);
    /* Reads of the published view are always audited (receipts). */
    if (t->area == DAV_AREA_PUBLISHED)
        req->audit_read = true;

    const struct dav_resource *res = &t->res;
    uint64_t size = (uint64_t)res->size;
    uint64_t start = 0, end = size > 0 ? size - 1 : 0;
    int status = 200;
    /* RFC 7233 §3.1: a server MUST ignore Range for methods other than
     * GET; HEAD answers as the GET without Range would. */
    const char *rh = strcmp(req->method, "GET") == 0
                         ? dav_req_header(req, "Range")
                         : NULL;
    const char *ifr = dav_req_header(req, "If-Range");
    if (rh != NULL && ifr != NULL &&
        strcmp(str_trim(str_c(ifr)).p, dav_etag_of(req->arena, res)) != 0)
        rh = NULL; /* RFC 9110 §13.1.5: validator changed, send it all */
    if (rh != NULL) {
        bool unsat;
        uint64_t s, e;
        if (parse_range(str_c(rh), size, &s, &e, &unsat)) {
            if (unsat) {
                dav_respond(req, 416, NULL, "", 0);
                dav_resp_header_add(req, "Content-Range",
                                    arena_printf(req->arena, "bytes */%" PRIu64,
                                                 size));
                add_validators(req, res);
                return NULL;
            }
            start = s;
            end = e;
            status = 206;
        }
    }

    struct get_stream *gs = arena_alloc(req->arena, sizeof(*gs));
    gs->space_id = t->space.id;
    gs->start = start;
    gs->cur = SIZE_MAX;
    if (size > 0 && !get_from_file(req, res, start)) {
        /* No chunk is larger than the content. */
        gs->cache_size = size < DAV_CHUNK_SIZE ? (size_t)size
                                               : DAV_CHUNK_SIZE;
        gs->cache = arena_alloc_raw(req->arena, gs->cache_size);
        enum dav_store_rc rc = DAV_STORE_NOTFOUND;
        if (size <= DAV_CHUNK_SIZE) {
            /* Content of one chunk is that chunk, named by the content's
             * own hash: read it now, without asking for the chunk list.
             * (Should it have been stored otherwise, the list is read.) */
            gs->chunks = arena_alloc(req->arena, sizeof(*gs->chunks));
            memcpy(gs->chunks[0].sha256, res->sha256, 32);
            gs->chunks[0].size = (int32_t)size;
            gs->chunks[0].offset = 0;
            gs->nchunks = 1;
            rc = req->srv->store->chunk_read(req, t->space.id, res->sha256, 0,
                                             (size_t)size, gs->cache);
            if (rc == DAV_STORE_OK)
                gs->cur = 0;
            else if (rc != DAV_STORE_NOTFOUND)
                return dav_err_from_store(req, rc, "content");
        }
        if (rc == DAV_STORE_NOTFOUND) {
            rc = req->srv->store->content_chunks(req, res, &gs->chunks,
                                                 &gs->nchunks);
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "content");
        }
    }
    req->mstate = gs;
    req->status = status;
    req->stream = size == 0 ? NULL
                  : req->stream_file != NULL ? get_stream_file_read
                                             : get_stream_read;
    req->stream_len = size > 0 ? end - start + 1 : 0;
    buf_init(&req->resp_body, req->arena, 16);
    req->resp_has_body = false;
    if (req->stream == get_stream_read && gs->cur == 0) {
        /* The whole content is read already (one chunk): sent as a body
         * held in memory, which goes out with the head in one write. */
        req->stream = NULL;
        req->resp_body.p = gs->cache + start;
        req->resp_body.len = req->resp_body.cap = (size_t)(end - start + 1);
        req->resp_has_body = true;
    }
    dav_resp_header_add(req, "Content-Type",
                        res->content_type != NULL ? res->content_type
                                                  : "application/octet-stream");
    dav_resp_header_add(req, "Accept-Ranges", "bytes");
    if (status == 206)
        dav_resp_header_add(req, "Content-Range",
                            arena_printf(req->arena,
                                         "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                                         start, end, size));
    add_validators(req, res);
    return NULL;
}

/* ---- PUT ------------------------------------------------------------------------ */

struct put_state {
    bool created;
    bool hooked;             /* the parent's type checks the body */
    struct dav_target parent;
    struct buf keep;         /* the whole body, when hooked */
    size_t keep_max;
    int64_t quota_room;      /* bytes the new content may take; -1: any */
    struct sha256 whole;     /* of the chunks flushed so far */
    char *chunk;
    size_t chunk_cap;        /* bytes of chunk: the announced length, up
                                to DAV_CHUNK_SIZE */
    size_t fill;
    uint64_t total;
    struct dav_chunk_ref *refs;
    size_t nrefs, caprefs;
};

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    { "txt", "text/plain" }, { "html", "text/html" }, { "htm", "text/html" },
    { "css", "text/css" }, { "csv", "text/csv" }, { "xml", "application/xml" },
    { "json", "application/json" }, { "pdf", "application/pdf" },
    { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
    { "gif", "image/gif" }, { "svg", "image/svg+xml" },
    { "ics", "text/calendar" }, { "zip", "application/zip" },
    { "odt", "application/vnd.oasis.opendocument.text" },
    { "ods", "application/vnd.oasis.opendocument.spreadsheet" },
    { "odp", "application/vnd.oasis.opendocument.presentation" },
    { "docx", "application/vnd.openxmlformats-officedocument."
              "wordprocessingml.document" },
    { "xlsx", "application/vnd.openxmlformats-officedocument."
              "spreadsheetml.sheet" },
    { "pptx", "application/vnd.openxmlformats-officedocument."
              "presentationml.presentation" },
    { "doc", "application/msword" }, { "xls", "application/vnd.ms-excel" },
    { "md", "text/markdown" },
};

static const char *
guess_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
        if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
            return mime_types[i].type;
    return "application/octet-stream";
}

/* Bytes a new content may take in a space: its quota less what the space
 * holds, the file's own current content excepted; 0 when the space is
 * over its quota already (the quota was lowered); -1 with no quota. */
static int64_t
quota_room(int64_t limit, int64_t used, int64_t own)
{
    if (limit < 0)
        return -1;
    return limit - used + own > 0 ? limit - used + own : 0;
}

struct dav_err *
dav_method_put_prepare(struct dav_req *req)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_target *t = &req->target;
    if (t->area != DAV_AREA_SPACE || t->path[0] == '\0')
        return dav_err_new(req, 405, "cannot PUT to a collection");
    if (t->exists && t->res.kind == DAV_KIND_COLLECTION)
        return dav_err_new(req, 405, "cannot PUT to a collection");
    /* A calendar home holds calendars: MKCALENDAR makes one there. */
    if (!t->exists && dav_target_is_calendar(t))
        return dav_err_new(req, 405, "only a calendar is made here");
    /* RFC 9110 §14.5: a partial PUT is refused rather than misapplied. */
    if (dav_req_header(req, "Content-Range") != NULL)
        return dav_err_new(req, 400, "Content-Range on PUT");
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err->status == 304 ? dav_err_new(req, 412, "precondition")
                                  : err;
    struct put_state *ps = arena_alloc(req->arena, sizeof(*ps));
    const struct dav_put_hook *hook = req->srv->reg->put_hook;
    if (!t->exists || hook != NULL) {
        err = dav_target_parent(req, t, &ps->parent);
        if (err != NULL)
            return err;
    }
    if (hook != NULL && ps->parent.exists &&
        ps->parent.res.subtype != DAV_SUBTYPE_PLAIN) {
        ps->hooked = true;
        err = hook->prepare(req, &ps->parent, &ps->keep_max);
        if (err != NULL)
            return err;
        buf_init(&ps->keep, req->arena, 8192);
    }
    if (!t->exists) {
        const struct dav_target *parent = &ps->parent;
        /* RFC 4918 §9.7.1: missing intermediate collections -> 409. */
        if (!parent->exists || parent->res.kind != DAV_KIND_COLLECTION)
            return dav_err_new(req, 409, "parent collection missing");
        /* Created with its first revision once the body is in (one row
         * written once).  The path's lock, taken with the lookup that
         * found nothing (decision 0020), keeps every other writer of it
         * waiting until this transaction ends. */
        memset(&t->res, 0, sizeof(t->res));
        t->res.space_id = t->space.id;
        t->res.path = t->path;
        t->res.name = dav_base_name(t->path);
        t->res.kind = DAV_KIND_FILE;
        ps->created = true;
    }
    /* RFC 4331 §6: refuse early when the announced size cannot fit. */
    ps->quota_room = -1;
    if (t->space.quota >= 0) {
        int64_t used, limit, disk_free;
        enum dav_store_rc qrc = st->quota_get(req, t->space.id, &used,
                                              &limit, &disk_free);
        if (qrc != DAV_STORE_OK)
            return dav_err_from_store(req, qrc, "quota");
        ps->quota_room = quota_room(limit, used, t->res.size);
    }
    uint64_t announced;
    bool known = dav_req_announced_len(req, &announced);
    if (ps->quota_room >= 0 && known && announced > (uint64_t)ps->quota_room)
        return dav_err_cond(req, 507, DAV_NS, "quota-not-exceeded",
                            "space quota exceeded");
    sha256_init(&ps->whole);
    /* A small body gets a buffer its size (grown should it be longer). */
    ps->chunk_cap = DAV_CHUNK_SIZE;
    if (known && announced < DAV_CHUNK_SIZE)
        ps->chunk_cap = announced > 0 ? (size_t)announced : 1;
    ps->chunk = arena_alloc_raw(req->arena, ps->chunk_cap);
    ps->caprefs = 64;
    ps->refs = arena_alloc(req->arena, ps->caprefs * sizeof(*ps->refs));
    req->mstate = ps;
    return NULL;
}

static struct dav_err *
put_flush(struct dav_req *req, struct put_state *ps)
{
    if (ps->fill == 0)
        return NULL;
    if (ps->nrefs == ps->caprefs) {
        struct dav_chunk_ref *n =
            arena_alloc(req->arena, 2 * ps->caprefs * sizeof(*n));
        memcpy(n, ps->refs, ps->caprefs * sizeof(*n));
        ps->refs = n;
        ps->caprefs *= 2;
    }
    struct dav_chunk_ref *r = &ps->refs[ps->nrefs];
    /* The chunk's hash and the whole content's, in one pass. */
    struct sha256 cs;
    sha256_init(&cs);
    sha256_update2(&ps->whole, &cs, ps->chunk, ps->fill);
    sha256_final(&cs, r->sha256);
    r->offset = (int64_t)(ps->total - ps->fill);
    r->size = (int32_t)ps->fill;
    enum dav_store_rc rc = req->srv->store->chunk_put(
        req, req->target.space.id, r->sha256, ps->chunk, ps->fill);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "chunk");
    ps->nrefs++;
    ps->fill = 0;
    return NULL;
}

struct dav_err *
dav_method_put_body(struct dav_req *req, const char *data, size_t len)
{
    struct put_state *ps = req->mstate;
    /* A body of unannounced length (chunked) is stopped as soon as it
     * passes the room the quota left when it began, not stored whole
     * first. */
    if (ps->quota_room >= 0 && ps->total + len > (uint64_t)ps->quota_room)
        return dav_err_cond(req, 507, DAV_NS, "quota-not-exceeded",
                            "space quota exceeded");
    if (ps->hooked) {
        if (ps->keep.len + len > ps->keep_max)
            return req->srv->reg->put_hook->too_large(req);
        buf_append(&ps->keep, data, len);
    }
    while (len > 0) {
        if (ps->fill == ps->chunk_cap && ps->chunk_cap < DAV_CHUNK_SIZE) {
            char *bigger = arena_alloc_raw(req->arena, DAV_CHUNK_SIZE);
            memcpy(bigger, ps->chunk, ps->fill);
            ps->chunk = bigger;
            ps->chunk_cap = DAV_CHUNK_SIZE;
        }
        size_t take = ps->chunk_cap - ps->fill;
        if (take > len)
            take = len;
        memcpy(ps->chunk + ps->fill, data, take);
        ps->fill += take;
        ps->total += take;
        data += take;
        len -= take;
        if (ps->fill == DAV_CHUNK_SIZE) {
            struct dav_err *err = put_flush(req, ps);
            if (err != NULL)
                return err;
        }
    }
    return NULL;
}

struct dav_err *
dav_method_put(struct dav_req *req)
{
    struct put_state *ps = req->mstate;
    struct dav_target *t = &req->target;
    struct dav_err *err = put_flush(req, ps);
    if (err != NULL)
        return err;
    if (ps->quota_room >= 0) {
        /* The room was measured before the body, unlocked: uploads running
         * at once (through this node or another) each saw room for itself.
         * Measure again holding the space up to the commit. */
        const struct dav_store_ops *st = req->srv->store;
        int64_t used, limit, disk_free;
        enum dav_store_rc rc = st->quota_lock(req, t->space.id);
        if (rc == DAV_STORE_OK)
            rc = st->quota_get(req, t->space.id, &used, &limit, &disk_free);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "quota");
        ps->quota_room = quota_room(limit, used, t->res.size);
    }
    if (ps->quota_room >= 0 && ps->total > (uint64_t)ps->quota_room)
        return dav_err_cond(req, 507, DAV_NS, "quota-not-exceeded",
                            "space quota exceeded");
    unsigned char sha[32];
    sha256_final(&ps->whole, sha);
    const char *ct = dav_req_header(req, "Content-Type");
    if (ct == NULL || ct[0] == '\0')
        ct = guess_type(t->res.name != NULL ? t->res.name : t->path);
    const struct dav_put_hook *hook = req->srv->reg->put_hook;
    if (ps->hooked) {
        err = hook->check(req, &ps->parent, ps->keep.p, ps->keep.len, &ct);
        if (err != NULL)
            return err;
    }
    /* The bytes and type the file has already (an unchanged save, a
     * re-upload after a touch): no revision, nothing changed, an approval
     * stands.  The target's row is locked, so its current revision is
     * the one compared. */
    bool same = t->exists && t->res.rev_id != 0 &&
                (uint64_t)t->res.size == ps->total &&
                memcmp(t->res.sha256, sha, 32) == 0 &&
                t->res.content_type != NULL &&
                strcmp(t->res.content_type, ct) == 0;
    int64_t author = req->principal != NULL ? req->principal->id : 0;
    enum dav_store_rc rc =
        same ? DAV_STORE_OK
             : req->srv->store->revision_add(req, &t->res, author,
                                             (int64_t)ps->total, ct, sha,
                                             ps->refs, ps->nrefs);
    /* Only a writer that takes no path lock could have made it meanwhile;
     * the body is spent, so no second attempt. */
    if (rc == DAV_STORE_EXISTS)
        return dav_err_new(req, 409, "%s was created meanwhile", t->path);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "revision");
    if (same)
        req->audit_detail = "same content: no new revision";
    t->exists = true;
    if (ps->hooked && !same) {
        err = hook->after(req, &ps->parent);
        if (err != NULL)
            return err;
    }
    /* rclone and Nextcloud-aware clients keep modification times this
     * way; the header carries Unix seconds. */
    const char *mt = dav_req_header(req, "X-OC-Mtime");
    bool mtime_set = false;
    if (mt != NULL) {
        struct str v = str_trim(str_c(mt));
        const char *dot = memchr(v.p, '.', v.len);
        if (dot != NULL)
            v.len = (size_t)(dot - v.p);
        uint64_t secs;
        if (str_to_u64(v, &secs) && secs < (1ULL << 40)) {
            rc = req->srv->store->mtime_set(req, &t->res, (time_t)secs);
            if (rc != DAV_STORE_OK)
                return dav_err_from_store(req, rc, "mtime");
            t->res.modified = (time_t)secs;
            mtime_set = true;
        }
    }
    dav_respond(req, ps->created ? 201 : 204, NULL, "", 0);
    add_validators(req, &t->res);
    if (mtime_set)
        dav_resp_header_add(req, "X-OC-Mtime", "accepted");
    return NULL;
}

/* ---- MKCOL ---------------------------------------------------------------------- */

struct dav_err *
dav_method_mkcol(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (t->area != DAV_AREA_SPACE || t->exists)
        /* RFC 4918 §9.3.1: MKCOL on a mapped URL is 405. */
        return dav_err_new(req, 405, "resource exists");
    /* RFC 9110 §13.2.1: a false precondition stops the method. */
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err;
    struct dav_target parent;
    err = dav_target_parent(req, t, &parent);
    if (err != NULL)
        return err;
    if (!parent.exists || parent.res.kind != DAV_KIND_COLLECTION)
        return dav_err_new(req, 409, "parent collection missing");
    enum dav_store_rc rc = req->srv->store->create(req, t->space.id, t->path,
                                                   DAV_KIND_COLLECTION,
                                                   &t->res);
    if (rc == DAV_STORE_EXISTS)
        return dav_err_new(req, 405, "resource exists");
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "mkcol");
    dav_respond(req, 201, NULL, "", 0);
    return NULL;
}

/* ---- DELETE --------------------------------------------------------------------- */

/* The access control entries of a space, read once for several trees of
 * it (an emptied trash's entries). */
struct space_aces {
    bool loaded;
    struct dav_ace *aces;
    size_t n;
};

/* The resources below t that carry access control entries of their own,
 * looked up (the only ones whose privileges can differ from t's: their
 * entries apply below them).  None when the space has no entries.  'sa'
 * keeps the space's entries between calls. */
static struct dav_err *
ace_members(struct dav_req *req, const struct dav_target *t,
            struct space_aces *sa, struct dav_target **out, size_t *nout)
{
    const struct dav_store_ops *st = req->srv->store;
    *out = NULL;
    *nout = 0;
    if (!t->space.has_aces)
        return NULL;
    if (!sa->loaded) {
        enum dav_store_rc rc = st->aces_find(req, t->space.id, NULL, 0,
                                             &sa->aces, &sa->n);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "access control entries");
        sa->loaded = true;
    }
    const struct dav_ace *aces = sa->aces;
    size_t n = sa->n;
    struct dav_target *v = arena_alloc(req->arena, (n + 1) * sizeof(*v));
    size_t k = 0, tl = strlen(t->path);
    for (size_t i = 0; i < n; i++) {
        const char *p = aces[i].path;
        if (strncmp(p, t->path, tl) != 0 || p[tl] != '/' ||
            (k > 0 && strcmp(v[k - 1].path, p) == 0))
            continue;
        v[k] = *t;
        v[k].path = p;
        if (st->lookup(req, t->space.id, p, false, &v[k].res) !=
            DAV_STORE_OK)
            continue;
        v[k].exists = true;
        k++;
    }
    *out = v;
    *nout = k;
    return NULL;
}

/*
 * A collection goes with its members: each must be one the principal may
 * delete, as a DELETE of it alone would check (RFC 4918 §9.6.1: if a
 * member cannot be deleted, none of its ancestors is).  Only resources
 * with access control entries of their own can differ from the
 * collection, and their entries apply below them.  The answer does not
 * say which member: it may be one the principal cannot see.
 */
static struct dav_err *
members_deletable(struct dav_req *req, const struct dav_target *t,
                  struct space_aces *sa)
{
    if (t->res.kind != DAV_KIND_COLLECTION)
        return NULL;
    struct dav_target *inner;
    size_t n;
    struct dav_err *err = ace_members(req, t, sa, &inner, &n);
    for (size_t i = 0; err == NULL && i < n; i++)
        if (dav_check_priv(req, &inner[i], DAV_PRIV_UNBIND) != NULL)
            err = dav_err_new(req, 403, "a member of %s may not be deleted",
                              t->path);
    return err;
}

/* DELETE of the trash itself: purge every entry but those holding an
 * approved revision. */
static struct dav_err *
empty_trash(struct dav_req *req)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_target *t = &req->target;
    struct dav_resource *rs;
    size_t n;
    enum dav_store_rc rc = st->children(req, t->space.id, t->path, &rs, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "trash");
    size_t kept = 0;
    struct space_aces sa = { 0 };
    for (size_t i = 0; i < n; i++) {
        /* What the manager may not delete (an entry from a folder closed
         * to them, or holding one) stays, as a DELETE of it would. */
        struct dav_target entry = *t;
        entry.path = rs[i].path;
        entry.res = rs[i];
        entry.exists = true;
        if (dav_check_priv(req, &entry, DAV_PRIV_UNBIND) != NULL ||
            members_deletable(req, &entry, &sa) != NULL) {
            kept++;
            continue;
        }
        bool approved;
        rc = st->tree_has_approved(req, t->space.id, rs[i].path, &approved);
        if (rc == DAV_STORE_OK && approved) {
            kept++;
            continue;
        }
        if (rc == DAV_STORE_OK)
            rc = st->remove(req, t->space.id, rs[i].path);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "trash");
    }
    req->audit_action = "EMPTY_TRASH";
    req->audit_detail = arena_printf(req->arena, "%zu purged, %zu kept",
                                     n - kept, kept);
    dav_respond(req, 204, NULL, "", 0);
    return NULL;
}

/* Is 'name' one that office programs give a document they rename away
 * while saving it: ~WRL0001.tmp (Word), 3A1B2C4D.tmp (Excel), "Backup of
 * report.doc" or report.wbk (Word's backup copy)? */
static bool
temporary_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '~' ||
           (n > 4 && (strcasecmp(name + n - 4, ".tmp") == 0 ||
                      strcasecmp(name + n - 4, ".wbk") == 0)) ||
           strncmp(name, "Backup of ", 10) == 0;
}

/* Do in-space paths a and b name members of one folder? */
static bool
same_folder(const char *a, const char *b)
{
    size_t la = (size_t)(dav_base_name(a) - a);
    return la == (size_t)(dav_base_name(b) - b) && strncmp(a, b, la) == 0;
}

/* Is 'name' that of the file an office program writes beside a document
 * it opens, naming who has it open: ~$port.docx (Microsoft Office),
 * .~lock.report.odt# (LibreOffice)? */
static bool
office_lock_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "~$", 2) == 0 ||
           (strncmp(name, ".~lock.", 7) == 0 && n > 8 && name[n - 1] == '#');
}

struct dav_err *
dav_method_delete(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    if (t->area != DAV_AREA_SPACE || t->path[0] == '\0')
        return dav_err_new(req, 403, "cannot delete this collection");
    /* RFC 4918 §9.6.1: DELETE on a collection acts as Depth: infinity;
     * any other Depth is an error. */
    const char *dh = dav_req_header(req, "Depth");
    enum dav_depth depth;
    if (dh != NULL && (!dav_parse_depth(str_c(dh), &depth) ||
                       (t->res.kind == DAV_KIND_COLLECTION &&
                        depth != DAV_DEPTH_INFINITY)))
        return dav_err_new(req, 400, "bad Depth for DELETE");
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err->status == 304 ? dav_err_new(req, 412, "precondition")
                                  : err;
    const struct dav_store_ops *st = req->srv->store;
    enum dav_store_rc rc;
    bool in_trash = t->base_path != NULL &&
                    strcmp(t->base_path, DAV_TRASH_FOLDER) == 0;
    /* Purging the trash is for managers, entry by entry (below). */
    struct space_aces sa = { 0 };
    err = in_trash ? NULL : members_deletable(req, t, &sa);
    if (err != NULL)
        return err;
    /* The copy an office save left of a document (save_into_renamed_away),
     * whose content is one of the document's revisions, and the lock
     * file an office program writes beside a document it opens and
     * deletes when it closes it: removed for good rather than left in the
     * trash at every save and every opening, while they are what they
     * were made as (the store's 'disposable' says when). */
    bool disposable = false;
    const char *name = dav_base_name(t->path);
    bool lock_name = office_lock_name(name);
    if (t->base_path == NULL && t->res.kind == DAV_KIND_FILE &&
        t->res.rev_id != 0 && (lock_name || temporary_name(name))) {
        rc = st->disposable(req, &t->res, t->path,
                            arena_printf(req->arena, "%s%s", t->slug,
                                         t->path),
                            lock_name, &disposable);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "delete");
        if (disposable)
            req->audit_detail = lock_name
                                    ? "an office program's lock file: "
                                      "removed"
                                    : "the copy an office save kept: "
                                      "removed";
    }
    /* A calendar's objects are deleted for good, but not a whole
     * calendar at once: it goes to the trash, events and all, like a
     * folder, for a manager to purge or anyone who may to restore. */
    if (!disposable &&
        (t->base_path == NULL || dav_target_is_calendar(t))) {
        /* A file or folder goes to the trash, history and all. */
        const char *entry;
        rc = st->trash(req, t->space.id, t->path,
                       req->principal != NULL ? req->principal->id : 0,
                       &entry);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "trash");
        /* A deleted file is seldom read again: the node's copy of its
         * content gives its room back at once, as a plain file server's
         * file would (a read from the trash finds the bytes in the
         * store).  A folder's members are left to the cache's budget. */
        if (t->res.kind == DAV_KIND_FILE && t->res.rev_id != 0 &&
            st->content_cold != NULL)
            st->content_cold(req, t->space.id, t->res.sha256);
        req->audit_detail = arena_printf(req->arena, "to %s", entry);
        dav_respond(req, 204, NULL, "", 0);
        return NULL;
    }
    if (in_trash) {
        /* Emptying the trash is for managers; approved revisions stay. */
        err = dav_check_priv(req, t, DAV_PRIV_WRITE_ACL);
        if (err != NULL)
            return err;
        if (strcmp(t->path, DAV_TRASH_FOLDER) == 0)
            return empty_trash(req);
        bool approved;
        rc = st->tree_has_approved(req, t->space.id, t->path, &approved);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "trash");
        if (approved)
            return dav_err_cond(req, 403, PARVIS_NS, "approved-kept",
                                "an approved revision is never purged");
        req->audit_action = "PURGE";
    }
    rc = st->remove(req, t->space.id, t->path);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "delete");
    dav_respond(req, 204, NULL, "", 0);
    return NULL;
}

/* ---- COPY / MOVE ------------------------------------------------------------------ */

/*
 * After a COPY of a tree: remove from the copy every part of the source
 * the principal may not read (folders and files denied by an access
 * control entry below the source).
 */
static struct dav_err *
prune_unreadable(struct dav_req *req, const struct dav_target *src,
                 const struct dav_target *dst)
{
    if (req->principal == NULL)
        return NULL;
    struct dav_target *inner;
    size_t n;
    struct space_aces sa = { 0 };
    struct dav_err *err = ace_members(req, src, &sa, &inner, &n);
    size_t sl = strlen(src->path);
    for (size_t i = 0; err == NULL && i < n; i++) {
        if (dav_check_priv(req, &inner[i], DAV_PRIV_READ) == NULL)
            continue;
        const char *copy = arena_printf(req->arena, "%s%s", dst->path,
                                        inner[i].path + sl);
        enum dav_store_rc rc = req->srv->store->remove(req, dst->space.id,
                                                       copy);
        if (rc != DAV_STORE_OK && rc != DAV_STORE_NOTFOUND)
            err = dav_err_from_store(req, rc, "copy");
    }
    return err;
}

/* Run the PUT checks of the destination's type on the source's bytes. */
static struct dav_err *
check_into_special(struct dav_req *req, const struct dav_put_hook *hook,
                   const struct dav_target *src, const struct dav_target *dst,
                   const struct dav_target *dparent, bool move)
{
    const struct dav_store_ops *st = req->srv->store;
    size_t keep_max = 0;
    struct dav_err *err = hook->prepare(req, dparent, &keep_max);
    if (err != NULL)
        return err;
    if ((uint64_t)src->res.size > keep_max)
        return hook->too_large(req);
    char *data = arena_alloc(req->arena, (size_t)src->res.size + 1);
    if (src->res.size > 0) {
        struct dav_chunk_ref *chunks;
        size_t n;
        enum dav_store_rc rc = st->content_chunks(req, &src->res, &chunks, &n);
        for (size_t i = 0; rc == DAV_STORE_OK && i < n; i++)
            rc = st->chunk_read(req, src->space.id, chunks[i].sha256, 0,
                                (size_t)chunks[i].size,
                                data + chunks[i].offset);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "content");
    }
    /* The check sees the destination, as a PUT there would: the object
     * it replaces, if any, whose UID the new one must keep.  Otherwise a
     * moved object keeps its UID in its new place (its own entry is not
     * another user of it), and a copy must not repeat one.  src may be
     * &req->target itself: keep what is needed of it first. */
    size_t len = (size_t)src->res.size;
    int64_t src_id = src->res.id;
    struct dav_target saved = req->target;
    req->target = *dst;
    if (!dst->exists)
        req->target.res.id = move ? src_id : 0;
    const char *ct = NULL;
    err = hook->check(req, dparent, data, len, &ct);
    req->target = saved;
    return err;
}

/* Whether a COPY or MOVE of file src over file dst may make dst's next
 * revision (overwrite_file) rather than replace it: only for a principal
 * who may write dst, as a PUT there would; and a moved source with access
 * control entries of its own is moved whole, so that they stay with its
 * content. */
static struct dav_err *
onto_file_allowed(struct dav_req *req, const struct dav_target *src,
                  const struct dav_target *dst, bool move, bool *ok)
{
    *ok = dav_check_priv(req, dst, DAV_PRIV_WRITE_CONTENT |
                                       DAV_PRIV_WRITE_PROPS) == NULL;
    if (!*ok || !move || !src->space.has_aces)
        return NULL;
    struct dav_ace *aces;
    size_t n;
    enum dav_store_rc rc = req->srv->store->aces_find(
        req, src->space.id, src->path, 0, &aces, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "access control entries");
    for (size_t i = 0; i < n && *ok; i++)
        if (strcmp(aces[i].path, src->path) == 0)
            *ok = false;
    return NULL;
}

/*
 * A file copied or moved over another file of the same space becomes that
 * file's next revision, as a PUT would make it: editors save by writing a
 * temporary file and renaming it over the document (gedit and Kate over a
 * mount, through davfs2 or GIO), and the document must keep its history,
 * its approved revision in the published view and its access control
 * entries.  What RFC 4918 §9.8.4 and §9.9.3 make of the destination is
 * otherwise kept: its locks go with it, and it takes the source's content
 * and dead properties.  A moved source that was a single revision lives
 * on whole in the destination and is removed; one with a history of its
 * own (or an approved revision) goes to the trash with it.
 */
static struct dav_err *
overwrite_file(struct dav_req *req, const struct dav_target *src,
               struct dav_target *dst, bool move, int64_t author,
               bool created)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_lock *locks;
    size_t nlocks;
    enum dav_store_rc rc = st->locks_find(req, dst->space.id, dst->path, 0,
                                          &locks, &nlocks);
    for (size_t i = 0; rc == DAV_STORE_OK && i < nlocks; i++)
        if (strcmp(locks[i].root, dst->path) == 0)
            rc = st->lock_remove(req, locks[i].token);
    int64_t ids[2] = { dst->res.id, src->res.id };
    struct dav_dead_prop *props = NULL;
    size_t nprops = 0;
    if (rc == DAV_STORE_OK)
        rc = st->props_get(req, dst->space.id, ids, 2, &props, &nprops);
    for (size_t i = 0; rc == DAV_STORE_OK && i < nprops; i++)
        if (props[i].resource_id == dst->res.id)
            rc = st->prop_remove(req, &dst->res, props[i].ns, props[i].name);
    for (size_t i = 0; rc == DAV_STORE_OK && i < nprops; i++)
        if (props[i].resource_id == src->res.id)
            rc = st->prop_set(req, &dst->res, props[i].ns, props[i].name,
                              props[i].xml);
    if (rc == DAV_STORE_OK)
        rc = st->revision_restore(
            req, &dst->res, src->res.rev_id, author,
            arena_printf(req->arena, "%s from %s", move ? "moved" : "copied",
                         src->path));
    /* A revision once approved stays approved (revisions.approved),
     * whatever became of the file's approval since: never removed. */
    bool approved = false;
    if (rc == DAV_STORE_OK && move && src->res.rev_num <= 1)
        rc = st->tree_has_approved(req, src->space.id, src->path, &approved);
    if (rc == DAV_STORE_OK && move) {
        const char *entry;
        rc = src->res.rev_num <= 1 && !approved
                 ? st->remove(req, src->space.id, src->path)
                 : st->trash(req, src->space.id, src->path, author, &entry);
    }
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, move ? "move" : "copy");
    req->audit_detail = arena_printf(req->arena, "to %s%s as revision %d",
                                     dst->slug, dst->path,
                                     (int)dst->res.rev_num);
    dav_respond(req, created ? 201 : 204, NULL, "", 0);
    if (created)
        dav_resp_header_add(req, "Location",
                            dav_space_href(req->arena, dst->slug, dst->path,
                                           false));
    /* The document's own trail says who made its revision, and whence. */
    return dav_audit_also(req, dst, arena_printf(req->arena, "from %s%s",
                                                 src->slug, src->path));
}

/* How long a document renamed to a temporary name waits for the file
 * that takes its place (decision 0033). */
#define RENAMED_AWAY_SECONDS 120

/*
 * Office programs save a document on a network drive by writing the new
 * content to a temporary file, renaming the document away to a temporary
 * name, renaming the new file to the document's name and deleting the
 * renamed document (decision 0033).  When src is moved to dst, in its own
 * folder, a name that this principal's previous MOVE took a document away
 * from within RENAMED_AWAY_SECONDS, the document comes back to dst and
 * src becomes its next revision, as a MOVE over it would make it
 * (overwrite_file): it keeps its history, approval and access control
 * entries.  The temporary name then holds what the document was, as a
 * new file, for the client to delete.  Every name shows what the client expects;
 * *done is false, and nothing is changed, when the document is not
 * where it went, as it went, or this principal could not have saved it.
 */
static struct dav_err *
save_into_renamed_away(struct dav_req *req, const struct dav_target *src,
                       struct dav_target *dst, int64_t author, bool *done)
{
    const struct dav_store_ops *st = req->srv->store;
    const char *away;
    int64_t id, rev;
    *done = false;
    enum dav_store_rc rc = st->renamed_away_take(
        req, dst->space.id, dst->path, author, RENAMED_AWAY_SECONDS, &away,
        &id, &rev);
    if (rc == DAV_STORE_NOTFOUND)
        return NULL;
    struct dav_target doc = *dst;
    doc.path = away;
    if (rc == DAV_STORE_OK)
        rc = st->lookup(req, dst->space.id, away, false, &doc.res);
    if (rc == DAV_STORE_NOTFOUND)
        return NULL;
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "move");
    doc.exists = true;
    if (doc.res.id != id || doc.res.rev_id != rev || id == src->res.id ||
        doc.res.kind != DAV_KIND_FILE || !same_folder(away, dst->path))
        return NULL;
    /* As this principal could do it by hand: take the document from its
     * temporary name, and write it. */
    bool ok;
    struct dav_err *err = onto_file_allowed(req, src, &doc, true, &ok);
    if (err != NULL || !ok)
        return err;
    if (dav_check_priv(req, &doc, DAV_PRIV_UNBIND) != NULL ||
        dav_locks_check(req, &doc, false, false) != NULL)
        return NULL;
    struct dav_dead_prop *props;
    size_t nprops;
    rc = st->props_get(req, doc.space.id, &doc.res.id, 1, &props, &nprops);
    /* The document's own access control entries go with it; the copy
     * left of its previous content must be as closed as it was. */
    struct dav_ace *aces = NULL;
    size_t naces = 0, nown = 0;
    if (rc == DAV_STORE_OK && doc.space.has_aces)
        rc = st->aces_find(req, doc.space.id, away, 0, &aces, &naces);
    for (size_t i = 0; rc == DAV_STORE_OK && i < naces; i++)
        if (strcmp(aces[i].path, away) == 0)
            aces[nown++] = aces[i];
    if (rc == DAV_STORE_OK)
        rc = st->move(req, doc.space.id, away, dst->space.id, dst->path);
    if (rc == DAV_STORE_OK)
        rc = st->lookup(req, dst->space.id, dst->path, false, &dst->res);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "move");
    dst->exists = true;
    err = overwrite_file(req, src, dst, true, author, true);
    if (err != NULL)
        return err;
    struct dav_resource kept;
    rc = st->create(req, dst->space.id, away, DAV_KIND_FILE, &kept);
    if (rc == DAV_STORE_OK)
        rc = st->revision_restore(
            req, &kept, rev, author,
            arena_printf(req->arena, "%s%s as it was before a save",
                         dst->slug, dst->path));
    for (size_t i = 0; rc == DAV_STORE_OK && i < nprops; i++)
        rc = st->prop_set(req, &kept, props[i].ns, props[i].name,
                          props[i].xml);
    if (rc == DAV_STORE_OK && nown > 0)
        rc = st->aces_replace(req, &kept, aces, nown);
    if (rc == DAV_STORE_OK)
        rc = st->renamed_away_note(req, dst->space.id, away, dst->path,
                                   kept.id, kept.rev_id, author, id);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "move");
    req->audit_detail = arena_printf(req->arena, "%s, renamed away to %s",
                                     req->audit_detail, away);
    *done = true;
    /* The copy's own trail says what it holds. */
    doc.res = kept;
    return dav_audit_also(req, &doc, arena_printf(req->arena,
                                                  "%s%s as it was before a "
                                                  "save", dst->slug,
                                                  dst->path));
}

static struct dav_err *
copy_move(struct dav_req *req, bool move)
{
    const struct dav_store_ops *st = req->srv->store;
    struct dav_target *src = &req->target;
    if (!src->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    bool restore = !move && src->area == DAV_AREA_HISTORY && src->is_rev;
    if ((src->area != DAV_AREA_SPACE && !restore) ||
        (move && src->path[0] == '\0'))
        return dav_err_new(req, 403, "cannot %s this collection",
                           move ? "move" : "copy");

    const char *dh = dav_req_header(req, "Destination");
    if (dh == NULL)
        return dav_err_new(req, 400, "Destination header missing");
    const char *draw;
    bool other;
    if (!dav_parse_destination(req->arena, str_c(dh),
                               dav_req_header(req, "Host"), &draw, &other))
        return dav_err_new(req, 400, "bad Destination header");
    /* RFC 4918 §9.8.5 / §9.9.4: another server is 502. */
    if (other)
        return dav_err_new(req, 502, "Destination on another server");
    struct dav_target dst;
    bool notfound;
    if (!dav_path_parse(req->arena, draw, &dst, &notfound))
        return dav_err_new(req, notfound ? 403 : 400, "bad Destination path");
    /* A calendar's own URL parses to an empty path within it. */
    if (dst.area != DAV_AREA_SPACE ||
        (dst.path[0] == '\0' && dst.cal_name == NULL) ||
        (dst.base_path != NULL &&
         strcmp(dst.base_path, DAV_TRASH_FOLDER) == 0))
        return dav_err_new(req, 403, "Destination outside a space");

    bool overwrite = true;
    const char *oh = dav_req_header(req, "Overwrite");
    if (oh != NULL && !dav_parse_overwrite(str_c(oh), &overwrite))
        return dav_err_new(req, 400, "bad Overwrite header");
    enum dav_depth depth = DAV_DEPTH_INFINITY;
    dh = dav_req_header(req, "Depth");
    if (dh != NULL && !dav_parse_depth(str_c(dh), &depth))
        return dav_err_new(req, 400, "bad Depth header");
    bool is_coll = src->res.kind == DAV_KIND_COLLECTION;
    /* A Depth 0 copy of a collection makes the collection alone. */
    bool alone = !move && depth == DAV_DEPTH_0 && is_coll;
    if (depth == DAV_DEPTH_1 ||
        (move && is_coll && depth != DAV_DEPTH_INFINITY))
        return dav_err_new(req, 400, "bad Depth for %s", req->method);

    if (req->body.len > 0) {
        xmlDocPtr doc;
        struct dav_err *e = dav_xml_parse(req, &doc);
        if (e != NULL)
            return e;
    }
    /* The conditions apply to the source, the request's target (an
     * unsafe method: 412, never 304). */
    struct dav_err *cond = dav_check_conditions(req, src);
    if (cond != NULL)
        return cond;

    /* Resolve the destination as this principal: a space they do not
     * belong to does not exist for them. */
    struct dav_err *err = dav_target_resolve(req, &dst, true);
    if (err != NULL)
        return err->status == 404
                   ? dav_err_new(req, 403, "Destination not writable")
                   : err;
    if (restore) {
        if (dst.exists && !overwrite)
            return dav_err_new(req, 412, "destination exists, Overwrite: F");
        err = dav_locks_check(req, &dst, false, true);
        if (err != NULL)
            return err;
        return dav_view_restore(req, src, &dst);
    }
    if (dst.space.id == src->space.id) {
        size_t sl = strlen(src->path);
        if (strcmp(dst.path, src->path) == 0)
            return dav_err_new(req, 403, "source and destination are the "
                                         "same resource");
        if (is_coll && strncmp(dst.path, src->path, sl) == 0 &&
            dst.path[sl] == '/')
            return dav_err_new(req, 403, "destination inside the source");
        if (dst.exists && strncmp(src->path, dst.path, strlen(dst.path)) == 0 &&
            src->path[strlen(dst.path)] == '/')
            return dav_err_new(req, 403, "destination is a parent of the "
                                         "source");
    }
    /* Privileges first, so that a lock in a denied folder is not told;
     * an unreadable parent answers like a missing one. */
    struct dav_target dparent;
    err = dav_target_parent(req, &dst, &dparent);
    if (err != NULL)
        return err;
    if (!dparent.exists || dparent.res.kind != DAV_KIND_COLLECTION)
        return dav_err_new(req, 409, "destination parent missing");
    err = dav_check_priv(req, &dparent, DAV_PRIV_BIND);
    if (err != NULL)
        return err->status == 404
                   ? dav_err_new(req, 409, "destination parent missing")
                   : err;
    if (dst.exists) {
        err = dav_check_priv(req, &dst, DAV_PRIV_UNBIND);
        if (err != NULL)
            return err;
    }
    const struct dav_put_hook *hook = req->srv->reg->put_hook;
    if ((is_coll || dav_target_is_calendar(&dst)) && hook != NULL &&
        hook->place != NULL) {
        err = hook->place(req, src, &dst, &dparent, move);
        if (err != NULL)
            return err;
    }
    /* The destination, what it replaces and its parent's membership must
     * not be locked by someone else (RFC 4918 §7.6, §9.8.4, §9.9.4). */
    err = dav_locks_check(req, &dst,
                          dst.exists && dst.res.kind == DAV_KIND_COLLECTION,
                          true);
    if (err != NULL)
        return err;
    if (dst.exists && !overwrite)
        return dav_err_new(req, 412, "destination exists, Overwrite: F");
    /* RFC 4791 §5.3.2.1: a file copied or moved into a calendar passes
     * the same checks as a PUT there, made while the object it replaces
     * is still in place. */
    bool into_special = hook != NULL && !is_coll &&
                        dparent.res.subtype != DAV_SUBTYPE_PLAIN;
    if (into_special) {
        err = check_into_special(req, hook, src, &dst, &dparent, move);
        if (err != NULL)
            return err;
    }
    bool onto_file = dst.exists && !is_coll &&
                     dst.res.kind == DAV_KIND_FILE && src->res.rev_id != 0 &&
                     dst.space.id == src->space.id &&
                     src->base_path == NULL && dst.base_path == NULL;
    if (onto_file) {
        err = onto_file_allowed(req, src, &dst, move, &onto_file);
        if (err != NULL)
            return err;
    }
    if (dst.exists && !onto_file) {
        /* RFC 4918 §9.8.4 / §9.9.3: delete the destination first; what it
         * held goes to the trash like any deletion, its members as a
         * DELETE would check them. */
        struct space_aces sa = { 0 };
        err = members_deletable(req, &dst, &sa);
        if (err != NULL)
            return err;
        const char *entry;
        enum dav_store_rc rc =
            dst.base_path == NULL || dav_target_is_calendar(&dst)
                ? st->trash(req, dst.space.id, dst.path,
                            req->principal != NULL ? req->principal->id : 0,
                            &entry)
                : st->remove(req, dst.space.id, dst.path);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "overwrite");
    }
    enum dav_store_rc rc;
    /* What a copy (or a move into another space) makes: at most as many
     * resources as a listing may show (empty files escape a quota of
     * bytes, and each copy could double a tree), and, RFC 4331 §6, what
     * fits in the destination space's quota. */
    if (!move || dst.space.id != src->space.id) {
        int64_t used = 0, limit = -1, disk_free, size, members;
        rc = DAV_STORE_OK;
        if (dst.space.quota >= 0) {
            rc = st->quota_lock(req, dst.space.id);
            if (rc == DAV_STORE_OK)
                rc = st->quota_get(req, dst.space.id, &used, &limit,
                                   &disk_free);
        }
        size = 0;
        members = 1;
        if (rc == DAV_STORE_OK && !alone)
            rc = st->tree_size(req, src->space.id, src->path, &size,
                               &members);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "quota");
        if (members > (int64_t)dav_max_members(req))
            return dav_err_new(req, 507, "a copy of over %u resources",
                               dav_max_members(req));
        if (limit >= 0 && used + size > limit)
            return dav_err_cond(req, 507, DAV_NS, "quota-not-exceeded",
                                "space quota exceeded");
    }
    int64_t author = req->principal != NULL ? req->principal->id : 0;
    if (onto_file)
        return overwrite_file(req, src, &dst, move, author, false);
    /* A file renamed in its folder: an office save, in one step or the
     * other (save_into_renamed_away). */
    bool renamed = move && !dst.exists && !is_coll &&
                   dst.space.id == src->space.id && src->base_path == NULL &&
                   dst.base_path == NULL && src->res.rev_id != 0 &&
                   author != 0 && same_folder(src->path, dst.path);
    if (renamed) {
        bool saved;
        err = save_into_renamed_away(req, src, &dst, author, &saved);
        if (err != NULL || saved)
            return err;
    }
    /* A move into another space is a copy there and a deletion here (to
     * this space's trash): nothing of this space's rules -- approvals,
     * access control entries, history -- goes where another space's
     * managers rule, and what leaves stays recoverable by this one's. */
    bool across = move && dst.space.id != src->space.id;
    /* Out of the trash, an entry is restored in its space: moved into
     * another, it would leave this one's trash for good, approved
     * revisions included, which only purges by managers may decide. */
    if (across && src->base_path != NULL &&
        strcmp(src->base_path, DAV_TRASH_FOLDER) == 0)
        return dav_err_new(req, 403, "restore into the entry's own space "
                                     "first");
    if (move && !across)
        rc = st->move(req, src->space.id, src->path, dst.space.id, dst.path);
    else
        rc = st->copy(req, src->space.id, src->path, dst.space.id, dst.path,
                      depth == DAV_DEPTH_0, author);
    /* The audit row is the source's: it names where it went. */
    if (rc == DAV_STORE_OK)
        req->audit_detail = arena_printf(req->arena, "to %s%s", dst.slug,
                                         dst.path);
    /* The destination was created since it was looked up, by a request
     * through this node or another: start again, to overwrite it (or
     * answer 412 under Overwrite: F) as if it had been there. */
    if (rc == DAV_STORE_EXISTS)
        rc = DAV_STORE_RETRY;
    /* A document renamed to a temporary name in its folder, for the file
     * that may take its place (save_into_renamed_away). */
    if (rc == DAV_STORE_OK && renamed &&
        temporary_name(dav_base_name(dst.path)))
        rc = st->renamed_away_note(req, src->space.id, src->path, dst.path,
                                   src->res.id, src->res.rev_id, author,
                                   0);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, move ? "move" : "copy");
    if (into_special) {
        struct dav_target saved = req->target;
        req->target = dst;
        rc = st->lookup(req, dst.space.id, dst.path, false, &req->target.res);
        err = rc == DAV_STORE_OK ? hook->after(req, &dparent)
                                 : dav_err_from_store(req, rc, "index");
        req->target = saved;
        if (err != NULL)
            return err;
    }
    if ((!move || across) && is_coll && !alone) {
        /* A copy carries only what its maker may read (a move into
         * another space is one; what it leaves out stays in this space's
         * trash); a Depth 0 copy carries no member. */
        err = prune_unreadable(req, src, &dst);
        if (err != NULL)
            return err;
    }
    if (across) {
        /* The source leaves as a DELETE would take it: to the trash, or,
         * for a calendar object, for good. */
        const char *entry;
        rc = src->base_path == NULL
                 ? st->trash(req, src->space.id, src->path, author, &entry)
                 : st->remove(req, src->space.id, src->path);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "move");
    }
    dav_respond(req, dst.exists ? 204 : 201, NULL, "", 0);
    if (!dst.exists)
        dav_resp_header_add(req, "Location",
                            dav_space_href(req->arena, dst.slug, dst.path,
                                           is_coll));
    /* The other space's trail shows what arrived there, and whence: the
     * resource now at the destination, not the one it replaced. */
    if (dst.space.id != src->space.id) {
        rc = st->lookup(req, dst.space.id, dst.path, false, &dst.res);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "destination");
        dst.exists = true;
        return dav_audit_also(req, &dst,
                              arena_printf(req->arena, "from %s%s",
                                           src->slug, src->path));
    }
    return NULL;
}

struct dav_err *
dav_method_copy(struct dav_req *req)
{
    return copy_move(req, false);
}

struct dav_err *
dav_method_move(struct dav_req *req)
{
    return copy_move(req, true);
}
