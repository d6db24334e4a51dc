/*
 * acl/access.c -- access decisions and their WebDAV face (RFC 3744,
 * RFC 5397): space roles mapped to privileges, access control entries on
 * folders and files inherited down the tree, the ACL method, the access
 * and principal properties, and the principal-property-search and
 * principal-search-property-set reports.
 *
 * Decision for a privilege p on a resource at path P of a space:
 *   1. walk from P up to the space root; at the first level that carries
 *      entries naming p for this principal (as a user or as a member of a
 *      space), p is denied if any of them denies it, else granted (the
 *      nearest level wins; deny wins at the same level);
 *   2. if no level names p, the principal's role in the space decides
 *      (manager: all; validator and editor: read and write; reader: read;
 *      no role: nothing).
 * What a principal may not read does not exist for it: 404, never 403.
 *
 * Entries are fetched once per request and space (only when the space has
 * any) and kept in req->acl_cache.
 */
#include "acl/acl_int.h"

#include <string.h>
#include <strings.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"

static const struct {
    const char *name;
    unsigned privs;
    bool abstract;
} priv_names[] = {
    { "all", DAV_PRIV_ALL, false },
    { "read", DAV_PRIV_READ, false },
    { "write", DAV_PRIV_WRITE, false },
    { "write-properties", DAV_PRIV_WRITE_PROPS, false },
    { "write-content", DAV_PRIV_WRITE_CONTENT, false },
    { "bind", DAV_PRIV_BIND, false },
    { "unbind", DAV_PRIV_UNBIND, false },
    { "unlock", DAV_PRIV_UNLOCK, false },
    { "read-acl", DAV_PRIV_READ_ACL, false },
    { "read-current-user-privilege-set", DAV_PRIV_READ_CUPS, false },
    { "write-acl", DAV_PRIV_WRITE_ACL, false },
    { "approve", DAV_PRIV_APPROVE, false },
    { "read-free-busy", DAV_PRIV_READ_FREE_BUSY, false },
};
#define NPRIV (sizeof(priv_names) / sizeof(priv_names[0]))

unsigned
acl_role_privs(const char *role)
{
    /* DAV:unlock lets one remove others' locks (RFC 3744 §3.5): managers
     * only; everyone may remove their own. */
    unsigned editor = DAV_PRIV_READ | DAV_PRIV_READ_CUPS | DAV_PRIV_WRITE;
    if (role == NULL)
        return 0;
    if (strcmp(role, "manager") == 0)
        return DAV_PRIV_ALL;
    if (strcmp(role, "validator") == 0)
        return editor | DAV_PRIV_READ_ACL | DAV_PRIV_APPROVE;
    if (strcmp(role, "editor") == 0)
        return editor;
    if (strcmp(role, "reader") == 0)
        return DAV_PRIV_READ | DAV_PRIV_READ_CUPS;
    return 0;
}

bool
acl_role_valid(const char *role)
{
    /* "published": partners who see only the published view. */
    return acl_role_privs(role) != 0 ||
           (role != NULL && strcmp(role, "published") == 0);
}

bool
acl_priv_parse(const char *name, unsigned *out)
{
    for (size_t i = 0; i < NPRIV; i++)
        if (strcmp(priv_names[i].name, name) == 0) {
            *out = priv_names[i].privs;
            return true;
        }
    return false;
}

const char *
acl_priv_names(struct arena *a, unsigned privs)
{
    struct buf b;
    buf_init(&b, a, 64);
    if ((privs & DAV_PRIV_ALL) == DAV_PRIV_ALL) {
        buf_puts(&b, "all");
        return buf_cstr(&b);
    }
    for (size_t i = 1; i < NPRIV; i++) {
        unsigned p = priv_names[i].privs;
        if ((privs & p) != p)
            continue;
        if (p != DAV_PRIV_WRITE && (p & DAV_PRIV_WRITE) != 0 &&
            (privs & DAV_PRIV_WRITE) == DAV_PRIV_WRITE)
            continue; /* covered by "write" */
        buf_printf(&b, "%s%s", b.len > 0 ? "," : "", priv_names[i].name);
    }
    return buf_cstr(&b);
}

/* ---- decisions ------------------------------------------------------------- */

struct acl_cache {
    int64_t space_id;
    struct dav_ace *aces;
    size_t n;
};

static struct dav_err *
space_aces(struct dav_req *req, const struct dav_space *sp,
           const struct dav_ace **aces, size_t *n)
{
    struct acl_cache *c = req->acl_cache;
    *aces = NULL;
    *n = 0;
    if (!sp->has_aces)
        return NULL;
    if (c == NULL || c->space_id != sp->id) {
        c = arena_alloc(req->arena, sizeof(*c));
        c->space_id = sp->id;
        enum dav_store_rc rc = req->srv->store->aces_find(
            req, sp->id, NULL, req->principal->id, &c->aces, &c->n);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "access control entries");
        req->acl_cache = c;
    }
    *aces = c->aces;
    *n = c->n;
    return NULL;
}

/* An aggregate holds what it contains (RFC 3744 §3.1, §3.12): DAV:read
 * gives read-current-user-privilege-set and, RFC 4791 §6.1.1,
 * CALDAV:read-free-busy. */
static unsigned
with_read_parts(unsigned privs)
{
    return (privs & DAV_PRIV_READ) != 0
               ? privs | DAV_PRIV_READ_CUPS | DAV_PRIV_READ_FREE_BUSY
               : privs;
}

/* The privileges of the principal on the space resource at 'path', its
 * role's and 'extra' overridden by the entries that apply. */
static struct dav_err *
effective(struct dav_req *req, const struct dav_space *sp, const char *path,
          unsigned extra, unsigned *out)
{
    const struct dav_ace *aces;
    size_t n;
    struct dav_err *err = space_aces(req, sp, &aces, &n);
    if (err != NULL)
        return err;
    unsigned base = acl_role_privs(sp->role) | extra;
    if (n == 0) {
        *out = with_read_parts(base);
        return NULL;
    }
    unsigned decided = 0, granted = 0;
    /* Walk levels from the nearest: the longest ancestor path first. */
    const char *level = path;
    size_t levellen = strlen(path);
    for (;;) {
        unsigned g = 0, d = 0;
        for (size_t i = 0; i < n; i++) {
            if (strlen(aces[i].path) != levellen ||
                strncmp(aces[i].path, level, levellen) != 0)
                continue;
            /* read's parts are granted or denied with it. */
            unsigned privs = with_read_parts(aces[i].privs);
            if (aces[i].grant)
                g |= privs;
            else
                d |= privs;
        }
        unsigned fresh = (g | d) & ~decided;
        granted |= g & ~d & fresh;
        decided |= fresh;
        if (levellen == 0)
            break;
        while (levellen > 0 && level[levellen - 1] != '/')
            levellen--;
        if (levellen > 0)
            levellen--; /* drop the '/' */
    }
    *out = granted | (base & ~decided);
    /* RFC 3744 §3.1: read-current-user-privilege-set is part of read;
     * RFC 4791 §6.1.1: so is read-free-busy, unless denied itself. */
    if ((*out & DAV_PRIV_READ) != 0) {
        *out |= DAV_PRIV_READ_CUPS;
        if ((decided & DAV_PRIV_READ_FREE_BUSY) == 0)
            *out |= DAV_PRIV_READ_FREE_BUSY;
    }
    return NULL;
}

/* Privileges of the principal on any target. */
static struct dav_err *
target_privs(struct dav_req *req, const struct dav_target *t, unsigned *out)
{
    if (req->principal == NULL) {
        *out = 0;
        return NULL;
    }
    if (t->area == DAV_AREA_PUBLISHED) {
        /* The published view: every member reads it, partners included,
         * unless an entry denies them the place (DESIGN.md: what one may
         * not read is absent, wherever it is reached from). */
        bool member = t->space.role != NULL && t->space.role[0] != '\0';
        struct dav_err *err =
            effective(req, &t->space, t->path,
                      member ? DAV_PRIV_READ | DAV_PRIV_READ_CUPS : 0, out);
        *out &= DAV_PRIV_READ | DAV_PRIV_READ_CUPS;
        return err;
    }
    if (t->area == DAV_AREA_HISTORY || t->area == DAV_AREA_APPROVALS) {
        /* What the space itself lets one read, read-only. */
        struct dav_err *err = effective(req, &t->space, t->path, 0,
                                        out);
        *out &= DAV_PRIV_READ | DAV_PRIV_READ_CUPS | DAV_PRIV_APPROVE;
        return err;
    }
    if (t->area != DAV_AREA_SPACE) {
        *out = DAV_PRIV_READ | DAV_PRIV_READ_CUPS;
        return NULL;
    }
    return effective(req, &t->space, t->path, 0, out);
}

struct dav_err *
acl_authz(struct dav_req *req, const struct dav_target *t, unsigned priv)
{
    if (req->principal == NULL)
        return dav_err_new(req, 401, "authentication required");
    unsigned have;
    struct dav_err *err = target_privs(req, t, &have);
    if (err != NULL)
        return err;
    /* Wherever one reads (views, principals), one sees busy time. */
    if ((have & DAV_PRIV_READ) != 0)
        have |= DAV_PRIV_READ_FREE_BUSY;
    /* DESIGN.md "Access control": unreadable means nonexistent; a
     * calendar's free-busy time is visible to whom it is granted. */
    if ((have & (DAV_PRIV_READ | (priv & DAV_PRIV_READ_FREE_BUSY))) == 0)
        return dav_err_new(req, 404, "not visible");
    if ((have & priv) != priv) {
        if (t->area != DAV_AREA_SPACE)
            return dav_err_new(req, 403, "read-only collection");
        return dav_err_cond(req, 403, DAV_NS, "need-privileges",
                            "missing privileges %s",
                            acl_priv_names(req->arena, priv & ~have));
    }
    return NULL;
}

/* ---- properties ------------------------------------------------------------- */

static void
href(struct buf *out, const char *h)
{
    buf_puts(out, "<D:href>");
    buf_xml_escape(out, h, strlen(h));
    buf_puts(out, "</D:href>");
}

static bool
get_current_user_principal(struct dav_req *req, struct arena *a,
                           const struct dav_target *t, struct buf *out)
{
    (void)t;
    if (req->principal == NULL)
        buf_puts(out, "<D:unauthenticated/>");
    else
        href(out, dav_principal_href(a, true, req->principal->name));
    return true;
}

static bool
is_principal(const struct dav_target *t)
{
    return t->area == DAV_AREA_PRINCIPAL_USER ||
           t->area == DAV_AREA_PRINCIPAL_SPACE;
}

static bool
get_principal_url(struct dav_req *req, struct arena *a,
                  const struct dav_target *t, struct buf *out)
{
    if (!is_principal(t))
        return false;
    href(out, dav_href_of(req, a, t));
    return true;
}

static bool
get_principal_collection_set(struct dav_req *req, struct arena *a,
                             const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    (void)t;
    href(out, "/dav/principals/");
    return true;
}

static bool
get_owner(struct dav_req *req, struct arena *a, const struct dav_target *t,
          struct buf *out)
{
    (void)req;
    if (t->area != DAV_AREA_SPACE || t->res.created_by_name == NULL)
        return t->area == DAV_AREA_SPACE; /* empty owner: nobody known */
    href(out, dav_principal_href(a, true, t->res.created_by_name));
    return true;
}

static bool
get_group_member_set(struct dav_req *req, struct arena *a,
                     const struct dav_target *t, struct buf *out)
{
    if (t->area != DAV_AREA_PRINCIPAL_SPACE)
        return t->area == DAV_AREA_PRINCIPAL_USER; /* users: empty set */
    if (t->space.role == NULL || t->space.role[0] == '\0')
        return false; /* members see members; others nothing */
    struct dav_member *m;
    size_t n;
    if (req->srv->store->space_members(req, t->space.id, &m, &n) !=
        DAV_STORE_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        href(out, dav_principal_href(a, true, m[i].name));
    return true;
}

static bool
get_group_membership(struct dav_req *req, struct arena *a,
                     const struct dav_target *t, struct buf *out)
{
    if (t->area == DAV_AREA_PRINCIPAL_SPACE)
        return true; /* spaces belong to no group */
    if (t->area != DAV_AREA_PRINCIPAL_USER)
        return false;
    /* The spaces of that user that the viewer shares. */
    struct dav_space *theirs, *mine;
    size_t nt, nm;
    const struct dav_store_ops *st = req->srv->store;
    if (st->spaces_of_user(req, t->user.id, &theirs, &nt) != DAV_STORE_OK ||
        st->spaces_of_user(req, req->principal->id, &mine, &nm) !=
            DAV_STORE_OK)
        return false;
    for (size_t i = 0; i < nt; i++)
        for (size_t k = 0; k < nm; k++)
            if (theirs[i].id == mine[k].id && theirs[i].role[0] != '\0')
                href(out, dav_principal_href(a, false, theirs[i].slug));
    return true;
}

static bool
get_cuaddr_set(struct dav_req *req, struct arena *a,
               const struct dav_target *t, struct buf *out)
{
    if (t->area != DAV_AREA_PRINCIPAL_USER)
        return false;
    if (t->user.email != NULL && t->user.email[0] != '\0') {
        buf_puts(out, "<D:href>mailto:");
        buf_xml_escape(out, t->user.email, strlen(t->user.email));
        buf_puts(out, "</D:href>");
    }
    href(out, dav_href_of(req, a, t));
    return true;
}

static void
privilege_list(struct buf *out, unsigned privs)
{
    for (size_t i = 0; i < NPRIV; i++)
        if ((privs & priv_names[i].privs) == priv_names[i].privs)
            buf_printf(out, "<D:privilege><%s:%s/></D:privilege>",
                       priv_names[i].privs == DAV_PRIV_APPROVE ? "P"
                       : priv_names[i].privs == DAV_PRIV_READ_FREE_BUSY
                           ? "C"
                           : "D",
                       priv_names[i].name);
}

static bool
get_cups(struct dav_req *req, struct arena *a, const struct dav_target *t,
         struct buf *out)
{
    (void)a;
    unsigned have;
    if (target_privs(req, t, &have) != NULL)
        return false;
    privilege_list(out, have);
    return true;
}

static bool
get_supported_privilege_set(struct dav_req *req, struct arena *a,
                            const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    (void)t;
    /* RFC 3744 §5.3: the privilege tree. */
    buf_puts(out,
             "<D:supported-privilege><D:privilege><D:all/></D:privilege>"
             "<D:description xml:lang=\"en\">any operation</D:description>"
             "<D:supported-privilege><D:privilege><D:read/></D:privilege>"
             "<D:description xml:lang=\"en\">read</D:description>"
             "<D:supported-privilege><D:privilege>"
             "<D:read-current-user-privilege-set/></D:privilege>"
             "<D:description xml:lang=\"en\">read own privileges"
             "</D:description></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><C:read-free-busy/>"
             "</D:privilege><D:description xml:lang=\"en\">read free and "
             "busy time</D:description></D:supported-privilege>"
             "</D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:write/></D:privilege>"
             "<D:description xml:lang=\"en\">write</D:description>"
             "<D:supported-privilege><D:privilege><D:write-properties/>"
             "</D:privilege><D:description xml:lang=\"en\">write "
             "properties</D:description></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:write-content/>"
             "</D:privilege><D:description xml:lang=\"en\">write content"
             "</D:description></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:bind/></D:privilege>"
             "<D:description xml:lang=\"en\">add members</D:description>"
             "</D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:unbind/></D:privilege>"
             "<D:description xml:lang=\"en\">remove members</D:description>"
             "</D:supported-privilege></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:unlock/></D:privilege>"
             "<D:description xml:lang=\"en\">unlock</D:description>"
             "</D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:read-acl/>"
             "</D:privilege><D:description xml:lang=\"en\">read access "
             "control</D:description></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><D:write-acl/>"
             "</D:privilege><D:description xml:lang=\"en\">change access "
             "control</D:description></D:supported-privilege>"
             "<D:supported-privilege><D:privilege><P:approve/>"
             "</D:privilege><D:description xml:lang=\"en\">approve "
             "documents for publication</D:description>"
             "</D:supported-privilege>"
             "</D:supported-privilege>");
    return true;
}

static bool
get_acl_restrictions(struct dav_req *req, struct arena *a,
                     const struct dav_target *t, struct buf *out)
{
    (void)req;
    (void)a;
    if (t->area != DAV_AREA_SPACE)
        return false;
    /* Inverted entries are not supported; only user and space principals
     * may be named. */
    buf_puts(out, "<D:no-invert/>");
    return true;
}

static bool
get_inherited_acl_set(struct dav_req *req, struct arena *a,
                      const struct dav_target *t, struct buf *out)
{
    if (t->area != DAV_AREA_SPACE)
        return false;
    struct dav_ace *aces;
    size_t n;
    if (req->srv->store->aces_find(req, t->space.id, t->path, 0, &aces,
                                   &n) != DAV_STORE_OK)
        return false;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(aces[i].path, t->path) == 0)
            continue;
        if (last != NULL && strcmp(last, aces[i].path) == 0)
            continue;
        last = aces[i].path;
        href(out, dav_space_href(a, t->slug, aces[i].path, true));
    }
    /* The roles of the space come from its root. */
    if (t->path[0] != '\0' && (last == NULL || last[0] != '\0'))
        href(out, dav_space_href(a, t->slug, "", true));
    return true;
}

static void
ace_xml(struct buf *out, struct arena *a, bool user, const char *name,
        bool grant, unsigned privs, bool protect, const char *inherited)
{
    buf_puts(out, "<D:ace><D:principal>");
    href(out, dav_principal_href(a, user, name));
    buf_puts(out, "</D:principal>");
    buf_puts(out, grant ? "<D:grant>" : "<D:deny>");
    privilege_list(out, privs);
    buf_puts(out, grant ? "</D:grant>" : "</D:deny>");
    if (protect)
        buf_puts(out, "<D:protected/>");
    if (inherited != NULL) {
        buf_puts(out, "<D:inherited>");
        href(out, inherited);
        buf_puts(out, "</D:inherited>");
    }
    buf_puts(out, "</D:ace>");
}

static bool
get_acl(struct dav_req *req, struct arena *a, const struct dav_target *t,
        struct buf *out)
{
    if (t->area != DAV_AREA_SPACE)
        return false;
    unsigned have;
    if (target_privs(req, t, &have) != NULL ||
        (have & DAV_PRIV_READ_ACL) == 0)
        return false;
    const struct dav_store_ops *st = req->srv->store;
    struct dav_ace *aces;
    size_t n;
    if (st->aces_find(req, t->space.id, t->path, 0, &aces, &n) !=
        DAV_STORE_OK)
        return false;
    /* Nearest first: entries of the resource, then of its ancestors. */
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = n; i > 0; i--) {
            const struct dav_ace *e = &aces[i - 1];
            bool own = strcmp(e->path, t->path) == 0;
            if (own != (pass == 0))
                continue;
            ace_xml(out, a, e->user, e->principal_name, e->grant, e->privs,
                    false,
                    own ? NULL : dav_space_href(a, t->slug, e->path, true));
        }
    /* Roles: protected entries inherited from the space root. */
    struct dav_member *m;
    size_t nm;
    if (st->space_members(req, t->space.id, &m, &nm) != DAV_STORE_OK)
        return false;
    const char *root = dav_space_href(a, t->slug, "", true);
    for (size_t i = 0; i < nm; i++) {
        unsigned rp = acl_role_privs(m[i].role);
        if ((rp & DAV_PRIV_READ) != 0)
            rp |= DAV_PRIV_READ_FREE_BUSY; /* part of read (effective) */
        ace_xml(out, a, true, m[i].name, true, rp,
                true, t->path[0] != '\0' ? root : NULL);
    }
    return true;
}

static const struct dav_prop_def acl_props[] = {
    { DAV_NS, "current-user-principal", DAV_P_PROTECTED,
      get_current_user_principal, NULL },
    { DAV_NS, "principal-URL", DAV_P_PROTECTED, get_principal_url, NULL },
    { DAV_NS, "principal-collection-set", DAV_P_PROTECTED,
      get_principal_collection_set, NULL },
    { DAV_NS, "owner", DAV_P_PROTECTED, get_owner, NULL },
    { DAV_NS, "group-member-set", DAV_P_PROTECTED, get_group_member_set,
      NULL },
    { DAV_NS, "group-membership", DAV_P_PROTECTED, get_group_membership,
      NULL },
    { DAV_NS, "alternate-URI-set", DAV_P_PROTECTED, NULL, NULL },
    { DAV_NS, "current-user-privilege-set", DAV_P_PROTECTED, get_cups, NULL },
    { DAV_NS, "supported-privilege-set", DAV_P_PROTECTED,
      get_supported_privilege_set, NULL },
    { DAV_NS, "acl-restrictions", DAV_P_PROTECTED, get_acl_restrictions,
      NULL },
    { DAV_NS, "inherited-acl-set", DAV_P_PROTECTED, get_inherited_acl_set,
      NULL },
    { DAV_NS, "acl", DAV_P_PROTECTED, get_acl, NULL },
    { CALDAV_NS, "calendar-user-address-set", DAV_P_PROTECTED,
      get_cuaddr_set, NULL },
};

/* ---- the ACL method (RFC 3744 §8.1) ------------------------------------------ */

static struct dav_err *
ace_error(struct dav_req *req, const char *cond, const char *msg)
{
    return dav_err_cond(req, 403, DAV_NS, cond, "%s", msg);
}

static struct dav_err *
parse_principal(struct dav_req *req, const struct dav_xml_elem *p,
                struct dav_ace *out)
{
    struct dav_xml_elem *c = dav_elem_first(p);
    if (c == NULL)
        return dav_err_new(req, 400, "empty DAV:principal");
    if (!dav_elem_is(c, DAV_NS, "href"))
        /* all, authenticated, unauthenticated, self, property */
        return ace_error(req, "allowed-principal",
                         "only user and space principals may be named");
    const char *h = dav_elem_text(req, c);
    struct dav_target pt;
    if (!dav_url_to_target(req, h, &pt))
        return ace_error(req, "recognized-principal", "unknown principal");
    const struct dav_store_ops *st = req->srv->store;
    if (pt.area == DAV_AREA_PRINCIPAL_USER) {
        struct dav_user u;
        if (st->user_by_name(req, pt.slug, &u) != DAV_STORE_OK)
            return ace_error(req, "recognized-principal",
                             "unknown principal");
        out->user = true;
        out->principal_id = u.id;
        out->principal_name = u.name;
        return NULL;
    }
    if (pt.area == DAV_AREA_PRINCIPAL_SPACE) {
        struct dav_space sp;
        if (st->space_by_slug(req, pt.slug, &sp) != DAV_STORE_OK)
            return ace_error(req, "recognized-principal",
                             "unknown principal");
        out->user = false;
        out->principal_id = sp.id;
        out->principal_name = sp.slug;
        return NULL;
    }
    return ace_error(req, "recognized-principal", "not a principal URL");
}

static struct dav_err *
parse_privileges(struct dav_req *req, const struct dav_xml_elem *gd,
                 unsigned *out)
{
    *out = 0;
    for (struct dav_xml_elem *p = dav_elem_first(gd); p != NULL;
         p = dav_elem_next(p)) {
        if (!dav_elem_is(p, DAV_NS, "privilege"))
            return dav_err_new(req, 400, "expected DAV:privilege");
        struct dav_xml_elem *name = dav_elem_first(p);
        unsigned v;
        const char *ns = name != NULL ? dav_elem_ns(name) : "";
        const char *nm = name != NULL ? dav_elem_name(name) : "";
        bool free_busy = strcmp(nm, "read-free-busy") == 0;
        bool ours = strcmp(ns, DAV_NS) == 0
                        ? !free_busy
                        : (strcmp(ns, PARVIS_NS) == 0 &&
                           strcmp(nm, "approve") == 0) ||
                              (strcmp(ns, CALDAV_NS) == 0 && free_busy);
        if (!ours || !acl_priv_parse(nm, &v))
            return ace_error(req, "not-supported-privilege",
                             "unsupported privilege");
        *out |= v;
    }
    if (*out == 0)
        return dav_err_new(req, 400, "no privilege named");
    return NULL;
}

static struct dav_err *
acl_method(struct dav_req *req)
{
    struct dav_target *t = &req->target;
    if (!t->exists)
        return dav_err_new(req, 404, "no resource at %s", req->url);
    if (t->area != DAV_AREA_SPACE)
        return dav_err_new(req, 403, "no access control here");
    /* RFC 9110 §13.2.1: a false precondition stops the method. */
    struct dav_err *err = dav_check_conditions(req, t);
    if (err != NULL)
        return err;
    struct dav_xml_elem *root;
    err = dav_body_root(req, &root);
    if (err != NULL)
        return err;
    if (root == NULL || !dav_elem_is(root, DAV_NS, "acl"))
        return dav_err_new(req, 400, "expected DAV:acl");
    size_t cap = 8, n = 0;
    struct dav_ace *aces = arena_alloc(req->arena, cap * sizeof(*aces));
    for (struct dav_xml_elem *e = dav_elem_first(root); e != NULL;
         e = dav_elem_next(e)) {
        if (!dav_elem_is(e, DAV_NS, "ace"))
            return dav_err_new(req, 400, "expected DAV:ace");
        if (dav_elem_child(e, DAV_NS, "invert") != NULL)
            return ace_error(req, "no-invert", "inverted entries are not "
                                               "supported");
        if (dav_elem_child(e, DAV_NS, "protected") != NULL)
            return ace_error(req, "no-protected-ace-conflict",
                             "protected entries cannot be set");
        if (dav_elem_child(e, DAV_NS, "inherited") != NULL)
            return ace_error(req, "no-inherited-ace-conflict",
                             "inherited entries cannot be set here");
        if (n == cap) {
            struct dav_ace *bigger = arena_alloc(req->arena,
                                                 2 * cap * sizeof(*bigger));
            memcpy(bigger, aces, cap * sizeof(*aces));
            aces = bigger;
            cap *= 2;
        }
        struct dav_ace *a = &aces[n];
        struct dav_xml_elem *p = dav_elem_child(e, DAV_NS, "principal");
        struct dav_xml_elem *g = dav_elem_child(e, DAV_NS, "grant");
        struct dav_xml_elem *d = dav_elem_child(e, DAV_NS, "deny");
        if (p == NULL || (g == NULL) == (d == NULL))
            return dav_err_new(req, 400, "an ace needs a principal and "
                                         "one grant or deny");
        err = parse_principal(req, p, a);
        if (err != NULL)
            return err;
        a->grant = g != NULL;
        err = parse_privileges(req, g != NULL ? g : d, &a->privs);
        if (err != NULL)
            return err;
        n++;
        if (n > 256)
            return ace_error(req, "limited-number-of-aces",
                             "too many entries");
    }
    enum dav_store_rc rc = req->srv->store->aces_replace(req, &t->res, aces,
                                                         n);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "access control entries");
    log_msg(LOG_INFO, req->id, NULL, "access control of %s changed by %s",
            req->url, req->principal->name);
    dav_respond_empty(req, 200);
    return NULL;
}

static const struct dav_method_def acl_methods[] = {
    { "ACL", DAV_M_BODY_XML | DAV_M_WRITE | DAV_M_CHECK_LOCKS,
      DAV_PRIV_WRITE_ACL, NULL, NULL, acl_method },
};

/* ---- principal reports (RFC 3744 §9.4, §9.5) --------------------------------- */

static bool
contains_ci(const char *hay, const char *needle)
{
    if (hay == NULL)
        return false;
    size_t nl = strlen(needle);
    for (const char *p = hay; *p != '\0'; p++)
        if (strncasecmp(p, needle, nl) == 0)
            return true;
    return false;
}

static struct dav_err *
report_principal_search(struct dav_req *req, const struct dav_xml_elem *root)
{
    /* RFC 3744 §9.4 */
    bool anyof = false;
    struct {
        bool name, email;
        const char *match;
    } tests[16];
    size_t nt = 0;
    const char *names[64];
    size_t nn = 0;
    for (struct dav_xml_elem *c = dav_elem_first(root); c != NULL;
         c = dav_elem_next(c)) {
        if (dav_elem_is(c, DAV_NS, "property-search") && nt < 16) {
            struct dav_xml_elem *prop = dav_elem_child(c, DAV_NS, "prop");
            struct dav_xml_elem *m = dav_elem_child(c, DAV_NS, "match");
            if (prop == NULL || m == NULL)
                return dav_err_new(req, 400, "property-search needs prop "
                                             "and match");
            tests[nt].name = tests[nt].email = false;
            for (struct dav_xml_elem *p = dav_elem_first(prop); p != NULL;
                 p = dav_elem_next(p)) {
                if (dav_elem_is(p, DAV_NS, "displayname"))
                    tests[nt].name = true;
                else if (dav_elem_is(p, CALDAV_NS,
                                     "calendar-user-address-set"))
                    tests[nt].email = true;
            }
            tests[nt].match = dav_elem_text(req, m);
            nt++;
        } else if (dav_elem_is(c, DAV_NS, "prop")) {
            for (struct dav_xml_elem *p = dav_elem_first(c);
                 p != NULL && nn + 2 <= 64; p = dav_elem_next(p)) {
                names[nn++] = dav_elem_ns(p);
                names[nn++] = dav_elem_name(p);
            }
        }
    }
    /* RFC 3744 §9.4: allof unless test="anyof". */
    const char *test = dav_elem_attr(req, root, "test");
    anyof = test != NULL && strcmp(test, "anyof") == 0;
    if (nt == 0)
        return dav_err_new(req, 400, "no property-search");
    struct dav_user *users;
    size_t nu;
    enum dav_store_rc rc = req->srv->store->users_visible(
        req, req->principal->id, NULL, &users, &nu);
    if (rc != DAV_STORE_OK)
        return dav_err_from_store(req, rc, "users");
    struct buf b;
    dav_multistatus_begin(req, &b);
    struct arena *scratch = arena_child(req->arena);
    for (size_t i = 0; i < nu; i++) {
        bool all = true, any = false;
        for (size_t k = 0; k < nt; k++) {
            bool hit = (tests[k].name &&
                        (contains_ci(users[i].display_name, tests[k].match) ||
                         contains_ci(users[i].name, tests[k].match))) ||
                       (tests[k].email &&
                        contains_ci(users[i].email, tests[k].match));
            all = all && hit;
            any = any || hit;
        }
        if (!(anyof ? any : all))
            continue;
        arena_reset(scratch);
        struct dav_target pt;
        memset(&pt, 0, sizeof(pt));
        pt.area = DAV_AREA_PRINCIPAL_USER;
        pt.slug = users[i].name;
        pt.user = users[i];
        pt.path = "";
        pt.exists = true;
        pt.res.kind = DAV_KIND_COLLECTION;
        struct buf found, missing;
        buf_init(&found, scratch, 512);
        buf_init(&missing, scratch, 64);
        dav_props_render(req, scratch, &pt, names, nn, &found, &missing);
        dav_multistatus_response(&b, dav_href_of(req, scratch, &pt),
                                 buf_cstr(&found), buf_cstr(&missing));
    }
    arena_destroy(scratch);
    dav_multistatus_end(req, &b);
    return NULL;
}

static struct dav_err *
report_principal_search_set(struct dav_req *req,
                            const struct dav_xml_elem *root)
{
    (void)root;
    /* RFC 3744 §9.5 */
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<D:principal-search-property-set xmlns:D=\"DAV:\">"
        "<D:principal-search-property><D:prop><D:displayname/></D:prop>"
        "<D:description xml:lang=\"en\">Name</D:description>"
        "</D:principal-search-property>"
        "<D:principal-search-property><D:prop>"
        "<C:calendar-user-address-set "
        "xmlns:C=\"urn:ietf:params:xml:ns:caldav\"/></D:prop>"
        "<D:description xml:lang=\"en\">E-mail</D:description>"
        "</D:principal-search-property>"
        "</D:principal-search-property-set>\n";
    dav_respond_xml(req, 200, body);
    return NULL;
}

static const struct dav_report_def acl_reports[] = {
    { DAV_NS, "principal-property-search", DAV_PRIV_READ, 0,
      report_principal_search },
    { DAV_NS, "principal-search-property-set", DAV_PRIV_READ, 0,
      report_principal_search_set },
};

void
acl_access_register(struct dav_registry *r)
{
    dav_registry_add_props(r, acl_props,
                           sizeof(acl_props) / sizeof(acl_props[0]));
    dav_registry_add_methods(r, acl_methods,
                             sizeof(acl_methods) / sizeof(acl_methods[0]));
    dav_registry_add_reports(r, acl_reports,
                             sizeof(acl_reports) / sizeof(acl_reports[0]));
    /* RFC 3744 §7.2: a server that supports ACL says so in DAV:. */
    dav_registry_add_class(r, "access-control");
}
