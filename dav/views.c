/*
 * dav/views.c -- read-only views of a space and the document workflow:
 *
 *  /dav/history/<slug>/<path>/   a file's revisions as a collection whose
 *                                members keep the file's extension
 *                                ("r3 2026-11-29 14h05 alice - plan.odt");
 *                                GET gives a revision's bytes, COPY of one
 *                                onto the file restores it (a new
 *                                revision); RFC 3253 DAV:checked-in,
 *                                DAV:version-history, DAV:version-tree;
 *  /dav/published/<slug>/        what was approved, each file serving its
 *                                approved revision;
 *  /dav/approvals/<slug>/        the files awaiting a validator, flat;
 *  approval properties           P:approval-state (draft -> submitted ->
 *                                approved | rejected), P:approval-comment,
 *                                P:approved-revision, -by, -at, and
 *                                P:distribution-receipts.
 *
 * P is http://parvis.org/ns.  Approving needs the Parvis "approve"
 * privilege (validators and managers).
 */
#include "dav/dav_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------------ */

static const char *
rev_name(struct arena *a, const char *path, const struct dav_revision *r)
{
    struct tm tm;
    time_t t = r->created;
    gmtime_r(&t, &tm);
    char when[40];
    snprintf(when, sizeof(when), "%04d-%02d-%02d %02dh%02d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min);
    return arena_printf(a, "r%d %s %s - %s", (int)r->num, when,
                        r->author != NULL && r->author[0] != '\0' ? r->author
                                                                  : "-",
                        dav_base_name(path));
}

static bool
rev_num(const char *name, int32_t *out)
{
    if (name[0] != 'r')
        return false;
    char *end = NULL;
    long n = strtol(name + 1, &end, 10);
    if (end == name + 1 || *end != ' ' || n <= 0 || n > INT32_MAX)
        return false;
    *out = (int32_t)n;
    return true;
}

/* A submitted file's name in the approvals list: its path, each '/' shown
 * as " - ".  So that no two paths give one name, a '-' of a name that
 * would stand between spaces in the list (beside a space or a '/' on each
 * side) shows as "%2D", and '%' as "%25": a/b.txt is "a - b.txt", a file
 * named "a - b.txt" is "a %2D b.txt". */
static const char *
flat_name(struct arena *a, const char *path)
{
    struct buf b;
    buf_init(&b, a, strlen(path) + 8);
    const char *start = path[0] == '/' ? path + 1 : path;
    for (const char *p = start; *p != '\0'; p++) {
        if (*p == '/')
            buf_puts(&b, " - ");
        else if (*p == '%')
            buf_puts(&b, "%25");
        else if (*p == '-' && p > start && (p[-1] == ' ' || p[-1] == '/') &&
                 (p[1] == ' ' || p[1] == '/'))
            buf_puts(&b, "%2D");
        else
            buf_append(&b, p, 1);
    }
    return buf_cstr(&b);
}

/* The target of one revision of file f. */
static void
rev_target(struct arena *a, const struct dav_target *f,
           const struct dav_revision *r, struct dav_target *out)
{
    *out = *f;
    out->area = DAV_AREA_HISTORY;
    out->hist_file = false;
    out->is_rev = true;
    out->rev = *r;
    out->flat_name = rev_name(a, f->path, r);
    out->exists = true;
    out->res.kind = DAV_KIND_FILE;
    out->res.rev_id = r->id;
    out->res.rev_num = r->num;
    out->res.size = r->size;
    out->res.content_type = r->content_type;
    memcpy(out->res.sha256, r->sha256, 32);
    out->res.created = out->res.modified = r->created;
}

/* ---- resolution and hrefs ------------------------------------------------------- */

static struct dav_err *
resolve_history(struct dav_req *req, struct dav_target *t)
{
    const struct dav_store_ops *st = req->srv->store;
    if (dav_in_reserved(t->path))
        return dav_err_new(req, 404, "not in the history");
    enum dav_store_rc rc = st->lookup(req, t->space.id, t->path, false,
                                      &t->res);
    if (rc == DAV_STORE_OK) {
        t->exists = true;
        if (t->res.kind == DAV_KIND_FILE) {
            t->hist_file = true;
            t->res.kind = DAV_KIND_COLLECTION;
        }
        return NULL;
    }
    if (rc != DAV_STORE_NOTFOUND)
        return dav_err_from_store(req, rc, "history");
    /* <file>/<revision name> */
    const char *slash = strrchr(t->path, '/');
    int32_t num;
    if (slash == NULL || slash == t->path || !rev_num(slash + 1, &num))
        return NULL;
    struct dav_target f = *t;
    f.path = arena_strndup(req->arena, t->path, (size_t)(slash - t->path));
    rc = st->lookup(req, t->space.id, f.path, false, &f.res);
    if (rc == DAV_STORE_NOTFOUND || (rc == DAV_STORE_OK &&
                                     f.res.kind != DAV_KIND_FILE))
        return NULL;
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "history");
    struct dav_revision *revs;
    size_t n;
    rc = st->revisions(req, f.res.id, &revs, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "revisions");
    for (size_t i = 0; i < n; i++)
        if (revs[i].num == num) {
            rev_target(req->arena, &f, &revs[i], t);
            return NULL;
        }
    return NULL;
}

static struct dav_err *
resolve_approvals(struct dav_req *req, struct dav_target *t)
{
    const struct dav_store_ops *st = req->srv->store;
    if (t->path[0] == '\0') {
        enum dav_store_rc rc = st->lookup(req, t->space.id, "", false,
                                          &t->res);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "approvals");
        t->exists = true;
        return NULL;
    }
    struct dav_resource *rs;
    size_t n;
    enum dav_store_rc rc = st->submitted(req, t->space.id, &rs, &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "approvals");
    const char *want = t->path + 1;
    for (size_t i = 0; i < n; i++) {
        const char *fn = flat_name(req->arena, rs[i].path);
        if (strcmp(fn, want) == 0) {
            t->res = rs[i];
            t->path = rs[i].path;
            t->flat_name = fn;
            t->exists = true;
            return NULL;
        }
    }
    return NULL;
}

struct dav_err *
dav_view_resolve(struct dav_req *req, struct dav_target *t)
{
    t->exists = false;
    switch (t->area) {
    case DAV_AREA_HISTORY:
        return resolve_history(req, t);
    case DAV_AREA_APPROVALS:
        return resolve_approvals(req, t);
    case DAV_AREA_PUBLISHED: {
        enum dav_store_rc rc = req->srv->store->published_lookup(
            req, t->space.id, t->path, &t->res);
        if (rc == DAV_STORE_OK)
            t->exists = true;
        else if (rc != DAV_STORE_NOTFOUND)
            return dav_err_from_store(req, rc, "published");
        return NULL;
    }
    default:
        return NULL;
    }
}

const char *
dav_view_href(struct arena *a, const struct dav_target *t)
{
    struct buf b;
    buf_init(&b, a, 128);
    buf_puts(&b, t->area == DAV_AREA_HISTORY     ? "/dav/history/"
                 : t->area == DAV_AREA_PUBLISHED ? "/dav/published/"
                                                 : "/dav/approvals/");
    buf_url_escape(&b, t->slug, strlen(t->slug));
    if (t->area == DAV_AREA_APPROVALS) {
        buf_puts(&b, "/");
        if (t->flat_name != NULL)
            buf_url_escape(&b, t->flat_name, strlen(t->flat_name));
        return buf_cstr(&b);
    }
    buf_url_escape(&b, t->path, strlen(t->path));
    if (t->is_rev) {
        buf_puts(&b, "/");
        buf_url_escape(&b, t->flat_name, strlen(t->flat_name));
    } else if (t->res.kind == DAV_KIND_COLLECTION || !t->exists) {
        buf_puts(&b, "/");
    }
    return buf_cstr(&b);
}

/* ---- members ------------------------------------------------------------------- */

struct dav_err *
dav_view_children(struct dav_req *req, const struct dav_target *t,
                  struct dav_target **out, size_t *n)
{
    const struct dav_store_ops *st = req->srv->store;
    *out = NULL;
    *n = 0;
    if (t->is_rev)
        return NULL;
    if (t->area == DAV_AREA_HISTORY && t->hist_file) {
        struct dav_revision *revs;
        size_t nr;
        enum dav_store_rc rc = st->revisions(req, t->res.id, &revs, &nr);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "revisions");
        *out = arena_alloc(req->arena, (nr + 1) * sizeof(**out));
        for (size_t i = 0; i < nr; i++)
            rev_target(req->arena, t, &revs[i], &(*out)[i]);
        *n = nr;
        return NULL;
    }
    struct dav_resource *rs;
    size_t nr;
    enum dav_store_rc rc;
    if (t->area == DAV_AREA_PUBLISHED)
        rc = st->published_children(req, t->space.id, t->path, &rs, &nr);
    else if (t->area == DAV_AREA_APPROVALS)
        rc = t->path[0] == '\0' ? st->submitted(req, t->space.id, &rs, &nr)
                                : DAV_STORE_NOTFOUND;
    else
        rc = st->children(req, t->space.id, t->path, &rs, &nr);
    if (rc == DAV_STORE_NOTFOUND)
        return NULL;
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "members");
    *out = arena_alloc(req->arena, (nr + 1) * sizeof(**out));
    size_t k = 0;
    for (size_t i = 0; i < nr; i++) {
        if (dav_in_reserved(rs[i].path) || dav_member_hidden(req, &rs[i]))
            continue;
        struct dav_target *c = &(*out)[k];
        *c = *t;
        c->path = rs[i].path;
        c->res = rs[i];
        c->exists = true;
        c->hist_file = false;
        if (t->area == DAV_AREA_APPROVALS)
            c->flat_name = flat_name(req->arena, rs[i].path);
        if (t->area == DAV_AREA_HISTORY && rs[i].kind == DAV_KIND_FILE) {
            c->hist_file = true;
            c->res.kind = DAV_KIND_COLLECTION;
        }
        if (dav_check_priv(req, c, DAV_PRIV_READ) != NULL)
            continue;
        k++;
    }
    *n = k;
    return NULL;
}

/* ---- restore: COPY of a revision onto its file ------------------------------------- */

struct dav_err *
dav_view_restore(struct dav_req *req, struct dav_target *src,
                 struct dav_target *dst)
{
    const struct dav_store_ops *st = req->srv->store;
    if (dst->space.id != src->space.id)
        return dav_err_new(req, 403, "a revision is restored in its space");
    struct dav_err *err = dav_check_priv(req, dst, DAV_PRIV_WRITE_CONTENT);
    if (err != NULL)
        return err;
    if (dst->exists && dst->res.kind != DAV_KIND_FILE)
        return dav_err_new(req, 409, "a revision restores onto a file");
    struct dav_target parent;
    err = dav_target_parent(req, dst, &parent);
    if (err != NULL)
        return err;
    if (!dst->exists) {
        if (!parent.exists || parent.res.kind != DAV_KIND_COLLECTION)
            return dav_err_new(req, 409, "destination parent missing");
        /* A new name in the folder, as a PUT or COPY would make: bind on
         * it (an unreadable folder answers like a missing one). */
        err = dav_check_priv(req, &parent, DAV_PRIV_BIND);
        if (err != NULL)
            return err->status == 404
                       ? dav_err_new(req, 409, "destination parent missing")
                       : err;
    }
    /* Into a calendar, a restore would skip the checks and the index of
     * a PUT there. */
    if (parent.exists && parent.res.subtype != DAV_SUBTYPE_PLAIN)
        return dav_err_new(req, 403, "a revision is not restored into a "
                                     "calendar");
    bool created = !dst->exists;
    if (created) {
        enum dav_store_rc rc = st->create(req, dst->space.id, dst->path,
                                          DAV_KIND_FILE, &dst->res);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "create");
        dst->exists = true;
    }
    int64_t author = req->principal != NULL ? req->principal->id : 0;
    enum dav_store_rc rc = st->revision_restore(req, &dst->res, src->rev.id,
                                                author, NULL);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "restore");
    req->audit_action = "RESTORE";
    req->audit_detail = arena_printf(req->arena, "revision %d",
                                     (int)src->rev.num);
    req->target = *dst;
    dav_respond_empty(req, created ? 201 : 204);
    return NULL;
}

/* ---- properties ---------------------------------------------------------------- */

static bool
is_file(const struct dav_target *t)
{
    return t->area == DAV_AREA_SPACE && t->exists &&
           t->res.kind == DAV_KIND_FILE;
}

static void
href_elem(struct buf *out, const char *h)
{
    buf_puts(out, "<D:href>");
    buf_xml_text(out, h, strlen(h));
    buf_puts(out, "</D:href>");
}

static bool
get_approval_state(struct dav_req *req, struct arena *a,
                   const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_file(t) && !(t->area == DAV_AREA_APPROVALS && t->exists &&
                         t->res.kind == DAV_KIND_FILE))
        return false;
    const char *s = t->res.approval_state != NULL ? t->res.approval_state
                                                  : "draft";
    buf_puts(out, s);
    return true;
}

static struct dav_err *
set_approval_state(struct dav_req *req, const struct dav_target *t,
                   const char *value)
{
    if (!is_file(t))
        return dav_err_cond(req, 403, PARVIS_NS, "approval-on-files",
                            "only files are approved");
    struct str v = str_trim(str_c(value));
    const char *state = NULL;
    static const char *states[] = { "draft", "submitted", "approved",
                                    "rejected" };
    for (size_t i = 0; i < 4; i++)
        if (str_eq_c(v, states[i]))
            state = states[i];
    if (state == NULL)
        return dav_err_cond(req, 409, PARVIS_NS, "valid-approval-state",
                            "unknown approval state");
    bool deciding = strcmp(state, "approved") == 0 ||
                    strcmp(state, "rejected") == 0;
    const char *now = t->res.approval_state != NULL ? t->res.approval_state
                                                    : "draft";
    bool published = strcmp(now, "approved") == 0 &&
                     t->res.approved_rev == t->res.rev_id;
    if (deciding) {
        /* Only a validator or manager decides (DESIGN.md "Access"). */
        if (dav_check_priv(req, t, DAV_PRIV_APPROVE) != NULL)
            return dav_err_cond(req, 403, PARVIS_NS,
                                "approval-needs-validator",
                                "only a validator may %s",
                                state[0] == 'a' ? "approve" : "reject");
        if (t->res.rev_id == 0)
            return dav_err_cond(req, 409, PARVIS_NS, "approval-needs-content",
                                "nothing to approve");
        /* What is decided is what was submitted: a revision saved since
         * (back to draft) was not.  The approved revision may still be
         * rejected, which withdraws it from the published view. */
        if (strcmp(now, "submitted") != 0 && !(published && state[0] == 'r'))
            return dav_err_cond(req, 409, PARVIS_NS,
                                "approval-needs-submission",
                                "this revision was not submitted");
    } else if (strcmp(state, "submitted") == 0 && published) {
        return dav_err_cond(req, 409, PARVIS_NS, "approval-already-approved",
                            "this revision is already approved");
    }
    int64_t by = req->principal != NULL ? req->principal->id : 0;
    enum dav_store_rc rc = req->srv->store->approval_set(req, &t->res, state,
                                                         by);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "approval");
    req->audit_action = strcmp(state, "approved") == 0    ? "APPROVE"
                        : strcmp(state, "rejected") == 0  ? "REJECT"
                        : strcmp(state, "submitted") == 0 ? "SUBMIT"
                                                          : "WITHDRAW";
    return NULL;
}

static bool
get_approval_comment(struct dav_req *req, struct arena *a,
                     const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_file(t))
        return false;
    if (t->res.approval_comment != NULL)
        buf_xml_text(out, t->res.approval_comment,
                     strlen(t->res.approval_comment));
    return true;
}

static struct dav_err *
set_approval_comment(struct dav_req *req, const struct dav_target *t,
                     const char *value)
{
    if (!is_file(t))
        return dav_err_cond(req, 403, PARVIS_NS, "approval-on-files",
                            "only files are approved");
    enum dav_store_rc rc = req->srv->store->approval_comment_set(
        req, &t->res, value != NULL ? value : "");
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "approval comment");
    req->audit_detail = arena_strdup(req->arena, value != NULL ? value : "");
    return NULL;
}

static const char *
history_file_href(struct arena *a, const struct dav_target *t)
{
    struct dav_target h = *t;
    h.area = DAV_AREA_HISTORY;
    h.hist_file = true;
    h.is_rev = false;
    h.exists = true;
    h.res.kind = DAV_KIND_COLLECTION;
    return dav_view_href(a, &h);
}

/* href of revision rev_id of file t (its name needs the revision). */
static const char *
revision_href(struct dav_req *req, struct arena *a,
              const struct dav_target *t, int64_t rev_id)
{
    struct dav_revision *revs;
    size_t n;
    if (req->srv->store->revisions(req, t->res.id, &revs, &n) != DAV_STORE_OK)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (revs[i].id == rev_id) {
            struct dav_target r;
            rev_target(a, t, &revs[i], &r);
            return dav_view_href(a, &r);
        }
    return NULL;
}

static bool
get_approved_revision(struct dav_req *req, struct arena *a,
                      const struct dav_target *t, struct buf *out)
{
    if (!is_file(t) || t->res.approved_rev == 0)
        return false;
    const char *h = revision_href(req, a, t, t->res.approved_rev);
    if (h == NULL)
        return false;
    href_elem(out, h);
    return true;
}

static bool
get_approved_by(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    if (!is_file(t) || t->res.approved_by == NULL)
        return false;
    href_elem(out, dav_principal_href(a, true, t->res.approved_by));
    return true;
}

static bool
get_approved_at(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!is_file(t) || t->res.approved_at == 0)
        return false;
    char d[21];
    rfc3339_format(t->res.approved_at, d);
    buf_puts(out, d);
    return true;
}

/* RFC 3253 §3.1.1 / §5.3.1 */
static bool
get_checked_in(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    if (!is_file(t) || t->res.rev_id == 0)
        return false;
    const char *h = revision_href(req, a, t, t->res.rev_id);
    if (h == NULL)
        return false;
    href_elem(out, h);
    return true;
}

static bool
get_version_history(struct dav_req *req, struct arena *a,
                    const struct dav_target *t, struct buf *out)
{
    (void)req;
    if (!is_file(t))
        return false;
    href_elem(out, history_file_href(a, t));
    return true;
}

static bool
get_version_name(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!t->is_rev)
        return false;
    buf_printf(out, "r%d", (int)t->rev.num);
    return true;
}

static bool
get_creator(struct dav_req *req, struct arena *a, const struct dav_target *t,
            struct buf *out)
{
    (void)req;
    (void)a;
    if (!t->is_rev || t->rev.author == NULL)
        return false;
    buf_xml_text(out, t->rev.author, strlen(t->rev.author));
    return true;
}

static bool
get_rev_author(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)req;
    if (!t->is_rev || t->rev.author == NULL || t->rev.author[0] == '\0')
        return false;
    href_elem(out, dav_principal_href(a, true, t->rev.author));
    return true;
}

static bool
get_rev_number(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (t->is_rev)
        buf_printf(out, "%d", (int)t->rev.num);
    else if (is_file(t) && t->res.rev_num > 0)
        buf_printf(out, "%d", (int)t->res.rev_num);
    else
        return false;
    return true;
}

static bool
get_sha256(struct dav_req *req, struct arena *a, const struct dav_target *t,
           struct buf *out)
{
    (void)req;
    (void)a;
    if (!t->is_rev && !(is_file(t) && t->res.rev_id != 0))
        return false;
    char hex[65];
    hex_encode(t->is_rev ? t->rev.sha256 : t->res.sha256, 32, hex);
    buf_puts(out, hex);
    return true;
}

static bool
get_rev_comment(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!t->is_rev)
        return false;
    if (t->rev.comment != NULL)
        buf_xml_text(out, t->rev.comment, strlen(t->rev.comment));
    return true;
}

static bool
get_rev_approved(struct dav_req *req, struct arena *a,
                 const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (!t->is_rev)
        return false;
    buf_puts(out, t->rev.approved ? "approved" : "not-approved");
    return true;
}

static bool
get_trash_from(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (t->area != DAV_AREA_SPACE || t->res.trashed_from == NULL)
        return false;
    buf_xml_text(out, t->res.trashed_from, strlen(t->res.trashed_from));
    return true;
}

static bool
get_trash_by(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    if (t->area != DAV_AREA_SPACE || t->res.trashed_by == NULL)
        return false;
    href_elem(out, dav_principal_href(a, true, t->res.trashed_by));
    return true;
}

static bool
get_trash_at(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    (void)req;
    (void)a;
    if (t->area != DAV_AREA_SPACE || t->res.trashed_at == 0)
        return false;
    char d[21];
    rfc3339_format(t->res.trashed_at, d);
    buf_puts(out, d);
    return true;
}

/* Who among those with access read the approved revision (issue point:
 * distribution receipts); validators and managers only. */
static bool
get_receipts(struct dav_req *req, struct arena *a, const struct dav_target *t,
             struct buf *out)
{
    if (!is_file(t) || t->res.approved_rev == 0 ||
        dav_check_priv(req, t, DAV_PRIV_APPROVE) != NULL)
        return false;
    struct dav_receipt *r;
    size_t n;
    if (req->srv->store->receipts(req, &t->res, &r, &n) != DAV_STORE_OK)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (r[i].read_at != 0) {
            char d[21];
            rfc3339_format(r[i].read_at, d);
            buf_puts(out, "<P:read>");
            href_elem(out, dav_principal_href(a, true, r[i].user));
            buf_printf(out, "<P:read-at>%s</P:read-at></P:read>", d);
        } else {
            buf_puts(out, "<P:not-read>");
            href_elem(out, dav_principal_href(a, true, r[i].user));
            buf_puts(out, "</P:not-read>");
        }
    }
    return true;
}

/* The audit rows of a resource, for managers and validators. */
static bool
get_audit_trail(struct dav_req *req, struct arena *a,
                const struct dav_target *t, struct buf *out)
{
    (void)a;
    if (t->area != DAV_AREA_SPACE || !t->exists ||
        dav_check_priv(req, t, DAV_PRIV_APPROVE) != NULL)
        return false;
    struct dav_audit *rows;
    size_t n;
    const char *path = arena_printf(a, "%s%s", t->slug, t->path);
    if (req->srv->store->audit_of(req, t->space.id, path, &rows, &n) !=
        DAV_STORE_OK)
        return false;
    for (size_t i = 0; i < n; i++) {
        char d[21];
        rfc3339_format(rows[i].at, d);
        buf_printf(out, "<P:event><P:at>%s</P:at><P:principal>", d);
        if (rows[i].principal != NULL)
            buf_xml_text(out, rows[i].principal, strlen(rows[i].principal));
        buf_puts(out, "</P:principal><P:action>");
        buf_xml_text(out, rows[i].action, strlen(rows[i].action));
        buf_printf(out, "</P:action><P:status>%d</P:status>", rows[i].status);
        if (rows[i].revision_id != 0)
            buf_printf(out, "<P:revision-id>%" PRId64 "</P:revision-id>",
                       rows[i].revision_id);
        buf_puts(out, "</P:event>");
    }
    return true;
}

static const struct dav_prop_def view_props[] = {
    { PARVIS_NS, "approval-state", DAV_P_SETTER, get_approval_state,
      set_approval_state },
    { PARVIS_NS, "approval-comment", DAV_P_SETTER, get_approval_comment,
      set_approval_comment },
    { PARVIS_NS, "approved-revision", DAV_P_PROTECTED, get_approved_revision,
      NULL },
    { PARVIS_NS, "approved-by", DAV_P_PROTECTED, get_approved_by, NULL },
    { PARVIS_NS, "approved-at", DAV_P_PROTECTED, get_approved_at, NULL },
    { PARVIS_NS, "distribution-receipts", DAV_P_PROTECTED, get_receipts,
      NULL },
    { PARVIS_NS, "audit-trail", DAV_P_PROTECTED, get_audit_trail, NULL },
    { PARVIS_NS, "revision-number", DAV_P_PROTECTED, get_rev_number, NULL },
    { PARVIS_NS, "author", DAV_P_PROTECTED, get_rev_author, NULL },
    { PARVIS_NS, "sha256", DAV_P_PROTECTED, get_sha256, NULL },
    { PARVIS_NS, "comment", DAV_P_PROTECTED, get_rev_comment, NULL },
    { PARVIS_NS, "revision-approval", DAV_P_PROTECTED, get_rev_approved,
      NULL },
    { PARVIS_NS, "trashed-from", DAV_P_PROTECTED, get_trash_from, NULL },
    { PARVIS_NS, "trashed-by", DAV_P_PROTECTED, get_trash_by, NULL },
    { PARVIS_NS, "trashed-at", DAV_P_PROTECTED, get_trash_at, NULL },
    { DAV_NS, "checked-in", DAV_P_PROTECTED, get_checked_in, NULL },
    { DAV_NS, "version-history", DAV_P_PROTECTED, get_version_history, NULL },
    { DAV_NS, "version-name", DAV_P_PROTECTED, get_version_name, NULL },
    { DAV_NS, "creator-displayname", DAV_P_PROTECTED, get_creator, NULL },
};

/* ---- DAV:version-tree (RFC 3253 §3.7) ----------------------------------------- */

static struct dav_err *
report_version_tree(struct dav_req *req, const struct dav_xml_elem *root)
{
    struct dav_target *t = &req->target;
    struct dav_target f = *t;
    if (t->area == DAV_AREA_HISTORY && t->hist_file) {
        f.area = DAV_AREA_SPACE;
    } else if (!is_file(t)) {
        return dav_err_cond(req, 403, DAV_NS, "supported-report",
                            "version-tree needs a file");
    }
    const char **names;
    size_t nn;
    struct dav_err *err = dav_prop_names(
        req, dav_elem_child(root, DAV_NS, "prop"), &names, &nn);
    if (err != NULL)
        return err;
    struct dav_revision *revs;
    size_t n;
    enum dav_store_rc rc = req->srv->store->revisions(req, f.res.id, &revs,
                                                      &n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "revisions");
    struct buf b;
    dav_multistatus_begin(req, &b);
    struct arena *scratch = arena_child(req->arena);
    for (size_t i = 0; i < n; i++) {
        arena_reset(scratch);
        struct dav_target r;
        rev_target(scratch, &f, &revs[i], &r);
        struct buf found, missing;
        buf_init(&found, scratch, 512);
        buf_init(&missing, scratch, 64);
        dav_props_render(req, scratch, &r, names, nn, &found, &missing);
        dav_multistatus_response(&b, dav_view_href(scratch, &r),
                                 buf_cstr(&found), buf_cstr(&missing));
    }
    arena_destroy(scratch);
    dav_multistatus_end(req, &b);
    return NULL;
}

static const struct dav_report_def view_reports[] = {
    { DAV_NS, "version-tree", DAV_PRIV_READ, DAV_R_DEPTH_OK,
      report_version_tree },
};

void
dav_views_register(struct dav_registry *r)
{
    dav_registry_add_props(r, view_props,
                           sizeof(view_props) / sizeof(view_props[0]));
    dav_registry_add_reports(r, view_reports,
                             sizeof(view_reports) / sizeof(view_reports[0]));
}
