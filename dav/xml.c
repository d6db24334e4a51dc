/*
 * dav/xml.c -- the XML request reader and the multistatus writer.
 *
 * Reading: libxml2 with network access off, no entity substitution, no DTD
 * loading, and any document carrying a DOCTYPE refused (DESIGN.md
 * "Security defaults").  The body size is bounded before we get here.
 *
 * Writing: responses are appended to an arena buffer with the DAV:
 * namespace bound to the prefix "D"; other namespaces are declared on the
 * element that uses them, which keeps each property self-contained.
 */
#include "dav/dav_int.h"

#include <libxml/parser.h>
#include <string.h>

static void
xml_doc_free_cb(void *p)
{
    xmlFreeDoc(p);
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
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, req->body.p, (int)req->body.len,
                                      NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    /* Namespace errors (xmlns:p="") leave a document but are not
     * namespace-well-formed XML (Namespaces in XML 1.0 §3). */
    bool ns_ok = ctxt->nsWellFormed;
    xmlFreeParserCtxt(ctxt);
    if (doc == NULL)
        return dav_err_new(req, 400, "malformed XML body");
    arena_defer(req->arena, xml_doc_free_cb, doc);
    if (!ns_ok)
        return dav_err_new(req, 400, "XML body with a namespace error");
    if (doc->intSubset != NULL || doc->extSubset != NULL)
        return dav_err_new(req, 400, "XML body with a DOCTYPE");
    if (xmlDocGetRootElement(doc) == NULL)
        return dav_err_new(req, 400, "XML body without root element");
    *out = doc;
    return NULL;
}

const char *
dav_xml_ns(const xmlNode *n)
{
    return n->ns != NULL && n->ns->href != NULL ? (const char *)n->ns->href
                                                : "";
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
    xmlDocSetRootElement(doc, copy);
    xmlBufferPtr xb = xmlBufferCreate();
    arena_defer(a, xml_buffer_free_cb, xb);
    if (xmlNodeDump(xb, doc, copy, 0, 0) < 0)
        return NULL;
    return arena_strdup(a, (const char *)xmlBufferContent(xb));
}

/* ---- writer ------------------------------------------------------------- */

void
dav_xml_open(struct buf *b, const char *ns, const char *name, bool empty)
{
    if (strcmp(ns, DAV_NS) == 0) {
        buf_printf(b, "<D:%s", name);
    } else if (ns[0] == '\0') {
        buf_printf(b, "<%s", name);
    } else {
        buf_printf(b, "<X:%s xmlns:X=\"", name);
        buf_xml_escape(b, ns, strlen(ns));
        buf_puts(b, "\"");
    }
    buf_puts(b, empty ? "/>" : ">");
}

void
dav_xml_close(struct buf *b, const char *ns, const char *name)
{
    if (strcmp(ns, DAV_NS) == 0)
        buf_printf(b, "</D:%s>", name);
    else if (ns[0] == '\0')
        buf_printf(b, "</%s>", name);
    else
        buf_printf(b, "</X:%s>", name);
}

void
dav_ms_begin(struct buf *b)
{
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                "<D:multistatus xmlns:D=\"DAV:\">");
}

void
dav_ms_end(struct dav_req *req, struct buf *b)
{
    buf_puts(b, "</D:multistatus>\n");
    dav_respond_buf(req, 207, "application/xml; charset=utf-8", b);
}

void
dav_ms_status(struct buf *b, const char *href, int status)
{
    buf_puts(b, "<D:response><D:href>");
    buf_xml_escape(b, href, strlen(href));
    buf_printf(b, "</D:href><D:status>%s</D:status></D:response>",
               dav_status_line(status));
}
