/*
 * dav/dav.h -- the protocol core of Parvis (RFC 4918): the request context,
 * the registry of methods and properties, the dispatcher and errors.
 *
 * Layering: dav/ depends on core/ only.  Authentication and access checks
 * come from acl/ through hooks registered in the registry; storage comes
 * through dav/dav_store.h.  The http/ adapter drives a request through
 * dav_req_create -> dav_req_begin -> dav_req_body* -> dav_req_finish ->
 * dav_req_destroy.
 */
#ifndef PARVIS_DAV_H
#define PARVIS_DAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "dav/dav_store.h"

struct conf;
struct dav_req;
struct dav_registry;
struct dav_if_state;

#define DAV_NS "DAV:"
#define PARVIS_NS "http://parvis.org/ns"

/* Longest name of a resource (bytes of UTF-8, as common file systems
 * allow) and longest path below /dav/ (what the database's path index
 * takes, with room to spare); longer ones are refused with 400. */
#define DAV_NAME_MAX 255
#define DAV_PATH_MAX 2048

/* Largest DAV:owner of a lock (its XML), and most locks one resource may
 * be covered by (all shared, then) before a new LOCK of it is refused. */
#define DAV_LOCK_OWNER_MAX 4096
/* Dead properties of one resource: each at most DAV_PROP_VALUE_MAX bytes
 * (its XML), at most DAV_PROPS_MAX of them and DAV_PROPS_BYTES_MAX bytes
 * in all; a PROPPATCH beyond is refused whole with 507. */
#define DAV_PROP_VALUE_MAX (64 * 1024)
#define DAV_PROPS_MAX 1000
#define DAV_PROPS_BYTES_MAX (256 * 1024)
#define DAV_LOCKS_MAX_SHARED 64

/* ---- privileges (RFC 3744 §3), as a bitmask ------------------------------ */

#define DAV_PRIV_READ            (1u << 0)
#define DAV_PRIV_WRITE_PROPS     (1u << 1)
#define DAV_PRIV_WRITE_CONTENT   (1u << 2)
#define DAV_PRIV_BIND            (1u << 3)
#define DAV_PRIV_UNBIND          (1u << 4)
#define DAV_PRIV_UNLOCK          (1u << 5)
#define DAV_PRIV_READ_ACL        (1u << 6)
#define DAV_PRIV_WRITE_ACL       (1u << 7)
#define DAV_PRIV_READ_CUPS       (1u << 8)
#define DAV_PRIV_APPROVE         (1u << 9)  /* Parvis: approve documents */
/* CALDAV:read-free-busy (RFC 4791 §6.1.1): part of DAV:read, which gives
 * it, and grantable alone.  Outside DAV_PRIV_ALL, whose value entries
 * already stored hold: "all" gives it through read. */
#define DAV_PRIV_READ_FREE_BUSY  (1u << 10)
#define DAV_PRIV_NONE            0u
#define DAV_PRIV_ALL             0x3ffu
#define DAV_PRIV_WRITE (DAV_PRIV_WRITE_PROPS | DAV_PRIV_WRITE_CONTENT | \
                        DAV_PRIV_BIND | DAV_PRIV_UNBIND)

/* ---- errors (STYLE.md 3) -------------------------------------------------- */

struct dav_err {
    int status;
    const char *cond_ns;   /* namespace of the precondition element */
    const char *cond;      /* e.g. "lock-token-submitted"; NULL if none */
    const char *href;      /* resource concerned, may be NULL */
    const char *body;      /* a whole XML answer instead of a DAV:error
                              one, may be NULL */
    const char *msg;       /* for the log */
    struct dav_err *cause;
};

/* Allocated in req->arena; cannot fail. */
struct dav_err *dav_err_new(struct dav_req *req, int status, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));
struct dav_err *dav_err_cond(struct dav_req *req, int status, const char *ns,
                             const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Map a store code to an HTTP error (NULL for DAV_STORE_OK). */
struct dav_err *dav_err_from_store(struct dav_req *req, enum dav_store_rc rc,
                                   const char *what);
/* Make err the response: status, DAV:error body, auth challenge. */
void dav_err_render(struct dav_req *req, const struct dav_err *err);

/* ---- namespace ------------------------------------------------------------ */

enum dav_area {
    DAV_AREA_ROOT,             /* "/" */
    DAV_AREA_DAVROOT,          /* "/dav/" */
    DAV_AREA_SPACES,           /* "/dav/spaces/" */
    DAV_AREA_SPACE,            /* "/dav/spaces/<slug>/..." */
    DAV_AREA_PRINCIPALS,       /* "/dav/principals/" */
    DAV_AREA_PRINCIPAL_USERS,  /* "/dav/principals/users/" */
    DAV_AREA_PRINCIPAL_USER,   /* "/dav/principals/users/<name>/" */
    DAV_AREA_PRINCIPAL_SPACES, /* "/dav/principals/spaces/" */
    DAV_AREA_PRINCIPAL_SPACE,  /* "/dav/principals/spaces/<slug>/" */
    DAV_AREA_CALENDARS,        /* "/dav/calendars/" */
    DAV_AREA_CAL_HOME,         /* "/dav/calendars/<user>/" */
    DAV_AREA_HISTORY,          /* "/dav/history/<slug>/<path>[/<revision>]" */
    DAV_AREA_PUBLISHED,        /* "/dav/published/<slug>/<path>" */
    DAV_AREA_APPROVALS,        /* "/dav/approvals/<slug>/<file>" */
};

/* Trash of a space: its tree under this reserved folder, reached through
 * /dav/trash/<slug>/. */
#define DAV_TRASH_FOLDER "/.trash"

/* Calendars live in a space under this reserved folder, hidden from the
 * file tree and reached through /dav/calendars/<user>/<calendar>/. */
#define DAV_CAL_FOLDER "/.calendars"

/* Is the area a resource stored in a space (else virtual, read-only)? */
#define DAV_AREA_STORED(a) ((a) == DAV_AREA_SPACE)

/* A resolved URL: where it points, and the resource if it is mapped. */
struct dav_target {
    enum dav_area area;
    const char *slug;          /* space slug, or principal name */
    struct dav_space space;    /* DAV_AREA_SPACE / PRINCIPAL_SPACE */
    struct dav_user user;      /* DAV_AREA_PRINCIPAL_USER, once resolved */
    const char *path;          /* in-space path: "" root, "/a/b" */
    bool exists;
    struct dav_resource res;   /* valid when exists */
    bool trailing_slash;       /* the request URL ended with '/' */
    /* Reached through a calendar home: /dav/calendars/<cal_user>/
     * <cal_name>/... maps to the space path base_path/... */
    const char *cal_user;
    const char *cal_name;
    const char *base_path;
    const char *url_base;      /* URL of base_path, when mapped */
    /* read-only views (dav/views.c) */
    bool hist_file;            /* history: a file shown as a collection */
    bool is_rev;               /* history: one revision of a file */
    struct dav_revision rev;
    const char *flat_name;     /* approvals: the member's name */
    const struct dav_lock *locks; /* locks covering it, when loaded */
    size_t nlocks;
    bool locks_loaded;
};

/* Does t name a calendar itself, at its place in a calendar home (not
 * one of its objects)?  Once t is resolved. */
bool dav_target_is_calendar(const struct dav_target *t);

/* ---- principals ------------------------------------------------------------ */

struct dav_principal {
    int64_t id;
    const char *name;
    const char *display_name;
    bool guest;                /* an outside partner's account */
};

/* ---- method table (lighttpd's central policy + httpd's method script) ---- */

#define DAV_M_NO_BODY      (1u << 0) /* a body is refused with 415 */
#define DAV_M_BODY_XML     (1u << 1) /* the body is buffered (XML) */
#define DAV_M_BODY_STREAM  (1u << 2) /* the body streams to body_fn */
#define DAV_M_NO_AUTH      (1u << 3) /* answered without authentication */
#define DAV_M_WRITE        (1u << 4) /* mutates: runs in a write txn */
#define DAV_M_TARGET_PARENT (1u << 5) /* privilege checked on the parent
                                         when the target is unmapped */
#define DAV_M_CHECK_LOCKS  (1u << 6) /* the target must not be locked by
                                         others (If: lock tokens) */
#define DAV_M_LOCK_TREE    (1u << 7) /* ... nor any member below it */
#define DAV_M_LOCK_PARENT  (1u << 8) /* ... nor its parent (bind/unbind) */
#define DAV_M_READ_ONLY    (1u << 9) /* reads only, each statement on its
                                         own (no transaction): GET, HEAD */
#define DAV_M_READ_DEPTH0  (1u << 10) /* the same with Depth: 0 (PROPFIND
                                          of one resource) */

typedef struct dav_err *(*dav_handler_fn)(struct dav_req *req);
typedef struct dav_err *(*dav_body_fn)(struct dav_req *req, const char *data,
                                       size_t len);

struct dav_method_def {
    const char *name;
    unsigned flags;
    unsigned required_priv;    /* on the target (or its parent, see flags) */
    dav_handler_fn prepare;    /* streaming methods: before the body */
    dav_body_fn body;          /* streaming methods: each body piece */
    dav_handler_fn handler;    /* after the body */
};

/* ---- properties -------------------------------------------------------------- */

#define DAV_P_PROTECTED  (1u << 0)  /* cannot be set by PROPPATCH */
#define DAV_P_ALLPROP    (1u << 1)  /* returned by allprop */
#define DAV_P_COLLECTION (1u << 2)  /* defined on collections */
#define DAV_P_FILE       (1u << 3)  /* defined on files */
#define DAV_P_VIRTUAL    (1u << 4)  /* defined on virtual collections */
#define DAV_P_LOCKS      (1u << 5)  /* needs the target's locks loaded */
#define DAV_P_SETTER     (1u << 6)  /* PROPPATCH calls set() and stores
                                       nothing itself */

/*
 * A live property getter appends the property's *content* (escaped XML) to
 * 'out' and returns true, or returns false when the property is not defined
 * for this target.  'a' is the scratch arena of the current member.
 */
typedef bool (*dav_prop_get_fn)(struct dav_req *req, struct arena *a,
                                const struct dav_target *t, struct buf *out);

/*
 * Called by PROPPATCH after a writable live property was stored as a dead
 * property, so that it can also take effect (Win32LastModifiedTime sets
 * the modification time).  'value' is the element's text.
 */
typedef struct dav_err *(*dav_prop_set_fn)(struct dav_req *req,
                                           const struct dav_target *t,
                                           const char *value);

struct dav_prop_def {
    const char *ns;
    const char *name;
    unsigned flags;
    dav_prop_get_fn get;     /* NULL: only a stored value is shown */
    dav_prop_set_fn set;     /* NULL: nothing beyond storing it */
};

/* ---- XML request bodies, for layers that do not see libxml2 ------------- */

/* An element of the request body (opaque; lives as long as the request). */
struct dav_xml_elem;

/* Parse the request body; *root NULL when there is none.  400 on malformed
 * XML or a DOCTYPE. */
struct dav_err *dav_body_root(struct dav_req *req, struct dav_xml_elem **root);
bool dav_elem_is(const struct dav_xml_elem *e, const char *ns,
                 const char *name);
const char *dav_elem_ns(const struct dav_xml_elem *e);
const char *dav_elem_name(const struct dav_xml_elem *e);
/* First element child / next element sibling, or NULL. */
struct dav_xml_elem *dav_elem_first(const struct dav_xml_elem *e);
struct dav_xml_elem *dav_elem_next(const struct dav_xml_elem *e);
/* The child (ns,name) of e, or NULL. */
struct dav_xml_elem *dav_elem_child(const struct dav_xml_elem *e,
                                    const char *ns, const char *name);
/* Value of attribute 'name' (no namespace) of e, in req->arena, or NULL. */
const char *dav_elem_attr(struct dav_req *req, const struct dav_xml_elem *e,
                          const char *name);
/* Text content of e, in req->arena. */
const char *dav_elem_text(struct dav_req *req, const struct dav_xml_elem *e);
/* The text content of the serialized element 'xml' (a dead property as
 * the store keeps it), in req->arena; NULL when it is not well-formed. */
const char *dav_xml_text(struct dav_req *req, const char *xml);
/* e serialized with the namespace declarations it needs. */
const char *dav_elem_dump(struct dav_req *req, const struct dav_xml_elem *e);
/*
 * The properties named by the children of 'prop' (a DAV:prop element, or
 * NULL), as { ns, name } pairs: 2 * n strings in *names, allocated in
 * req->arena, *nnames = 2 * n (the form dav_props_render takes).  413 when
 * they are more than the server's max_props.
 */
struct dav_err *dav_prop_names(struct dav_req *req,
                               const struct dav_xml_elem *prop,
                               const char ***names, size_t *nnames);

/* ---- multistatus output, for extensions ------------------------------------ */

/* Start and finish a 207 response in 'b' (in req->arena). */
void dav_multistatus_begin(struct dav_req *req, struct buf *b);
void dav_multistatus_end(struct dav_req *req, struct buf *b);
/*
 * The next responses of a streamed multistatus, appended to 'out' (in 'a',
 * reset before each call); *done once none follow.  Runs in the request's
 * transaction, before (first call) or after the handler has returned.
 */
typedef struct dav_err *(*dav_ms_page_fn)(struct dav_req *req, void *state,
                                          struct arena *a, struct buf *out,
                                          bool *done);
/* Finish the 207 begun in 'b' with the responses of 'page', streamed page
 * by page so that memory stays bounded by a page (docs/decisions/0010):
 * the first page is built now, and its errors are returned; a failure of
 * a later one breaks the body off.  Every check that can refuse the
 * request must come before. */
struct dav_err *dav_multistatus_stream(struct dav_req *req, struct buf *b,
                                       dav_ms_page_fn page, void *state);
/* One <D:response> with a 200 propstat of the given prop content (already
 * XML) and an optional 404 propstat of empty elements. */
void dav_multistatus_response(struct buf *b, const char *href,
                              const char *found, const char *missing);
/* Append <ns:name>content</ns:name>, or <ns:name/> when content is NULL. */
void dav_xml_elem_write(struct buf *b, const char *ns, const char *name,
                        const char *content);
/* Append the values of the named properties of target t as PROPFIND
 * would (found ones in 'found', unknown ones in 'missing'); names[i] is
 * { ns, name } in pairs. */
void dav_props_render(struct dav_req *req, struct arena *a,
                      const struct dav_target *t, const char *const *names,
                      size_t nnames, struct buf *found, struct buf *missing);

/* ---- reports (REPORT method, RFC 3253 §3.6) ---------------------------- */

#define DAV_R_DEPTH_OK (1u << 0)   /* the report honours Depth */

struct dav_report_def {
    const char *ns;
    const char *name;           /* local name of the request's root element */
    unsigned required_priv;     /* on the target */
    unsigned flags;
    struct dav_err *(*handler)(struct dav_req *req,
                               const struct dav_xml_elem *root);
};

void dav_registry_add_reports(struct dav_registry *r,
                              const struct dav_report_def *defs, size_t n);
const struct dav_report_def *dav_registry_report(const struct dav_registry *r,
                                                 const char *ns,
                                                 const char *name);

/* ---- hooks that extensions register --------------------------------------- */

/* Append extra DAV:resourcetype elements for t (e.g. <C:calendar/>). */
typedef void (*dav_restype_fn)(struct dav_req *req, const struct dav_target *t,
                               struct buf *out);

/*
 * PUT into a collection with a subtype (a calendar): 'prepare' runs before
 * the body and says how many bytes may be kept (the body is then kept in
 * memory for 'check'; beyond it the PUT fails with 'too_large');
 * 'check' sees the whole body before the revision is written and may set
 * the content type; 'after' runs once the revision is recorded.
 */
struct dav_put_hook {
    struct dav_err *(*prepare)(struct dav_req *req,
                               const struct dav_target *parent,
                               size_t *keep_max);
    struct dav_err *(*too_large)(struct dav_req *req);
    struct dav_err *(*check)(struct dav_req *req,
                             const struct dav_target *parent,
                             const char *body, size_t len,
                             const char **content_type);
    struct dav_err *(*after)(struct dav_req *req,
                             const struct dav_target *parent);
    /* May src, a collection, or anything sent to a calendar's place
     * (dav_target_is_calendar), be copied (move false) or moved to dst,
     * whose parent is dparent?  NULL if so. */
    struct dav_err *(*place)(struct dav_req *req,
                             const struct dav_target *src,
                             const struct dav_target *dst,
                             const struct dav_target *dparent, bool move);
};

void dav_registry_set_restype(struct dav_registry *r, dav_restype_fn fn);
/* Add a compliance class to the DAV header of OPTIONS (e.g.
 * "calendar-access"). */
void dav_registry_add_class(struct dav_registry *r, const char *token);
void dav_registry_set_put_hook(struct dav_registry *r,
                               const struct dav_put_hook *hook);

/* ---- hooks that acl/ registers ----------------------------------------------- */

/* Authenticate the request: set req->principal, or return 401 / 403. */
typedef struct dav_err *(*dav_authn_fn)(struct dav_req *req);
/* May req->principal exercise 'priv' on the target?  403 (or 404 when the
 * target must stay invisible) if not. */
typedef struct dav_err *(*dav_authz_fn)(struct dav_req *req,
                                        const struct dav_target *t,
                                        unsigned priv);

/* ---- registry ----------------------------------------------------------------- */

/* Create an empty registry (process lifetime, malloc'd). */
struct dav_registry *dav_registry_new(void);
void dav_registry_add_methods(struct dav_registry *r,
                              const struct dav_method_def *defs, size_t n);
void dav_registry_add_props(struct dav_registry *r,
                            const struct dav_prop_def *defs, size_t n);
void dav_registry_set_auth(struct dav_registry *r, dav_authn_fn authn,
                           dav_authz_fn authz);
/* The DAV core's own methods and live properties. */
void dav_register(struct dav_registry *r);
const struct dav_method_def *dav_registry_method(const struct dav_registry *r,
                                                 const char *name);
const struct dav_prop_def *dav_registry_prop(const struct dav_registry *r,
                                             const char *ns, const char *name);

/* ---- the server and the request -------------------------------------------- */

/* Defaults of the XML limits of struct dav_server (a field left 0), the
 * same as conf/'s.  libxml2 itself stops at 256 levels. */
#define DAV_DEFAULT_XML_DEPTH 256
#define DAV_DEFAULT_XML_NODES 100000
#define DAV_DEFAULT_PROPS 1000
#define DAV_DEFAULT_PROPFIND_MEMBERS 100000

struct dav_server {
    const struct conf *conf;   /* for the adapter; dav/ reads the fields below */
    size_t max_xml_body;       /* 0: 1 MiB */
    unsigned max_xml_depth;    /* element nesting; 0: DAV_DEFAULT_XML_DEPTH */
    unsigned max_xml_nodes;    /* elements, attributes, text...; 0:
                                  DAV_DEFAULT_XML_NODES */
    unsigned max_props;        /* properties named by one PROPFIND,
                                  PROPPATCH or REPORT; 0: DAV_DEFAULT_PROPS */
    unsigned max_propfind_members; /* members one Depth 1 PROPFIND lists;
                                      0: DAV_DEFAULT_PROPFIND_MEMBERS */
    int32_t lock_timeout_max;  /* seconds; 0: 3600 */
    /* CalDAV limits, enforced and advertised by caldav/ (RFC 4791 §5.2.5,
     * §5.2.8, §5.2.9); 0 selects the default of caldav/caldav.h. */
    size_t max_resource_size;  /* bytes of one calendar object */
    unsigned max_instances;    /* recurrence instances per object and per
                                  report */
    unsigned max_attendees;    /* ATTENDEEs per component */
    bool show_apple_files;     /* list others' ._* and .DS_Store files */
    bool trust_proxy_tls;      /* a reverse proxy terminates TLS: accept
                                  Basic credentials over plain HTTP */
    const char *anonymous_user; /* act as this user without credentials */
    const char *quota_free_path; /* statvfs() target when no quota: NULL
                                    lets the store decide */
    const char *realm;         /* NULL: "Parvis" */
    const struct dav_registry *reg;
    const struct dav_store_ops *store;
    void *store_ctx;           /* the store's process-wide state (pool) */
    /* Depth 1 listings answered (core/lcache.h, dav/props.c); NULL: none.
     * Created and destroyed by the server's owner. */
    struct lcache *lcache;
    /* Targets of reads resolved (dav/lookup.c); NULL: none.  Same owner. */
    struct lcache *lookups;
    /* Answers of PROPFIND Depth 0, under the targets' stamps (dav/props.c,
     * decision 0029); NULL: none.  Same owner. */
    struct lcache *answers;
};

typedef const char *(*dav_header_fn)(void *ctx, const char *name);

struct dav_resp_header {
    const char *name;
    const char *value;
    struct dav_resp_header *next;
};

/* Pull-style body: fill up to 'max' bytes at 'pos'; return bytes written,
 * 0 at the end, or -1 on error (the connection is then closed). */
typedef long (*dav_stream_fn)(struct dav_req *req, uint64_t pos, char *dst,
                              size_t max);
struct dav_stream_file {
    int fd;
    uint64_t off;
};

/* stream_len of a body whose length is known only at its end (sent
 * chunked, or up to the connection's close for HTTP/1.0). */
#define DAV_STREAM_LEN_UNKNOWN UINT64_MAX

struct dav_req {
    struct arena *arena;
    const struct dav_server *srv;
    const char *id;
    const char *method;
    const struct dav_method_def *mdef;
    const char *url;           /* raw request target, without the query */
    const char *client_addr;
    dav_header_fn header_fn;
    void *header_ctx;
    bool secure;               /* arrived over TLS */

    struct dav_target target;
    struct dav_principal *principal;
    /* The principal's account (enabled, not expired, app password not
     * revoked) is still to be checked: by the statement that resolves the
     * target (store space_lookup), or before anything else is read. */
    bool principal_unchecked;
    /* The parent of 'target', once resolved (dav_target_parent). */
    struct dav_target *target_parent;

    /* body */
    struct buf body;
    uint64_t body_len;
    bool body_too_large;
    struct dav_err *body_err;  /* set by a body_fn; reported at the end */

    /* store */
    void *store_conn;
    bool in_txn;
    bool read_lease;           /* in_txn: a read_begin lease, no transaction */

    /* quota of the target's space, loaded on first use */
    bool quota_loaded;
    int64_t quota_used, quota_limit, quota_free;

    /* acl/'s per-request cache of access control entries */
    void *acl_cache;
    /* what the audit row of this request says beyond its method */
    const char *audit_action;
    const char *audit_detail;
    bool audit_read;           /* this read is to be audited */
    /* app password used to authenticate (0: the account password) */
    int64_t app_password_id;
    /* Authenticate from verified credentials kept in memory only: no
     * password check, no failure counted (OPTIONS, never refused). */
    bool authn_cached_only;
    /* The database's snapshot (running transactions and the next) when
     * the request's target was resolved, before anything else the answer
     * is made of was read; NULL: unknown.  Equal texts mean no
     * transaction ended in between (decision 0026). */
    const char *db_snapshot;
    /* Set by the store's space_lookup and personal_space: the snapshot
     * they ran in (NULL: none to rely on, as on a standby). */
    const char *store_stamp;
    /* The number of the database's state the read's target was found in
     * (decision 0027: stamp_now's or stamp_of's), when the target may be
     * kept; NULL otherwise.  A PROPFIND Depth 0 keeps its answer under it
     * (decision 0029). */
    const char *read_stamp;
    /* Set by space_lookup: when the account's validity ends (Unix
     * seconds; 0: it does not, or the account is not valid). */
    time_t principal_until;

    /* the parsed If header (dav/lock.c) */
    struct dav_if_state *ifs;

    /* method-private state for streaming methods */
    void *mstate;
    /* the copy of a multistatus being made for the listing cache */
    struct lcache_fill *ms_keep;
    /* state of an extension's hooks for this request (caldav/) */
    void *ext_state;

    /* response */
    int status;
    struct dav_resp_header *resp_headers;
    struct buf resp_body;
    bool resp_has_body;        /* false: HEAD or no body (Content-Length 0) */
    dav_stream_fn stream;
    uint64_t stream_len;       /* body length when streaming */
    /* The streamed body is also stream_len bytes of this file from its
     * offset: the HTTP layer may send them straight from it (sendfile),
     * taking the descriptor (fd set to -1); else the request closes it. */
    struct dav_stream_file *stream_file;
    bool stream_txn;           /* the stream reads in the transaction,
                                  which it ends itself */
    bool responded;
    const char *log_user;
};

/*
 * Create a request with its own arena.  'url' is the raw request target.
 * Cannot fail.  The caller destroys it with dav_req_destroy().
 */
struct dav_req *dav_req_create(const struct dav_server *srv,
                               const char *method, const char *url,
                               const char *client_addr, dav_header_fn hfn,
                               void *hctx);
/*
 * First step, before any body byte: method lookup (501), path checks
 * (400), body policy (415), and for streaming methods authentication,
 * access check and the method's prepare step.  Returns true when a
 * response is ready now (an error): the caller sends it and discards the
 * body.
 */
bool dav_req_begin(struct dav_req *req, bool has_body);
/* One piece of the request body.  Never fails: errors are kept for the end. */
void dav_req_body(struct dav_req *req, const char *data, size_t len);
/* After the body: run the method and leave the response in req. */
void dav_req_finish(struct dav_req *req);
/* Release everything, rolling back an open transaction (client gone). */
void dav_req_destroy(struct dav_req *req);

/* Header accessor: the value, or NULL. */
const char *dav_req_header(struct dav_req *req, const char *name);
/* The body's length as Content-Length announces it: false without one
 * (chunked) or if it is not a number. */
bool dav_req_announced_len(struct dav_req *req, uint64_t *n);
/* Add a response header (copied into the arena). */
void dav_resp_header_add(struct dav_req *req, const char *name,
                         const char *value);

/* ---- helpers for handlers (dav/, caldav/, acl/) ----------------------------------- */

/* Most members one listing shows, and resources one COPY or multiget
 * answers for (max_propfind_members). */
unsigned dav_max_members(const struct dav_req *req);

/* Give the request's database connection back while it waits (failed
 * login slow-down, password verification) and take one again, as it was
 * taken (a transaction, or a lease for reads); nothing may have been
 * written.  dav_txn_resume returns a 503 when no connection comes. */
void dav_txn_pause(struct dav_req *req);
struct dav_err *dav_txn_resume(struct dav_req *req);

/* The MKCOL of the DAV core, for extensions that extend it (RFC 5689). */
struct dav_err *dav_method_mkcol(struct dav_req *req);
/* The DAV:set/DAV:remove list of a resource being created, applied as
 * PROPPATCH would (all or nothing; RFC 5689 §3, RFC 4791 §5.3.1), but for
 * 'skip' ({ns, name} pairs, NULL-terminated: the properties the creating
 * method sets itself): should one fail, a 403 whose body is the element
 * 'root' (as "D:mkcol-response") holding a propstat per property. */
struct dav_err *dav_props_apply_new(struct dav_req *req, struct dav_target *t,
                                    const struct dav_xml_elem *update,
                                    const char *const *skip,
                                    const char *root);

/* Parse a URL of this server (absolute URI or absolute path) into an
 * unresolved target; false when malformed or on another server. */
bool dav_url_to_target(struct dav_req *req, const char *url,
                       struct dav_target *out);
/* Set a complete response; body copied into the arena. */
void dav_respond(struct dav_req *req, int status, const char *ctype,
                 const char *body, size_t len);
/* May req->principal exercise 'priv' on 't'?  NULL, or the error: 404
 * when it may not even read 't' (then 't' is absent for it). */
struct dav_err *dav_check_priv(struct dav_req *req,
                               const struct dav_target *t, unsigned priv);
/* RFC 9110 §13.2: evaluate If-Match, If-Unmodified-Since, If-None-Match
 * and If-Modified-Since against 't'.  NULL to proceed; else a 412, or a
 * 304 (GET and HEAD only) that the caller turns into its answer.  Every
 * method calls it once its target is resolved, before doing anything.
 * The error is allocated in req->arena; cannot fail otherwise. */
struct dav_err *dav_check_conditions(struct dav_req *req,
                                     const struct dav_target *t);
/* Resolve the parent collection of an in-space target. */
struct dav_err *dav_target_parent(struct dav_req *req,
                                  const struct dav_target *t,
                                  struct dav_target *parent);
/* Append a <D:response> with only a status for 'href' (as given). */
void dav_ms_status_href(struct buf *b, const char *href, int status);
/* Set a response without body / with an XML body (copied). */
void dav_respond_empty(struct dav_req *req, int status);
void dav_respond_xml(struct dav_req *req, int status, const char *xml);

/* Well-formed UTF-8: no overlong form, surrogate or code point past
 * U+10FFFF. */
bool dav_utf8_valid(const char *s, size_t n);
/* href (escaped URL path) of a resource of the target's space. */
const char *dav_href_of(struct dav_req *req, struct arena *a,
                        const struct dav_target *t);
/* href of the resource at 'path' of space 'slug', in 'a'. */
const char *dav_space_href(struct arena *a, const char *slug,
                           const char *path, bool collection);
/* href of a user (user=true) or space principal. */
const char *dav_principal_href(struct arena *a, bool user, const char *name);
/* Strong ETag of a resource, with quotes, in 'a'. */
const char *dav_etag_of(struct arena *a, const struct dav_resource *res);
/* The Last-Modified (and DAV:getlastmodified) of a resource: its
 * modification time, or now when that is in the future (a client may
 * set it, X-OC-Mtime or Win32LastModifiedTime).  Cannot fail. */
time_t dav_last_modified(const struct dav_resource *res);

#endif
