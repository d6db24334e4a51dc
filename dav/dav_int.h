/*
 * dav/dav_int.h -- declarations private to dav/: parsers, the XML reader,
 * the multistatus writer and the method handlers.
 */
#ifndef PARVIS_DAV_INT_H
#define PARVIS_DAV_INT_H

#include <libxml/tree.h>

#include "dav/dav.h"

enum dav_depth { DAV_DEPTH_0, DAV_DEPTH_1, DAV_DEPTH_INFINITY };

/* ---- parse.c ---- */

/*
 * Decode and check a request path ("/dav/spaces/s/a%20b"): percent-decoded
 * once; '.', '..', encoded '/', NUL, control characters and invalid UTF-8
 * are refused.  Fills area, slug, path and trailing_slash of *t.
 * Returns false for a path that must be answered 400; *notfound is set for
 * well-formed paths outside the DAV namespace (404).
 */
bool dav_path_parse(struct arena *a, const char *raw, struct dav_target *t,
                    bool *notfound);
/* Depth header: "0", "1" or "infinity" (case-insensitive). */
bool dav_parse_depth(struct str s, enum dav_depth *out);
/* Overwrite header: "T" or "F". */
bool dav_parse_overwrite(struct str s, bool *out);
/*
 * Destination header (RFC 4918 §10.3): an absolute URI whose authority
 * must equal 'host', or an absolute path.  *raw_path receives the path
 * part.  *other_server is set when the authority differs.
 */
bool dav_parse_destination(struct arena *a, struct str s, const char *host,
                           const char **raw_path, bool *other_server);
/*
 * True when the ETag list header (If-Match / If-None-Match) matches.
 * RFC 9110 §13.1.1 and §13.1.2: If-Match uses the strong comparison (a
 * weak tag never matches), If-None-Match the weak one ('weak' true).
 */
bool dav_etag_list_match(struct str list, const char *etag, bool exists,
                         bool weak);

/* ---- xml.c ---- */

/* Parse the request body as XML with no network, no entities and no DTD.
 * NULL body -> *out NULL.  400 on malformed XML, a DOCTYPE or elements
 * nested deeper than max_xml_depth; 413 past max_xml_nodes nodes (both
 * checked as the parser goes, before the tree grows further). */
struct dav_err *dav_xml_parse(struct dav_req *req, xmlDocPtr *out);
/* Does node n have namespace ns and local name 'name'? */
bool dav_xml_is(const xmlNode *n, const char *ns, const char *name);
/* The namespace name of n ("" for none) as the document wrote it, '&'
 * included, for nodes of a document read by dav_xml_parse.  Lives as long
 * as the document; cannot fail. */
const char *dav_xml_ns(const xmlNode *n);
/* The first element child, or the next element sibling. */
xmlNode *dav_xml_first_elem(xmlNode *n);
xmlNode *dav_xml_next_elem(xmlNode *n);
/* Serialize an element with the namespace declarations it needs. */
const char *dav_xml_dump_elem(struct arena *a, xmlNode *n);

/* ---- multistatus ---- */

/* A stored property element into an answer opened by dav_xml_root_open:
 * without the declarations on its start tag of a prefix that root
 * declares already, with the same namespace (a dead property keeps its
 * own, to stand alone where it is stored). */
void dav_xml_put_stored(struct buf *b, const char *xml);

/* One more audit row of this request, about t (another place it
 * changed: the destination of a COPY or MOVE into another space), in its
 * transaction, with the request's status. */
struct dav_err *dav_audit_also(struct dav_req *req,
                               const struct dav_target *t,
                               const char *detail);

void dav_ms_begin(struct buf *b);
/* Open an answer's root element 'qname' (prefixed: D: for DAV:, C: for
 * CalDAV...), declaring every namespace with a fixed prefix. */
void dav_xml_root_open(struct buf *b, const char *qname);
void dav_ms_end(struct dav_req *req, struct buf *b);
/* dav_ms_page_fn: see dav/dav.h. */
/*
 * Answer 207 with the multistatus opened in 'b' (dav_ms_begin, and any
 * responses already there) and continued by 'page'.  The first page is
 * built now: its errors are returned, and when it ends the listing the
 * answer goes out as one buffer with a Content-Length.  Otherwise the
 * rest streams (DAV_STREAM_LEN_UNKNOWN) page by page, each page's memory
 * given back before the next, and the request's transaction stays open
 * until the last page: the stream commits it, then closes the
 * multistatus.  A failure mid-stream is logged and breaks the body off
 * (the connection is closed).  Every check that can refuse the request
 * must come before this call.
 */
struct dav_err *dav_ms_stream(struct dav_req *req, struct buf *b,
                              dav_ms_page_fn page, void *state);
/*
 * Keep a copy of the answer the next dav_ms_stream() (or dav_ms_end())
 * makes (likely 'hint' bytes), and put it in the listing cache (req->srv->lcache) under 'key'
 * and the request's snapshot once the multistatus is whole and the
 * transaction it was read in committed (dav_ms_keep_end, called by the
 * commit).  An answer larger than the cache takes is not kept, nor one
 * broken off or rolled back.
 */
void dav_ms_keep(struct dav_req *req, const unsigned char key[32],
                 size_t hint);
/* After the commit of the transaction the copy was read in: keep it.  No
 * copy being made: nothing. */
void dav_ms_keep_end(struct dav_req *req);
/* Give the copy being made up (for a transaction tried again). */
void dav_ms_keep_abort(struct dav_req *req);

/* <D:response><D:href>..</D:href><D:status>..</D:status></D:response> */
void dav_ms_status(struct buf *b, const char *href, int status);
const char *dav_status_line(int status);
/* Append an element start for (ns,name): "<D:name" or "<x:name xmlns:x=..". */
void dav_xml_open(struct buf *b, const char *ns, const char *name,
                  bool empty);
void dav_xml_close(struct buf *b, const char *ns, const char *name);

/* ---- lookup.c ---- */

/* The space_lookup answer kept for this read's target, account and
 * password (its name in 'key', for dav_lookup_keep), if the database is
 * unchanged since: fills *principal_ok,
 * *space_found, t->space, t->exists, t->res and req->principal_until as
 * the statement would have (req->store_stamp: NULL).  False: ask it. */
bool dav_lookup_cached(struct dav_req *req, struct dav_target *t,
                       int64_t viewer, unsigned char key[32],
                       bool *principal_ok, bool *space_found);
/* Keep the statement's answer under its snapshot's name (stamp_of). */
void dav_lookup_keep(struct dav_req *req, const struct dav_target *t,
                     const unsigned char key[32], bool principal_ok,
                     bool space_found);

/* ---- core.c ---- */

/* Resolve the space and resource of a parsed target (area SPACE). */
struct dav_err *dav_target_resolve(struct dav_req *req, struct dav_target *t,
                                   bool lock_row);
/* The last segment of an in-space path ("" for the root). */
const char *dav_base_name(const char *path);
/* Parent target of an in-space target (not the space root). */
struct dav_err *dav_target_parent(struct dav_req *req,
                                  const struct dav_target *t,
                                  struct dav_target *parent);
/* The Allow field of OPTIONS and of every 405: the registry's methods
 * that apply to what the request's target is now; all of them when the
 * target is not resolved (an OPTIONS without valid credentials).
 * Allocated in req->arena; cannot fail. */
const char *dav_allow(struct dav_req *req);
/* End the transaction a streamed answer kept open (stream_txn): commit
 * when 'ok', else roll back.  False when the commit failed. */
bool dav_stream_txn_end(struct dav_req *req, bool ok);
/* Set a complete (buffered) response. */
void dav_respond(struct dav_req *req, int status, const char *ctype,
                 const char *body, size_t len);
void dav_respond_buf(struct dav_req *req, int status, const char *ctype,
                     struct buf *b);


struct dav_err *dav_method_report(struct dav_req *req);

/* Is path a reserved folder of a space root (calendars, trash)? */
bool dav_reserved_path(const char *path);
/* The same, or anything below one: "/.trash/3/a" but not "/.trash-2025". */
bool dav_in_reserved(const char *path);

/* ---- props.c ---- */

/* macOS metadata files (._*, .DS_Store) of other users are left out of
 * listings unless the server is configured to show them. */
bool dav_member_hidden(const struct dav_req *req,
                       const struct dav_resource *res);

struct dav_err *dav_method_propfind(struct dav_req *req);
struct dav_err *dav_method_proppatch(struct dav_req *req);
void dav_props_register(struct dav_registry *r);

/* ---- methods.c ---- */

struct dav_err *dav_method_options(struct dav_req *req);
struct dav_err *dav_method_get(struct dav_req *req);
struct dav_err *dav_method_mkcol(struct dav_req *req);
struct dav_err *dav_method_delete(struct dav_req *req);
struct dav_err *dav_method_copy(struct dav_req *req);
struct dav_err *dav_method_move(struct dav_req *req);
struct dav_err *dav_method_put_prepare(struct dav_req *req);
struct dav_err *dav_method_put_body(struct dav_req *req, const char *data,
                                    size_t len);
struct dav_err *dav_method_put(struct dav_req *req);

/* ---- lock.c ---- */

/* RFC 4918 §10.4: evaluate the If header (NULL if absent or true, 412 if
 * false, 400 if malformed). */
struct dav_err *dav_if_evaluate(struct dav_req *req);
/*
 * RFC 4918 §7: the locks covering t (and, with 'tree', locks below it; with
 * 'parent', depth-0 locks on its parent collection) must have their token
 * submitted in the If header by their owner; 423 lock-token-submitted
 * naming the lock root otherwise.
 */
struct dav_err *dav_locks_check(struct dav_req *req,
                                 const struct dav_target *t, bool tree,
                                 bool parent);
/* Timeout header (RFC 4918 §10.7), bounded by max. */
bool dav_parse_timeout(struct str s, int32_t max, int32_t *out);
/* Load t->locks (covering locks) if not loaded yet. */
struct dav_err *dav_target_locks(struct dav_req *req, struct dav_target *t);
struct dav_err *dav_method_lock(struct dav_req *req);
struct dav_err *dav_method_unlock(struct dav_req *req);
void dav_lock_register(struct dav_registry *r);
/* Assign to each of n targets the locks among 'locks' that cover it (a
 * copy in 'a'). */
void dav_locks_assign(struct arena *a, const struct dav_lock *locks,
                      size_t nlocks, struct dav_target **targets, size_t n);

/* ---- views.c: history, published view, approvals ---- */

struct dav_err *dav_view_resolve(struct dav_req *req, struct dav_target *t);
const char *dav_view_href(struct arena *a, const struct dav_target *t);
/* Members of a view collection. */
struct dav_err *dav_view_children(struct dav_req *req,
                                  const struct dav_target *t,
                                  struct dav_target **out, size_t *n);
/* COPY of a history revision onto a file of the space: a restore. */
struct dav_err *dav_view_restore(struct dav_req *req, struct dav_target *src,
                                 struct dav_target *dst);
void dav_views_register(struct dav_registry *r);
const char *dav_calendar_url(struct arena *a, const char *user,
                             const char *cal);

/* ---- sync.c ---- */

void dav_sync_register(struct dav_registry *r);

/* ---- registry internals ---- */

struct dav_registry {
    const struct dav_method_def **methods;
    size_t nmethods;
    const struct dav_report_def **reports;
    size_t nreports;
    const struct dav_prop_def **props;
    size_t nprops;
    dav_authn_fn authn;
    dav_authz_fn authz;
    dav_restype_fn restype;
    char *classes;            /* extra DAV compliance classes */
    const struct dav_put_hook *put_hook;
};

#endif
