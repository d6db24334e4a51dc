/*
 * dav/xml.c -- the XML request reader and the multistatus writer.
 *
 * Reading: libxml2 with network access off, no entity substitution, no DTD
 * loading, and any document carrying a DOCTYPE refused (DESIGN.md
 * "Security defaults").  The body size is bounded before we get here; the
 * nesting depth and the number of nodes are counted by SAX callbacks
 * wrapped around libxml2's own, which stop the parser at the bound.
 * Namespace names are read through dav_xml_ns, which undoes libxml2's
 * "&#38;" for '&' (see parser_escapes_amp).
 *
 * Writing: responses are appended to an arena buffer with the DAV:
 * namespace bound to the prefix "D"; other namespaces are declared on the
 * element that uses them, which keeps each property self-contained.
 */
#include "dav/dav_int.h"

#include "core/lcache.h"

#include <libxml/parser.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

static void
xml_doc_free_cb(void *p)
{
    xmlFreeDoc(p);
}

/*
 * Without entity substitution, libxml2 (2.9 at least) keeps each '&' of an
 * attribute value as the text "&#38;", whether the document wrote "&amp;",
 * "&#38;" or "&#x26;", and namespace names are taken from that text
 * unchanged: xmlns:Q="urn:x&amp;y" gives ns->href "urn:x&#38;y".  Every
 * other reference is replaced by its character ("&lt;", "&#60;" by '<')
 * or, for an entity of a DTD, kept as "&name;", which cannot reach us
 * since documents with a DOCTYPE are refused.  As every '&' becomes
 * "&#38;", replacing each "&#38;" by '&' is the exact inverse (a literal
 * "&#38;" in the name shows as "&#38;#38;").  Whether the library in use
 * does this is probed once.
 */
static const char amp_ref[] = "&#38;";

static bool
parser_escapes_amp(void)
{
    /* -1 not probed yet; racing threads would store the same answer. */
    static atomic_int escapes = -1;
    int e = atomic_load(&escapes);
    if (e >= 0)
        return e != 0;
    static const char probe[] = "<a xmlns=\"&amp;\"/>";
    xmlDocPtr doc = xmlReadMemory(probe, (int)sizeof(probe) - 1, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    e = root != NULL && root->ns != NULL && root->ns->href != NULL &&
        strcmp((const char *)root->ns->href, amp_ref) == 0;
    xmlFreeDoc(doc);
    atomic_store(&escapes, e);
    return e != 0;
}

/* The namespace name that an href as libxml2 keeps it stands for. */
static char *
decode_ns_name(struct arena *a, const char *href)
{
    size_t n = strlen(href);
    size_t reflen = sizeof(amp_ref) - 1;
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        d[k++] = href[i];
        if (strncmp(href + i, amp_ref, reflen) == 0)
            i += reflen - 1; /* d has the '&' */
    }
    d[k] = '\0';
    return d;
}

/*
 * Give each namespace declared in the tree of 'n' whose name holds an '&'
 * its decoded name in _private, where dav_xml_ns looks first.  The href
 * itself stays as it is: xmlNodeDump writes it out unescaped, and in its
 * "&#38;" form it is still the right XML (dead properties are stored so).
 * The recursion is as deep as the document, which libxml2 bounds (256
 * levels without XML_PARSE_HUGE).
 */
static void
decode_ns_names(struct arena *a, xmlNode *n)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (xmlNs *ns = n->nsDef; ns != NULL; ns = ns->next)
            if (ns->href != NULL &&
                strchr((const char *)ns->href, '&') != NULL)
                ns->_private = decode_ns_name(a, (const char *)ns->href);
        decode_ns_names(a, n->children);
    }
}

/* ---- depth and node limits ---------------------------------------------- */

/*
 * The count of one parse, with libxml2's SAX2 callbacks that build the
 * tree.  The wrappers below count what each callback is about to add
 * (an element with its attributes and namespace declarations, a text
 * node, a comment, a processing instruction) and stop the parser instead
 * of calling it past a bound.  They find the count through a thread-local
 * pointer, set for the duration of the (synchronous) parse: libxml2 passes
 * them the parser context only.
 */
struct xml_count {
    unsigned max_depth, max_nodes;
    unsigned depth, nodes;
    bool in_text;              /* the last callback added text */
    bool too_deep, too_many;
    startElementNsSAX2Func start;
    endElementNsSAX2Func end;
    charactersSAXFunc characters;
    ignorableWhitespaceSAXFunc blanks;
    commentSAXFunc comment;
    processingInstructionSAXFunc pi;
};

static _Thread_local struct xml_count *xml_count;

/* Count n more nodes; false (and the parser stopped) past the bound. */
static bool
count_nodes(void *ctx, unsigned n)
{
    struct xml_count *c = xml_count;
    if (n > c->max_nodes - c->nodes) {
        c->too_many = true;
        xmlStopParser(ctx);
        return false;
    }
    c->nodes += n;
    return true;
}

static void
counted_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
              const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
              int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    struct xml_count *c = xml_count;
    c->in_text = false;
    if (c->depth == c->max_depth) {
        c->too_deep = true;
        xmlStopParser(ctx);
        return;
    }
    if (!count_nodes(ctx, 1 + (unsigned)nb_attributes +
                              (unsigned)nb_namespaces))
        return;
    c->depth++;
    c->start(ctx, localname, prefix, uri, nb_namespaces, namespaces,
             nb_attributes, nb_defaulted, attributes);
}

static void
counted_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
            const xmlChar *uri)
{
    struct xml_count *c = xml_count;
    c->in_text = false;
    c->depth--;
    c->end(ctx, localname, prefix, uri);
}

/* Adjacent character callbacks fill one text node. */
static bool
count_text(void *ctx)
{
    struct xml_count *c = xml_count;
    if (c->in_text)
        return true;
    if (!count_nodes(ctx, 1))
        return false;
    c->in_text = true;
    return true;
}

static void
counted_characters(void *ctx, const xmlChar *ch, int len)
{
    if (count_text(ctx))
        xml_count->characters(ctx, ch, len);
}

static void
counted_blanks(void *ctx, const xmlChar *ch, int len)
{
    if (count_text(ctx))
        xml_count->blanks(ctx, ch, len);
}

static void
counted_comment(void *ctx, const xmlChar *value)
{
    xml_count->in_text = false;
    if (count_nodes(ctx, 1))
        xml_count->comment(ctx, value);
}

static void
counted_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    xml_count->in_text = false;
    if (count_nodes(ctx, 1))
        xml_count->pi(ctx, target, data);
}

/* Put the counting wrappers around the callbacks that add nodes. */
static void
count_install(xmlParserCtxtPtr ctxt, struct xml_count *c)
{
    xmlSAXHandler *sax = ctxt->sax;
    c->start = sax->startElementNs;
    c->end = sax->endElementNs;
    c->characters = sax->characters;
    c->blanks = sax->ignorableWhitespace;
    c->comment = sax->comment;
    c->pi = sax->processingInstruction;
    sax->startElementNs = counted_start;
    sax->endElementNs = counted_end;
    if (c->characters != NULL)
        sax->characters = counted_characters;
    if (c->blanks != NULL)
        sax->ignorableWhitespace = counted_blanks;
    if (c->comment != NULL)
        sax->comment = counted_comment;
    if (c->pi != NULL)
        sax->processingInstruction = counted_pi;
}

static unsigned
max_xml_depth(const struct dav_req *req)
{
    return req->srv->max_xml_depth > 0 ? req->srv->max_xml_depth
                                       : DAV_DEFAULT_XML_DEPTH;
}

static unsigned
max_xml_nodes(const struct dav_req *req)
{
    return req->srv->max_xml_nodes > 0 ? req->srv->max_xml_nodes
                                       : DAV_DEFAULT_XML_NODES;
}

struct dav_err *
dav_xml_parse(struct dav_req *req, xmlDocPtr *out)
{
    *out = NULL;
    if (req->body.len == 0)
        return NULL;
    if (req->body.len > (size_t)0x7fffffff)
        return dav_err_new(req, 413, "body too large");
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        core_fatal("out of memory");
    struct xml_count count;
    memset(&count, 0, sizeof(count));
    count.max_depth = max_xml_depth(req);
    count.max_nodes = max_xml_nodes(req);
    count_install(ctxt, &count);
    xml_count = &count;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, req->body.p, (int)req->body.len,
                                      NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    xml_count = NULL;
    /* Namespace errors (xmlns:p="") leave a document but are not
     * namespace-well-formed XML (Namespaces in XML 1.0 §3). */
    bool ns_ok = ctxt->nsWellFormed;
    xmlFreeParserCtxt(ctxt);
    /* A stopped parser may still hand back the part it read. */
    if (doc != NULL && (count.too_deep || count.too_many)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    if (count.too_deep)
        return dav_err_new(req, 400, "XML body nested deeper than %u",
                           count.max_depth);
    if (count.too_many)
        return dav_err_new(req, 413, "XML body of more than %u nodes",
                           count.max_nodes);
    if (doc == NULL)
        return dav_err_new(req, 400, "malformed XML body");
    arena_defer(req->arena, xml_doc_free_cb, doc);
    if (!ns_ok)
        return dav_err_new(req, 400, "XML body with a namespace error");
    if (doc->intSubset != NULL || doc->extSubset != NULL)
        return dav_err_new(req, 400, "XML body with a DOCTYPE");
    if (xmlDocGetRootElement(doc) == NULL)
        return dav_err_new(req, 400, "XML body without root element");
    if (parser_escapes_amp())
        decode_ns_names(req->arena, xmlDocGetRootElement(doc));
    *out = doc;
    return NULL;
}

const char *
dav_xml_ns(const xmlNode *n)
{
    if (n->ns == NULL || n->ns->href == NULL)
        return "";
    if (n->ns->_private != NULL)
        return n->ns->_private;
    return (const char *)n->ns->href;
}

bool
dav_xml_is(const xmlNode *n, const char *ns, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0 &&
           strcmp(dav_xml_ns(n), ns) == 0;
}

xmlNode *
dav_xml_first_elem(xmlNode *n)
{
    for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

xmlNode *
dav_xml_next_elem(xmlNode *n)
{
    for (xmlNode *c = n != NULL ? n->next : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static void
xml_buffer_free_cb(void *p)
{
    xmlBufferFree(p);
}

const char *
dav_xml_dump_elem(struct arena *a, xmlNode *n)
{
    /* Copy into a fresh document so that the namespaces the element uses
     * but inherits are declared on it, then serialize. */
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    arena_defer(a, xml_doc_free_cb, doc);
    xmlNodePtr copy = xmlDocCopyNode(n, doc, 1);
    if (copy == NULL)
        return NULL;
    /* The language in scope goes with the value (RFC 4918 §4.3), set on
     * an ancestor (DAV:prop, DAV:set) or on the element itself. */
    xmlChar *lang = xmlNodeGetLang(n);
    if (lang != NULL) {
        xmlNodeSetLang(copy, lang);
        xmlFree(lang);
    }
    xmlDocSetRootElement(doc, copy);
    xmlBufferPtr xb = xmlBufferCreate();
    arena_defer(a, xml_buffer_free_cb, xb);
    if (xmlNodeDump(xb, doc, copy, 0, 0) < 0)
        return NULL;
    return arena_strdup(a, (const char *)xmlBufferContent(xb));
}

/* ---- writer ------------------------------------------------------------- */

/*
 * Namespaces with a fixed prefix, declared once on every multistatus root
 * so that members stay compact (Windows refuses listings past ~1 MB).
 */
static const struct {
    const char *ns;
    const char *prefix;
} known_ns[] = {
    { "urn:ietf:params:xml:ns:caldav", "C" },
    { "http://calendarserver.org/ns/", "CS" },
    { "http://apple.com/ns/ical/", "A" },
    { "urn:schemas-microsoft-com:", "Z" },
    { PARVIS_NS, "P" },
};

static const char *
known_prefix(const char *ns)
{
    for (size_t i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
        if (strcmp(known_ns[i].ns, ns) == 0)
            return known_ns[i].prefix;
    return NULL;
}

void
dav_xml_open(struct buf *b, const char *ns, const char *name, bool empty)
{
    const char *prefix;
    if (strcmp(ns, DAV_NS) == 0) {
        buf_puts(b, "<D:");
        buf_puts(b, name);
    } else if (ns[0] == '\0') {
        buf_puts(b, "<");
        buf_puts(b, name);
    } else if ((prefix = known_prefix(ns)) != NULL) {
        buf_puts(b, "<");
        buf_puts(b, prefix);
        buf_puts(b, ":");
        buf_puts(b, name);
    } else {
        buf_puts(b, "<X:");
        buf_puts(b, name);
        buf_puts(b, " xmlns:X=\"");
        buf_xml_escape(b, ns, strlen(ns));
        buf_puts(b, "\"");
    }
    buf_puts(b, empty ? "/>" : ">");
}

void
dav_xml_close(struct buf *b, const char *ns, const char *name)
{
    const char *prefix;
    if (strcmp(ns, DAV_NS) == 0) {
        buf_puts(b, "</D:");
    } else if (ns[0] == '\0') {
        buf_puts(b, "</");
    } else if ((prefix = known_prefix(ns)) != NULL) {
        buf_puts(b, "</");
        buf_puts(b, prefix);
        buf_puts(b, ":");
    } else {
        buf_puts(b, "</X:");
    }
    buf_puts(b, name);
    buf_puts(b, ">");
}

void
dav_ms_begin(struct buf *b)
{
    dav_xml_root_open(b, "D:multistatus");
}

void
dav_xml_root_open(struct buf *b, const char *qname)
{
    buf_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                  "<%s xmlns:D=\"DAV:\"", qname);
    for (size_t i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
        buf_printf(b, " xmlns:%s=\"%s\"", known_ns[i].prefix, known_ns[i].ns);
    buf_puts(b, ">");
}

/* Is xmlns:pfx="ns" (lengths pl, nl) one the root declares? */
static bool
root_declares(const char *pfx, size_t pl, const char *ns, size_t nl)
{
    if (pl == 1 && pfx[0] == 'D')
        return nl == 4 && strncmp(ns, "DAV:", 4) == 0;
    for (size_t i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
        if (strlen(known_ns[i].prefix) == pl &&
            strncmp(known_ns[i].prefix, pfx, pl) == 0)
            return strlen(known_ns[i].ns) == nl &&
                   strncmp(known_ns[i].ns, ns, nl) == 0;
    return false;
}

void
dav_xml_put_stored(struct buf *b, const char *xml)
{
    /* The start tag: to the first '>' outside quotes. */
    const char *end = xml;
    for (char q = 0; *end != '\0' && (q != 0 || *end != '>'); end++)
        if (*end == '"' || *end == '\'')
            q = q == 0 ? *end : (q == *end ? 0 : q);
    const char *p = xml;
    for (;;) {
        const char *a = strstr(p, " xmlns:");
        if (a == NULL || a >= end)
            break;
        /* xmlns:PFX="NS", all inside the start tag, else left as is. */
        const char *pfx = a + 7;
        size_t pl = strcspn(pfx, "=\" >");
        const char *eq = pfx + pl;
        bool drop = false;
        const char *after = a + 7;
        if (eq + 1 < end && eq[0] == '=' && eq[1] == '"') {
            const char *ns = eq + 2;
            const char *close = memchr(ns, '"', (size_t)(end - ns));
            if (close != NULL) {
                drop = root_declares(pfx, pl, ns, (size_t)(close - ns));
                after = close + 1;
            }
        }
        buf_append(b, p, (size_t)(a - p));
        if (!drop)
            buf_append(b, a, (size_t)(after - a));
        p = after;
    }
    buf_puts(b, p);
}

/* ---- a copy of the answer for the listing cache ----------------------------- */

static void
keep_abort_cb(void *obj)
{
    dav_ms_keep_abort(obj);
}

void
dav_ms_keep(struct dav_req *req, const unsigned char key[32], size_t hint)
{
    dav_ms_keep_abort(req);
    if (req->db_snapshot == NULL)
        return;
    req->ms_keep = lcache_fill_begin(req->srv->lcache, key, hint);
    if (req->ms_keep != NULL)
        arena_defer(req->arena, keep_abort_cb, req);
}

void
dav_ms_keep_abort(struct dav_req *req)
{
    lcache_fill_abort(req->ms_keep);
    req->ms_keep = NULL;
}

static void
keep_append(struct dav_req *req, const char *data, size_t n)
{
    if (req->ms_keep != NULL && !lcache_fill_append(req->ms_keep, data, n))
        dav_ms_keep_abort(req);
}

/* The copy holds the whole multistatus, read in a transaction now
 * committed (a statement that failed unseen would have made the commit
 * fail): into the cache. */
void
dav_ms_keep_end(struct dav_req *req)
{
    if (req->ms_keep != NULL)
        lcache_fill_end(req->ms_keep, req->db_snapshot);
    req->ms_keep = NULL;
}

void
dav_ms_end(struct dav_req *req, struct buf *b)
{
    buf_puts(b, "</D:multistatus>\n");
    dav_respond_buf(req, 207, "application/xml; charset=utf-8", b);
    keep_append(req, b->p, b->len);
}

/* ---- streamed multistatus ------------------------------------------------ */

#define MS_PAGE_BUF (512 * 1024)

struct ms_stream {
    struct buf pending;        /* what is not sent yet, from 'off' */
    size_t off;
    struct arena *page;        /* the current page; reset for the next */
    dav_ms_page_fn fn;
    void *state;
    bool done;                 /* no page follows */
    bool closed;               /* the closing tag is in 'pending' */
};

static long
ms_stream_read(struct dav_req *req, uint64_t pos, char *dst, size_t max)
{
    struct ms_stream *ms = req->mstate;
    (void)pos; /* reads are sequential */
    while (ms->off == ms->pending.len) {
        if (ms->closed)
            return 0;
        arena_reset(ms->page);
        buf_init(&ms->pending, ms->page, MS_PAGE_BUF);
        ms->off = 0;
        if (ms->done) {
            /* Commit before the closing tag: a complete multistatus means
             * a complete listing.  The copy is whole before the commit,
             * which ends it. */
            keep_append(req, "</D:multistatus>\n", 17);
            if (!dav_stream_txn_end(req, true)) {
                log_msg(LOG_ERROR, req->id, NULL,
                        "multistatus broken off: commit failed");
                return -1;
            }
            buf_puts(&ms->pending, "</D:multistatus>\n");
            ms->closed = true;
            break;
        }
        struct dav_err *err = ms->fn(req, ms->state, ms->page, &ms->pending,
                                     &ms->done);
        if (err != NULL) {
            dav_stream_txn_end(req, false);
            log_msg(LOG_ERROR, req->id, NULL, "multistatus broken off: %s",
                    err->msg);
            return -1;
        }
        keep_append(req, ms->pending.p, ms->pending.len);
    }
    size_t n = ms->pending.len - ms->off;
    if (n > max)
        n = max;
    memcpy(dst, ms->pending.p + ms->off, n);
    ms->off += n;
    return (long)n;
}

struct dav_err *
dav_ms_stream(struct dav_req *req, struct buf *b, dav_ms_page_fn page,
              void *state)
{
    struct ms_stream *ms = arena_alloc(req->arena, sizeof(*ms));
    memset(ms, 0, sizeof(*ms));
    ms->page = arena_child(req->arena);
    ms->fn = page;
    ms->state = state;
    struct dav_err *err = page(req, state, req->arena, b, &ms->done);
    if (err != NULL)
        return err;
    if (ms->done) {
        dav_ms_end(req, b);
        return NULL;
    }
    ms->pending = *b;
    keep_append(req, b->p, b->len);
    req->mstate = ms;
    req->status = 207;
    req->stream = ms_stream_read;
    req->stream_len = DAV_STREAM_LEN_UNKNOWN;
    req->stream_txn = true;
    buf_init(&req->resp_body, req->arena, 16);
    req->resp_has_body = false;
    dav_resp_header_add(req, "Content-Type", "application/xml; charset=utf-8");
    return NULL;
}

void
dav_ms_status(struct buf *b, const char *href, int status)
{
    buf_puts(b, "<D:response><D:href>");
    buf_xml_escape(b, href, strlen(href));
    buf_printf(b, "</D:href><D:status>%s</D:status></D:response>",
               dav_status_line(status));
}

/* ---- the opaque element API of dav/dav.h ------------------------------------ */

#define X(e) ((xmlNode *)(uintptr_t)(e))

const char *
dav_xml_text(struct dav_req *req, const char *xml)
{
    size_t len = strlen(xml);
    if (len > INT_MAX)
        return NULL;
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    if (doc == NULL)
        return NULL;
    arena_defer(req->arena, xml_doc_free_cb, doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset != NULL || root == NULL)
        return NULL;
    return dav_elem_text(req, (const struct dav_xml_elem *)root);
}

struct dav_err *
dav_body_root(struct dav_req *req, struct dav_xml_elem **root)
{
    xmlDocPtr doc;
    *root = NULL;
    struct dav_err *err = dav_xml_parse(req, &doc);
    if (err != NULL || doc == NULL)
        return err;
    *root = (struct dav_xml_elem *)xmlDocGetRootElement(doc);
    return NULL;
}

bool
dav_elem_is(const struct dav_xml_elem *e, const char *ns, const char *name)
{
    return e != NULL && dav_xml_is(X(e), ns, name);
}

const char *
dav_elem_ns(const struct dav_xml_elem *e)
{
    return dav_xml_ns(X(e));
}

const char *
dav_elem_name(const struct dav_xml_elem *e)
{
    return (const char *)X(e)->name;
}

struct dav_xml_elem *
dav_elem_first(const struct dav_xml_elem *e)
{
    return (struct dav_xml_elem *)dav_xml_first_elem(X(e));
}

struct dav_xml_elem *
dav_elem_next(const struct dav_xml_elem *e)
{
    return (struct dav_xml_elem *)dav_xml_next_elem(X(e));
}

struct dav_xml_elem *
dav_elem_child(const struct dav_xml_elem *e, const char *ns, const char *name)
{
    for (xmlNode *c = dav_xml_first_elem(X(e)); c != NULL;
         c = dav_xml_next_elem(c))
        if (dav_xml_is(c, ns, name))
            return (struct dav_xml_elem *)c;
    return NULL;
}

const char *
dav_elem_text(struct dav_req *req, const struct dav_xml_elem *e)
{
    xmlChar *t = xmlNodeGetContent(X(e));
    const char *r = arena_strdup(req->arena, t != NULL ? (const char *)t : "");
    xmlFree(t);
    return r;
}

const char *
dav_elem_dump(struct dav_req *req, const struct dav_xml_elem *e)
{
    return dav_xml_dump_elem(req->arena, X(e));
}

void
dav_multistatus_begin(struct dav_req *req, struct buf *b)
{
    buf_init(b, req->arena, 4096);
    dav_ms_begin(b);
}

void
dav_multistatus_end(struct dav_req *req, struct buf *b)
{
    dav_ms_end(req, b);
}

struct dav_err *
dav_multistatus_stream(struct dav_req *req, struct buf *b,
                       dav_ms_page_fn page, void *state)
{
    return dav_ms_stream(req, b, page, state);
}

void
dav_multistatus_response(struct buf *b, const char *href, const char *found,
                         const char *missing)
{
    buf_puts(b, "<D:response><D:href>");
    buf_xml_escape(b, href, strlen(href));
    buf_puts(b, "</D:href>");
    if (found != NULL && (found[0] != '\0' || missing == NULL ||
                          missing[0] == '\0')) {
        buf_puts(b, "<D:propstat><D:prop>");
        buf_puts(b, found);
        buf_printf(b, "</D:prop><D:status>%s</D:status></D:propstat>",
                   dav_status_line(200));
    }
    if (missing != NULL && missing[0] != '\0') {
        buf_puts(b, "<D:propstat><D:prop>");
        buf_puts(b, missing);
        buf_printf(b, "</D:prop><D:status>%s</D:status></D:propstat>",
                   dav_status_line(404));
    }
    buf_puts(b, "</D:response>");
}

void
dav_xml_elem_write(struct buf *b, const char *ns, const char *name,
                   const char *content)
{
    if (content == NULL) {
        dav_xml_open(b, ns, name, true);
        return;
    }
    dav_xml_open(b, ns, name, false);
    buf_puts(b, content);
    dav_xml_close(b, ns, name);
}

const char *
dav_elem_attr(struct dav_req *req, const struct dav_xml_elem *e,
              const char *name)
{
    xmlChar *v = xmlGetNoNsProp(X(e), (const xmlChar *)name);
    if (v == NULL)
        return NULL;
    const char *r = arena_strdup(req->arena, (const char *)v);
    xmlFree(v);
    return r;
}

void
dav_ms_status_href(struct buf *b, const char *href, int status)
{
    dav_ms_status(b, href, status);
}
